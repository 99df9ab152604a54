//! jhot's side of the shim contract (docs/shim-protocol.md): the 24-byte control messages on the
//! `jhot-ctl` SOCK_SEQPACKET socket, and the shared `jhot-page` memfd.

use std::io::{IoSlice, IoSliceMut};
use std::mem::MaybeUninit;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::sync::atomic::{AtomicU32, Ordering};

use rustix::net::{
    AddressFamily, RecvAncillaryBuffer, RecvAncillaryMessage, RecvFlags, SendAncillaryBuffer, SendAncillaryMessage,
    SendFlags, SocketFlags, SocketType,
};

pub const MSG_MAGIC: u32 = 0x314D_484A;
pub const PAGE_MAGIC: u32 = 0x3150_484A;
pub const MSG_LEN: usize = 24;
pub const PAGE_LEN: usize = 4096;
pub const PROBE_SLOTS: usize = 8;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Hello,
    Adopted,
    Listening,
    Accepting,
    Handover,
    Injected,
    Probe,
    Inject,
    Other(u16),
}

impl Kind {
    fn code(self) -> u16 {
        match self {
            Kind::Hello => 1,
            Kind::Adopted => 2,
            Kind::Listening => 3,
            Kind::Accepting => 4,
            Kind::Handover => 5,
            Kind::Injected => 6,
            Kind::Probe => 7,
            Kind::Inject => 16,
            Kind::Other(c) => c,
        }
    }

    fn from_code(c: u16) -> Kind {
        match c {
            1 => Kind::Hello,
            2 => Kind::Adopted,
            3 => Kind::Listening,
            4 => Kind::Accepting,
            5 => Kind::Handover,
            6 => Kind::Injected,
            7 => Kind::Probe,
            16 => Kind::Inject,
            c => Kind::Other(c),
        }
    }
}

/// Flag of `HANDOVER`: the client's next request is already in the kernel's receive queue.
pub const FLAG_PENDING: u16 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Msg {
    pub kind: Kind,
    pub flags: u16,
    pub fd: i32,
    pub index: i32,
    pub port: u32,
    pub pid: u32,
}

impl Msg {
    pub fn inject(port: u16) -> Msg {
        Msg { kind: Kind::Inject, flags: 0, fd: -1, index: -1, port: u32::from(port), pid: 0 }
    }

    pub fn encode(&self) -> [u8; MSG_LEN] {
        let mut b = [0u8; MSG_LEN];
        b[0..4].copy_from_slice(&MSG_MAGIC.to_le_bytes());
        b[4..6].copy_from_slice(&self.kind.code().to_le_bytes());
        b[6..8].copy_from_slice(&self.flags.to_le_bytes());
        b[8..12].copy_from_slice(&self.fd.to_le_bytes());
        b[12..16].copy_from_slice(&self.index.to_le_bytes());
        b[16..20].copy_from_slice(&self.port.to_le_bytes());
        b[20..24].copy_from_slice(&self.pid.to_le_bytes());
        b
    }

    pub fn decode(b: &[u8]) -> Option<Msg> {
        if b.len() != MSG_LEN {
            return None;
        }
        let u32_at = |i: usize| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
        if u32_at(0) != MSG_MAGIC {
            return None;
        }
        Some(Msg {
            kind: Kind::from_code(u16::from_le_bytes([b[4], b[5]])),
            flags: u16::from_le_bytes([b[6], b[7]]),
            fd: u32_at(8) as i32,
            index: u32_at(12) as i32,
            port: u32_at(16),
            pid: u32_at(20),
        })
    }
}

/// A connected pair: jhot keeps the first end, the child inherits the second as `jhot-ctl`.
pub fn pair() -> std::io::Result<(OwnedFd, OwnedFd)> {
    let (a, b) = rustix::net::socketpair(AddressFamily::UNIX, SocketType::SEQPACKET, SocketFlags::CLOEXEC, None)?;
    Ok((a, b))
}

pub fn send(sock: BorrowedFd<'_>, msg: &Msg, fd: Option<BorrowedFd<'_>>) -> std::io::Result<()> {
    let bytes = msg.encode();
    let mut space = [MaybeUninit::<u8>::uninit(); rustix::cmsg_space!(ScmRights(1))];
    let mut control = SendAncillaryBuffer::new(&mut space);
    let fds;
    if let Some(fd) = fd {
        fds = [fd];
        control.push(SendAncillaryMessage::ScmRights(&fds));
    }
    let n = rustix::net::sendmsg(sock, &[IoSlice::new(&bytes)], &mut control, SendFlags::NOSIGNAL)?;
    if n != MSG_LEN {
        return Err(std::io::Error::other("short write on the shim's control socket"));
    }
    Ok(())
}

/// One message and the descriptor that came with it. `Ok(None)`: the peer closed.
/// `WouldBlock` when the socket is non-blocking and empty.
pub fn recv(sock: BorrowedFd<'_>) -> std::io::Result<Option<(Msg, Option<OwnedFd>)>> {
    let mut buf = [0u8; 64];
    let mut space = [MaybeUninit::<u8>::uninit(); rustix::cmsg_space!(ScmRights(4))];
    let mut control = RecvAncillaryBuffer::new(&mut space);
    let got = rustix::net::recvmsg(sock, &mut [IoSliceMut::new(&mut buf)], &mut control, RecvFlags::CMSG_CLOEXEC)?;
    let mut fd = None;
    for m in control.drain() {
        if let RecvAncillaryMessage::ScmRights(fds) = m {
            for f in fds {
                // One descriptor per message by contract; extra ones are dropped (closed).
                if fd.is_none() {
                    fd = Some(f);
                }
            }
        }
    }
    if got.bytes == 0 {
        return Ok(None);
    }
    match Msg::decode(&buf[..got.bytes]) {
        Some(m) => Ok(Some((m, fd))),
        None => Err(std::io::Error::new(std::io::ErrorKind::InvalidData, "malformed message from the shim")),
    }
}

