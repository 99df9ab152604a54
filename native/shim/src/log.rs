//! `JHOT_SHIM_DEBUG=1`: one line per decision on stderr.
//!
//! Hooks may run in any thread, in a signal handler, or between fork and exec, so a line is
//! formatted into a stack buffer (no allocation) and goes out with a single write(2) on fd 2,
//! which keeps lines from different threads whole. errno is left as it was.

use core::fmt::{self, Write};
use core::sync::atomic::{AtomicBool, Ordering::Relaxed};

static ENABLED: AtomicBool = AtomicBool::new(false);

pub fn set_enabled(on: bool) {
    ENABLED.store(on, Relaxed);
}

#[inline]
pub fn enabled() -> bool {
    ENABLED.load(Relaxed)
}

/// A fixed buffer that drops what does not fit instead of failing.
struct Line {
    buf: [u8; 512],
    len: usize,
}

impl Write for Line {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for &b in s.as_bytes() {
            // The last byte is kept for the newline.
            if self.len + 1 >= self.buf.len() {
                break;
            }
            if let Some(slot) = self.buf.get_mut(self.len) {
                *slot = b;
                self.len += 1;
            }
        }
        Ok(())
    }
}

pub fn write_line(args: fmt::Arguments<'_>) {
    let saved = crate::sys::errno();
    let mut line = Line { buf: [0; 512], len: 0 };
    let _ = write!(line, "[jhot-shim] pid {} ", crate::sys::getpid());
    let _ = line.write_fmt(args);
    if let Some(slot) = line.buf.get_mut(line.len) {
        *slot = b'\n';
        line.len += 1;
    }
    crate::sys::write_all(2, line.buf.get(..line.len).unwrap_or(&[]));
    crate::sys::set_errno(saved);
}

/// `debug!("format", args…)`: formats only when debugging is on.
macro_rules! debug {
    ($($arg:tt)*) => {
        if $crate::log::enabled() {
            $crate::log::write_line(format_args!($($arg)*));
        }
    };
}
pub(crate) use debug;
