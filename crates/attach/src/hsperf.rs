//! HotSpot's performance-data file (`/tmp/hsperfdata_<user>/<pid>`), as `jps` reads it.
//!
//! Layout (HotSpot `perfMemory.hpp`, `perfData.hpp`): a 32-byte prologue, then a chain of
//! entries, each a 20-byte header followed by its NUL-terminated name and its data. All
//! offsets inside an entry are relative to the entry. Numbers use the byte order named in
//! the prologue. The file may belong to a hostile user or be half-written by a starting
//! JVM: every offset is checked, nothing is allocated from a length field, and parsing stops
//! at the first entry that does not fit.

use std::borrow::Cow;
use std::io;
use std::ops::Range;
use std::path::{Path, PathBuf};

use crate::procfs::{self, JvmFlags};

/// `CA FE C0 C0` whatever the byte order (HotSpot stores the magic byte-swapped on
/// little-endian machines so the bytes read the same).
const MAGIC: [u8; 4] = [0xca, 0xfe, 0xc0, 0xc0];
const PROLOGUE_LEN: usize = 32;
const ENTRY_HEADER_LEN: usize = 20;
/// PerfDataMemorySize defaults to 64 KB; anything much larger is not a perf-data file.
const MAX_FILE: u64 = 16 * 1024 * 1024;

/// The value of one counter, as a range of the file or a number: HotSpot publishes strings (byte
/// vectors) and 64-bit longs; other types are skipped.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Raw {
    Str(Range<usize>),
    Long(i64),
}

/// A perf-data file's counters. They stay in the file's bytes and are decoded when asked for: a
/// JVM publishes a few hundred, and a command reads a handful of them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PerfData {
    bytes: Vec<u8>,
    /// (name, value) in file order; of two entries with one name, the later counts.
    entries: Vec<(Range<usize>, Raw)>,
}

impl PerfData {
    fn get(&self, name: &str) -> Option<&Raw> {
        self.entries.iter().rev().find(|(n, _)| &self.bytes[n.clone()] == name.as_bytes()).map(|(_, v)| v)
    }

