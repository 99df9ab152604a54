//! The environment: reading the shim's variables, recognising wrapper executables, and removing
//! every trace of the shim so that processes the server starts inherit none of it.
//!
//! Runs in the constructor only, before the application's main: libc's getenv/unsetenv/setenv
//! are safe to use there (setenv may allocate, which is fine outside the hooks).

use core::ffi::{CStr, c_char};

unsafe extern "C" {
    static mut environ: *mut *mut c_char;
}

/// The value of `name`, borrowed from the environment (valid until the environment changes).
pub fn get(name: &CStr) -> Option<&'static [u8]> {
    // SAFETY: getenv returns null or a NUL-terminated string owned by the environment.
    unsafe {
        let p = libc::getenv(name.as_ptr());
        if p.is_null() { None } else { Some(CStr::from_ptr(p).to_bytes()) }
    }
}

pub fn parse_u32(s: &[u8]) -> Option<u32> {
    if s.is_empty() || s.len() > 10 {
        return None;
    }
    s.iter().try_fold(
        0u32,
        |acc, &b| {
            if b.is_ascii_digit() { acc.checked_mul(10)?.checked_add((b - b'0') as u32) } else { None }
        },
    )
}

/// Shells and launchers that `exec` the real server in the same process (pid): they must leave
/// LISTEN_PID and the rest for it.
const WRAPPERS: &[&[u8]] = &[
    b"sh",
    b"bash",
    b"dash",
    b"zsh",
    b"ksh",
    b"mksh",
    b"ash",
    b"yash",
    b"busybox",
    b"env",
    b"setsid",
    b"setpriv",
    b"nohup",
    b"timeout",
    b"tini",
    b"tini-static",
    b"dumb-init",
    b"gosu",
    b"su-exec",
    b"chpst",
    b"runuser",
    b"su",
    b"sudo",
    b"doas",
    b"nice",
    b"ionice",
    b"taskset",
    b"numactl",
    b"chrt",
    b"stdbuf",
    b"prlimit",
    b"unshare",
    b"nsenter",
    b"catatonit",
    b"flock",
];

/// The executable's file name (from /proc/self/exe) when it is a wrapper.
pub fn wrapper_name(buf: &mut [u8; 512]) -> Option<&[u8]> {
    // SAFETY: readlink into our buffer, at most its length.
    let n = unsafe { libc::readlink(c"/proc/self/exe".as_ptr(), buf.as_mut_ptr() as *mut c_char, buf.len()) };
    if n <= 0 {
        return None;
    }
    let path = buf.get(..n as usize)?;
    let base = path.rsplit(|&b| b == b'/').next()?;
    WRAPPERS.contains(&base).then_some(base)
}

/// Removes LISTEN_PID, LISTEN_FDS, LISTEN_FDNAMES, every JHOT_SHIM_* and the shim's own entry in
/// LD_PRELOAD.
pub fn cleanup() {
    // SAFETY: constructor context; names are NUL-terminated.
    unsafe {
        libc::unsetenv(c"LISTEN_PID".as_ptr());
        libc::unsetenv(c"LISTEN_FDS".as_ptr());
        libc::unsetenv(c"LISTEN_FDNAMES".as_ptr());
    }
    // unsetenv reshuffles the array: look again from the start after each removal.
    for _ in 0..64 {
        let mut name = [0u8; 128];
        if !find_prefixed(b"JHOT_SHIM_", &mut name) {
            break;
        }
        // SAFETY: find_prefixed left a NUL-terminated name in the buffer.
        unsafe { libc::unsetenv(name.as_ptr() as *const c_char) };
    }
    strip_preload();
}

/// Copies the name of the first variable starting with `prefix` into `out` (NUL-terminated).
fn find_prefixed(prefix: &[u8], out: &mut [u8; 128]) -> bool {
    // SAFETY: environ is a null-terminated array of NUL-terminated strings.
    unsafe {
        let mut p = environ;
        if p.is_null() {
            return false;
        }
        while !(*p).is_null() {
            let entry = CStr::from_ptr(*p).to_bytes();
            p = p.add(1);
            if !entry.starts_with(prefix) {
                continue;
            }
            let name = entry.split(|&b| b == b'=').next().unwrap_or(entry);
            if let Some(dst) = out.get_mut(..name.len()) {
                dst.copy_from_slice(name);
                if let Some(nul) = out.get_mut(name.len()) {
                    *nul = 0;
                    return true;
                }
            }
        }
    }
    false
}

fn base(path: &[u8]) -> &[u8] {
    path.rsplit(|&b| b == b'/').next().unwrap_or(path)
}

/// The path this library was loaded from.
fn own_path() -> Option<&'static [u8]> {
    // SAFETY: dladdr on one of our own functions; dli_fname lives as long as the library.
    unsafe {
        let mut info: libc::Dl_info = core::mem::zeroed();
        if libc::dladdr(crate::init as *const libc::c_void, &mut info) == 0 || info.dli_fname.is_null() {
            return None;
        }
        Some(CStr::from_ptr(info.dli_fname).to_bytes())
    }
}

/// Rewrites LD_PRELOAD without the shim's entry (matched by path, or by file name so that a
/// relative entry counts too); unsets it when nothing is left.
fn strip_preload() {
    let Some(value) = get(c"LD_PRELOAD") else { return };
    let own = own_path().unwrap_or(b"libjhot_shim.so");
    let own_base = base(own);
    let mut out = [0u8; 4096];
    let mut len = 0usize;
    let mut changed = false;
    // ld.so separates entries with colons or spaces.
    for entry in value.split(|&b| b == b':' || b == b' ' || b == b'\t').filter(|e| !e.is_empty()) {
        if entry == own || base(entry) == own_base || base(entry) == b"libjhot_shim.so" {
            changed = true;
            continue;
        }
        let sep = usize::from(len > 0);
        let Some(dst) = out.get_mut(len + sep..len + sep + entry.len()) else {
            // Too long to rebuild here: leave the variable as it was.
            return;
        };
        dst.copy_from_slice(entry);
        if sep == 1
            && let Some(c) = out.get_mut(len)
        {
            *c = b':';
        }
        len += sep + entry.len();
    }
    if !changed {
        return;
    }
    // SAFETY: constructor context; out is NUL-terminated (len < out.len() is ensured below).
    unsafe {
        if len == 0 {
            libc::unsetenv(c"LD_PRELOAD".as_ptr());
        } else if len < out.len() {
            libc::setenv(c"LD_PRELOAD".as_ptr(), out.as_ptr() as *const c_char, 1);
        }
    }
}
