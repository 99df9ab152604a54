//! The redefinition corpus: jhot's predicted verdict must equal the JVM's, for every change pair
//! in `tests/corpus/`, on JDK 11, 17, 21 and 25.
//!
//! Each case is `tests/corpus/<NN-name>/` with `before/` and `after/` Java sources of one package
//! `c<NN>` and a `case.txt` (see `tests/corpus/README.md`). The test
//!
//! 1. compiles every case's `before/` and `after/` (separately; one javac run per release and
//!    option set, cached under `<target>/e2e-fixtures/corpus/<hash of tests/corpus>/`);
//! 2. per JDK (the four in parallel), starts ONE JVM with the `before` classes of every case that
//!    runs on it and `tests/corpus/_driver`, which loads and initializes all of them;
//! 3. per case: asks `jhot diff <before> <after> --jdk <N> --json` for the prediction (accepted
//!    iff no class is `structural`) and `jhot redefine <pid> <after> --force --json` for the
//!    truth (exit 0 = accepted, exit 7 = refused with HotSpot's "attempted to ..." text). Cases
//!    live in their own packages, so one refused or accepted redefinition does not touch another
//!    case's classes;
//! 4. requires prediction == JVM (and, when refused, the JVM's text among the `jvm_error`s of the
//!    structural classes' reasons) and JVM == the case's `expect<N>` line, for every case on every
//!    JDK; all mismatches are reported together in one table.
//!
//! `JHOT_CORPUS_RECORD=1` writes the JVM's outcome into `case.txt` where an `expect<N>` line is
//! missing (for new cases); it never rewrites an existing line.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::harness::{self, App, Outcome, jhot};

/// The JDKs every case runs on (a `release=17` case only on 17+).
const FEATURES: [u32; 4] = [11, 17, 21, 25];
/// Issue 3 asks for at least this many change pairs.
const MIN_CASES: usize = 40;
/// What HotSpot's message says before the reason (JavaExceptions.c).
const FAILED: &str = "class redefinition failed: ";
/// Exit code of `jhot redefine` when the JVM refused the redefinition.
const EXIT_REFUSED: i32 = 7;
/// Every key `case.txt` may have.
const KEYS: &[&str] = &[
    "release",
    "release_after",
    "about",
    "javac_before",
    "javac_after",
    "note",
    "expect11",
    "expect17",
    "expect21",
    "expect25",
];

/// The javac options when `case.txt` names none.
const DEFAULT_JAVAC: &str = "-g";

// ---------------------------------------------------------------------------------------------
// The cases
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug)]
struct Case {
    /// The directory name, e.g. `07-body-string-concat-indy`.
    name: String,
    /// `c07`.
    package: String,
    /// `javac --release` of `before/` (and of `after/` unless `release_after`).
    release: u32,
    release_after: u32,
    javac_before: Vec<String>,
    javac_after: Vec<String>,
    /// Per JDK: the accepted outcomes, `ok` or HotSpot's "attempted to ..." text.
    expect: BTreeMap<u32, Vec<String>>,
}

impl Case {
    fn runs_on(&self, feature: u32) -> bool {
        self.release.max(self.release_after) <= feature
    }
}

fn corpus_dir() -> PathBuf {
    harness::repo().join("tests/corpus")
}

/// Every case, sorted by name. Panics on a malformed case.
fn cases() -> Vec<Case> {
    let root = corpus_dir();
    let mut out = Vec::new();
    let mut entries: Vec<PathBuf> = fs::read_dir(&root)
        .unwrap_or_else(|e| panic!("read {}: {e}", root.display()))
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.is_dir())
        .collect();
    entries.sort();
    for dir in entries {
        let name = dir.file_name().unwrap().to_string_lossy().to_string();
        if name.starts_with('_') || name.starts_with('.') {
            continue;
        }
        out.push(parse_case(&dir, &name));
    }
    out
}