    /// A string counter (a byte that is not UTF-8 reads as U+FFFD).
    pub fn str(&self, name: &str) -> Option<Cow<'_, str>> {
        match self.get(name)? {
            Raw::Str(r) => Some(String::from_utf8_lossy(&self.bytes[r.clone()])),
            Raw::Long(_) => None,
        }
    }

    pub fn long(&self, name: &str) -> Option<i64> {
        match self.get(name)? {
            Raw::Long(v) => Some(*v),
            Raw::Str(_) => None,
        }
    }

    /// How many counters there are (a name counted once per entry).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Data holding just these long counters, for tests of code that reads them.
    pub fn with_longs(counters: &[(&str, i64)]) -> PerfData {
        let mut d = PerfData::default();
        for (name, v) in counters {
            let at = d.bytes.len();
            d.bytes.extend_from_slice(name.as_bytes());
            d.entries.push((at..d.bytes.len(), Raw::Long(*v)));
        }
        d
    }

    /// The attach-related flags, from the JVM's own record of its options: complete, unlike
    /// the command line (it includes @argfiles, environment variables, -XX:Flags= files).
    pub fn jvm_flags(&self) -> JvmFlags {
        procfs::flags_from_vm_record(
            &self.str("java.rt.vmFlags").unwrap_or_default(),
            &self.str("java.rt.vmArgs").unwrap_or_default(),
        )
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum HsperfError {
    #[error("not a HotSpot perf-data file (bad magic)")]
    BadMagic,
    #[error("perf-data file is truncated ({0} bytes)")]
    Truncated(usize),
    #[error("unknown byte order {0} in perf-data file")]
    BadByteOrder(u8),
    #[error("perf-data header is inconsistent: {0}")]
    BadHeader(&'static str),
}

/// Reads and parses a perf-data file (a regular file only: the JVM's user could leave a FIFO).
pub fn read(path: &Path) -> io::Result<PerfData> {
    use rustix::fs::{Mode, OFlags};
    let fd =
        rustix::fs::open(path, OFlags::RDONLY | OFlags::NONBLOCK | OFlags::NOFOLLOW | OFlags::CLOEXEC, Mode::empty())?;
    read_fd(fd)
}

/// Reads and parses an open perf-data file.
pub fn read_fd(fd: std::os::fd::OwnedFd) -> io::Result<PerfData> {
    let buf = crate::safe_fs::read_fd(fd, MAX_FILE)?;
    parse_owned(buf).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

/// The perf-data file of process `pid`: `<its /tmp>/hsperfdata_<user>/<nspid>`. The directory
/// is named after the user as the JVM's own /etc/passwd knows it: `user`'s directory is tried
/// first (the name jhot found for the uid), then every `hsperfdata_*` one (listing a `/tmp` of a
/// thousand entries costs more than the rest of a warm command's reads); the file must belong to
/// the process's user either way.
///
/// Everything is opened inside the process's own root and below its `/tmp` without following
/// links, so a container cannot point jhot at a host file, and a FIFO there cannot hang it.
pub fn find(pid: u32, nspid: u32, euid: u32, user: Option<&str>) -> Option<PerfFile> {
    use rustix::fs::{Mode, OFlags};
    use std::os::fd::AsFd;
    let tmp = match crate::safe_fs::target_tmp(pid) {
        Ok(fd) => fd,
        // Another user's /proc/<pid>/root is closed to us; in our own pid namespace the
        // process most likely shares our /tmp (the JDK's own client assumes the same).
        Err(_) if pid == nspid => {
            rustix::fs::open("/tmp", OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty()).ok()?
        }
        Err(_) => return None,
    };
    let open = |dir: &str| {
        let inner = format!("{dir}/{nspid}");
        let fd = crate::safe_fs::open_beneath(tmp.as_fd(), &inner, OFlags::RDONLY | OFlags::NONBLOCK).ok()?;
        let st = rustix::fs::fstat(&fd).ok()?;
        let regular = rustix::fs::FileType::from_raw_mode(st.st_mode) == rustix::fs::FileType::RegularFile;
        (regular && st.st_uid == euid)
            .then(|| PerfFile { fd, shown: procfs::proc_dir(pid).join("root/tmp").join(inner) })
    };
    let first = user.filter(|u| !u.is_empty() && !u.contains('/')).map(|u| format!("hsperfdata_{u}"));
    if let Some(found) = first.as_deref().and_then(open) {
        return Some(found);
    }
    let listing =
        rustix::fs::openat(&tmp, ".", OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty()).ok()?;
    let names: Vec<String> = rustix::fs::Dir::read_from(&listing)
        .ok()?
        .flatten()
        .filter_map(|e| e.file_name().to_str().ok().map(str::to_string))
        .filter(|n| n.starts_with("hsperfdata_") && Some(n) != first.as_ref())
        .collect();
    names.iter().find_map(|dir| open(dir))
}

/// A perf-data file found by [`find`], open.
#[derive(Debug)]
pub struct PerfFile {
    fd: std::os::fd::OwnedFd,
    pub shown: PathBuf,
}

impl PerfFile {
    /// Reads the file again from its start: the JVM updates its counters in place (the file is
    /// its shared memory), so a kept descriptor shows them as they move, at the cost of one
    /// `pread` and nothing in the JVM.
    pub fn reread(&self) -> io::Result<PerfData> {
        let st = rustix::fs::fstat(&self.fd)?;
        let len = u64::try_from(st.st_size).unwrap_or(0).min(MAX_FILE) as usize;
        let mut buf = vec![0u8; len];
        let mut off = 0;
        while off < len {
            let n = rustix::io::pread(&self.fd, &mut buf[off..], off as u64)?;
            if n == 0 {
                break;
            }
            off += n;
        }
        buf.truncate(off);
        parse_owned(buf).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
    }

    /// Whether these data are of the process that started at `start_ticks`, not of an earlier JVM
    /// that had the same pid (one that began before this process started).
    pub fn is_of_process(&self, data: &PerfData, start_ticks: u64) -> bool {
        of_process(data, start_ticks, &self.shown)
    }
}

/// Reads the perf data of a running process, ignoring a file left by an earlier JVM with the
/// same pid (one that began before this process started).
pub fn read_for_process(file: PerfFile, start_ticks: u64) -> Option<PerfData> {
    let path = file.shown;
    let data = read_fd(file.fd).ok()?;
    of_process(&data, start_ticks, &path).then_some(data)
}

fn of_process(data: &PerfData, start_ticks: u64, path: &Path) -> bool {
    let begin = data.long("sun.rt.createVmBeginTime");
    match (begin, procfs::start_ms(start_ticks)) {
        // Slack for the tick granularity of the process start time and clock adjustments.
        (Some(begin), Some(start)) if begin.saturating_add(2_000) < i64::try_from(start).unwrap_or(i64::MAX) => {
            tracing::debug!(path = %path.display(), "ignoring a perf-data file older than its process");
            false
        }
        _ => true,
    }
}

#[derive(Clone, Copy)]
enum Order {
    Big,
    Little,
}

struct Reader<'a> {
    buf: &'a [u8],
    order: Order,
}

impl Reader<'_> {
    fn bytes<const N: usize>(&self, at: usize) -> Option<[u8; N]> {
        self.buf.get(at..at.checked_add(N)?)?.try_into().ok()
    }

    fn i32(&self, at: usize) -> Option<i32> {
        let b = self.bytes::<4>(at)?;
        Some(match self.order {
            Order::Big => i32::from_be_bytes(b),
            Order::Little => i32::from_le_bytes(b),
        })
    }

    /// A non-negative i32 as an offset or length.
    fn len(&self, at: usize) -> Option<usize> {
        usize::try_from(self.i32(at)?).ok()
    }
}

/// Parses the bytes of a perf-data file.
pub fn parse(buf: &[u8]) -> Result<PerfData, HsperfError> {
    parse_owned(buf.to_vec())
}

/// [`parse`], keeping `buf` as the counters' storage.
pub fn parse_owned(buf: Vec<u8>) -> Result<PerfData, HsperfError> {
    let entries = parse_entries(&buf)?;
    Ok(PerfData { bytes: buf, entries })
}

fn parse_entries(buf: &[u8]) -> Result<Vec<(Range<usize>, Raw)>, HsperfError> {
    if buf.len() < PROLOGUE_LEN {
        return if buf.len() >= 4 && buf[..4] != MAGIC {
            Err(HsperfError::BadMagic)
        } else {
            Err(HsperfError::Truncated(buf.len()))
        };
    }
    if buf[..4] != MAGIC {
        return Err(HsperfError::BadMagic);
    }
    let order = match buf[4] {
        0 => Order::Big,
        1 => Order::Little,
        other => return Err(HsperfError::BadByteOrder(other)),
    };
    let r = Reader { buf, order };
    // Prologue: magic(4) byte_order major minor accessible used(4) overflow(4)
    // mod_time_stamp(8) entry_offset(4) num_entries(4).
    let used = r.len(8).ok_or(HsperfError::BadHeader("negative used size"))?;
    let entry_offset = r.len(24).ok_or(HsperfError::BadHeader("negative entry offset"))?;
    let num_entries = r.len(28).ok_or(HsperfError::BadHeader("negative entry count"))?;
    if entry_offset < PROLOGUE_LEN {
        return Err(HsperfError::BadHeader("entries overlap the prologue"));
    }
    // Only the `used` part is written; a file cut short is read as far as it goes.
    let end = used.min(buf.len());

    let mut entries = Vec::new();
    let mut at = entry_offset;
    for _ in 0..num_entries {
        let Some(next) = parse_entry(&r, at, end, &mut entries) else {
            break;
        };
        at = next;
    }
    Ok(entries)
}

/// Parses the entry at `at` into `entries`; returns where the next one starts, or `None` if this
/// one does not fit in `..end`.
fn parse_entry(r: &Reader, at: usize, end: usize, entries: &mut Vec<(Range<usize>, Raw)>) -> Option<usize> {
    // Header: entry_length(4) name_offset(4) vector_length(4) data_type(1) flags(1)
    // data_units(1) data_variability(1) data_offset(4).
    let entry_len = r.len(at)?;
    let entry_end = at.checked_add(entry_len)?;
    if entry_len < ENTRY_HEADER_LEN || entry_end > end {
        return None;
    }
    let entry = &r.buf[at..entry_end];
    let name_offset = r.len(at + 4)?;
    let vector_len = r.len(at + 8)?;
    let data_type = r.buf[at + 12];
    let data_offset = r.len(at + 16)?;

    let name_bytes = entry.get(name_offset..)?;
    let name_len = name_bytes.iter().position(|&b| b == 0)?;
    let name_at = at + name_offset;
    let name = name_at..name_at + name_len;

    let value = match (data_type, vector_len) {
        (b'J', 0) => {
            let raw: [u8; 8] = entry.get(data_offset..data_offset.checked_add(8)?)?.try_into().ok()?;
            Some(Raw::Long(match r.order {
                Order::Big => i64::from_be_bytes(raw),
                Order::Little => i64::from_le_bytes(raw),
            }))
        }
        (b'B', n) if n > 0 => {
            let raw = entry.get(data_offset..data_offset.checked_add(n)?)?;
            let len = raw.iter().position(|&b| b == 0).unwrap_or(raw.len());
            let text_at = at + data_offset;
            Some(Raw::Str(text_at..text_at + len))
        }
        // Other types (ints, doubles, ...) are not published by HotSpot today; skip them.
        _ => None,
    };
    if let Some(value) = value {
        entries.push((name, value));
    }
    Some(entry_end)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Builds a perf-data file the way HotSpot lays it out.
    pub(crate) struct Builder {
        little: bool,
        entries: Vec<Vec<u8>>,
    }

    impl Builder {
        pub(crate) fn new(little: bool) -> Self {
            Builder { little, entries: Vec::new() }
        }

        fn i32(&self, v: i32) -> [u8; 4] {
            if self.little { v.to_le_bytes() } else { v.to_be_bytes() }
        }

        fn entry(mut self, name: &str, data_type: u8, vector_len: i32, payload: &[u8]) -> Self {
            let name_offset = ENTRY_HEADER_LEN;
            let data_offset = (name_offset + name.len() + 1).next_multiple_of(8);
            let len = (data_offset + payload.len()).next_multiple_of(8);
            let mut e = Vec::new();
            e.extend(self.i32(len as i32));
            e.extend(self.i32(name_offset as i32));
            e.extend(self.i32(vector_len));
            e.extend([data_type, 0, 5, 1]);
            e.extend(self.i32(data_offset as i32));
            e.extend(name.as_bytes());
            e.resize(data_offset, 0);
            e.extend(payload);
            e.resize(len, 0);
            self.entries.push(e);
            self
        }

        pub(crate) fn string(self, name: &str, value: &str, capacity: usize) -> Self {
            let mut payload = value.as_bytes().to_vec();
            payload.resize(capacity.max(value.len() + 1), 0);
            let n = payload.len() as i32;
            self.entry(name, b'B', n, &payload)
        }

        pub(crate) fn long(self, name: &str, value: i64) -> Self {
            let payload = if self.little { value.to_le_bytes() } else { value.to_be_bytes() };
            self.entry(name, b'J', 0, &payload)
        }

        pub(crate) fn build(self) -> Vec<u8> {
            let body: Vec<u8> = self.entries.concat();
            let used = (PROLOGUE_LEN + body.len()) as i32;
            let mut f = MAGIC.to_vec();
            f.extend([u8::from(self.little), 2, 0, 1]);
            f.extend(self.i32(used));
            f.extend(self.i32(0));
            f.extend(if self.little { 77i64.to_le_bytes() } else { 77i64.to_be_bytes() });
            f.extend(self.i32(PROLOGUE_LEN as i32));
            f.extend(self.i32(self.entries.len() as i32));
            f.extend(body);
            f.resize(32 * 1024, 0); // HotSpot's file is fixed-size
            f
        }
    }

    fn sample(little: bool) -> Vec<u8> {
        Builder::new(little)
            .long("sun.rt.createVmBeginTime", 1_795_307_417_848)
            .string("java.property.java.version", "17.0.15", 8)
            .string("sun.rt.javaCommand", "com.example.Main --port 8080", 256)
            .long("negative", -5)
            .build()
    }

    #[test]
    fn parses_both_byte_orders() {
        for little in [true, false] {
            let d = parse(&sample(little)).unwrap();
            assert_eq!(d.long("sun.rt.createVmBeginTime"), Some(1_795_307_417_848), "little={little}");
            assert_eq!(d.str("java.property.java.version").as_deref(), Some("17.0.15"));
            assert_eq!(d.str("sun.rt.javaCommand").as_deref(), Some("com.example.Main --port 8080"));
            assert_eq!(d.long("negative"), Some(-5));
            assert_eq!(d.str("sun.rt.createVmBeginTime"), None);
        }
    }

    #[test]
    fn rejects_foreign_headers() {
        assert_eq!(parse(b""), Err(HsperfError::Truncated(0)));
        assert_eq!(parse(&[0xca, 0xfe, 0xc0, 0xc0, 1]), Err(HsperfError::Truncated(5)));
        assert_eq!(parse(b"\x7fELF and more bytes than a prologue needs"), Err(HsperfError::BadMagic));
        let mut f = sample(true);
        f[4] = 7;
        assert_eq!(parse(&f), Err(HsperfError::BadByteOrder(7)));
        let mut f = sample(true);
        f[24..28].copy_from_slice(&4i32.to_le_bytes());
        assert!(matches!(parse(&f), Err(HsperfError::BadHeader(_))));
        let mut f = sample(true);
        f[8..12].copy_from_slice(&(-1i32).to_le_bytes());
        assert!(matches!(parse(&f), Err(HsperfError::BadHeader(_))));
    }

    #[test]
    fn hostile_lengths_stop_parsing_without_panic() {
        let good = sample(true);
        let first_entry = PROLOGUE_LEN;
        // Every i32 field of the first entry, set to each extreme value.
        for field in [0, 4, 8, 16] {
            for v in [i32::MIN, -1, 0, 1, 19, 20, 4096, i32::MAX] {
                let mut f = good.clone();
                f[first_entry + field..first_entry + field + 4].copy_from_slice(&v.to_le_bytes());
                let _ = parse(&f);
            }
        }
        // A huge entry count with a tiny file.
        let mut f = good.clone();
        f[28..32].copy_from_slice(&i32::MAX.to_le_bytes());
        assert_eq!(parse(&f).unwrap().len(), 4);
        // Truncated anywhere: never panics, keeps what fits.
        for cut in 0..600 {
            let _ = parse(&good[..cut.min(good.len())]);
        }
        // `used` beyond the file is clamped to the file.
        let mut f = good[..200].to_vec();
        f[8..12].copy_from_slice(&i32::MAX.to_le_bytes());
        assert!(parse(&f).is_ok());
    }

    #[test]
    fn name_without_nul_is_skipped() {
        let mut f = Builder::new(true).string("abc", "x", 8).build();
        // Overwrite the name's NUL and the padding up to the data with letters.
        let name_at = PROLOGUE_LEN + ENTRY_HEADER_LEN;
        for b in &mut f[name_at..PROLOGUE_LEN + 40] {
            *b = b'a';
        }
        let d = parse(&f).unwrap();
        assert!(d.entries.iter().all(|(name, _)| name.len() < 40), "{d:?}");
    }
}
