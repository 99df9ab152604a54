//! The control protocol between jhot and its agent (docs/protocol.md): length-prefixed frames that
//! carry a JSON header and raw binary blobs for class bytes.

use serde::{Deserialize, Serialize};

/// Version of the request/response vocabulary, checked in `hello`.
pub const PROTOCOL_VERSION: u32 = 1;
/// Version byte of the frame layout itself.
pub const FRAME_VERSION: u8 = 1;
/// Largest frame either side accepts. A batch of class bytes larger than this is split by nothing:
/// it is refused, because a JVM that is someone's production should not be asked to buffer it.
pub const MAX_FRAME: usize = 256 * 1024 * 1024;
const MAX_HEADER: usize = 16 * 1024 * 1024;
const MAX_BLOBS: usize = 1_000_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub header: Vec<u8>,
    pub blobs: Vec<Vec<u8>>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FrameError {
    #[error("frame of {0} bytes is larger than the {MAX_FRAME}-byte limit")]
    TooLarge(usize),
    #[error("frame version {0} is not supported (expected {FRAME_VERSION})")]
    Version(u8),
    #[error("malformed frame: {0}")]
    Malformed(&'static str),
}

impl Frame {
    pub fn new<T: Serialize>(header: &T, blobs: Vec<Vec<u8>>) -> Result<Frame, serde_json::Error> {
        Ok(Frame { header: serde_json::to_vec(header)?, blobs })
    }

    /// The whole frame, including its 4-byte length prefix.
    pub fn encode(&self) -> Result<Vec<u8>, FrameError> {
        let body_len = 1 + 4 + self.header.len() + 4 + self.blobs.iter().map(|b| 4 + b.len()).sum::<usize>();
        if body_len > MAX_FRAME {
            return Err(FrameError::TooLarge(body_len));
        }
        let mut out = Vec::with_capacity(4 + body_len);
        out.extend((body_len as u32).to_be_bytes());
        out.push(FRAME_VERSION);
        out.extend((self.header.len() as u32).to_be_bytes());
        out.extend(&self.header);
        out.extend((self.blobs.len() as u32).to_be_bytes());
        for b in &self.blobs {
            out.extend((b.len() as u32).to_be_bytes());
            out.extend(b);
        }
        Ok(out)
    }

    /// Checks the 4-byte length prefix before the body is read, so a hostile length never makes
    /// the reader allocate.
    pub fn body_len(prefix: [u8; 4]) -> Result<usize, FrameError> {
        let len = u32::from_be_bytes(prefix) as usize;
        if len > MAX_FRAME {
            return Err(FrameError::TooLarge(len));
        }
        if len < 9 {
            return Err(FrameError::Malformed("body shorter than its fixed fields"));
        }
        Ok(len)
    }

    /// Decodes a body (the bytes after the length prefix). Every byte must be accounted for.
    pub fn decode_body(body: &[u8]) -> Result<Frame, FrameError> {
        let mut r = Reader { buf: body, pos: 0 };
        let version = r.u8()?;
        if version != FRAME_VERSION {
            return Err(FrameError::Version(version));
        }
        let header_len = r.u32()? as usize;
        if header_len > MAX_HEADER {
            return Err(FrameError::Malformed("header longer than 16 MiB"));
        }
        let header = r.take(header_len)?.to_vec();
        let count = r.u32()? as usize;
        // Each blob needs at least its 4-byte length, which bounds the count by the body size.
        if count > MAX_BLOBS || count > r.remaining() / 4 {
            return Err(FrameError::Malformed("blob count exceeds the frame"));
        }
        let mut blobs = Vec::with_capacity(count);
        for _ in 0..count {
            let n = r.u32()? as usize;
            blobs.push(r.take(n)?.to_vec());
        }
        if r.remaining() != 0 {
            return Err(FrameError::Malformed("trailing bytes after the last blob"));
        }
        Ok(Frame { header, blobs })
    }
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }
    fn take(&mut self, n: usize) -> Result<&'a [u8], FrameError> {
        if n > self.remaining() {
            return Err(FrameError::Malformed("field runs past the end of the frame"));
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }
    fn u8(&mut self) -> Result<u8, FrameError> {
        Ok(self.take(1)?[0])
    }
    fn u32(&mut self) -> Result<u32, FrameError> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
}

