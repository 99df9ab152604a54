//! `classfile-bench OLD.jar NEW.jar [--seconds S]`: parse + diff throughput of jhot's class-file
//! engine on one thread, with the numbers `run.sh` writes to bench/results.

use std::collections::BTreeMap;
use std::io::Read;
use std::time::{Duration, Instant};

use jhot_classfile::verdict::{Verdict, Vm, diff_class, diff_sets, diff_sets_on};

fn load(path: &str) -> BTreeMap<String, Vec<u8>> {
    let f = std::fs::File::open(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut z = zip::ZipArchive::new(f).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut out = BTreeMap::new();
    for i in 0..z.len() {
        let mut e = z.by_index(i).expect("zip entry");
        let name = e.name().map(|n| n.to_string()).unwrap_or_default();
        // Multi-release jars repeat classes under META-INF/versions: keep the base ones.
        if !name.ends_with(".class") || name.starts_with("META-INF/") || name.ends_with("module-info.class") {
            continue;
        }
        let mut v = Vec::with_capacity(e.size() as usize);
        e.read_to_end(&mut v).expect("read entry");
        out.insert(name.trim_end_matches(".class").replace('/', "."), v);
    }
    out
}

/// Runs `f` repeatedly for at least `min` (and 3 times at least); returns the median seconds.
fn time<F: FnMut()>(min: Duration, mut f: F) -> f64 {
    f(); // warm-up
    let mut runs = Vec::new();
    let start = Instant::now();
    while runs.len() < 3 || start.elapsed() < min {
        let t = Instant::now();
        f();
        runs.push(t.elapsed().as_secs_f64());
    }
    runs.sort_by(|a, b| a.total_cmp(b));
    runs[runs.len() / 2]
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        eprintln!("usage: classfile-bench OLD.jar NEW.jar [--seconds S] [--jdk N]");
        std::process::exit(2);
    }
    let secs: f64 = args
        .iter()
        .position(|a| a == "--seconds")
        .and_then(|i| args.get(i + 1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(3.0);
    let jdk: u32 =
        args.iter().position(|a| a == "--jdk").and_then(|i| args.get(i + 1)).and_then(|s| s.parse().ok()).unwrap_or(21);
    let min = Duration::from_secs_f64(secs);
    let old = load(&args[1]);
    let new = load(&args[2]);
    let vm = Vm { feature: jdk, allow_add_delete_methods: false };

    let diffs = diff_sets(&old, &new, &vm).unwrap_or_else(|(c, e)| panic!("{c}: {e}"));
    let count = |v: Verdict| diffs.iter().filter(|d| d.verdict == v).count();
    let both: Vec<(&String, &Vec<u8>, &Vec<u8>)> =
        old.iter().filter_map(|(k, a)| new.get(k).map(|b| (k, a, b))).collect();
    let identical = both.iter().filter(|(_, a, b)| a == b).count();
    let classes = diffs.len();
    let bytes: usize = old.values().chain(new.values()).map(|v| v.len()).sum();

    // 1. The whole set, as `jhot diff` does it (identical bytes skip parsing): on one thread, and
    //    on every core.
    let t_sets = time(min, || {
        let d = diff_sets_on(&old, &new, &vm, 1).expect("diff");
        std::hint::black_box(d);
    });
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let t_all = time(min, || {
        let d = diff_sets(&old, &new, &vm).expect("diff");
        std::hint::black_box(d);
    });
    // 2. Every pair present in both versions through diff_class (identical bytes are recognised
    //    by comparing them, then only the header is read for the name).
    let copies: Vec<(Vec<u8>, Vec<u8>)> = both.iter().map(|(_, a, b)| ((*a).clone(), (*b).clone())).collect();
    let t_pairs = time(min, || {
        for (a, b) in &copies {
            std::hint::black_box(diff_class(a, b, &vm).expect("diff"));
        }
    });
    // 2b. Only the pairs whose bytes differ (all the work: both parsed, every method compared).
    let differing: Vec<&(Vec<u8>, Vec<u8>)> = copies.iter().filter(|(a, b)| a != b).collect();
    let t_diff = time(min, || {
        for (a, b) in &differing {
            std::hint::black_box(diff_class(a, b, &vm).expect("diff"));
        }
    });
    // 3. For scale: cafebabe's full parse (jhot_classfile::read) of every class of both jars.
    let t_read = time(min, || {
        for b in old.values().chain(new.values()) {
            std::hint::black_box(jhot_classfile::read(b).ok());
        }
    });

    println!("old jar:                 {} ({} classes)", args[1], old.len());
    println!("new jar:                 {} ({} classes)", args[2], new.len());
    println!("rules:                   JDK {jdk}");
    println!(
        "classes compared:        {classes} ({} in both, {identical} byte-identical, {} differ; {} new, {} removed)",
        both.len(),
        both.len() - identical,
        count(Verdict::New),
        count(Verdict::Removed)
    );
    println!(
        "verdicts:                unchanged {}, body-only {}, structural {}, new {}, removed {}",
        count(Verdict::Unchanged),
        count(Verdict::BodyOnly),
        count(Verdict::Structural),
        count(Verdict::New),
        count(Verdict::Removed)
    );
    println!("bytes (both jars):       {:.1} MB", bytes as f64 / 1e6);
    println!("diff_sets, 1 thread:      {:8.2} ms  {:>9.0} classes/s/core", t_sets * 1e3, classes as f64 / t_sets);
    println!(
        "diff_sets, {cores} threads:    {:8.2} ms  {:>9.0} classes/s      (all cores)",
        t_all * 1e3,
        classes as f64 / t_all
    );
    println!(
        "diff_class, every pair:  {:8.2} ms  {:>9.0} classes/s/core  (pairs in both jars)",
        t_pairs * 1e3,
        both.len() as f64 / t_pairs
    );
    println!(
        "diff_class, differing:   {:8.2} ms  {:>9.0} classes/s/core  ({} pairs whose bytes differ)",
        t_diff * 1e3,
        differing.len() as f64 / t_diff.max(1e-12),
        differing.len()
    );
    println!(
        "cafebabe read(), both:   {:8.2} ms  {:>9.0} class files/s/core (full validation, for scale)",
        t_read * 1e3,
        (old.len() + new.len()) as f64 / t_read
    );
}
