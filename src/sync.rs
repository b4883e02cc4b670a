//! The one policy for poisoned locks.
//!
//! A `Mutex` is poisoned when a thread panicked while holding it. Every lock in Pictor
//! guards data that is whole between statements (maps of jobs and keys, work queues,
//! SQLite connections whose open transaction rolls back when dropped), so a panic in one
//! task must not take the rest of the app down with it: [`lock`] takes the data and goes
//! on, and logs that it happened.

use std::sync::{Mutex, MutexGuard, PoisonError};

/// Locks `mutex`; a poisoned lock yields its data (see the module documentation).
pub fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned: PoisonError<MutexGuard<'_, T>>| {
        tracing::warn!("a lock was poisoned by a panicking thread; carrying on with its data");
        poisoned.into_inner()
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_poisoned_lock_still_yields_its_data() {
        let mutex = std::sync::Arc::new(Mutex::new(vec![1]));
        let clone = std::sync::Arc::clone(&mutex);
        let panicked = std::thread::Builder::new()
            .name("poisoner".into())
            .spawn(move || {
                let mut guard = clone.lock().unwrap();
                guard.push(2);
                panic!("poison the lock");
            })
            .unwrap()
            .join();
        assert!(panicked.is_err() && mutex.is_poisoned());
        assert_eq!(*lock(&mutex), vec![1, 2]);
    }
}
