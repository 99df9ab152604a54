//! Protocol encoding benchmark: a 1,000-class `redefine` request in two encodings.
//!
//!   (A) one JSON document, class bytes as base64 strings inside it, behind the 4-byte length;
//!   (B) the protocol's frame (docs/protocol.md, "Framing"): JSON header + raw blobs.
//!
//! `encode` picks the classes, times the Rust encoding of both and writes the two wire images for
//! the Java side (ProtocolBench.java, which decodes them with the agent's own code). `report`
//! collects both sides' figures into bench/results/protocol.txt. bench/protocol/run.sh runs it all.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Instant;

use base64::Engine as _;
use serde::Serialize;

struct Class {
    name: String,
    bytes: Vec<u8>,
}

// ---- (A) one JSON document with base64 ------------------------------------------------------

#[derive(Serialize)]
struct RequestA<'a> {
    op: &'static str,
    id: u64,
    classes: Vec<ClassA<'a>>,
    loader: Option<&'a str>,
    pending: bool,
}

#[derive(Serialize)]
struct ClassA<'a> {
    name: &'a str,
    bytes: String,
}

/// The whole wire image of (A): length prefix + JSON. Given its best case: the output is sized
/// once up front and serde_json writes straight into it after the 4 placeholder bytes.
fn encode_a(classes: &[Class]) -> Vec<u8> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let req = RequestA {
        op: "redefine",
        id: 1,
        classes: classes.iter().map(|c| ClassA { name: &c.name, bytes: b64.encode(&c.bytes) }).collect(),
        loader: None,
        pending: true,
    };
    let estimate = 64 + req.classes.iter().map(|c| c.name.len() + c.bytes.len() + 24).sum::<usize>();
    let mut out = Vec::with_capacity(4 + estimate);
    out.extend([0u8; 4]);
    serde_json::to_writer(&mut out, &req).expect("serialize (A)");
    let body = (out.len() - 4) as u32;
    out[..4].copy_from_slice(&body.to_be_bytes());
    out
}

// ---- (B) JSON header + raw blobs ------------------------------------------------------------

/// The header exactly as crates/engine/src/agent/protocol.rs serializes it (`Envelope` with a flattened,
/// internally tagged `Request::Redefine`).
#[derive(Serialize)]
struct EnvelopeB<'a> {
    id: u64,
    #[serde(flatten)]
    request: RequestB<'a>,
}

#[derive(Serialize)]
#[serde(tag = "op", rename_all = "snake_case")]
enum RequestB<'a> {
    Redefine { classes: Vec<ClassRef<'a>>, loader: Option<&'a str>, pending: bool },
}

#[derive(Serialize)]
struct ClassRef<'a> {
    name: &'a str,
    blob: usize,
}

/// The whole wire image of (B), the same steps as `Frame::new` + `Frame::encode` in
/// crates/engine/src/agent/protocol.rs (borrowing the class bytes instead of taking them).
fn encode_b(classes: &[Class]) -> Vec<u8> {
    let env = EnvelopeB {
        id: 1,
        request: RequestB::Redefine {
            classes: classes.iter().enumerate().map(|(i, c)| ClassRef { name: &c.name, blob: i }).collect(),
            loader: None,
            pending: true,
        },
    };
    let header = serde_json::to_vec(&env).expect("serialize (B)");
    let body_len = 1 + 4 + header.len() + 4 + classes.iter().map(|c| 4 + c.bytes.len()).sum::<usize>();
    let mut out = Vec::with_capacity(4 + body_len);
    out.extend((body_len as u32).to_be_bytes());
    out.push(1); // FRAME_VERSION
    out.extend((header.len() as u32).to_be_bytes());
    out.extend(&header);
    out.extend((classes.len() as u32).to_be_bytes());
    for c in classes {
        out.extend((c.bytes.len() as u32).to_be_bytes());
        out.extend(&c.bytes);
    }
    out
}

