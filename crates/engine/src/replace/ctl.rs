//! jhot's side of the shim contract (docs/shim-protocol.md): the 24-byte control messages on the
//! `jhot-ctl` SOCK_SEQPACKET socket, and the shared `jhot-page` memfd. Their bytes (message
//! format, page offsets) are `jhot-shim-protocol`'s, shared with the shim; this file holds the
//! sockets and the mapping.

use std::io::{IoSlice, IoSliceMut};
use std::mem::MaybeUninit;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::sync::atomic::{AtomicU32, Ordering};

use rustix::net::{
    AddressFamily, RecvAncillaryBuffer, RecvAncillaryMessage, RecvFlags, SendAncillaryBuffer, SendAncillaryMessage,
    SendFlags, SocketFlags, SocketType,
};

use jhot_shim_protocol::page::{self as layout, LEN as PAGE_LEN, probe};
pub use jhot_shim_protocol::{FLAG_PENDING, Kind, MSG_LEN, Msg};

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
        Ok(m) => Ok(Some((m, fd))),
        Err(e) => {
            Err(std::io::Error::new(std::io::ErrorKind::InvalidData, format!("malformed message from the shim: {e}")))
        }
    }
}

/// The shared page (a 4096-byte memfd, mapped read-write here and read-only in the child).
pub struct Page {
    /// Read-only, for the child: the shim only reads the page.
    shared: OwnedFd,
    ptr: *mut AtomicU32,
}

// SAFETY: the mapping is only accessed through atomics and lives as long as the Page.
unsafe impl Send for Page {}
// SAFETY: as for Send: shared access is atomic loads and stores only.
unsafe impl Sync for Page {}

/// What a sealed page refuses to anyone: a size change (a shorter page would SIGBUS the
/// application on its next accept, and jhot with it), writes through any descriptor or new
/// mapping (only jhot's own mapping, made before, can write), and more seals or their removal.
pub fn page_seals() -> rustix::fs::SealFlags {
    use rustix::fs::SealFlags;
    SealFlags::SHRINK | SealFlags::GROW | SealFlags::FUTURE_WRITE | SealFlags::SEAL
}

