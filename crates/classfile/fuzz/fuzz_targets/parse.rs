//! `classfile::read` must return `Ok` or `Err` for any bytes: no panic, no stack overflow, no
//! allocation out of proportion to the input (libFuzzer's -rss_limit_mb / -malloc_limit_mb).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = jhot_classfile::read(data);
});
