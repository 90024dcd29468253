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
//! The queue is bounded in hashes, not in jobs (a recovery set is ten),
//! and each [`Class`] has a share of its own: at most
//! [`HASHES_PER_THREAD`] per thread waiting or running for logins, and as
//! many for changes (sign-ups, recovery sets), so that a flood of changes
//! never takes the room logins need. Past its share, [`run`] answers an
//! error at once (the API's 503) rather than letting the wait grow. Work
//! whose request is gone (the client hung up while it waited) is dropped
//! unrun, so hanging up costs the service nothing.

use std::sync::{Arc, Mutex, OnceLock, mpsc};

use tokio::sync::Semaphore;

use crate::passwords::PasswordMemory;

/// Hashes per hashing thread each class may have waiting or running: at
/// about 20 ms a hash, a full share is about a second of work.
pub const HASHES_PER_THREAD: u32 = 64;

/// What a hash is for: each class has its own share of the queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    /// A login's checks: a password or MPIN, the decoy, a recovery code.
    Login,
    /// A change: a sign-up's hashes, a new recovery set.
    Change,
}

fn threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// The room left in `class`'s share, in hashes.
fn room(class: Class) -> &'static Arc<Semaphore> {
    static LOGIN: OnceLock<Arc<Semaphore>> = OnceLock::new();
    static CHANGE: OnceLock<Arc<Semaphore>> = OnceLock::new();
    let share = || {
        let per_thread = usize::try_from(HASHES_PER_THREAD).unwrap_or(usize::MAX);
        Arc::new(Semaphore::new(threads().saturating_mul(per_thread)))
    };
    match class {
        Class::Login => LOGIN.get_or_init(share),
        Class::Change => CHANGE.get_or_init(share),
    }
}

/// The hashes of `class` waiting or running now.
#[must_use]
pub fn in_use(class: Class) -> usize {
    let share = threads().saturating_mul(usize::try_from(HASHES_PER_THREAD).unwrap_or(usize::MAX));
    share.saturating_sub(room(class).available_permits())
}

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
/// (Its length is bounded by the classes' shares.)
fn queue() -> &'static Mutex<mpsc::Sender<Job>> {
    static QUEUE: OnceLock<Mutex<mpsc::Sender<Job>>> = OnceLock::new();
    QUEUE.get_or_init(|| {
        let (sender, receiver) = mpsc::channel::<Job>();
        let receiver = Arc::new(Mutex::new(receiver));
        for i in 0..threads() {
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

/// Runs `work`, `hashes` Argon2id long, on a hashing thread once one is
/// free, with that thread's memory, and answers its result; its room in
/// `class`'s share is held until it has run (or been dropped unrun). A
/// panic in `work` is an error, and the thread goes on.
///
/// # Errors
/// `class`'s share is full, `work` panicked, or no hashing thread could
/// be started.
pub async fn run<T: Send + 'static>(
    class: Class,
    hashes: u32,
    work: impl FnOnce(&mut Memory) -> T + Send + 'static,
) -> Result<T, String> {
    let Ok(place) = room(class).clone().try_acquire_many_owned(hashes) else {
        return Err(format!("the hashing queue is full ({class:?})"));
    };
    let (answer, answered) = tokio::sync::oneshot::channel();
    let job: Job = Box::new(move |memory| {
        let _place = place;
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
        .send(job)
        .map_err(|_| "no hashing thread".to_owned())?;
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
        let name = run(Class::Login, 1, |_| {
            std::thread::current().name().map(str::to_owned)
        })
        .await
        .unwrap();
        assert!(name.is_some_and(|name| name.starts_with("twofa-hash-")));
        assert!(
            run(Class::Login, 1, |_| panic!("in the hash"))
                .await
                .is_err()
        );
        // The thread that panicked goes on working.
        for _ in 0..8 {
            assert_eq!(run(Class::Login, 1, |_| 7).await, Ok(7));
        }
    }

    #[tokio::test]
    async fn a_class_past_its_share_is_refused_at_once_and_the_other_is_not() {
        let share = u32::try_from(threads()).unwrap() * HASHES_PER_THREAD;
        // Work as long as the whole share of changes, holding it.
        let (release, released) = std::sync::mpsc::channel::<()>();
        let holding = tokio::spawn(run(Class::Change, share, move |_| {
            let _ = released.recv();
        }));
        while room(Class::Change).available_permits() > 0 {
            tokio::task::yield_now().await;
        }
        assert!(run(Class::Change, 1, |_| ()).await.is_err());
        // Logins keep their own room (the threads are free but one).
        release.send(()).unwrap();
        assert_eq!(run(Class::Login, 1, |_| 1).await, Ok(1));
        holding.await.unwrap().unwrap();
        assert_eq!(run(Class::Change, 1, |_| 2).await, Ok(2));
    }
}