impl Page {
    pub fn new() -> std::io::Result<Page> {
        use rustix::fs::MemfdFlags;
        let fd = rustix::fs::memfd_create("jhot-page", MemfdFlags::CLOEXEC | MemfdFlags::ALLOW_SEALING)?;
        rustix::fs::ftruncate(&fd, PAGE_LEN as u64)?;
        // SAFETY: a fresh shared mapping of a memfd we own, PAGE_LEN long.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                PAGE_LEN,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                fd.as_raw_fd(),
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(std::io::Error::last_os_error());
        }
        // The mapping is owned from here: a failure below unmaps it.
        let mut page = Page { shared: fd, ptr: ptr.cast() };
        page.word(0).store(layout::MAGIC, Ordering::SeqCst);
        // A read-only description of the same file for the child. On its own it would not stop a
        // holder from reopening /proc/<pid>/fd/N for writing; the FUTURE_WRITE seal does.
        let ro = rustix::fs::open(
            format!("/proc/self/fd/{}", page.shared.as_raw_fd()),
            rustix::fs::OFlags::RDONLY | rustix::fs::OFlags::CLOEXEC,
            rustix::fs::Mode::empty(),
        )?;
        rustix::fs::fcntl_add_seals(&page.shared, page_seals())?;
        page.shared = ro;
        Ok(page)
    }

    fn word(&self, offset: usize) -> &AtomicU32 {
        debug_assert!(offset.is_multiple_of(4) && offset < PAGE_LEN);
        // SAFETY: in bounds of the mapping, aligned (mmap is page-aligned), valid while self lives.
        unsafe { &*self.ptr.add(offset / 4) }
    }

    /// The read-only descriptor the child inherits as `jhot-page`.
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.shared.as_fd()
    }

    /// Arms hand-over in the process and makes it refuse new connections (docs/shim-protocol.md).
    pub fn set_drain(&self) {
        self.word(layout::DRAIN).store(1, Ordering::SeqCst);
    }

    /// The drain did not happen after all (the new process died first): the process accepts again.
    pub fn clear_drain(&self) {
        self.word(layout::DRAIN).store(0, Ordering::SeqCst);
    }

    pub fn draining(&self) -> bool {
        self.word(layout::DRAIN).load(Ordering::SeqCst) != 0
    }

    /// The process takes no new connection but keeps those it has (a rollback with nowhere to
    /// hand them to).
    pub fn set_refuse(&self) {
        self.word(layout::REFUSE).store(1, Ordering::SeqCst);
    }

    pub fn bump_inject_seq(&self) {
        self.word(layout::INJECT_SEQ).fetch_add(1, Ordering::SeqCst);
    }

    /// Announces a probe connection from `src` to `dst` (both bound or known before the connect);
    /// false when all slots are taken. The shim counts a connection as the probe only when its
    /// peer is exactly `src` and its local address exactly `dst`.
    pub fn add_probe(&self, src: SocketAddr, dst: SocketAddr) -> bool {
        let (src, dst) = (normal(src), normal(dst));
        for slot in (0..layout::PROBE_SLOTS).filter_map(layout::probe_slot) {
            let seq = self.word(slot + probe::SEQ).load(Ordering::SeqCst);
            if seq & 1 == 1 || self.word(slot + probe::PORTS).load(Ordering::SeqCst) != 0 {
                continue;
            }
            // Odd while the slot is written: the shim skips a slot it sees changing.
            if self
                .word(slot + probe::SEQ)
                .compare_exchange(seq, seq.wrapping_add(1), Ordering::SeqCst, Ordering::SeqCst)
                .is_err()
            {
                continue;
            }
            let families =
                (if src.is_ipv6() { probe::SRC_V6 } else { 0 }) | (if dst.is_ipv6() { probe::DST_V6 } else { 0 });
            self.word(slot + probe::FAMILIES).store(families, Ordering::SeqCst);
            self.write_ip(slot + probe::SRC, src.ip());
            self.write_ip(slot + probe::DST, dst.ip());
            self.word(slot + probe::PORTS).store(probe::ports(src.port(), dst.port()), Ordering::SeqCst);
            self.word(slot + probe::SEQ).store(seq.wrapping_add(2), Ordering::SeqCst);
            return true;
        }
        false
    }

    /// Takes the probe from `src` out of the page. Done before jhot closes the probe socket, so the
    /// source is never free for someone else while the page still names it.
    pub fn remove_probe(&self, src: SocketAddr) {
        let src = normal(src);
        for slot in (0..layout::PROBE_SLOTS).filter_map(layout::probe_slot) {
            let ports = self.word(slot + probe::PORTS).load(Ordering::SeqCst);
            if ports == 0 || probe::split_ports(ports).0 != src.port() {
                continue;
            }
            let seq = self.word(slot + probe::SEQ).load(Ordering::SeqCst);
            if seq & 1 == 1
                || self
                    .word(slot + probe::SEQ)
                    .compare_exchange(seq, seq.wrapping_add(1), Ordering::SeqCst, Ordering::SeqCst)
                    .is_err()
            {
                continue;
            }
            self.word(slot + probe::PORTS).store(0, Ordering::SeqCst);
            for offset in (probe::FAMILIES..probe::RESERVED).step_by(4) {
                self.word(slot + offset).store(0, Ordering::SeqCst);
            }
            self.word(slot + probe::SEQ).store(seq.wrapping_add(2), Ordering::SeqCst);
        }
    }

    /// 16 bytes in network order, IPv4 in the first four.
    fn write_ip(&self, offset: usize, ip: IpAddr) {
        let mut b = [0u8; 16];
        match ip {
            IpAddr::V4(v4) => b[..4].copy_from_slice(&v4.octets()),
            IpAddr::V6(v6) => b = v6.octets(),
        }
        for (w, chunk) in b.chunks_exact(4).enumerate() {
            self.word(offset + 4 * w)
                .store(u32::from_ne_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]), Ordering::SeqCst);
        }
    }
}

