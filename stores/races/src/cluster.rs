//! The test Redis Cluster, operated from the races: which node serves a
//! slot, a slot moved between primaries key by key (as
//! `redis-cli --cluster reshard` moves it), a replica taking over from its
//! primary by hand, and a primary killed and then brought back as a
//! replica.

use std::{
    process::Command,
    thread,
    time::{Duration, Instant},
};

use redis::Connection;

use crate::BoxError;

/// One node, as `CLUSTER NODES` describes it.
#[derive(Clone, Debug)]
pub struct Node {
    /// Its node id.
    pub id: String,
    /// `host:port`.
    pub address: String,
    /// A primary (else a replica).
    pub primary: bool,
    /// A replica's primary.
    pub primary_id: Option<String>,
    /// The slot ranges a primary serves.
    pub slots: Vec<(u16, u16)>,
}

impl Node {
    /// A connection to this node alone.
    ///
    /// # Errors
    /// The node does not answer.
    pub fn connect(&self) -> Result<Connection, BoxError> {
        connect(&self.address)
    }

    fn serves(&self, slot: u16) -> bool {
        self.slots
            .iter()
            .any(|&(first, last)| (first..=last).contains(&slot))
    }
}

fn connect(address: &str) -> Result<Connection, BoxError> {
    let client = redis::Client::open(format!("redis://{address}/"))?;
    Ok(client.get_connection_with_timeout(Duration::from_secs(2))?)
}

/// The `host:port` of the first node of `urls` (the cluster's nodes' URLs,
/// separated by commas).
fn seed(urls: &str) -> &str {
    let first = urls.split(',').next().unwrap_or(urls);
    first
        .trim()
        .trim_start_matches("redis://")
        .trim_end_matches('/')
}

/// Every node of the cluster, as the first of `urls` that answers sees it.
///
/// # Errors
/// No node answers.
pub fn nodes(urls: &str) -> Result<Vec<Node>, BoxError> {
    let mut last = None;
    for url in urls.split(',') {
        match connect(seed(url)).and_then(|mut c| {
            let text: String = redis::cmd("CLUSTER").arg("NODES").query(&mut c)?;
            Ok(text)
        }) {
            Ok(text) => return Ok(parse_nodes(&text)),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| "no node given".into()))
}

fn parse_nodes(text: &str) -> Vec<Node> {
    text.lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let (id, address, flags, primary_id) = (
                *fields.first()?,
                *fields.get(1)?,
                *fields.get(2)?,
                *fields.get(3)?,
            );
            let flags: Vec<&str> = flags.split(',').collect();
            if flags.contains(&"fail") || flags.contains(&"noaddr") {
                return None;
            }
            let slots = fields
                .iter()
                .skip(8)
                .filter(|range| !range.starts_with('['))
                .filter_map(|range| {
                    let (first, last) = range.split_once('-').unwrap_or((range, range));
                    Some((first.parse().ok()?, last.parse().ok()?))
                })
                .collect();
            Some(Node {
                id: id.to_owned(),
                address: address.split('@').next()?.to_owned(),
                primary: flags.contains(&"master"),
                primary_id: (primary_id != "-").then(|| primary_id.to_owned()),
                slots,
            })
        })
        .collect()
}

/// The slot of `key`.
///
/// # Errors
/// No node answers.
pub fn slot(urls: &str, key: &str) -> Result<u16, BoxError> {
    let mut connection = connect(seed(urls))?;
    Ok(redis::cmd("CLUSTER")
        .arg("KEYSLOT")
        .arg(key)
        .query(&mut connection)?)
}

/// The primary serving `slot`, and its replica.
///
/// # Errors
/// No node answers, or the slot has no primary with a replica.
pub fn shard(urls: &str, slot: u16) -> Result<(Node, Node), BoxError> {
    let nodes = nodes(urls)?;
    let primary = nodes
        .iter()
        .find(|node| node.primary && node.serves(slot))
        .ok_or(format!("no primary serves slot {slot}"))?;
    let replica = nodes
        .iter()
        .find(|node| node.primary_id.as_deref() == Some(&primary.id))
        .ok_or(format!("{} has no replica", primary.address))?;
    Ok((primary.clone(), replica.clone()))
}

