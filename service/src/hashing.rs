//! The one bound on every Argon2id the service runs (a password, an MPIN,
//! the decoy, a recovery set made or checked): one dedicated thread per
//! core, taking the work in the order it came.
//!
//! Each hash needs 19 MiB. Run on whatever thread is free, every thread
//! that ever hashed keeps its allocator's copy of that memory (a burst of
//! 32 took a process to 5.9 GiB, and it stayed); on these threads the
//! memory is at most one hash's per core, reused, and a flood of hashes
//! waits its turn instead of slowing every other request.
//!
//! The queue holds at most [`QUEUED_PER_THREAD`] waiting hashes per
//! thread: past that, [`run`] answers an error at once (the API's 503)
//! rather than letting the wait grow. Work whose request is gone (the
//! client hung up while it waited) is dropped unrun, so hanging up costs
//! the service nothing.

use std::sync::{Mutex, OnceLock, mpsc};

/// Hashes waiting per hashing thread, at most: with 19 MiB and about
/// 20 ms each, a full queue is a second or two of work.
pub const QUEUED_PER_THREAD: usize = 64;

use crate::passwords::PasswordMemory;

/// What a hashing thread keeps from one hash to the next: Argon2id's
/// working memory, allocated once, wiped after every hash.
#[derive(Debug, Default)]
pub struct Memory {
    /// For recovery sets, made and checked by the core.
    pub recovery: twofa::HashMemory,
    /// For passwords and MPINs.
    pub passwords: PasswordMemory,
}

type Job = Box<dyn FnOnce(&mut Memory) + Send>;

/// The hashing threads' queue.
fn queue() -> &'static Mutex<mpsc::SyncSender<Job>> {
    static QUEUE: OnceLock<Mutex<mpsc::SyncSender<Job>>> = OnceLock::new();
    QUEUE.get_or_init(|| {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        let (sender, receiver) = mpsc::sync_channel::<Job>(threads * QUEUED_PER_THREAD);
        let receiver = std::sync::Arc::new(Mutex::new(receiver));
        for i in 0..threads {
            let receiver = receiver.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("twofa-hash-{i}"))
                .spawn(move || {
                    let mut memory = Memory::default();
                    loop {
                        let next = receiver
                            .lock()
                            .unwrap_or_else(std::sync::PoisonError::into_inner)
                            .recv();
                        let Ok(job) = next else { return };
                        job(&mut memory);
                    }
                });
            // Without a thread the work waits for the others; without
            // any, `run` answers an error.
            drop(spawned);
        }
        Mutex::new(sender)
    })
}

/// Runs `work` on a hashing thread once one is free, with that thread's
/// memory, and answers its result. A panic in `work` is an error, and the
/// thread goes on.
///
/// # Errors
/// The queue is full, `work` panicked, or no hashing thread could be
/// started.
pub async fn run<T: Send + 'static>(
    work: impl FnOnce(&mut Memory) -> T + Send + 'static,
) -> Result<T, String> {
    let (answer, answered) = tokio::sync::oneshot::channel();
    let job: Job = Box::new(move |memory| {
        // Nobody waits for it any more: not worth a hash.
        if answer.is_closed() {
            return;
        }
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work(memory)));
        let _ = answer.send(result);
    });
    queue()
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .try_send(job)
        .map_err(|refused| match refused {
            mpsc::TrySendError::Full(_) => "the hashing queue is full".to_owned(),
            mpsc::TrySendError::Disconnected(_) => "no hashing thread".to_owned(),
        })?;
    match answered.await {
        Ok(Ok(result)) => Ok(result),
        Ok(Err(_)) => Err("the hash failed".to_owned()),
        Err(_) => Err("no hashing thread".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn work_runs_on_a_hashing_thread_and_a_panic_is_an_error() {
        let name = run(|_| std::thread::current().name().map(str::to_owned))
            .await
            .unwrap();
        assert!(name.is_some_and(|name| name.starts_with("twofa-hash-")));
        assert!(run(|_| panic!("in the hash")).await.is_err());
        // The thread that panicked goes on working.
        for _ in 0..8 {
            assert_eq!(run(|_| 7).await, Ok(7));
        }
    }
}