fn parse_case(dir: &Path, name: &str) -> Case {
    let bad = |m: String| -> ! { panic!("tests/corpus/{name}: {m}") };
    let (nn, rest) = name.split_once('-').unwrap_or_else(|| bad("the name is not <NN>-<short-name>".into()));
    if nn.len() != 2 || !nn.bytes().all(|b| b.is_ascii_digit()) || rest.is_empty() {
        bad("the name is not <NN>-<short-name>".into());
    }
    let text = fs::read_to_string(dir.join("case.txt")).unwrap_or_else(|e| bad(format!("case.txt: {e}")));
    let mut kv = BTreeMap::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (k, v) =
            line.split_once('=').unwrap_or_else(|| bad(format!("case.txt:{}: not key=value: {line:?}", i + 1)));
        let (k, v) = (k.trim(), v.trim());
        if !KEYS.contains(&k) {
            bad(format!("case.txt:{}: unknown key {k:?} (keys: {KEYS:?})", i + 1));
        }
        if kv.insert(k.to_string(), v.to_string()).is_some() {
            bad(format!("case.txt: {k} twice"));
        }
    }
    let release = |key: &str| -> Option<u32> {
        kv.get(key).map(|v| match v.parse() {
            Ok(r @ (8 | 11 | 17)) => r,
            _ => bad(format!("case.txt: {key}={v}: expected 8, 11 or 17")),
        })
    };
    let rel = release("release").unwrap_or_else(|| bad("case.txt has no release=".into()));
    let rel_after = release("release_after").unwrap_or(rel);
    if kv.get("about").is_none_or(|a| a.is_empty()) {
        bad("case.txt has no about=".into());
    }
    let opts = |key: &str| -> Vec<String> {
        kv.get(key).map(String::as_str).unwrap_or(DEFAULT_JAVAC).split_whitespace().map(String::from).collect()
    };
    let mut case = Case {
        name: name.to_string(),
        package: format!("c{nn}"),
        release: rel,
        release_after: rel_after,
        javac_before: opts("javac_before"),
        javac_after: opts("javac_after"),
        expect: BTreeMap::new(),
    };
    for f in FEATURES {
        if let Some(v) = kv.get(&format!("expect{f}")) {
            if !case.runs_on(f) {
                bad(format!(
                    "case.txt: expect{f}= but a --release {} case does not run on JDK {f}",
                    rel.max(rel_after)
                ));
            }
            let alts: Vec<String> = v.split('|').map(|s| s.trim().to_string()).collect();
            for a in &alts {
                if a != "ok" && !a.starts_with("attempted to ") {
                    bad(format!("case.txt: expect{f}: {a:?} is neither ok nor an \"attempted to ...\" text"));
                }
            }
            case.expect.insert(f, alts);
        }
    }
    for side in ["before", "after"] {
        let sources = harness::java_sources(&dir.join(side));
        if sources.is_empty() {
            bad(format!("{side}/ has no .java file"));
        }
        for s in sources {
            let rel = s.strip_prefix(dir.join(side)).unwrap();
            if rel.parent() != Some(Path::new(&case.package)) {
                bad(format!(
                    "{side}/{}: every source must be in {side}/{}/ (package {})",
                    rel.display(),
                    case.package,
                    case.package
                ));
            }
        }
    }
    case
}

// ---------------------------------------------------------------------------------------------
// Compiling
// ---------------------------------------------------------------------------------------------

/// The compiled corpus: `<root>/<case>/{before,after}/c<NN>/*.class` and `<root>/_driver/`.
struct Built {
    root: PathBuf,
}

impl Built {
    fn side(&self, case: &Case, side: &str) -> PathBuf {
        self.root.join(&case.name).join(side)
    }
    fn driver(&self) -> PathBuf {
        self.root.join("_driver")
    }
}