/// Moves `slot` from the primary serving it to another primary, `batch`
/// keys at a time with `pause` between batches; returns the keys moved and
/// the primary that now serves it.
///
/// # Errors
/// A node failed or refused a step.
pub fn move_slot(
    urls: &str,
    slot: u16,
    batch: usize,
    pause: Duration,
) -> Result<(usize, Node), BoxError> {
    let nodes = nodes(urls)?;
    let (from, _) = shard(urls, slot)?;
    let to = nodes
        .iter()
        .find(|node| node.primary && node.id != from.id)
        .ok_or("no other primary")?
        .clone();
    let (mut source, mut target) = (from.connect()?, to.connect()?);
    let setslot = |connection: &mut Connection, state: &str, id: &str| {
        redis::cmd("CLUSTER")
            .arg("SETSLOT")
            .arg(slot)
            .arg(state)
            .arg(id)
            .query::<()>(connection)
    };
    setslot(&mut target, "IMPORTING", &from.id)?;
    setslot(&mut source, "MIGRATING", &to.id)?;
    let (host, port) = to
        .address
        .rsplit_once(':')
        .ok_or("an address without a port")?;
    let mut moved = 0;
    loop {
        let keys: Vec<String> = redis::cmd("CLUSTER")
            .arg("GETKEYSINSLOT")
            .arg(slot)
            .arg(batch)
            .query(&mut source)?;
        if keys.is_empty() {
            break;
        }
        redis::cmd("MIGRATE")
            .arg(host)
            .arg(port)
            .arg("")
            .arg(0)
            .arg(5000)
            .arg("KEYS")
            .arg(&keys)
            .query::<()>(&mut source)?;
        moved += keys.len();
        thread::sleep(pause);
    }
    // The new owner first, so that no primary points at an old one.
    setslot(&mut target, "NODE", &to.id)?;
    setslot(&mut source, "NODE", &to.id)?;
    for node in nodes
        .iter()
        .filter(|n| n.primary && n.id != from.id && n.id != to.id)
    {
        setslot(&mut node.connect()?, "NODE", &to.id)?;
    }
    Ok((moved, to))
}

/// Waits until `node` answers with the role `role` (`master` or `slave`)
/// and, as a primary, streams to a replica.
fn wait_for_role(node: &Node, role: &str, within: Duration) -> Result<(), BoxError> {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        let ready = node.connect().and_then(|mut connection| {
            let info: String = redis::cmd("INFO")
                .arg("replication")
                .query(&mut connection)?;
            let online = info.contains("slave0:") && info.contains("state=online");
            let linked = info.contains("master_link_status:up");
            Ok(info.contains(&format!("role:{role}"))
                && if role == "master" { online } else { linked })
        });
        if ready.unwrap_or(false) {
            return Ok(());
        }
        thread::sleep(Duration::from_millis(50));
    }
    Err(format!(
        "{} did not become {role} with its replica in {within:?}",
        node.address
    )
    .into())
}

/// A failover by hand: `replica` takes over from its primary, which both
/// agree to before any write is lost (`CLUSTER FAILOVER`). Returns once the
/// old primary streams from the new one.
///
/// # Errors
/// A node failed, or the failover did not finish in 20 seconds.
pub fn fail_over_by_hand(primary: &Node, replica: &Node) -> Result<(), BoxError> {
    redis::cmd("CLUSTER")
        .arg("FAILOVER")
        .query::<()>(&mut replica.connect()?)?;
    wait_for_role(replica, "master", Duration::from_secs(20))?;
    wait_for_role(primary, "slave", Duration::from_secs(20))
}

/// Kills `primary` (`SIGKILL`: no goodbye to the cluster), waits until
/// `replica` is elected in its place, then starts the killed node again
/// with its own settings and data, to rejoin as the new primary's replica.
///
/// # Errors
/// A node failed, the election did not happen in 30 seconds, or the node
/// did not start again.
pub fn kill_primary(primary: &Node, replica: &Node) -> Result<(), BoxError> {
    let mut connection = primary.connect()?;
    let info: String = redis::cmd("INFO").arg("server").query(&mut connection)?;
    let pid = info
        .lines()
        .find_map(|line| line.strip_prefix("process_id:"))
        .ok_or("no process id")?
        .trim()
        .to_owned();
    // What the node was started with, to start it again the same way.
    let mut arguments = vec!["--daemonize".to_owned(), "yes".to_owned()];
    for setting in [
        "port",
        "bind",
        "dir",
        "cluster-enabled",
        "cluster-config-file",
        "cluster-node-timeout",
        "pidfile",
        "logfile",
        "appendonly",
        "appendfsync",
        "maxmemory-policy",
        "save",
    ] {
        let answer: Vec<String> = redis::cmd("CONFIG")
            .arg("GET")
            .arg(setting)
            .query(&mut connection)?;
        let value = answer.get(1).cloned().unwrap_or_default();
        arguments.extend([format!("--{setting}"), value]);
    }
    drop(connection);
    let killed = Command::new("kill").args(["-9", &pid]).status()?;
    if !killed.success() {
        return Err(format!("kill -9 {pid} failed").into());
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let promoted = replica.connect().and_then(|mut c| {
            let info: String = redis::cmd("INFO").arg("replication").query(&mut c)?;
            Ok(info.contains("role:master"))
        });
        if promoted.unwrap_or(false) {
            break;
        }
        if Instant::now() > deadline {
            return Err(format!("{} was not elected in 30 s", replica.address).into());
        }
        thread::sleep(Duration::from_millis(50));
    }
    let started = Command::new("redis-server").args(&arguments).status()?;
    if !started.success() {
        return Err("the killed node did not start again".into());
    }
    wait_for_role(primary, "slave", Duration::from_secs(30))?;
    wait_for_role(replica, "master", Duration::from_secs(30))
}