// ---- choosing the classes -------------------------------------------------------------------

/// Every `*.class` under `root` (a `jimage extract` tree: <module>/<package path>/<Name>.class),
/// module-info excluded, as (path relative to root, size), sorted by that path.
fn list_classes(root: &Path) -> Vec<(String, u64)> {
    fn walk(dir: &Path, root: &Path, out: &mut Vec<(String, u64)>) {
        for e in fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let e = e.unwrap();
            let p = e.path();
            let t = e.file_type().unwrap();
            if t.is_dir() {
                walk(&p, root, out);
            } else if t.is_file() {
                let rel = p.strip_prefix(root).unwrap().to_str().unwrap().to_owned();
                if rel.ends_with(".class") && !rel.ends_with("module-info.class") {
                    out.push((rel, e.metadata().unwrap().len()));
                }
            }
        }
    }
    let mut out = Vec::new();
    walk(root, root, &mut out);
    out.sort();
    out
}

/// The first `count` classes (in path order) of at least `min` bytes, their total size.
fn first_at_least(all: &[(String, u64)], count: usize, min: u64) -> Option<(Vec<&(String, u64)>, u64)> {
    let picked: Vec<_> = all.iter().filter(|(_, n)| *n >= min).take(count).collect();
    (picked.len() == count).then(|| {
        let total = picked.iter().map(|(_, n)| n).sum();
        (picked, total)
    })
}

/// FNV-1a 64 over (name, 0, bytes) of every class in order; the Java side checks its decoding
/// of both encodings against it.
fn fingerprint<'a>(classes: impl Iterator<Item = (&'a str, &'a [u8])>) -> u64 {
    let mut h: u64 = 0xcbf29ce484222325;
    let mut eat = |b: u8| {
        h ^= b as u64;
        h = h.wrapping_mul(0x100000001b3);
    };
    for (name, bytes) in classes {
        name.bytes().for_each(&mut eat);
        eat(0);
        bytes.iter().copied().for_each(&mut eat);
    }
    h
}

// ---- timing ---------------------------------------------------------------------------------

struct Stats {
    median: f64,
    min: f64,
    max: f64,
}

fn stats(mut v: Vec<f64>) -> Stats {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let n = v.len();
    let median = if n % 2 == 1 { v[n / 2] } else { (v[n / 2 - 1] + v[n / 2]) / 2.0 };
    Stats { median, min: v[0], max: v[n - 1] }
}

/// Milliseconds per run of `f` (its output is dropped after the clock stops).
fn time(warmup: usize, runs: usize, f: impl Fn() -> Vec<u8>) -> Vec<f64> {
    for _ in 0..warmup {
        std::hint::black_box(f());
    }
    (0..runs)
        .map(|_| {
            let t = Instant::now();
            let out = std::hint::black_box(f());
            let ms = t.elapsed().as_secs_f64() * 1e3;
            drop(out);
            ms
        })
        .collect()
}

// ---- commands -------------------------------------------------------------------------------

fn args() -> (String, BTreeMap<String, String>) {
    let mut it = std::env::args().skip(1);
    let cmd = it.next().unwrap_or_default();
    let mut opts = BTreeMap::new();
    while let Some(k) = it.next() {
        let k = k.strip_prefix("--").unwrap_or_else(|| usage(&format!("unexpected argument {k}"))).to_owned();
        let v = it.next().unwrap_or_else(|| usage(&format!("--{k} needs a value")));
        opts.insert(k, v);
    }
    (cmd, opts)
}

fn usage(why: &str) -> ! {
    eprintln!(
        "protocol-bench: {why}\n\
         usage: jhot-protocol-bench encode --classes <jimage extract dir> --out <dir> \
         [--count 1000] [--target-bytes 10000000] [--warmup 3] [--runs 15]\n\
         \x20      jhot-protocol-bench report --out <dir> --results <file> [--source <text>] [--rustc <text>] [--load-before <loadavg>] [--date <text>]"
    );
    std::process::exit(2)
}

