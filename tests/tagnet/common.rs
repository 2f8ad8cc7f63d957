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

/// A tiny seeded generator (xorshift64*), so tests need no RNG crate and are repeatable.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}
