//! `verdict::diff_class` must return `Ok` or `Err` for any two inputs.
//!
//! Input layout: byte 0 picks the JVM (feature 11, 17, 21 or 25 by its low two bits; bit 2 sets
//! `allow_add_delete_methods`), bytes 1..5 are the length of the old class (big-endian, clamped),
//! then the old class, then the new one. scripts/fuzz.sh builds seeds in this layout from pairs
//! of real class files.
#![no_main]

use jhot_classfile::verdict::{Vm, diff_class};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else { return };
    let Some((len, rest)) = rest.split_first_chunk::<4>() else { return };
    let at = (u32::from_be_bytes(*len) as usize).min(rest.len());
    let (old, new) = rest.split_at(at);
    let vm = Vm { feature: [11, 17, 21, 25][usize::from(pick & 3)], allow_add_delete_methods: pick & 4 != 0 };
    let _ = diff_class(old, new, &vm);
});
