//! Tells the tests whether Microsoft's real snapshots sit beside this checkout
//! (`../shared/data/servicetags/`): the tests that need them are ignored, with that reason,
//! when they do not (a fresh clone), so `cargo test` counts them as skipped, never as passed.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(tagnet_shared)");
    println!("cargo::rustc-check-cfg=cfg(tagnet_other_clouds)");
    println!("cargo::rustc-check-cfg=cfg(tagnet_nft)");
    println!("cargo::rerun-if-changed=build.rs");
    let shared = std::path::Path::new("../shared/data/servicetags");
    if shared.is_dir() {
        println!("cargo::rustc-cfg=tagnet_shared");
        println!("cargo::rerun-if-changed=../shared/data/servicetags");
    }
    // Other providers' published ranges (`../shared/data/other-clouds/`), likewise.
    let other = std::path::Path::new("../shared/data/other-clouds");
    if other.is_dir() {
        println!("cargo::rustc-cfg=tagnet_other_clouds");
        println!("cargo::rerun-if-changed=../shared/data/other-clouds");
    }
    // nftables and network namespaces, for the test that loads `export`'s sets in the kernel.
    let runs = |cmd: &str, args: &[&str]| {
        std::process::Command::new(cmd)
            .args(args)
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if runs("nft", &["--version"]) && runs("ip", &["netns", "list"]) {
        println!("cargo::rustc-cfg=tagnet_nft");
    }
}