// ---- requests -------------------------------------------------------------------------------

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Request {
    Hello {
        protocol: u32,
        client: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        token: Option<String>,
    },
    Redefine {
        classes: Vec<ClassRef>,
        loader: Option<String>,
        pending: bool,
        /// New classes to define (into the named loaders) before anything is redefined.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        define: Vec<DefineRef>,
        /// Marks the batch as a deploy of a build, so it can be listed and undone as one.
        #[serde(skip_serializing_if = "Option::is_none")]
        deploy: Option<DeployMark>,
        /// Classes of `classes` the client planned as not loaded: if one has loaded since, the
        /// agent changes nothing and refuses with kind `loaded_since_plan`.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        unloaded: Vec<String>,
        /// Answer with the bytes each class ran before (`before`, blobs), so that the client can
        /// judge the change after the JVM did, in one request (see patch::redefine).
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        before: bool,
    },
    Rollback {
        classes: Vec<String>,
        /// `"last"` (or a deploy id): undo that deploy instead of naming classes.
        #[serde(skip_serializing_if = "Option::is_none")]
        deploy: Option<String>,
    },
    /// Every application class the JVM has loaded, with the hash of the bytes in effect.
    Inventory {
        /// List classes loaded from a jar unchanged since the JVM started by their code source
        /// (`cs`, an index into the answer's `code_sources`) instead of a hash.
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        code_sources: bool,
    },
    /// The bytes `loader` serves for each resource name (class files included), as hashes.
    Resources {
        loader: String,
        names: Vec<String>,
    },
    History {},
    /// Every loaded class name, one blob per defining loader (`classes` in docs/protocol.md);
    /// with `unless_defined_since` (the `defined` token of an earlier answer), just `unchanged`
    /// when no class has been defined since.
    Classes {
        #[serde(skip_serializing_if = "Option::is_none")]
        unless_defined_since: Option<String>,
    },
    /// The facts of classes by name: loader, code source, modifiers, hierarchy, jhot's patch.
    ClassInfo {
        names: Vec<String>,
        loader: Option<String>,
    },
    /// Every class loader with a class, its ancestors and the boot loader.
    Loaders {},
    Bytes {
        classes: Vec<String>,
        loader: Option<String>,
    },
    /// Each name's class file as `loader` serves it (jad's nested classes, the helper's callbacks);
    /// with `running`, the running bytes of a loaded class.
    ClassFiles {
        loader: String,
        names: Vec<String>,
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        running: bool,
    },
    /// The binary names of a package's classes that `loader` sees (javac's class path).
    ListPackage {
        loader: String,
        package: String,
    },
    /// Stop the servers the agent knows by name (Tomcat stops accepting; a JDK HttpServer stops,
    /// waiting up to `seconds`), fence the listeners in `fence` through the native library `lib`
    /// (the JVM stops taking connections from them), and name the application's shutdown hooks.
    Drain {
        seconds: u32,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        fence: Vec<FenceItem>,
        #[serde(skip_serializing_if = "Option::is_none")]
        lib: Option<String>,
    },
    /// Send descriptors `fds` over SCM_RIGHTS to the Unix socket `socket`, through the native
    /// library `lib` (paths as the JVM sees them, in its private directory).
    SendFds {
        lib: String,
        socket: String,
        fds: Vec<i32>,
    },
    /// Stop request `request` of this connection, if it opted into events and still runs.
    Cancel {
        request: u64,
    },
    /// Every live thread (or those of `ids`), busiest first; with `interval_ms` the agent samples
    /// CPU time over that interval (a wait, cancellable).
    Threads {
        #[serde(skip_serializing_if = "Option::is_none")]
        interval_ms: Option<u64>,
        #[serde(skip_serializing_if = "Option::is_none")]
        top: Option<u32>,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        ids: Vec<u64>,
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        stacks: bool,
        #[serde(skip_serializing_if = "Option::is_none")]
        depth: Option<u32>,
    },
    /// The value of a static field, rendered without running application code.
    Getstatic {
        class: String,
        loader: Option<String>,
        field: String,
        depth: u32,
    },
    /// Runtime, memory, GC, threads, class loading, compilation and OS facts.
    Jvm {},
}

impl Request {
    /// Requests that can run long enough for someone to want to stop them: they opt into the
    /// agent's cancellation (docs/protocol.md, "Streaming and cancel").
    pub fn cancellable(&self) -> bool {
        matches!(self, Request::Threads { .. } | Request::Inventory { .. } | Request::Resources { .. })
    }
}

