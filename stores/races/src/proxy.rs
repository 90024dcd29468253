//! A TCP proxy on loopback to one server at a time: how a service reaches
//! whichever PostgreSQL is the primary (PgBouncer, HAProxy, a DNS name
//! moved at a failover), for the races across a promotion. Switching it
//! sends new connections to another server and cuts every open one, as a
//! failover cuts the connections to a primary that died.

use std::{
    io,
    net::{Shutdown, SocketAddr, TcpListener, TcpStream},
    sync::{Arc, Mutex, PoisonError},
    thread,
};

/// The proxy; it stops accepting when dropped.
#[derive(Debug)]
pub struct Proxy {
    address: SocketAddr,
    shared: Arc<Mutex<Shared>>,
}

#[derive(Debug)]
struct Shared {
    target: SocketAddr,
    /// Both ends of every connection open, to cut at a switch.
    open: Vec<TcpStream>,
    stopped: bool,
}

impl Proxy {
    /// Listens on a free loopback port, forwarding to `target`.
    ///
    /// # Errors
    /// No port to listen on.
    pub fn start(target: SocketAddr) -> io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let address = listener.local_addr()?;
        let shared = Arc::new(Mutex::new(Shared {
            target,
            open: Vec::new(),
            stopped: false,
        }));
        let accepting = shared.clone();
        thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { continue };
                let mut state = accepting.lock().unwrap_or_else(PoisonError::into_inner);
                if state.stopped {
                    break;
                }
                let Ok(server) = TcpStream::connect(state.target) else {
                    // The server is down: the client sees its connection
                    // refused, as it would without the proxy.
                    continue;
                };
                let ends = [&client, &server].map(|end| end.try_clone());
                if let [Ok(a), Ok(b)] = ends {
                    state.open.extend([a, b]);
                }
                drop(state);
                pipe(client, server);
            }
        });
        Ok(Self { address, shared })
    }

    /// Where clients connect.
    #[must_use]
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Sends new connections to `target` and cuts every open one.
    pub fn switch(&self, target: SocketAddr) {
        let mut state = self.shared.lock().unwrap_or_else(PoisonError::into_inner);
        state.target = target;
        for end in state.open.drain(..) {
            let _ = end.shutdown(Shutdown::Both);
        }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.switch(self.address);
        self.shared
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .stopped = true;
        // Wakes the accepting thread, which then sees the stop.
        let _ = TcpStream::connect(self.address);
    }
}

/// Copies each way between `client` and `server` until either closes.
fn pipe(client: TcpStream, server: TcpStream) {
    let (Ok(client_back), Ok(server_back)) = (client.try_clone(), server.try_clone()) else {
        return;
    };
    for (mut from, mut to) in [(client, server), (server_back, client_back)] {
        thread::spawn(move || {
            let _ = io::copy(&mut from, &mut to);
            let _ = to.shutdown(Shutdown::Both);
            let _ = from.shutdown(Shutdown::Both);
        });
    }
}