/// The shared page (a 4096-byte memfd, mapped here and in the child).
pub struct Page {
    fd: OwnedFd,
    ptr: *mut AtomicU32,
}

// SAFETY: the mapping is only accessed through atomics and lives as long as the Page.
unsafe impl Send for Page {}
unsafe impl Sync for Page {}

impl Page {
    pub fn new() -> std::io::Result<Page> {
        let fd = rustix::fs::memfd_create("jhot-page", rustix::fs::MemfdFlags::CLOEXEC)?;
        rustix::fs::ftruncate(&fd, PAGE_LEN as u64)?;
        // SAFETY: a fresh shared mapping of a memfd we own, PAGE_LEN long.
        let ptr = unsafe {
            libc::mmap(std::ptr::null_mut(), PAGE_LEN, libc::PROT_READ | libc::PROT_WRITE, libc::MAP_SHARED, fd.as_raw_fd(), 0)
        };
        if ptr == libc::MAP_FAILED {
            return Err(std::io::Error::last_os_error());
        }
        let page = Page { fd, ptr: ptr.cast() };
        page.word(0).store(PAGE_MAGIC, Ordering::SeqCst);
        Ok(page)
    }

    fn word(&self, offset: usize) -> &AtomicU32 {
        debug_assert!(offset.is_multiple_of(4) && offset < PAGE_LEN);
        // SAFETY: in bounds of the mapping, aligned (mmap is page-aligned), valid while self lives.
        unsafe { &*self.ptr.add(offset / 4) }
    }

    pub fn fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }

    pub fn set_drain(&self) {
        self.word(4).store(1, Ordering::SeqCst);
    }

    pub fn draining(&self) -> bool {
        self.word(4).load(Ordering::SeqCst) != 0
    }

    pub fn bump_inject_seq(&self) {
        self.word(8).fetch_add(1, Ordering::SeqCst);
    }

    /// Puts a probe port into a free slot; false when all are taken.
    pub fn add_probe(&self, port: u16) -> bool {
        for i in 0..PROBE_SLOTS {
            if self.word(16 + 4 * i).compare_exchange(0, u32::from(port), Ordering::SeqCst, Ordering::SeqCst).is_ok() {
                return true;
            }
        }
        false
    }

    pub fn remove_probe(&self, port: u16) {
        for i in 0..PROBE_SLOTS {
            let _ = self.word(16 + 4 * i).compare_exchange(u32::from(port), 0, Ordering::SeqCst, Ordering::SeqCst);
        }
    }
}

impl Drop for Page {
    fn drop(&mut self) {
        // SAFETY: unmapping exactly what new() mapped.
        unsafe {
            libc::munmap(self.ptr.cast(), PAGE_LEN);
        }
    }
}

/// Registers an owned descriptor with tokio's reactor.
pub fn watch(fd: OwnedFd, interest: tokio::io::Interest) -> std::io::Result<tokio::io::unix::AsyncFd<OwnedFd>> {
    // SAFETY: an OwnedFd stays open, and names the same description, until the AsyncFd drops it.
    unsafe { tokio::io::unix::AsyncFd::register_with_interest(fd, interest) }.map_err(|e| e.into_parts().1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_round_trip_and_layout() {
        let m = Msg { kind: Kind::Handover, flags: FLAG_PENDING, fd: 17, index: -1, port: 40000, pid: 4242 };
        let b = m.encode();
        assert_eq!(&b[0..4], b"JHM1");
        assert_eq!(u16::from_le_bytes([b[4], b[5]]), 5);
        assert_eq!(Msg::decode(&b), Some(m));
        assert_eq!(Msg::decode(&b[..23]), None);
        let mut bad = b;
        bad[0] = 0;
        assert_eq!(Msg::decode(&bad), None);
        assert_eq!(Msg::decode(&Msg::inject(5).encode()).map(|m| m.kind), Some(Kind::Inject));
    }

    #[test]
    fn descriptors_travel_with_messages() {
        let (a, b) = pair().expect("socketpair");
        let file = std::fs::File::open("/proc/self/stat").expect("open");
        send(a.as_fd(), &Msg::inject(1234), Some(file.as_fd())).expect("send");
        let (m, fd) = recv(b.as_fd()).expect("recv").expect("message");
        assert_eq!(m.port, 1234);
        let got = rustix::fs::fstat(fd.expect("fd")).expect("fstat");
        let want = rustix::fs::fstat(&file).expect("fstat");
        assert_eq!((got.st_dev, got.st_ino), (want.st_dev, want.st_ino));
        drop(a);
        assert!(recv(b.as_fd()).expect("recv").is_none());
    }

    #[test]
    fn page_magic_drain_and_probes() {
        let page = Page::new().expect("page");
        let mut raw = [0u8; 8];
        rustix::io::pread(page.fd(), &mut raw, 0).expect("pread");
        assert_eq!(&raw[0..4], b"JHP1");
        assert!(!page.draining());
        page.set_drain();
        assert!(page.draining());
        for p in 1..=8 {
            assert!(page.add_probe(p));
        }
        assert!(!page.add_probe(9));
        page.remove_probe(3);
        assert!(page.add_probe(9));
    }
}

