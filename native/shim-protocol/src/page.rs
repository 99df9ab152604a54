//! The shared page `jhot-page`: a memfd of [`LEN`] bytes that jhot writes and the shim only reads.
//! Every field is a `u32` read and written atomically, little-endian; IP addresses are 16 bytes
//! in network order (IPv4 in the first four, the rest zero), stored as four words that are copied
//! byte for byte (no byte-order conversion).
//!
//! | offset | field |
//! |---|---|
//! | 0 | [`MAGIC`] |
//! | [`DRAIN`] | 1 while jhot drains the process, else 0 |
//! | [`INJECT_SEQ`] | incremented after every `INJECT` jhot sends |
//! | [`REFUSE`] | 1 once jhot rolls the process back with nowhere to hand its connections |
//! | 16..[`PROBES`] | reserved, 0 |
//! | [`PROBES`].. | [`PROBE_SLOTS`] probe slots of [`PROBE_LEN`] bytes ([`probe`]) |

/// At offset 0: `"JHP2"` in little-endian order.
pub const MAGIC: u32 = 0x3250_484A;
/// The page's size. A shorter mapping would fault in the server on its next accept.
pub const LEN: usize = 4096;

pub const DRAIN: usize = 4;
pub const INJECT_SEQ: usize = 8;
pub const REFUSE: usize = 12;
/// Offset of the first probe slot.
pub const PROBES: usize = 64;
pub const PROBE_LEN: usize = 48;
pub const PROBE_SLOTS: usize = 8;

const _: () = assert!(PROBES + PROBE_SLOTS * PROBE_LEN <= LEN);

/// The offset of probe slot `i`; None past the last one.
pub const fn probe_slot(i: usize) -> Option<usize> {
    if i < PROBE_SLOTS { Some(PROBES + PROBE_LEN * i) } else { None }
}

/// Offsets inside a probe slot, which names one readiness probe connection by its 4-tuple.
pub mod probe {
    /// Even while the slot is stable; jhot makes it odd while it writes the slot (a seqlock).
    pub const SEQ: usize = 0;
    /// Low 16 bits: the probe's source port (0: a free slot); high 16 bits: the port it connects
    /// to. See [`ports`] and [`split_ports`].
    pub const PORTS: usize = 4;
    /// [`SRC_V6`] and [`DST_V6`].
    pub const FAMILIES: usize = 8;
    /// The source address, 16 bytes.
    pub const SRC: usize = 12;
    /// The destination address, 16 bytes.
    pub const DST: usize = 28;
    /// Reserved, 0, up to the end of the slot.
    pub const RESERVED: usize = 44;

    /// `FAMILIES` bit: the source address is IPv6.
    pub const SRC_V6: u32 = 1;
    /// `FAMILIES` bit: the destination address is IPv6.
    pub const DST_V6: u32 = 2;

    const _: () = assert!(SRC + 16 == DST && DST + 16 == RESERVED && RESERVED < super::PROBE_LEN);

    /// The `PORTS` word.
    pub const fn ports(src: u16, dst: u16) -> u32 {
        src as u32 | ((dst as u32) << 16)
    }

    /// `(source, destination)` from the `PORTS` word.
    pub const fn split_ports(word: u32) -> (u16, u16) {
        (word as u16, (word >> 16) as u16)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_offsets() {
        assert_eq!(&MAGIC.to_le_bytes(), b"JHP2");
        assert_eq!((DRAIN, INJECT_SEQ, REFUSE, PROBES, PROBE_LEN, PROBE_SLOTS), (4, 8, 12, 64, 48, 8));
        assert_eq!(probe_slot(0), Some(64));
        assert_eq!(probe_slot(7), Some(64 + 7 * 48));
        assert_eq!(probe_slot(8), None);
        assert_eq!(probe_slot(usize::MAX), None);
        assert_eq!((probe::SEQ, probe::PORTS, probe::FAMILIES, probe::SRC, probe::DST), (0, 4, 8, 12, 28));
    }

    #[test]
    fn ports_word() {
        assert_eq!(probe::ports(40001, 8080), 40001 | (8080 << 16));
        assert_eq!(probe::split_ports(probe::ports(40001, 8080)), (40001, 8080));
        assert_eq!(probe::split_ports(probe::ports(65535, 0)), (65535, 0));
        assert_eq!(probe::split_ports(0), (0, 0));
    }
}
