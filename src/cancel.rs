//! Work nobody waits for any more stops: a flag the server sets when a request is dropped
//! (its client went away, or its deadline passed), read by the long loops of the engines
//! (`nsg analyze`, the template evaluator, `check`) on the thread running the request.
//!
//! The flag lives in a thread-local set by [`scope`]; outside a scope (the CLI, Python, the
//! library) [`cancelled`] is always false, so an engine's answer is never cut short there. An
//! engine that sees the flag returns early with what it has: the server throws that answer
//! away, as nobody is there to read it.

use std::cell::RefCell;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

thread_local! {
    static FLAG: RefCell<Option<Arc<AtomicBool>>> = const { RefCell::new(None) };
}

/// Runs `f` with `flag` as this thread's cancellation flag.
pub fn scope<R>(flag: Arc<AtomicBool>, f: impl FnOnce() -> R) -> R {
    struct Reset(Option<Arc<AtomicBool>>);
    impl Drop for Reset {
        fn drop(&mut self) {
            let prev = self.0.take();
            FLAG.with(|f| *f.borrow_mut() = prev);
        }
    }
    let prev = FLAG.with(|f| f.borrow_mut().replace(flag));
    let _reset = Reset(prev);
    f()
}

/// Whether the work running on this thread has been given up.
pub fn cancelled() -> bool {
    FLAG.with(|f| {
        f.borrow()
            .as_ref()
            .is_some_and(|a| a.load(Ordering::Relaxed))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_flag_is_seen_inside_its_scope_only() {
        assert!(!cancelled());
        let flag = Arc::new(AtomicBool::new(false));
        scope(flag.clone(), || {
            assert!(!cancelled());
            flag.store(true, Ordering::Relaxed);
            assert!(cancelled());
            // A nested scope has its own flag, and the outer one comes back after it.
            scope(Arc::new(AtomicBool::new(false)), || assert!(!cancelled()));
            assert!(cancelled());
        });
        assert!(!cancelled());
    }
}
