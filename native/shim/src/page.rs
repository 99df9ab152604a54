//! The shared page `jhot-page`: jhot's drain and refuse flags, INJECT counter and probe addresses.
//!
//! Mapped read-only in the constructor; the descriptor is closed right after mapping (the mapping
//! keeps the memfd alive), so there is no extra descriptor for the application to trip over and
//! nothing to guard against close/dup2.

use core::ffi::c_int;
use core::sync::atomic::{AtomicPtr, AtomicU32, Ordering};

use jhot_shim_protocol::page::{self as layout, LEN as SIZE, MAGIC, probe};

use crate::addr::NormAddr;

static PAGE: AtomicPtr<AtomicU32> = AtomicPtr::new(core::ptr::null_mut());

/// The word at `off` as stored (no byte-order conversion: IP addresses are bytes).
fn raw(off: usize) -> Option<u32> {
    let base = PAGE.load(Ordering::Acquire);
    if base.is_null() || off + 4 > SIZE {
        return None;
    }
    // SAFETY: base maps SIZE bytes (checked at init); off is 4-aligned and in range. The other
    // side writes these u32 fields atomically, so reading them through AtomicU32 is sound.
    Some(unsafe { (*base.add(off / 4)).load(Ordering::Acquire) })
}

fn field(off: usize) -> Option<u32> {
    raw(off).map(u32::from_le)
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
    field(layout::DRAIN) == Some(1)
}

pub fn inject_seq() -> Option<u32> {
    field(layout::INJECT_SEQ)
}

/// jhot rolls this process back: it takes no new connection (those it has stay).
pub fn refusing() -> bool {
    field(layout::REFUSE) == Some(1)
}

/// The 16-byte address at `off` in a probe slot is `a` (same family, same bytes).
fn addr_is(off: usize, v6: bool, a: &NormAddr) -> bool {
    if a.v6 != v6 {
        return false;
    }
    (0..4).all(|w| {
        let stored = raw(off + 4 * w).map(u32::to_ne_bytes);
        matches!((stored, a.ip.get(4 * w..4 * w + 4)), (Some(s), Some(want)) if s[..] == *want)
    })
}

/// When `peer` is the source of one of jhot's probe connections (address and port, exactly),
/// the address jhot connected it to. A connection from another address with the same port
/// (127.0.0.2:p while jhot's probe is 127.0.0.1:p) is not a probe: jhot holds its source address
/// and port bound, so nobody else can open a connection from them.
pub fn probe_for(peer: &NormAddr) -> Option<NormAddr> {
    if peer.port == 0 {
        return None;
    }
    for slot in (0..layout::PROBE_SLOTS).filter_map(layout::probe_slot) {
        // A seqlock: jhot makes the sequence odd while it writes a slot.
        let seq = field(slot + probe::SEQ)?;
        if seq & 1 == 1 {
            continue;
        }
        let (src_port, dst_port) = probe::split_ports(field(slot + probe::PORTS).unwrap_or(0));
        if src_port != peer.port {
            continue;
        }
        let families = field(slot + probe::FAMILIES).unwrap_or(0);
        if !addr_is(slot + probe::SRC, families & probe::SRC_V6 != 0, peer) {
            continue;
        }
        let mut dst = NormAddr { v6: families & probe::DST_V6 != 0, ip: [0; 16], port: dst_port };
        for w in 0..4 {
            let b = raw(slot + probe::DST + 4 * w).unwrap_or(0).to_ne_bytes();
            if let Some(d) = dst.ip.get_mut(4 * w..4 * w + 4) {
                d.copy_from_slice(&b);
            }
        }
        if field(slot + probe::SEQ) == Some(seq) {
            return Some(dst);
        }
    }
    None
}
