//! `javap::disassemble` must return `Ok` or `Err` for any bytes, and its output stays within
//! `javap::MAX_OUTPUT` (plus the line that says it was cut).
#![no_main]

use jhot_classfile::javap::{self, JavapOptions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for constant_pool in [false, true] {
        if let Ok(text) = javap::disassemble(data, &JavapOptions { constant_pool }) {
            assert!(text.len() <= javap::MAX_OUTPUT + 100, "output of {} bytes", text.len());
        }
    }
});