/// A listener of the JVM: its descriptor number there and its socket's inode, checked before use.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct FenceItem {
    pub fd: i32,
    pub inode: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct DefineRef {
    pub name: String,
    pub blob: usize,
    pub loader: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeployMark {
    pub build: String,
    pub sha256: String,
    pub id: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ClassRef {
    pub name: String,
    pub blob: usize,
}

/// The header as sent: the request plus the id the response echoes.
#[derive(Debug, Serialize)]
pub struct Envelope<'a> {
    pub id: u64,
    #[serde(flatten)]
    pub request: &'a Request,
    /// Opts into events and cancel (docs/protocol.md, "Streaming"); only towards an agent whose
    /// hello lists `cancel`.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub events: bool,
}

// ---- responses ------------------------------------------------------------------------------

/// Fields every response has; the rest depends on the op.
#[derive(Debug, Deserialize)]
pub struct ResponseHead {
    pub id: u64,
    pub ok: bool,
    #[serde(default)]
    pub error: Option<AgentFailure>,
}

/// A request the agent refused. Nothing was changed.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
pub struct AgentFailure {
    pub kind: FailureKind,
    pub message: String,
    #[serde(default)]
    pub classes: Vec<String>,
}

/// Why the agent refused a request (docs/protocol.md lists them). Serialized as the agent wrote it,
/// so `--json` error details show the agent's own word.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum FailureKind {
    /// A malformed frame or an unknown op.
    Protocol,
    /// A missing or wrong token.
    Auth,
    /// An unsupported protocol version.
    Version,
    /// A class is not loaded and pending was not allowed.
    NotLoaded,
    /// The JVM says the class cannot be modified.
    Unmodifiable,
    /// The request names something that is not there or not allowed now.
    Input,
    /// The JVM refused the redefinition; the message is its exception.
    Rejected,
    /// A class the client planned as not loaded has loaded since: nothing was changed.
    LoadedSincePlan,
    /// Rollback of a class jhot never changed.
    NotPatched,
    /// `send_fds` named a path outside the private directory, or the directory is not safe.
    Refused,
    /// The native library cannot be loaded or called.
    Native,
    /// `send_fds` could not pass the descriptors.
    Io,
    /// Anything else.
    Internal,
    /// A request that opted into events was stopped by `cancel` (or its connection closed).
    Cancelled,
    /// A kind this jhot does not know (a newer agent's), kept as the agent wrote it.
    #[serde(untagged)]
    Unknown(String),
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Hello {
    pub protocol: u32,
    pub agent: String,
    pub pid: i64,
    #[serde(default)]
    pub start_ms: i64,
    pub java_version: String,
    #[serde(default)]
    pub vm_name: String,
    #[serde(default)]
    pub vm_vendor: String,
    pub mode: String,
    pub loads: u64,
    pub patched: u64,
    pub pending: u64,
    pub channel: String,
    /// The ops this agent serves; empty for an agent that predates the list. Not serialized:
    /// `jhot info --json` shows the hello, and its document does not list ops.
    #[serde(default, skip_serializing)]
    pub ops: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
pub struct Loader {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct ClassChange {
    pub name: String,
    pub loader: Option<Loader>,
    pub from_sha256: Option<String>,
    pub to_sha256: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Redefined {
    #[serde(default)]
    pub elapsed_us: u64,
    #[serde(default)]
    pub redefined: Vec<ClassChange>,
    #[serde(default)]
    pub pending: Vec<String>,
    #[serde(default)]
    pub unchanged: Vec<String>,
    #[serde(default)]
    pub defined: Vec<String>,
    /// With `before`: what each class found ran before the request (blobs), and the JVM's
    /// `java.version`.
    #[serde(default, skip_serializing)]
    pub before: Vec<BytesEntry>,
    #[serde(default, skip_serializing)]
    pub java_version: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct RolledBack {
    #[serde(default)]
    pub rolled_back: Vec<ClassChange>,
    #[serde(default)]
    pub unpending: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct HistoryEntry {
    pub seq: u64,
    pub time_ms: i64,
    pub action: String,
    pub classes: Vec<ClassChange>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct History {
    pub entries: Vec<HistoryEntry>,
    /// Builds `jhot deploy` applied by redefinition, oldest first.
    #[serde(default)]
    pub deploys: Vec<DeployRecord>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct DeployRecord {
    pub id: String,
    pub build: String,
    pub sha256: String,
    #[serde(default)]
    pub time_ms: i64,
    #[serde(default)]
    pub redefined: Vec<serde_json::Value>,
    #[serde(default)]
    pub pending: Vec<serde_json::Value>,
    #[serde(default)]
    pub defined: Vec<serde_json::Value>,
    #[serde(default)]
    pub rolled_back: bool,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct InventoryLoader {
    pub id: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub class: String,
    #[serde(default)]
    pub parent: Option<String>,
    #[serde(default)]
    pub classes: u64,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct InventoryClass {
    pub name: String,
    pub loader: String,
    /// None for a class with no class file behind it (source `generated`), or one the JVM would
    /// not show: compared only if the build has it, by asking for its bytes.
    #[serde(default)]
    pub sha256: Option<String>,
    /// With `code_sources`: where the class was loaded from (an index into
    /// [`Inventory::code_sources`]); the bytes are that jar's entry.
    #[serde(default)]
    pub cs: Option<usize>,
    #[serde(default)]
    pub source: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Inventory {
    pub loaders: Vec<InventoryLoader>,
    pub classes: Vec<InventoryClass>,
    #[serde(default)]
    pub skipped: u64,
    /// How long the agent took, in microseconds.
    #[serde(default)]
    pub elapsed_us: u64,
    /// Code-source locations (`jar:nested:/app.jar/!BOOT-INF/lib/x.jar!/`, `file:/app.jar`).
    #[serde(default)]
    pub code_sources: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct ResourceHash {
    pub name: String,
    pub sha256: Option<String>,
    #[serde(default)]
    pub url: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct ResourceHashes {
    pub resources: Vec<ResourceHash>,
}

/// A class loader as `classes` and `loaders` list it.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
pub struct LoaderRow {
    /// `0x1b6d3586`, or `bootstrap`.
    pub id: String,
    pub name: String,
    /// Its class; null for the boot loader.
    pub class: Option<String>,
    /// The parent's id; `bootstrap` for a child of the boot loader, null for the boot loader.
    pub parent: Option<String>,
    /// Classes it defined (hidden classes, arrays and primitives left out).
    pub classes: u64,
    /// `getURLs().length` of a `URLClassLoader` (only in `loaders`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub urls: Option<u64>,
}

/// The answer to `classes`: blob `k` holds the names `loaders[k]` defined, one per line.
#[derive(Debug, Clone, Deserialize)]
pub struct ClassList {
    #[serde(default)]
    pub loaders: Vec<LoaderRow>,
    #[serde(default)]
    pub hidden: u64,
    #[serde(default)]
    pub elapsed_us: u64,
    /// Asked with `unless_defined_since`: no class defined since that token; nothing else is sent.
    #[serde(default)]
    pub unchanged: bool,
    /// A token for "no class defined since this list", when the agent can vouch for it.
    #[serde(default)]
    pub defined: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct LoaderList {
    pub loaders: Vec<LoaderRow>,
}

/// A class's defining loader as `class_info` names it.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
pub struct LoaderRef {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub class: Option<String>,
}

/// jhot's patch in force on a class (`class_info`); `seq`, `action` and `time_ms` are not the
/// agent's: the client fills them in from `history`.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
pub struct PatchFacts {
    pub sha256: String,
    pub original_sha256: String,
    pub deploy: Option<String>,
    #[serde(default)]
    pub seq: Option<u64>,
    #[serde(default)]
    pub action: Option<String>,
    #[serde(default)]
    pub time_ms: Option<i64>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct ClassFacts {
    pub name: String,
    pub loader: LoaderRef,
    pub location: Option<String>,
    pub modifiers: u32,
    #[serde(rename = "super")]
    pub super_class: Option<String>,
    #[serde(default)]
    pub interfaces: Vec<String>,
    #[serde(default)]
    pub modifiable: bool,
    pub patched: Option<PatchFacts>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct NotLoaded {
    pub name: String,
    #[serde(default)]
    pub pending: bool,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ClassInfoList {
    pub classes: Vec<ClassFacts>,
    #[serde(default)]
    pub not_loaded: Vec<NotLoaded>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct BytesEntry {
    pub name: String,
    pub loader: Option<Loader>,
    pub blob: usize,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ClassBytes {
    pub classes: Vec<BytesEntry>,
    /// The JVM's `java.version`, so a verdict can follow that JDK's rules.
    #[serde(default)]
    pub java_version: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ClassFileEntry {
    pub name: String,
    /// Absent: the loader has no class of that name.
    #[serde(default)]
    pub blob: Option<usize>,
    /// `patched` (jhot's bytes), `running` (captured) or `class_file` (the loader's resource).
    #[serde(default)]
    pub source: Option<String>,
    /// The defining loader, for a loaded class.
    #[serde(default)]
    pub loader: Option<Loader>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ClassFiles {
    pub classes: Vec<ClassFileEntry>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct PackageList {
    pub names: Vec<String>,
    /// Resources of that directory the agent could not list, with why.
    #[serde(default)]
    pub unread: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roundtrip(f: &Frame) -> Frame {
        let enc = f.encode().expect("encode");
        let len = Frame::body_len([enc[0], enc[1], enc[2], enc[3]]).expect("len");
        assert_eq!(len, enc.len() - 4);
        Frame::decode_body(&enc[4..]).expect("decode")
    }

    #[test]
    fn frames_round_trip() {
        let f =
            Frame { header: br#"{"op":"hello","id":1}"#.to_vec(), blobs: vec![vec![], vec![1, 2, 3], vec![0; 1000]] };
        assert_eq!(roundtrip(&f), f);
        let empty = Frame { header: b"{}".to_vec(), blobs: vec![] };
        assert_eq!(roundtrip(&empty), empty);
    }

    #[test]
    fn requests_serialize_as_documented() {
        let r = Request::Redefine {
            classes: vec![ClassRef { name: "a.B".into(), blob: 0 }],
            loader: None,
            pending: true,
            define: vec![],
            deploy: None,
            unloaded: vec![],
            before: false,
        };
        let v = serde_json::to_value(Envelope { id: 7, request: &r, events: false }).expect("json");
        assert_eq!(
            v,
            serde_json::json!({"id": 7, "op": "redefine", "classes": [{"name": "a.B", "blob": 0}], "loader": null, "pending": true})
        );
        let h = Request::Hello { protocol: 1, client: "jhot".into(), token: None };
        let v = serde_json::to_value(Envelope { id: 1, request: &h, events: false }).expect("json");
        assert_eq!(v, serde_json::json!({"id": 1, "op": "hello", "protocol": 1, "client": "jhot"}));
        let v = serde_json::to_value(Envelope { id: 2, request: &Request::History {}, events: false }).expect("json");
        assert_eq!(v, serde_json::json!({"id": 2, "op": "history"}));
        let v = serde_json::to_value(Envelope { id: 3, request: &Request::Jvm {}, events: true }).expect("json");
        assert_eq!(v, serde_json::json!({"id": 3, "op": "jvm", "events": true}));
        let t = Request::Threads { interval_ms: Some(1000), top: Some(3), ids: vec![], stacks: false, depth: None };
        let v = serde_json::to_value(Envelope { id: 4, request: &t, events: false }).expect("json");
        assert_eq!(v, serde_json::json!({"id": 4, "op": "threads", "interval_ms": 1000, "top": 3}));
        let v = serde_json::to_value(Envelope { id: 5, request: &Request::Cancel { request: 4 }, events: false })
            .expect("json");
        assert_eq!(v, serde_json::json!({"id": 5, "op": "cancel", "request": 4}));
        let r = Request::Classes { unless_defined_since: None };
        let v = serde_json::to_value(Envelope { id: 6, request: &r, events: false }).expect("json");
        assert_eq!(v, serde_json::json!({"id": 6, "op": "classes"}));
        let r = Request::Classes { unless_defined_since: Some("a1-b2:40".into()) };
        let v = serde_json::to_value(Envelope { id: 6, request: &r, events: false }).expect("json");
        assert_eq!(v, serde_json::json!({"id": 6, "op": "classes", "unless_defined_since": "a1-b2:40"}));
        let unchanged: ClassList =
            serde_json::from_value(serde_json::json!({"unchanged": true, "defined": "a1-b2:40"}))
                .expect("an unchanged answer has no loaders");
        assert!(unchanged.unchanged && unchanged.loaders.is_empty());
        assert_eq!(unchanged.defined.as_deref(), Some("a1-b2:40"));
        let r = Request::ClassInfo { names: vec!["a.B".into()], loader: None };
        let v = serde_json::to_value(Envelope { id: 7, request: &r, events: false }).expect("json");
        assert_eq!(v, serde_json::json!({"id": 7, "op": "class_info", "names": ["a.B"], "loader": null}));
        let v = serde_json::to_value(Envelope { id: 8, request: &Request::Loaders {}, events: false }).expect("json");
        assert_eq!(v, serde_json::json!({"id": 8, "op": "loaders"}));
    }

    #[test]
    fn failure_kinds_keep_the_agents_word() {
        for word in ["loaded_since_plan", "not_patched", "rejected", "io"] {
            let f: AgentFailure =
                serde_json::from_value(serde_json::json!({"kind": word, "message": "m"})).expect("parse");
            assert_ne!(f.kind, FailureKind::Unknown(word.into()), "{word} is a known kind");
            assert_eq!(serde_json::to_value(&f).expect("json")["kind"], word);
        }
        // A kind a newer agent may send: not an error, and shown as sent.
        let f: AgentFailure =
            serde_json::from_value(serde_json::json!({"kind": "quota", "message": "m", "classes": ["a.B"]}))
                .expect("parse");
        assert_eq!(f.kind, FailureKind::Unknown("quota".into()));
        assert_eq!(
            serde_json::to_value(&f).expect("json"),
            serde_json::json!({"kind": "quota", "message": "m", "classes": ["a.B"]})
        );
    }

    #[test]
    fn malformed_bodies_are_errors_not_panics() {
        assert_eq!(Frame::body_len((MAX_FRAME as u32 + 1).to_be_bytes()), Err(FrameError::TooLarge(MAX_FRAME + 1)));
        assert!(Frame::body_len(u32::MAX.to_be_bytes()).is_err());
        assert!(Frame::body_len(3u32.to_be_bytes()).is_err());
        let good = Frame { header: b"{}".to_vec(), blobs: vec![vec![9; 10]] }.encode().expect("encode");
        let body = &good[4..];
        // Every truncation, a wrong version, and trailing bytes.
        for n in 0..body.len() {
            assert!(Frame::decode_body(&body[..n]).is_err(), "truncated at {n}");
        }
        let mut v2 = body.to_vec();
        v2[0] = 2;
        assert_eq!(Frame::decode_body(&v2), Err(FrameError::Version(2)));
        let mut trailing = body.to_vec();
        trailing.push(0);
        assert!(Frame::decode_body(&trailing).is_err());
        // A blob count or blob length that claims more than the frame holds.
        let mut huge_count = body.to_vec();
        let at = 1 + 4 + 2;
        huge_count[at..at + 4].copy_from_slice(&u32::MAX.to_be_bytes());
        assert!(Frame::decode_body(&huge_count).is_err());
        let mut huge_blob = body.to_vec();
        huge_blob[at + 4..at + 8].copy_from_slice(&u32::MAX.to_be_bytes());
        assert!(Frame::decode_body(&huge_blob).is_err());
        let mut huge_header = body.to_vec();
        huge_header[1..5].copy_from_slice(&u32::MAX.to_be_bytes());
        assert!(Frame::decode_body(&huge_header).is_err());
    }

    #[test]
    fn responses_parse() {
        let head: ResponseHead =
            serde_json::from_str(r#"{"id":3,"ok":false,"error":{"kind":"rejected","message":"m","classes":["a.B"]}}"#)
                .expect("parse");
        assert!(!head.ok);
        let error = head.error.expect("error");
        assert_eq!(error.kind, FailureKind::Rejected);
        assert_eq!(error.classes, vec!["a.B".to_string()]);
        let r: Redefined = serde_json::from_str(
            r#"{"id":2,"ok":true,"elapsed_us":5,"redefined":[{"name":"a.B","loader":{"id":"0x1","name":"app"},"from_sha256":"aa","to_sha256":"bb"}],"pending":["c.D"],"unchanged":[]}"#,
        )
        .expect("parse");
        assert_eq!(r.redefined[0].loader.as_ref().expect("loader").name, "app");
        assert_eq!(r.pending, vec!["c.D".to_string()]);
    }
}