/// Compiles the corpus once per content of `tests/corpus/` (and javac): all sources of one side,
/// release and option set in one javac run (their packages differ), the groups in parallel.
fn build(cases: &[Case]) -> Built {
    let src = corpus_dir();
    let hash = harness::tree_hash(&src, &[b"corpus v1"]);
    let final_path = harness::target_dir().join("e2e-fixtures/corpus").join(hash);
    let root = harness::build_fixture_once(&final_path, "corpus", |tmp| {
        let out = tmp.join("corpus");
        type Key = (&'static str, u32, Vec<String>);
        let mut groups: BTreeMap<Key, Vec<&Case>> = BTreeMap::new();
        for c in cases {
            groups.entry(("before", c.release, c.javac_before.clone())).or_default().push(c);
            groups.entry(("after", c.release_after, c.javac_after.clone())).or_default().push(c);
        }
        let groups: Vec<(Key, Vec<&Case>)> = groups.into_iter().collect();
        thread::scope(|s| {
            let driver = s.spawn(|| {
                let sources = harness::java_sources(&src.join("_driver"));
                harness::javac_run(&sources, &out.join("_driver"), 11, &[DEFAULT_JAVAC.to_string()]);
            });
            let mut jobs = Vec::new();
            for (i, ((side, release, opts), members)) in groups.iter().enumerate() {
                let gdir = tmp.join(format!("group-{i}"));
                let out = &out;
                let src = &src;
                jobs.push(s.spawn(move || {
                    let mut sources = Vec::new();
                    for c in members {
                        sources.extend(harness::java_sources(&src.join(&c.name).join(side)));
                    }
                    harness::javac_run(&sources, &gdir, *release, opts);
                    for c in members {
                        let dst = out.join(&c.name).join(side);
                        fs::create_dir_all(&dst).unwrap_or_else(|e| panic!("create {}: {e}", dst.display()));
                        let from = gdir.join(&c.package);
                        fs::rename(&from, dst.join(&c.package))
                            .unwrap_or_else(|e| panic!("{}: javac wrote no {}: {e}", c.name, from.display()));
                    }
                    let left: Vec<_> = fs::read_dir(&gdir).unwrap().map(|e| e.unwrap().file_name()).collect();
                    assert!(left.is_empty(), "javac wrote classes outside the cases' packages: {left:?}");
                }));
            }
            driver.join().unwrap_or_else(|p| std::panic::resume_unwind(p));
            for j in jobs {
                j.join().unwrap_or_else(|p| std::panic::resume_unwind(p));
            }
        });
        out
    });
    Built { root }
}

/// The binary class names of the `.class` files under a classpath directory.
fn class_names(dir: &Path) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap_or_else(|e| panic!("read {}: {e}", d.display())) {
            let p = e.expect("dir entry").path();
            if p.is_dir() {
                stack.push(p);
            } else if let Some(rel) =
                p.strip_prefix(dir).ok().and_then(|r| r.to_str()).and_then(|r| r.strip_suffix(".class"))
            {
                out.insert(rel.replace('/', "."));
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Asking jhot and the JVM
// ---------------------------------------------------------------------------------------------

/// What `jhot diff` predicts.
#[derive(Clone, Debug)]
enum Predicted {
    /// No class is structural.
    Accepted,
    /// Some class is structural: `(class, jvm_error)` of every reason.
    Refused(Vec<(String, String)>),
    /// jhot diff failed or printed something unexpected.
    Failed(String),
}

impl Predicted {
    fn show(&self) -> String {
        match self {
            Predicted::Accepted => "ok".into(),
            Predicted::Refused(r) => {
                let set: BTreeSet<String> = r.iter().map(|(c, e)| format!("{e} ({c})")).collect();
                set.into_iter().collect::<Vec<_>>().join("; ")
            }
            Predicted::Failed(e) => format!("jhot diff failed: {e}"),
        }
    }
}

/// What the JVM did.
#[derive(Clone, Debug)]
enum Truth {
    Accepted {
        pending: BTreeSet<String>,
    },
    /// HotSpot's text after "class redefinition failed: ".
    Refused(String),
    Failed(String),
}

impl Truth {
    /// `ok`, the "attempted to ..." text, or the failure.
    fn show(&self) -> String {
        match self {
            Truth::Accepted { .. } => "ok".into(),
            Truth::Refused(t) => t.clone(),
            Truth::Failed(e) => format!("jhot redefine failed: {e}"),
        }
    }
}

fn one_line(o: &Outcome) -> String {
    let text = if o.stdout.trim().is_empty() { &o.stderr } else { &o.stdout };
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let cut: String = flat.chars().take(160).collect();
    format!("exit {}: {cut}", o.code)
}

fn predict(before: &Path, after: &Path, feature: u32) -> Predicted {
    let out =
        jhot(&["diff", before.to_str().unwrap(), after.to_str().unwrap(), "--jdk", &feature.to_string(), "--json"]);
    let Ok(v) = serde_json::from_str::<Value>(&out.stdout) else {
        return Predicted::Failed(one_line(&out));
    };
    if v["ok"] != true {
        return Predicted::Failed(one_line(&out));
    }
    let Some(classes) = v["classes"].as_array() else {
        return Predicted::Failed(format!("no \"classes\" array: {}", one_line(&out)));
    };
    let mut reasons = Vec::new();
    let mut structural = false;
    for c in classes {
        let name = c["name"].as_str().unwrap_or("?").to_string();
        match c["verdict"].as_str() {
            Some("structural") => {
                structural = true;
                for r in c["reasons"].as_array().into_iter().flatten() {
                    reasons.push((name.clone(), r["jvm_error"].as_str().unwrap_or("(no jvm_error)").to_string()));
                }
                if c["reasons"].as_array().is_none_or(|r| r.is_empty()) {
                    reasons.push((name, "(no reasons)".into()));
                }
            }
            Some("unchanged" | "body_only" | "new" | "removed") => {}
            other => return Predicted::Failed(format!("{name}: verdict {other:?}")),
        }
    }
    if structural { Predicted::Refused(reasons) } else { Predicted::Accepted }
}

fn redefine(pid: u32, after: &Path) -> Truth {
    let out = jhot(&["redefine", &pid.to_string(), after.to_str().unwrap(), "--force", "--json"]);
    let v: Option<Value> = serde_json::from_str(&out.stdout).ok();
    match (out.code, v) {
        (0, Some(v)) => {
            let pending = v["result"]["pending"]
                .as_array()
                .map(|a| a.iter().filter_map(|n| n.as_str().map(String::from)).collect())
                .unwrap_or_default();
            Truth::Accepted { pending }
        }
        (EXIT_REFUSED, Some(v)) => {
            let msg = v["error"]["message"].as_str().unwrap_or_default();
            match msg.find(FAILED) {
                Some(at) => Truth::Refused(msg[at + FAILED.len()..].lines().next().unwrap_or("").trim().to_string()),
                None => Truth::Failed(format!("refused without {FAILED:?}: {}", one_line(&out))),
            }
        }
        _ => Truth::Failed(one_line(&out)),
    }
}

/// One case on one JDK.
struct Row {
    case: String,
    predicted: Predicted,
    truth: Truth,
}

/// The rows of one JDK and how long its JVM took.
type JdkRun = (Vec<Row>, Duration);

/// Runs every case that runs on `feature` in one JVM.
fn run_jdk(feature: u32, cases: &[Case], built: &Built) -> JdkRun {
    let jdk = harness::jdk(feature);
    let mine: Vec<&Case> = cases.iter().filter(|c| c.runs_on(feature)).collect();
    let mut classpath = vec![built.driver()];
    classpath.extend(mine.iter().map(|c| built.side(c, "before")));
    let t0 = Instant::now();
    let app = App::start_main(&jdk, harness::LIGHT_JVM_ARGS, &classpath, "corpusdriver.Driver", &[], "READY");
    let loaded: usize = mine.iter().map(|c| class_names(&built.side(c, "before")).len()).sum();
    let ready = app.stdout_text();
    assert!(
        ready.contains(&format!("READY {loaded}")),
        "JDK {feature}: the driver did not load all {loaded} classes:\n{ready}"
    );
    let mut rows = Vec::new();
    for c in mine {
        let (before, after) = (built.side(c, "before"), built.side(c, "after"));
        let predicted = predict(&before, &after, feature);
        let mut truth = redefine(app.pid(), &after);
        // A class only in after/ is not loaded: the JVM is not asked about it, jhot keeps it
        // pending. Anything else pending means a before class was not loaded: no real answer.
        if let Truth::Accepted { pending } = &truth {
            let new: BTreeSet<String> = class_names(&after).difference(&class_names(&before)).cloned().collect();
            if *pending != new {
                truth = Truth::Failed(format!("pending {pending:?}, expected the new classes {new:?}"));
            }
        }
        rows.push(Row { case: c.name.clone(), predicted, truth });
    }
    drop(app);
    (rows, t0.elapsed())
}

// ---------------------------------------------------------------------------------------------
// The test
// ---------------------------------------------------------------------------------------------

/// Every case is well formed, there are enough of them, and each JDK that runs a case has an
/// expectation for it. Needs no JVM.
#[test]
fn corpus_is_well_formed() {
    let cases = cases();
    assert!(cases.len() >= MIN_CASES, "tests/corpus has {} cases; issue 3 asks for at least {MIN_CASES}", cases.len());
    let mut packages = BTreeSet::new();
    for c in &cases {
        assert!(packages.insert(c.package.clone()), "two cases use package {}", c.package);
        // The name says which side a case is on (README.md).
        let accepted_everywhere = c.expect.values().all(|alts| alts.iter().all(|a| a == "ok"));
        let named_accepted = c.name[3..].starts_with("body-") || c.name[3..].starts_with("unchanged-");
        assert_eq!(
            named_accepted, accepted_everywhere,
            "{}: a body-/unchanged- case must be accepted on every JDK, any other refused on one",
            c.name
        );
    }
    if std::env::var_os("JHOT_CORPUS_RECORD").is_none() {
        let missing: Vec<String> = cases
            .iter()
            .flat_map(|c| {
                FEATURES
                    .iter()
                    .filter(|f| c.runs_on(**f) && !c.expect.contains_key(f))
                    .map(move |f| format!("{} expect{f}", c.name))
            })
            .collect();
        assert!(
            missing.is_empty(),
            "case.txt lines missing (JHOT_CORPUS_RECORD=1 fills them from the JVM): {missing:?}"
        );
    }
}

/// jhot's prediction equals the JVM's verdict, and the JVM's verdict equals case.txt, for every
/// case on JDK 11, 17, 21 and 25.
#[test]
fn corpus_prediction_matches_jvm() {
    let t0 = Instant::now();
    // `JHOT_CORPUS_CASE=07` (or a longer prefix of a case's name) runs only the matching cases.
    let only = std::env::var("JHOT_CORPUS_CASE").ok().filter(|s| !s.is_empty());
    let cases: Vec<Case> =
        cases().into_iter().filter(|c| only.as_deref().is_none_or(|p| c.name.starts_with(p))).collect();
    assert!(!cases.is_empty(), "no corpus case matches JHOT_CORPUS_CASE={only:?}");
    let built = build(&cases);
    let compiled = t0.elapsed();

    let (cases_ref, built_ref) = (&cases, &built);
    let results: Vec<(u32, thread::Result<JdkRun>)> = thread::scope(|s| {
        let handles: Vec<_> =
            FEATURES.iter().map(|&f| (f, s.spawn(move || run_jdk(f, cases_ref, built_ref)))).collect();
        handles.into_iter().map(|(f, h)| (f, h.join())).collect()
    });

    let record = std::env::var_os("JHOT_CORPUS_RECORD").is_some();
    let by_name: BTreeMap<&str, &Case> = cases.iter().map(|c| (c.name.as_str(), c)).collect();
    let mut problems: Vec<[String; 5]> = Vec::new();
    let mut matrix: BTreeMap<String, BTreeMap<u32, String>> = BTreeMap::new();
    let mut timing = String::new();
    let mut to_record: BTreeMap<String, Vec<(u32, String)>> = BTreeMap::new();
    for (feature, result) in results {
        let (rows, took) = match result {
            Ok(r) => r,
            Err(p) => {
                let msg = p
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_else(|| "panic".into());
                problems.push(["(all)".into(), feature.to_string(), "-".into(), msg, "-".into()]);
                continue;
            }
        };
        let _ = write!(timing, " JDK {feature}: {} cases in {:.1}s;", rows.len(), took.as_secs_f64());
        for row in rows {
            let case = by_name[row.case.as_str()];
            let jvm = row.truth.show();
            matrix.entry(row.case.clone()).or_default().insert(feature, jvm.clone());
            let expected = case.expect.get(&feature);
            let mut wrong = Vec::new();
            match (&row.predicted, &row.truth) {
                (Predicted::Accepted, Truth::Accepted { .. }) => {}
                (Predicted::Refused(reasons), Truth::Refused(text)) => {
                    if !reasons.iter().any(|(_, e)| e == text) {
                        wrong.push("no reason of a structural class has the JVM's text");
                    }
                }
                (_, Truth::Failed(_)) => wrong.push("no JVM verdict"),
                _ => wrong.push("prediction != JVM"),
            }
            match expected {
                Some(alts) if matches!(row.truth, Truth::Failed(_)) || alts.contains(&jvm) => {}
                Some(_) => wrong.push("JVM != case.txt"),
                None if record && !matches!(row.truth, Truth::Failed(_)) => {
                    to_record.entry(row.case.clone()).or_default().push((feature, jvm.clone()));
                }
                None => wrong.push("no expect line in case.txt"),
            }
            if !wrong.is_empty() {
                problems.push([
                    row.case.clone(),
                    feature.to_string(),
                    row.predicted.show(),
                    jvm,
                    format!("{} [{}]", expected.map(|a| a.join(" | ")).unwrap_or_else(|| "-".into()), wrong.join(", ")),
                ]);
            }
        }
    }
    for (name, lines) in &to_record {
        let path = corpus_dir().join(name).join("case.txt");
        let mut text = fs::read_to_string(&path).expect("case.txt");
        for (f, jvm) in lines {
            let _ = writeln!(text, "expect{f}={jvm}");
        }
        fs::write(&path, text).expect("write case.txt");
    }

    println!("{}", outcome_table(&matrix));
    println!(
        "corpus: {} cases; compiled in {:.1}s;{timing} total {:.1}s",
        cases.len(),
        compiled.as_secs_f64(),
        t0.elapsed().as_secs_f64()
    );
    if !problems.is_empty() {
        panic!("{} mismatch(es) in the redefinition corpus:\n{}", problems.len(), problem_table(&problems));
    }
}

/// The JVM's outcome per case (rows) and JDK (columns).
fn outcome_table(matrix: &BTreeMap<String, BTreeMap<u32, String>>) -> String {
    let width = matrix.keys().map(String::len).max().unwrap_or(4);
    let mut s = format!("{:width$}  {}\n", "case", FEATURES.map(|f| format!("JDK {f}")).join(" | "));
    for (case, per) in matrix {
        let cells: Vec<String> = FEATURES
            .iter()
            .map(|f| per.get(f).map(|t| t.trim_start_matches("attempted to ").to_string()).unwrap_or("-".into()))
            .collect();
        let _ = writeln!(s, "{case:width$}  {}", cells.join(" | "));
    }
    s
}

fn problem_table(rows: &[[String; 5]]) -> String {
    let head = ["case", "JDK", "jhot predicted", "JVM said", "case.txt expects [problem]"];
    let mut w = head.map(str::len);
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            w[i] = w[i].max(c.chars().count());
        }
    }
    let line = |r: &[String]| -> String {
        let cells: Vec<String> = r.iter().enumerate().map(|(i, c)| format!("{c:w$}", w = w[i])).collect();
        format!("{}\n", cells.join(" | ").trim_end())
    };
    let mut s = line(&head.map(String::from));
    let _ = writeln!(s, "{}", w.iter().map(|n| "-".repeat(*n)).collect::<Vec<_>>().join("-+-"));
    for r in rows {
        s.push_str(&line(r));
    }
    s
}
