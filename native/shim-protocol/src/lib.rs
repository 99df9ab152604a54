//! The bytes jhot and `libjhot_shim.so` exchange, written down once: the 24-byte control messages
//! on the `jhot-ctl` socket (here) and the layout of the shared `jhot-page` ([`page`]).
//! docs/shim-protocol.md says what they mean; jhot's side is `crates/engine/src/replace/ctl.rs`,
//! the shim's `native/shim/src/{ctl,page}.rs`, and the shim's tests play jhot with it too.
//!
//! The shim links this crate into every process it is preloaded into, so it is `no_std`, has no
//! dependencies, never allocates and never panics: decoding checks every bound and says why it
//! refused.

#![no_std]

pub mod page;

/// The first four bytes of every message: `"JHM1"` in little-endian order.
pub const MSG_MAGIC: u32 = 0x314D_484A;

/// Every message is exactly this long; a datagram of another length is not a message.
pub const MSG_LEN: usize = 24;

/// `HANDOVER` flag (bit 0): the client's next request is already in the kernel's receive queue.
pub const FLAG_PENDING: u16 = 1;

/// What a message says. Both sides ignore kinds they do not know, which arrive as [`Kind::Other`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// shim → jhot: the shim is active in `pid`.
    Hello,
    /// shim → jhot: `bind()` on `fd` adopted inherited listener `index`.
    Adopted,
    /// shim → jhot: the server listens on its own TCP socket (attached) bound to `port`.
    Listening,
    /// shim → jhot: the server first waits for connections on listener `fd`.
    Accepting,
    /// shim → jhot: an accepted connection (attached) leaves this draining process.
    Handover,
    /// shim → jhot: the connection announced for doorbell `port` was handed to the server as `fd`.
    Injected,
    /// shim → jhot: the server accepted jhot's readiness probe from local `port`.
    Probe,
    /// jhot → shim: deliver the attached connection when the doorbell from `port` is accepted.
    Inject,
    /// A kind this version does not know.
    Other(u16),
}

impl Kind {
    /// The number on the wire.
    pub const fn code(self) -> u16 {
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

    /// The kind a number on the wire stands for; `Other` for the ones not listed above.
    pub const fn from_code(code: u16) -> Kind {
        match code {
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

/// One control message. All fields are little-endian on the wire, after the magic:
///
/// | offset | type | field |
/// |---|---|---|
/// | 0 | u32 | [`MSG_MAGIC`] |
/// | 4 | u16 | kind |
/// | 6 | u16 | flags |
/// | 8 | i32 | fd: a descriptor number in the sender, or -1 |
/// | 12 | i32 | index: inherited listener index, or -1 |
/// | 16 | u32 | port, or 0 |
/// | 20 | u32 | pid of the sender (shim), or 0 (jhot) |
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Msg {
    pub kind: Kind,
    pub flags: u16,
    pub fd: i32,
    pub index: i32,
    pub port: u32,
    pub pid: u32,
}

/// Why bytes received on the control socket are not a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecodeError {
    /// The datagram was this long, not [`MSG_LEN`].
    Length(usize),
    /// The first four bytes, read as a little-endian u32, were not [`MSG_MAGIC`].
    Magic(u32),
}

impl core::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            DecodeError::Length(n) => write!(f, "{n} bytes, not {MSG_LEN}"),
            DecodeError::Magic(m) => write!(f, "magic {m:#010x}, not {MSG_MAGIC:#010x}"),
        }
    }
}

impl Msg {
    /// jhot's `INJECT` for doorbell `port`: no descriptor number, no listener, no pid.
    pub const fn inject(port: u16) -> Msg {
        Msg { kind: Kind::Inject, flags: 0, fd: -1, index: -1, port: port as u32, pid: 0 }
    }

    pub fn encode(&self) -> [u8; MSG_LEN] {
        let mut out = [0u8; MSG_LEN];
        let mut w = Writer(&mut out);
        w.put(MSG_MAGIC.to_le_bytes());
        w.put(self.kind.code().to_le_bytes());
        w.put(self.flags.to_le_bytes());
        w.put(self.fd.to_le_bytes());
        w.put(self.index.to_le_bytes());
        w.put(self.port.to_le_bytes());
        w.put(self.pid.to_le_bytes());
        out
    }

