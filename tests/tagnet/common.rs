//! Helpers shared by the integration tests.

use std::path::PathBuf;

/// The small example snapshot shipped in `data/example/`.
pub fn example() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data/example/ServiceTags_Example.json")
}

/// A real snapshot from `../shared/data/servicetags/`, or `None` (with a note) on a fresh clone
/// that does not have it.
pub fn shared(name: &str) -> Option<PathBuf> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/data/servicetags")
        .join(name);
    if p.exists() {
        Some(p)
    } else {
        eprintln!(
            "skipped: needs {} (the shared real snapshots are not beside this checkout)",
            p.display()
        );
        None
    }
}

// The benches' seeded generator (xorshift64*), so tests and benches draw inputs alike.
#[path = "../../benches/common/mod.rs"]
mod rng;
pub use rng::Rng;

impl Rng {
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}
