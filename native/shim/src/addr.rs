//! Socket addresses reduced to what the shim compares: an IPv4-mapped IPv6 address is the IPv4
//! address and `::` is `0.0.0.0`, because a JVM binds dual-stack AF_INET6 sockets while jhot may
//! have inherited an AF_INET listener for the same address.

use libc::{sockaddr, sockaddr_in, sockaddr_in6, socklen_t};

#[derive(Clone, Copy, PartialEq, Eq)]
pub struct NormAddr {
    pub v6: bool,
    /// IPv4: the first 4 bytes, network order; the rest are zero.
    pub ip: [u8; 16],
    pub port: u16,
}

impl NormAddr {
    pub const UNSET: NormAddr = NormAddr { v6: false, ip: [0; 16], port: 0 };

    /// # Safety
    /// `addr` must be null or valid for `len` bytes.
    pub unsafe fn from_raw(addr: *const sockaddr, len: socklen_t) -> Option<NormAddr> {
        if addr.is_null() || (len as usize) < core::mem::size_of::<libc::sa_family_t>() {
            return None;
        }
        // SAFETY: at least the family is readable; the application's buffer may be unaligned.
        let family = unsafe { core::ptr::read_unaligned(addr as *const libc::sa_family_t) } as i32;
        match family {
            libc::AF_INET if len as usize >= core::mem::size_of::<sockaddr_in>() => {
                // SAFETY: len covers a sockaddr_in.
                let a = unsafe { core::ptr::read_unaligned(addr as *const sockaddr_in) };
                Some(NormAddr::v4(a.sin_addr.s_addr.to_ne_bytes(), u16::from_be(a.sin_port)))
            }
            libc::AF_INET6 if len as usize >= core::mem::size_of::<sockaddr_in6>() => {
                // SAFETY: len covers a sockaddr_in6.
                let a = unsafe { core::ptr::read_unaligned(addr as *const sockaddr_in6) };
                let ip = a.sin6_addr.s6_addr;
                let port = u16::from_be(a.sin6_port);
                let mapped = ip[..10].iter().all(|&b| b == 0) && ip[10] == 0xff && ip[11] == 0xff;
                if mapped {
                    Some(NormAddr::v4([ip[12], ip[13], ip[14], ip[15]], port))
                } else if ip.iter().all(|&b| b == 0) {
                    Some(NormAddr::v4([0; 4], port))
                } else {
                    Some(NormAddr { v6: true, ip, port })
                }
            }
            _ => None,
        }
    }

    pub fn from_sock(a: &crate::sys::SockAddr) -> Option<NormAddr> {
        // SAFETY: the storage holds `len` bytes written by the kernel.
        unsafe { NormAddr::from_raw(a.as_ptr(), a.len) }
    }

    fn v4(b: [u8; 4], port: u16) -> NormAddr {
        let mut ip = [0u8; 16];
        ip[..4].copy_from_slice(&b);
        NormAddr { v6: false, ip, port }
    }

    /// 127.0.0.1 or ::1 exactly: where jhot's doorbells come from. Not the rest of 127.0.0.0/8:
    /// any local user can connect from 127.0.0.2 with the port jhot's doorbell uses (only the
    /// address and port together are jhot's alone, because jhot holds them bound).
    pub fn is_jhot_loopback(&self) -> bool {
        if self.v6 { self.ip[..15].iter().all(|&b| b == 0) && self.ip[15] == 1 } else { self.ip[..4] == [127, 0, 0, 1] }
    }

    pub fn is_wildcard(&self) -> bool {
        !self.v6 && self.ip[..4] == [0; 4]
    }
}

/// Writes the address as text (for debug lines).
impl core::fmt::Display for NormAddr {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        if self.v6 {
            f.write_str("[")?;
            for (i, pair) in self.ip.chunks(2).enumerate() {
                if i > 0 {
                    f.write_str(":")?;
                }
                let hi = pair.first().copied().unwrap_or(0);
                let lo = pair.get(1).copied().unwrap_or(0);
                write!(f, "{:x}", u16::from_be_bytes([hi, lo]))?;
            }
            write!(f, "]:{}", self.port)
        } else {
            write!(f, "{}.{}.{}.{}:{}", self.ip[0], self.ip[1], self.ip[2], self.ip[3], self.port)
        }
    }
}