/// An IPv4-mapped IPv6 address is the IPv4 address, as the shim compares them.
fn normal(a: SocketAddr) -> SocketAddr {
    SocketAddr::new(super::listeners::normalise(a.ip()), a.port())
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
        assert_eq!(&raw[0..4], b"JHP2");
        assert!(!page.draining());
        page.set_drain();
        assert!(page.draining());
        page.clear_drain();
        assert!(!page.draining());
        let dst: SocketAddr = "127.0.0.1:8080".parse().unwrap();
        for p in 1..=8 {
            assert!(page.add_probe(SocketAddr::new([127, 0, 0, 1].into(), p), dst));
        }
        assert!(!page.add_probe("127.0.0.1:9".parse().unwrap(), dst));
        page.remove_probe("127.0.0.1:3".parse().unwrap());
        assert!(page.add_probe("127.0.0.1:9".parse().unwrap(), dst));
    }

    fn slot_bytes(page: &Page, i: usize) -> [u8; layout::PROBE_LEN] {
        let mut b = [0u8; layout::PROBE_LEN];
        let slot = layout::probe_slot(i).expect("slot");
        rustix::io::pread(page.fd(), &mut b, slot as u64).expect("pread");
        b
    }

    /// The bytes the shim reads (docs/shim-protocol.md): a v4-mapped source is the IPv4 address.
    #[test]
    fn probe_slot_layout() {
        let page = Page::new().expect("page");
        let src: SocketAddr = "[::ffff:127.0.0.1]:40001".parse().unwrap();
        assert!(page.add_probe(src, "[::1]:8080".parse().unwrap()));
        let b = slot_bytes(&page, 0);
        assert_eq!(u32::from_le_bytes(b[0..4].try_into().unwrap()), 2, "sequence: even, written once");
        assert_eq!(u16::from_le_bytes(b[4..6].try_into().unwrap()), 40001);
        assert_eq!(u16::from_le_bytes(b[6..8].try_into().unwrap()), 8080);
        assert_eq!(u32::from_le_bytes(b[8..12].try_into().unwrap()), 0b10, "source IPv4, destination IPv6");
        assert_eq!(&b[12..28], &[127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(&b[28..44], &std::net::Ipv6Addr::LOCALHOST.octets());
        page.remove_probe("127.0.0.1:40001".parse().unwrap());
        let b = slot_bytes(&page, 0);
        assert_eq!(u32::from_le_bytes(b[0..4].try_into().unwrap()), 4);
        assert!(b[4..].iter().all(|&x| x == 0), "a free slot is all zeros");
        // Another address with the same port is another probe's, not this one.
        assert!(page.add_probe("127.0.0.1:40001".parse().unwrap(), "127.0.0.1:8080".parse().unwrap()));
        page.remove_probe("127.0.0.1:40002".parse().unwrap());
        assert_ne!(slot_bytes(&page, 0)[4..6], [0, 0]);
    }

    /// The child's descriptor can neither resize the page nor write it, by any route; jhot's own
    /// mapping still can.
    #[test]
    fn page_is_sealed_and_shared_read_only() {
        use rustix::fs::OFlags;
        let page = Page::new().expect("page");
        let fd = page.fd();
        assert_eq!(rustix::fs::fcntl_getfl(fd).expect("getfl") & OFlags::ACCMODE, OFlags::RDONLY);
        assert_eq!(rustix::fs::fcntl_get_seals(fd).expect("seals"), page_seals());
        assert!(
            rustix::fs::fcntl_add_seals(fd, rustix::fs::SealFlags::WRITE).is_err(),
            "no seal can be added or removed"
        );
        let reopened =
            rustix::fs::open(format!("/proc/self/fd/{}", fd.as_raw_fd()), OFlags::RDWR, rustix::fs::Mode::empty())
                .expect("reopen read-write");
        assert!(rustix::fs::ftruncate(&reopened, 0).is_err(), "shrinking");
        assert!(rustix::fs::ftruncate(&reopened, 2 * PAGE_LEN as u64).is_err(), "growing");
        assert!(rustix::io::pwrite(&reopened, b"x", 0).is_err(), "writing");
        // SAFETY: mapping attempts on our own descriptors; the successful one is unmapped.
        unsafe {
            let w = libc::mmap(
                std::ptr::null_mut(),
                PAGE_LEN,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                reopened.as_raw_fd(),
                0,
            );
            assert_eq!(w, libc::MAP_FAILED, "a new writable shared mapping");
            let r = libc::mmap(std::ptr::null_mut(), PAGE_LEN, libc::PROT_READ, libc::MAP_SHARED, fd.as_raw_fd(), 0);
            assert_ne!(r, libc::MAP_FAILED, "the shim's read-only mapping");
            assert_ne!(libc::mprotect(r, PAGE_LEN, libc::PROT_READ | libc::PROT_WRITE), 0, "made writable later");
            page.set_drain();
            assert_eq!(*(r as *const u32).add(1), 1, "jhot's writes reach the shim's mapping");
            libc::munmap(r, PAGE_LEN);
        }
    }
}
