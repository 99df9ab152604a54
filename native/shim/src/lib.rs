//! libjhot_shim.so: the LD_PRELOAD library jhot puts into the processes it starts, so that an
//! unmodified server adopts the listening sockets it inherits, tells jhot when it accepts, and
//! hands its idle connections to jhot when it is drained. The contract with jhot is
//! docs/shim-protocol.md; native/shim/README.md says how to use and debug it.
//!
//! Hooks run inside an arbitrary process, on any thread, before main or between fork and exec:
//! they never allocate, never lock, never panic, and leave errno as the real call set it.

mod accept;
mod addr;
mod adopt;
mod ctl;
mod env;
mod fdtab;
mod handover;
mod hooks;
mod http;
mod log;
mod page;
mod real;
mod sys;

use core::sync::atomic::{AtomicI32, AtomicU8, Ordering::*};

use crate::log::debug;

/// The shim acts on LISTEN_* in this process.
pub(crate) const ACTIVE: u8 = 1;
/// JHOT_SHIM_REUSEPORT=1.
pub(crate) const REUSEPORT: u8 = 2;

/// 0 until the constructor has set everything up: every hook passes through until then. Stored
/// with Release once the listener table, control socket and page are in place; hooks that go
/// past the fast path issue an Acquire fence before reading them.
static MODE: AtomicU8 = AtomicU8::new(0);
/// The pid the shim is active in (LISTEN_PID).
static OWNER: AtomicI32 = AtomicI32::new(0);

#[inline(always)]
pub(crate) fn mode() -> u8 {
    MODE.load(Relaxed)
}

pub(crate) fn owner_pid() -> i32 {
    OWNER.load(Relaxed)
}

/// This is the process the shim is active in, not a vfork child sharing its memory.
pub(crate) fn is_owner() -> bool {
    sys::getpid() == owner_pid()
}

#[used]
#[unsafe(link_section = ".init_array")]
static INIT: extern "C" fn() = init;

/// The constructor (also the address `env` resolves the library's own path from).
pub(crate) extern "C" fn init() {
    let pid = sys::getpid();
    OWNER.store(pid, Relaxed);
    log::set_enabled(env::get(c"JHOT_SHIM_DEBUG") == Some(b"1"));

    let mut exe = [0u8; 512];
    if let Some(name) = env::wrapper_name(&mut exe) {
        if env::get(c"LISTEN_PID").is_some() {
            debug!("{}: wrapper executable, inactive", core::str::from_utf8(name).unwrap_or("?"));
        }
        return;
    }
    let reuseport = env::get(c"JHOT_SHIM_REUSEPORT") == Some(b"1");
    let listen_pid = env::get(c"LISTEN_PID").and_then(env::parse_u32);
    if listen_pid != Some(pid as u32) {
        if let Some(p) = listen_pid {
            debug!("LISTEN_PID {p} is another process: inactive");
        }
        if reuseport {
            MODE.store(REUSEPORT, Release);
            debug!("JHOT_SHIM_REUSEPORT=1: SO_REUSEPORT on every TCP bind");
        }
        return;
    }
    activate(reuseport);
}

fn activate(reuseport: bool) {
    let nfds = env::get(c"LISTEN_FDS").and_then(env::parse_u32).unwrap_or(0).min(1024) as i32;
    // Copied: the environment is rewritten below.
    let mut names = [0u8; 4096];
    let names_len = match env::get(c"LISTEN_FDNAMES") {
        Some(v) => {
            let n = v.len().min(names.len());
            if let (Some(dst), Some(src)) = (names.get_mut(..n), v.get(..n)) {
                dst.copy_from_slice(src);
            }
            n
        }
        None => 0,
    };
    let mut name_iter = names.get(..names_len).unwrap_or(&[]).split(|&b| b == b':');
    let (mut have_ctl, mut have_page, mut listener_index) = (false, false, 0);
    for fd in 3..3 + nfds {
        // Without LISTEN_FDNAMES (or with too few names) a descriptor is a listener.
        let name = name_iter.next().unwrap_or(b"");
        sys::set_cloexec(fd);
        match name {
            b"jhot-ctl" if !have_ctl => {
                have_ctl = ctl::init(fd);
                if !have_ctl {
                    debug!("fd {fd} (jhot-ctl) is not a SOCK_SEQPACKET socket: ignored");
                }
            }
            b"jhot-page" if !have_page => {
                have_page = page::init(fd);
                if !have_page {
                    debug!("fd {fd} (jhot-page) is not a 4096-byte page with the magic: ignored");
                }
            }
            b"jhot-ctl" | b"jhot-page" => {
                debug!("fd {fd}: second {} ignored", core::str::from_utf8(name).unwrap_or("?"))
            }
            _ => {
                adopt::add_inherited(fd, listener_index);
                listener_index += 1;
            }
        }
    }
    env::cleanup();
    // SAFETY: registering a plain function; fork children must not act for the parent.
    unsafe { libc::pthread_atfork(None, None, Some(after_fork_child)) };
    MODE.store(ACTIVE | if reuseport { REUSEPORT } else { 0 }, Release);
    ctl::send(&ctl::msg(ctl::Kind::Hello, -1, -1, 0), -1);
    debug!(
        "active: {} inherited listener(s), control socket {}, page {}",
        adopt::inherited_count(),
        if have_ctl { "yes" } else { "no" },
        if have_page { "yes" } else { "no" }
    );
}

/// A forked child is a different process with a copy of our state: it must not adopt, report or
/// hand over anything on the parent's behalf.
extern "C" fn after_fork_child() {
    MODE.store(0, Relaxed);
}
