//! Build script: turns an explicit request to skip the namespace lab into a cfg.
//!
//! The lab scenarios in `tests/lab_scenarios.rs` need root and real tools. Outside CI a
//! developer may set `NETTRIAGE_LAB=skip`; this script then sets `cfg(nettriage_lab_skip)`,
//! and every lab test carries `#[cfg_attr(nettriage_lab_skip, ignore = "NETTRIAGE_LAB=skip")]`,
//! so `cargo test` reports those tests as *ignored*, never as passed. With `CI=true` the
//! request is refused (CI must run every lab test) and a warning says so. Nothing else in
//! the crate reads this cfg.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(nettriage_lab_skip)");
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-env-changed=NETTRIAGE_LAB");
    println!("cargo::rerun-if-env-changed=CI");
    let skip = std::env::var("NETTRIAGE_LAB").is_ok_and(|v| v == "skip");
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    if skip && ci {
        println!("cargo::warning=NETTRIAGE_LAB=skip is ignored because CI=true: every lab test runs");
    } else if skip {
        println!("cargo::rustc-cfg=nettriage_lab_skip");
    }
}
