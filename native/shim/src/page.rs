//! The shared page `jhot-page`: jhot's drain flag, INJECT counter and probe ports.
//!
//! Mapped read-only in the constructor; the descriptor is closed right after mapping (the mapping
//! keeps the memfd alive), so there is no extra descriptor for the application to trip over and
//! nothing to guard against close/dup2.

use core::ffi::c_int;
use core::sync::atomic::{AtomicPtr, AtomicU32, Ordering};

pub const SIZE: usize = 4096;
pub const MAGIC: u32 = 0x3150_484A; // "JHP1"
const OFF_DRAIN: usize = 4;
const OFF_INJECT_SEQ: usize = 8;
const OFF_PROBE: usize = 16;
const PROBES: usize = 8;

static PAGE: AtomicPtr<AtomicU32> = AtomicPtr::new(core::ptr::null_mut());

fn field(off: usize) -> Option<u32> {
    let base = PAGE.load(Ordering::Acquire);
    if base.is_null() || off + 4 > SIZE {
        return None;
    }
    // SAFETY: base maps SIZE bytes (checked at init); off is 4-aligned and in range. The other
    // side writes these u32 fields atomically, so reading them through AtomicU32 is sound.
    let v = unsafe { (*base.add(off / 4)).load(Ordering::Acquire) };
    Some(u32::from_le(v))
}

/// Maps the page behind `fd` and closes `fd`. Returns false (and maps nothing) when the page is
/// too small or does not carry the magic: a short memfd would SIGBUS on first read.
pub fn init(fd: c_int) -> bool {
    // SAFETY: fstat into a zeroed stat; mmap of a descriptor we own.
    let ok = unsafe {
        let mut st: libc::stat = core::mem::zeroed();
        if libc::fstat(fd, &mut st) != 0 || (st.st_size as u64) < SIZE as u64 {
            false
        } else {
            let p = libc::mmap(core::ptr::null_mut(), SIZE, libc::PROT_READ, libc::MAP_SHARED, fd, 0);
            if p == libc::MAP_FAILED {
                false
            } else {
                PAGE.store(p as *mut AtomicU32, Ordering::Release);
                if field(0) == Some(MAGIC) {
                    true
                } else {
                    PAGE.store(core::ptr::null_mut(), Ordering::Release);
                    libc::munmap(p, SIZE);
                    false
                }
            }
        }
    };
    crate::sys::close(fd);
    ok
}

pub fn present() -> bool {
    !PAGE.load(Ordering::Relaxed).is_null()
}

/// jhot is draining this process.
pub fn draining() -> bool {
    field(OFF_DRAIN) == Some(1)
}

pub fn inject_seq() -> Option<u32> {
    field(OFF_INJECT_SEQ)
}

pub fn is_probe_port(port: u16) -> bool {
    port != 0 && (0..PROBES).any(|i| field(OFF_PROBE + 4 * i) == Some(port as u32))
}