    /// The message in `bytes`, which must be one whole datagram: exactly [`MSG_LEN`] bytes
    /// starting with [`MSG_MAGIC`].
    pub fn decode(bytes: &[u8]) -> Result<Msg, DecodeError> {
        let wrong_length = DecodeError::Length(bytes.len());
        if bytes.len() != MSG_LEN {
            return Err(wrong_length);
        }
        let mut r = Reader(bytes);
        let magic = u32::from_le_bytes(r.take().ok_or(wrong_length)?);
        if magic != MSG_MAGIC {
            return Err(DecodeError::Magic(magic));
        }
        Ok(Msg {
            kind: Kind::from_code(u16::from_le_bytes(r.take().ok_or(wrong_length)?)),
            flags: u16::from_le_bytes(r.take().ok_or(wrong_length)?),
            fd: i32::from_le_bytes(r.take().ok_or(wrong_length)?),
            index: i32::from_le_bytes(r.take().ok_or(wrong_length)?),
            port: u32::from_le_bytes(r.take().ok_or(wrong_length)?),
            pid: u32::from_le_bytes(r.take().ok_or(wrong_length)?),
        })
    }
}

/// Writes fields one after the other; a field that does not fit is dropped (never happens for a
/// [`MSG_LEN`] buffer, which the round-trip test checks), instead of panicking.
struct Writer<'a>(&'a mut [u8]);

impl Writer<'_> {
    fn put<const N: usize>(&mut self, field: [u8; N]) {
        if let Some((head, tail)) = core::mem::take(&mut self.0).split_first_chunk_mut::<N>() {
            *head = field;
            self.0 = tail;
        }
    }
}

/// Reads fields one after the other; None past the end.
struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn take<const N: usize>(&mut self) -> Option<[u8; N]> {
        let (head, tail) = self.0.split_first_chunk::<N>()?;
        self.0 = tail;
        Some(*head)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [Kind; 8] = [
        Kind::Hello,
        Kind::Adopted,
        Kind::Listening,
        Kind::Accepting,
        Kind::Handover,
        Kind::Injected,
        Kind::Probe,
        Kind::Inject,
    ];

    #[test]
    fn kinds_have_the_documented_numbers() {
        let codes = ALL.map(Kind::code);
        assert_eq!(codes, [1, 2, 3, 4, 5, 6, 7, 16]);
        for k in ALL {
            assert_eq!(Kind::from_code(k.code()), k);
        }
        assert_eq!(Kind::from_code(0), Kind::Other(0));
        assert_eq!(Kind::from_code(8), Kind::Other(8));
        assert_eq!(Kind::Other(999).code(), 999);
    }

    #[test]
    fn layout_is_the_documented_one() {
        let m = Msg { kind: Kind::Handover, flags: FLAG_PENDING, fd: 17, index: -1, port: 40000, pid: 4242 };
        let b = m.encode();
        assert_eq!(&b[0..4], b"JHM1");
        assert_eq!(b[4..6], 5u16.to_le_bytes());
        assert_eq!(b[6..8], 1u16.to_le_bytes());
        assert_eq!(b[8..12], 17i32.to_le_bytes());
        assert_eq!(b[12..16], [0xff; 4]);
        assert_eq!(b[16..20], 40000u32.to_le_bytes());
        assert_eq!(b[20..24], 4242u32.to_le_bytes());
    }

    #[test]
    fn round_trips() {
        let extremes = [
            Msg { kind: Kind::Hello, flags: 0, fd: -1, index: -1, port: 0, pid: 1 },
            Msg { kind: Kind::Other(u16::MAX), flags: u16::MAX, fd: i32::MIN, index: i32::MAX, port: u32::MAX, pid: 0 },
            Msg::inject(65535),
        ];
        for m in ALL.map(|kind| Msg { kind, flags: 0, fd: 3, index: 0, port: 8080, pid: 77 }).iter().chain(&extremes) {
            assert_eq!(Msg::decode(&m.encode()), Ok(*m));
        }
        let inject = Msg::decode(&Msg::inject(5).encode()).unwrap();
        assert_eq!((inject.kind, inject.fd, inject.index, inject.port, inject.pid), (Kind::Inject, -1, -1, 5, 0));
    }

    #[test]
    fn rejects_wrong_length() {
        let b = Msg::inject(1).encode();
        assert_eq!(Msg::decode(&b[..23]), Err(DecodeError::Length(23)));
        assert_eq!(Msg::decode(&[]), Err(DecodeError::Length(0)));
        assert_eq!(Msg::decode(&b[..3]), Err(DecodeError::Length(3)));
        let mut long = [0u8; 25];
        long[..24].copy_from_slice(&b);
        assert_eq!(Msg::decode(&long), Err(DecodeError::Length(25)));
    }

    #[test]
    fn rejects_bad_magic() {
        let mut b = Msg::inject(1).encode();
        b[0] = 0;
        assert_eq!(Msg::decode(&b), Err(DecodeError::Magic(0x314D_4800)));
        // The page's magic is not a message's.
        b[..4].copy_from_slice(&page::MAGIC.to_le_bytes());
        assert_eq!(Msg::decode(&b), Err(DecodeError::Magic(page::MAGIC)));
    }
}
