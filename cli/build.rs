//! Links the unwinder statically where the toolchain allows it.
//!
//! Rust's standard library asks the linker for `-lgcc_s`, so every run of jhot loads
//! `libgcc_s.so.1`, relocates it and runs its constructor, which probes the CPU with CPUID
//! instructions (each one trapping to the hypervisor on a virtual machine). jhot is short-lived and
//! run once per command, so that start-up is paid every time: measured on a Rust hello world here,
//! 1.09 -> 1.00 ms of CPU and 69 -> 61 page faults. A linker script named `libgcc_s.so`, found
//! before the system's, stands for the static unwinder (`libgcc_eh.a`) instead. When the C
//! compiler cannot name that archive (or when cross-compiling), nothing changes.

use std::path::PathBuf;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=CC");
    let target = std::env::var("TARGET").unwrap_or_default();
    let host = std::env::var("HOST").unwrap_or_default();
    if target != host || !target.ends_with("-linux-gnu") {
        return;
    }
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".to_string());
    let Ok(out) = Command::new(&cc).arg("-print-file-name=libgcc_eh.a").output() else { return };
    let path = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    // An archive it cannot find comes back as the bare name.
    if !out.status.success() || !path.is_absolute() || !path.is_file() {
        return;
    }
    let Some(dir) = std::env::var_os("OUT_DIR").map(PathBuf::from) else { return };
    if std::fs::write(dir.join("libgcc_s.so"), format!("INPUT({})\n", path.display())).is_ok() {
        println!("cargo:rustc-link-search=native={}", dir.display());
    }
}