fn opt<T: std::str::FromStr>(opts: &BTreeMap<String, String>, k: &str, default: Option<T>) -> T {
    match opts.get(k) {
        Some(v) => v.parse().unwrap_or_else(|_| usage(&format!("bad --{k} {v}"))),
        None => default.unwrap_or_else(|| usage(&format!("--{k} is required"))),
    }
}

fn encode(opts: &BTreeMap<String, String>) {
    let root = PathBuf::from(opt::<String>(opts, "classes", None));
    let out = PathBuf::from(opt::<String>(opts, "out", None));
    let count: usize = opt(opts, "count", Some(1000));
    let target: u64 = opt(opts, "target-bytes", Some(10_000_000));
    let warmup: usize = opt(opts, "warmup", Some(3));
    let runs: usize = opt(opts, "runs", Some(15));

    // The size floor (a multiple of 100 bytes) whose first `count` classes total closest to target.
    let all = list_classes(&root);
    let (min, (picked, total)) = (0..=1000u64)
        .map(|k| k * 100)
        .filter_map(|min| first_at_least(&all, count, min).map(|p| (min, p)))
        .min_by_key(|(_, (_, total))| total.abs_diff(target))
        .unwrap_or_else(|| usage(&format!("fewer than {count} classes under {}", root.display())));

    let classes: Vec<Class> = picked
        .iter()
        .map(|(rel, _)| {
            let bytes = fs::read(root.join(rel)).unwrap();
            // <module>/a/b/C$D.class -> a.b.C$D
            let (_module, path) = rel.split_once('/').unwrap();
            let name = path.strip_suffix(".class").unwrap().replace('/', ".");
            Class { name, bytes }
        })
        .collect();
    assert_eq!(classes.iter().map(|c| c.bytes.len() as u64).sum::<u64>(), total);
    let modules: std::collections::BTreeSet<&str> =
        picked.iter().map(|(rel, _)| rel.split_once('/').unwrap().0).collect();

    let a = encode_a(&classes);
    let b = encode_b(&classes);
    fs::create_dir_all(&out).unwrap();
    fs::write(out.join("a.bin"), &a).unwrap();
    fs::write(out.join("b.bin"), &b).unwrap();

    let ta = stats(time(warmup, runs, || encode_a(&classes)));
    let tb = stats(time(warmup, runs, || encode_b(&classes)));

    let sizes = {
        let mut s: Vec<usize> = classes.iter().map(|c| c.bytes.len()).collect();
        s.sort();
        s
    };
    let mut m = String::new();
    let mut kv = |k: &str, v: String| writeln!(m, "{k}={v}").unwrap();
    kv("count", classes.len().to_string());
    kv("total_bytes", total.to_string());
    kv("min_class_bytes", min.to_string());
    kv("target_bytes", target.to_string());
    kv("smallest", sizes[0].to_string());
    kv("median_size", sizes[sizes.len() / 2].to_string());
    kv("largest", sizes[sizes.len() - 1].to_string());
    kv("first", classes[0].name.clone());
    kv("last", classes[classes.len() - 1].name.clone());
    kv("modules", modules.into_iter().collect::<Vec<_>>().join(","));
    kv("fingerprint", format!("{:016x}", fingerprint(classes.iter().map(|c| (c.name.as_str(), c.bytes.as_slice())))));
    kv("wire_a", a.len().to_string());
    kv("wire_b", b.len().to_string());
    kv("rust_runs", runs.to_string());
    kv("rust_warmup", warmup.to_string());
    for (k, s) in [("a", &ta), ("b", &tb)] {
        kv(&format!("rust_{k}_median_ms"), format!("{:.3}", s.median));
        kv(&format!("rust_{k}_min_ms"), format!("{:.3}", s.min));
        kv(&format!("rust_{k}_max_ms"), format!("{:.3}", s.max));
    }
    fs::write(out.join("rust.txt"), &m).unwrap();
    print!("{m}");
}

fn read_kv(p: &Path) -> BTreeMap<String, String> {
    let text = fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    text.lines().filter_map(|l| l.split_once('=')).map(|(k, v)| (k.to_owned(), v.to_owned())).collect()
}

/// One encoding's samples on one JDK, pooled over the forks.
#[derive(Default)]
struct Pooled {
    ms: Vec<f64>,
    read: Vec<f64>,
    parse: Vec<f64>,
    extract: Vec<f64>,
    alloc: Vec<f64>,
    read_alloc: Vec<f64>,
}

struct Java {
    jdk: String,
    /// The first fork's key=value lines (versions, flags, runs, warm-up).
    meta: BTreeMap<String, String>,
    forks: usize,
    a: Pooled,
    b: Pooled,
}

impl Java {
    fn load(dir: &Path, jdk: String) -> Java {
        let mut j = Java { meta: BTreeMap::new(), forks: 0, a: Pooled::default(), b: Pooled::default(), jdk };
        while dir.join(format!("java-{}-a-{}.txt", j.jdk, j.forks + 1)).exists() {
            j.forks += 1;
            for (tag, p) in [("a", &mut j.a), ("b", &mut j.b)] {
                let m = read_kv(&dir.join(format!("java-{}-{tag}-{}.txt", j.jdk, j.forks)));
                let list = |k: &str| -> Vec<f64> {
                    m[k].split(',').filter(|s| !s.is_empty()).map(|s| s.parse().unwrap()).collect()
                };
                p.ms.extend(list("ms"));
                p.read.extend(list("read_ms"));
                p.parse.extend(list("parse_ms"));
                p.extract.extend(list("extract_ms"));
                p.alloc.extend(list("alloc_bytes")); // empty without com.sun.management
                p.read_alloc.extend(list("read_alloc_bytes"));
                if j.meta.is_empty() {
                    j.meta = m;
                }
            }
        }
        j
    }
}

/// 12345678 -> "12,345,678"
fn grouped(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn report(opts: &BTreeMap<String, String>) {
    let out = PathBuf::from(opt::<String>(opts, "out", None));
    let results = PathBuf::from(opt::<String>(opts, "results", None));
    let source: String = opt(opts, "source", Some("?".to_owned()));
    let rustc: String = opt(opts, "rustc", Some("rustc ?".to_owned()));
    let load_before: String = opt(opts, "load-before", Some("?".to_owned()));
    let date: String = opt(opts, "date", Some("?".to_owned()));
    let r = read_kv(&out.join("rust.txt"));
    let g = |k: &str| r.get(k).unwrap_or_else(|| panic!("rust.txt has no {k}")).clone();
    let num = |k: &str| g(k).parse::<f64>().unwrap();

    // java-<jdk>-<a|b>-<fork>.txt: samples pooled over the forks, JDK 17 first.
    let mut jdks: Vec<String> = fs::read_dir(&out)
        .unwrap()
        .filter_map(|e| {
            e.ok()?.file_name().to_str()?.strip_prefix("java-")?.strip_suffix("-a-1.txt").map(str::to_owned)
        })
        .collect();
    jdks.sort_by_key(|j| (j != "17", j.parse::<u32>().unwrap_or(0)));
    let javas: Vec<Java> = jdks.into_iter().map(|j| Java::load(&out, j)).collect();

    let cpu = fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_owned())
        })
        .unwrap_or_else(|| "?".to_owned());
    let kernel = fs::read_to_string("/proc/sys/kernel/osrelease").map(|s| s.trim().to_owned()).unwrap_or_default();
    let nproc = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    let mem_gib = fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| s.lines().next()?.split_whitespace().nth(1)?.parse::<f64>().ok())
        .map(|kib| kib / (1024.0 * 1024.0))
        .unwrap_or(0.0);

    let total: u64 = g("total_bytes").parse().unwrap();
    let wire = |k: &str| g(k).parse::<u64>().unwrap();
    let mut s = String::new();
    let w = &mut s;
    writeln!(w, "jhot control protocol: raw blobs vs base64-in-JSON for class bytes").unwrap();
    writeln!(w, "====================================================================").unwrap();
    writeln!(w, "Produced by bench/protocol/run.sh on {date} (do not edit by hand; re-run it).").unwrap();
    writeln!(w).unwrap();
    writeln!(w, "Machine   nproc {nproc}, CPU \"{cpu}\", kernel {kernel}, {mem_gib:.0} GiB RAM").unwrap();
    let load_after = fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let load = |l: &str| l.split_whitespace().take(3).collect::<Vec<_>>().join(" ");
    writeln!(
        w,
        "Load      /proc/loadavg (1/5/15 min) before the run: {}, after: {}",
        load(&load_before),
        load(&load_after)
    )
    .unwrap();
    writeln!(w, "          (a shared machine: a load above nproc means other work competed with the benchmark)")
        .unwrap();
    writeln!(w, "Rust      {} (release, lto=thin), serde_json, base64 0.22 (bench crate only)", rustc).unwrap();
    for j in &javas {
        let m = |k: &str| j.meta.get(k).map_or("?", |s| s.as_str());
        writeln!(
            w,
            "JDK {:<5} {} {} ({}), {}",
            j.jdk,
            m("vm_name"),
            m("runtime_version"),
            m("vm_vendor"),
            m("jvm_flags")
        )
        .unwrap();
    }
    writeln!(w).unwrap();
    writeln!(
        w,
        "Batch     one `redefine` request of {} classes, {} bytes of class files",
        grouped(num("count") as u64),
        grouped(total)
    )
    .unwrap();
    writeln!(
        w,
        "          = the first {} classes (sorted by <module>/<path>) of at least {} bytes (the floor, in steps of",
        grouped(num("count") as u64),
        grouped(num("min_class_bytes") as u64)
    )
    .unwrap();
    writeln!(
        w,
        "          100 bytes, whose total comes closest to {} bytes), in `jimage extract` of",
        grouped(num("target_bytes") as u64)
    )
    .unwrap();
    writeln!(w, "          {source}, module-info excluded").unwrap();
    writeln!(w, "          modules: {}", g("modules").replace(',', ", ")).unwrap();
    writeln!(
        w,
        "          sizes: {} .. {} bytes, median {}; {} .. {}",
        g("smallest"),
        g("largest"),
        g("median_size"),
        g("first"),
        g("last")
    )
    .unwrap();
    writeln!(w).unwrap();
    writeln!(w, "(A) one JSON document, class bytes base64 (RFC 4648, padded) in it, after the 4-byte length:")
        .unwrap();
    writeln!(w, "    {{\"op\":\"redefine\",\"id\":1,\"classes\":[{{\"name\":..,\"bytes\":\"<base64>\"}},..],\"loader\":null,\"pending\":true}}").unwrap();
    writeln!(w, "    Rust: base64 crate STANDARD engine into one String per class, serde_json::to_writer into a")
        .unwrap();
    writeln!(w, "    pre-sized Vec. Java: FrameReader, strict UTF-8 decode (as Frame.decode does for its header),")
        .unwrap();
    writeln!(w, "    the agent's Json.parse, java.util.Base64.getDecoder().decode(String) per class.").unwrap();
    writeln!(w, "(B) docs/protocol.md frame: version, JSON header {{\"id\":1,\"op\":\"redefine\",\"classes\":[{{\"name\":..,\"blob\":i}},..],..}},").unwrap();
    writeln!(w, "    then the class bytes as length-prefixed raw blobs. Rust: the steps of Frame::new + Frame::encode")
        .unwrap();
    writeln!(w, "    in crates/engine/src/agent/protocol.rs. Java: FrameReader, then the agent's Frame.decode, blob lookup by index.").unwrap();
    writeln!(w).unwrap();
    let (runs, warm) = (g("rust_runs"), g("rust_warmup"));
    let (forks, jruns, jwarm) = javas.first().map_or(("?".into(), "?".into(), "?".into()), |j| {
        (j.forks.to_string(), j.meta["runs"].clone(), j.meta["warmup"].clone())
    });
    writeln!(
        w,
        "Timing    wall clock of one whole request. Rust: {warm} warm-up + {runs} timed runs of each encoding."
    )
    .unwrap();
    writeln!(w, "          Java: {forks} fresh JVMs per JDK and encoding (a and b alternating), each {jwarm} warm-up + {jruns} timed").unwrap();
    writeln!(w, "          runs, System.gc() before each run (not timed); statistics over all timed runs pooled.")
        .unwrap();
    writeln!(
        w,
        "          The Java side feeds the wire bytes to the agent's FrameReader in 64 KiB reads, as Connection"
    )
    .unwrap();
    writeln!(w, "          does, so its buffer growth is included. Decoded classes are checked against the originals.")
        .unwrap();
    writeln!(w, "          Allocated = com.sun.management.ThreadMXBean.getThreadAllocatedBytes over one run (median).")
        .unwrap();
    writeln!(w, "          read = FrameReader, parse = UTF-8 + Json.parse (A) / Frame.decode (B), extract = base64")
        .unwrap();
    writeln!(w, "          decode (A) / blob lookup (B); medians of each phase, so they need not add up to the total.")
        .unwrap();
    for (tag, title) in [("a", "(A) base64 in JSON"), ("b", "(B) JSON header + raw blobs")] {
        writeln!(w).unwrap();
        writeln!(w, "{title}").unwrap();
        writeln!(w, "{}", "-".repeat(title.len())).unwrap();
        let wb = wire(&format!("wire_{tag}"));
        writeln!(w, "  wire bytes          {:>12}   ({:.3} x the class bytes)", grouped(wb), wb as f64 / total as f64)
            .unwrap();
        writeln!(w, "                      {:>9} {:>9} {:>9}", "median", "min", "max").unwrap();
        writeln!(
            w,
            "  Rust encode (ms)    {:>9.2} {:>9.2} {:>9.2}",
            num(&format!("rust_{tag}_median_ms")),
            num(&format!("rust_{tag}_min_ms")),
            num(&format!("rust_{tag}_max_ms"))
        )
        .unwrap();
        for j in &javas {
            let p = if tag == "a" { &j.a } else { &j.b };
            let t = stats(p.ms.clone());
            let alloc = if p.alloc.is_empty() {
                "n/a (no com.sun.management)".to_owned()
            } else {
                let m = stats(p.alloc.clone()).median;
                format!("{:>12} bytes ({:.2} x class bytes)", grouped(m as u64), m / total as f64)
            };
            writeln!(
                w,
                "  Java {:<3} decode (ms){:>9.2} {:>9.2} {:>9.2}   allocated {alloc}",
                j.jdk, t.median, t.min, t.max
            )
            .unwrap();
            let read_alloc = if p.read_alloc.is_empty() {
                String::new()
            } else {
                format!("; FrameReader allocated {} bytes of that", grouped(stats(p.read_alloc.clone()).median as u64))
            };
            writeln!(
                w,
                "      phases (median)    read {:.2}, parse {:.2}, extract {:.2} ms{read_alloc}",
                stats(p.read.clone()).median,
                stats(p.parse.clone()).median,
                stats(p.extract.clone()).median
            )
            .unwrap();
        }
    }

    writeln!(w).unwrap();
    writeln!(w, "A / B (> 1 means raw blobs are better)").unwrap();
    writeln!(w, "--------------------------------------").unwrap();
    let wire_f = wire("wire_a") as f64 / wire("wire_b") as f64;
    let rust_f = num("rust_a_median_ms") / num("rust_b_median_ms");
    writeln!(w, "  wire bytes        {wire_f:.2} x").unwrap();
    writeln!(w, "  Rust encode       {rust_f:.1} x").unwrap();
    struct Dec {
        jdk: String,
        a: Stats,
        b: Stats,
        alloc_a: f64,
        alloc_b: f64,
    }
    let med = |v: &Vec<f64>| if v.is_empty() { f64::NAN } else { stats(v.clone()).median };
    let dec: Vec<Dec> = javas
        .iter()
        .map(|j| Dec {
            jdk: j.jdk.clone(),
            a: stats(j.a.ms.clone()),
            b: stats(j.b.ms.clone()),
            alloc_a: med(&j.a.alloc),
            alloc_b: med(&j.b.alloc),
        })
        .collect();
    for d in &dec {
        writeln!(
            w,
            "  Java {:<3} decode   {:.1} x time ({:.1} x on the fastest runs), {:.1} x allocation",
            d.jdk,
            d.a.median / d.b.median,
            d.a.min / d.b.min,
            d.alloc_a / d.alloc_b
        )
        .unwrap();
    }

    writeln!(w).unwrap();
    writeln!(w, "Conclusion").unwrap();
    writeln!(w, "----------").unwrap();
    let java_better = dec
        .iter()
        .all(|d| d.a.median > d.b.median && (d.alloc_a >= d.alloc_b || d.alloc_a.is_nan() || d.alloc_b.is_nan()));
    let times = dec
        .iter()
        .map(|d| format!("{:.1} vs {:.1} ms = {:.1}x (JDK {})", d.a.median, d.b.median, d.a.median / d.b.median, d.jdk))
        .collect::<Vec<_>>()
        .join(", ");
    let alloc =
        |d: &Dec| format!("{:.1} vs {:.1} MB = {:.1}x", d.alloc_a / 1e6, d.alloc_b / 1e6, d.alloc_a / d.alloc_b);
    let close = |x: f64, y: f64| (x - y).abs() <= 0.01 * x.abs().max(y.abs());
    let same_alloc = dec.windows(2).all(|p| close(p[0].alloc_a, p[1].alloc_a) && close(p[0].alloc_b, p[1].alloc_b));
    let allocs = match dec.first() {
        Some(d) if same_alloc && dec.len() > 1 => format!("{} (every JDK, within 1%)", alloc(d)),
        _ => dec.iter().map(|d| format!("{} (JDK {})", alloc(d), d.jdk)).collect::<Vec<_>>().join(", "),
    };
    let (wa, wb) = (wire("wire_a") as f64 / 1e6, wire("wire_b") as f64 / 1e6);
    let (ra, rb) = (num("rust_a_median_ms"), num("rust_b_median_ms"));
    if java_better && rust_f > 1.0 && wire_f > 1.0 {
        writeln!(w, "Raw blobs win on every count (base64-in-JSON vs raw blobs, medians). Java decode in the target:")
            .unwrap();
        writeln!(w, "{times}; allocated {allocs}.").unwrap();
        writeln!(w, "Wire: {wa:.1} vs {wb:.1} MB ({wire_f:.2}x). Rust encoding: {ra:.2} vs {rb:.2} ms ({rust_f:.0}x).")
            .unwrap();
    } else {
        writeln!(w, "Raw blobs do NOT win on every count; base64-in-JSON vs raw blobs (medians): Java decode {times};")
            .unwrap();
        writeln!(w, "allocation {allocs}; wire {wa:.1} vs {wb:.1} MB; Rust encoding {ra:.2} vs {rb:.2} ms.").unwrap();
        writeln!(w, "The claim in docs/protocol.md needs revisiting against these figures.").unwrap();
    }
    fs::write(&results, &s).unwrap();
    print!("{s}");
}

fn main() {
    let (cmd, opts) = args();
    match cmd.as_str() {
        "encode" => encode(&opts),
        "report" => report(&opts),
        _ => usage("expected `encode` or `report`"),
    }
}
