//! The disassembler and the pre-flight on hostile input, on mutated real classes, and against
//! JDK 17's own javap.

use super::signature::{SigParser, fmt_type_params, join_types, ty_string};
use super::text::{check_name, decode_modified_utf8, escape_utf8, java_double, java_float};
use super::*;
use crate::validate::cafebabe_utf8;
use std::path::{Path, PathBuf};
use std::process::Command;

// ----- a counting allocator: the largest single allocation on the current thread ---------

mod alloc {
    use std::alloc::{GlobalAlloc, Layout, System};
    use std::cell::Cell;

    /// The system allocator, recording per thread the largest request since [`reset`]. (It
    /// serves this unit-test binary only; the per-thread record keeps tests running in
    /// parallel out of each other's figures.)
    pub struct Counting;

    thread_local! {
        static LARGEST: Cell<usize> = const { Cell::new(0) };
    }

    fn note(size: usize) {
        let _ = LARGEST.try_with(|l| l.set(l.get().max(size)));
    }

    // SAFETY: every method forwards to the system allocator with the caller's arguments
    // unchanged; noting a size allocates nothing.
    unsafe impl GlobalAlloc for Counting {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            note(layout.size());
            // SAFETY: the caller's contract for `alloc` is the system allocator's.
            unsafe { System.alloc(layout) }
        }
        unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
            note(layout.size());
            // SAFETY: as for `alloc`.
            unsafe { System.alloc_zeroed(layout) }
        }
        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            note(new_size);
            // SAFETY: `ptr` came from this allocator, which is the system allocator.
            unsafe { System.realloc(ptr, layout, new_size) }
        }
        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            // SAFETY: `ptr` came from this allocator, which is the system allocator.
            unsafe { System.dealloc(ptr, layout) }
        }
    }

    #[global_allocator]
    static COUNTING: Counting = Counting;

    pub fn reset() {
        LARGEST.with(|l| l.set(0));
    }

    pub fn largest() -> usize {
        LARGEST.with(Cell::get)
    }
}

// ----- a small class-file assembler for hostile inputs -----------------------------------

/// Builds `class T extends java/lang/Object` with one method `m()V` whose Code is `code`,
/// plus the given extra constant-pool entries and class attributes.
struct Asm {
    cp: Vec<Vec<u8>>,
    class_attrs: Vec<(u16, Vec<u8>)>,
    code: Vec<u8>,
    code_len_override: Option<u32>,
    code_attr_len_override: Option<u32>,
}

impl Asm {
    fn new() -> Self {
        let mut a = Asm {
            cp: Vec::new(),
            class_attrs: Vec::new(),
            code: vec![0xb1],
            code_len_override: None,
            code_attr_len_override: None,
        };
        a.utf8("T"); // 1
        a.entry(vec![7, 0, 1]); // 2 Class T
        a.utf8("java/lang/Object"); // 3
        a.entry(vec![7, 0, 3]); // 4 Class Object
        a.utf8("m"); // 5
        a.utf8("()V"); // 6
        a.utf8("Code"); // 7
        a
    }

    fn entry(&mut self, e: Vec<u8>) -> u16 {
        self.cp.push(e);
        self.cp.len() as u16
    }

    fn utf8(&mut self, s: &str) -> u16 {
        self.utf8_bytes(s.as_bytes())
    }

    fn utf8_bytes(&mut self, b: &[u8]) -> u16 {
        let mut e = vec![1];
        e.extend((b.len() as u16).to_be_bytes());
        e.extend(b);
        self.entry(e)
    }

    fn build(&self) -> Vec<u8> {
        let mut b = vec![0xCA, 0xFE, 0xBA, 0xBE, 0, 0, 0, 61];
        b.extend(((self.cp.len() + 1) as u16).to_be_bytes());
        for e in &self.cp {
            b.extend(e);
        }
        b.extend([0x00, 0x21, 0, 2, 0, 4, 0, 0, 0, 0]); // flags, this, super, no interfaces, no fields
        b.extend([0, 1, 0, 0x09, 0, 5, 0, 6, 0, 1]); // one method: static m()V, one attribute
        let mut code = vec![0, 4, 0, 4];
        code.extend(self.code_len_override.unwrap_or(self.code.len() as u32).to_be_bytes());
        code.extend(&self.code);
        code.extend([0, 0, 0, 0]); // no exception table, no attributes
        b.extend(7u16.to_be_bytes());
        b.extend(self.code_attr_len_override.unwrap_or(code.len() as u32).to_be_bytes());
        b.extend(code);
        b.extend((self.class_attrs.len() as u16).to_be_bytes());
        for (name, body) in &self.class_attrs {
            b.extend(name.to_be_bytes());
            b.extend((body.len() as u32).to_be_bytes());
            b.extend(body);
        }
        b
    }
}

/// Runs `f` and returns its result and the largest single allocation it made.
fn measured<T>(f: impl FnOnce() -> T) -> (T, usize) {
    alloc::reset();
    let r = f();
    (r, alloc::largest())
}

/// Everything jhot does with a class file must refuse `bytes` without panicking and without
/// any allocation bigger than 1 MiB.
fn refused(what: &str, bytes: &[u8]) {
    let (r, largest) =
        measured(|| (preflight(bytes).is_err(), disassemble(bytes, &JavapOptions { constant_pool: true }).is_err()));
    assert_eq!(r, (true, true), "{what}: must be refused");
    assert!(largest < 1 << 20, "{what}: allocated {largest} bytes at once");
}

#[test]
fn the_assembler_makes_a_valid_class() {
    let a = Asm::new();
    let text = disassemble(&a.build(), &JavapOptions::default()).expect("valid");
    assert!(text.contains("public class T {"), "{text}");
    assert!(text.contains("0: return"), "{text}");
}

#[test]
fn huge_switches_are_refused_without_reserving_their_size() {
    // tableswitch 0..0x7ffffffe: cafebabe 0.9 would reserve 8 GiB for its jump table.
    let mut a = Asm::new();
    a.code = vec![0x03, 0xaa, 0, 0, 0, 0, 0, 16, 0, 0, 0, 0, 0x7f, 0xff, 0xff, 0xfe, 0xb1];
    refused("tableswitch of 2^31 entries", &a.build());
    // low = i32::MIN, high = i32::MAX: `high - low + 1` overflows in cafebabe.
    a.code = vec![0x03, 0xaa, 0, 0, 0, 0, 0, 16, 0x80, 0, 0, 0, 0x7f, 0xff, 0xff, 0xff, 0xb1];
    refused("tableswitch over all of i32", &a.build());
    a.code = vec![0x03, 0xab, 0, 0, 0, 0, 0, 12, 0x7f, 0xff, 0xff, 0xff, 0xb1];
    refused("lookupswitch of 2^31 pairs", &a.build());
    a.code = vec![0x03, 0xab, 0, 0, 0, 0, 0, 12, 0xff, 0xff, 0xff, 0xff, 0xb1];
    refused("lookupswitch of -1 pairs", &a.build());
}

#[test]
fn length_fields_of_2_pow_31_allocate_nothing_of_that_size() {
    let mut a = Asm::new();
    a.code_len_override = Some(0x8000_0000);
    refused("code_length 2^31", &a.build());
    let mut a = Asm::new();
    a.code_attr_len_override = Some(0x8000_0000);
    refused("attribute_length 2^31", &a.build());
    let mut a = Asm::new();
    let name = a.utf8("Whatever");
    a.class_attrs.push((name, vec![]));
    let mut bytes = a.build();
    let n = bytes.len();
    bytes[n - 4..].copy_from_slice(&0xFFFF_FFFFu32.to_be_bytes());
    refused("unknown attribute of 4 GiB", &bytes);
    // A constant pool of 65535 entries in a few bytes.
    let mut bytes = Asm::new().build();
    bytes[8..10].copy_from_slice(&0xFFFFu16.to_be_bytes());
    refused("constant_pool_count 65535", &bytes);
}

#[test]
fn branches_out_of_range_are_refused() {
    let mut a = Asm::new();
    a.code = vec![0xc8, 0x7f, 0xff, 0xff, 0xff, 0xb1]; // goto_w i32::MAX (overflows in cafebabe)
    refused("goto_w +2^31-1", &a.build());
    a.code = vec![0xa7, 0x80, 0x00, 0xb1]; // goto -32768
    refused("goto before the code", &a.build());
    a.code = vec![0xa7, 0x00, 0x03]; // goto past the end
    refused("goto past the end", &a.build());
}

#[test]
fn deep_nesting_is_refused_without_recursing() {
    // An annotation value nested 100,000 deep: cafebabe recurses once per level.
    let mut a = Asm::new();
    let rva = a.utf8("RuntimeVisibleAnnotations");
    let ty = a.utf8("LA;");
    let el = a.utf8("v");
    let mut body = vec![0, 1];
    body.extend(ty.to_be_bytes());
    body.extend([0, 1]);
    body.extend(el.to_be_bytes());
    for _ in 0..100_000 {
        body.extend([b'[', 0, 1]);
    }
    body.extend([b'Z', 0, 1]);
    a.class_attrs.push((rva, body));
    refused("annotation values nested 100,000 deep", &a.build());

    // Code attributes nested in Code attributes.
    let mut a = Asm::new();
    let mut attr = Vec::new();
    for _ in 0..1000 {
        let mut code = vec![0, 1, 0, 1, 0, 0, 0, 1, 0xb1, 0, 0, 0, 1];
        code.extend(7u16.to_be_bytes());
        code.extend((attr.len() as u32).to_be_bytes());
        code.extend(&attr);
        attr = code;
    }
    a.class_attrs.push((7, attr));
    refused("Code attributes nested 1000 deep", &a.build());
}

#[test]
fn enclosing_method_with_a_malformed_descriptor_is_refused() {
    // cafebabe 0.9 panics on this one ("Attempting to get utf-8 data from non-utf8 …").
    let mut a = Asm::new();
    let name = a.utf8("x");
    let desc = a.utf8_bytes(&[0xff, 0xfe]);
    let nat = a.entry([vec![12], name.to_be_bytes().to_vec(), desc.to_be_bytes().to_vec()].concat());
    let em = a.utf8("EnclosingMethod");
    a.class_attrs.push((em, [4u16.to_be_bytes(), nat.to_be_bytes()].concat()));
    refused("EnclosingMethod with a non-UTF-8 descriptor", &a.build());
}

#[test]
fn output_is_capped() {
    // 13,000 instructions that each print a 60,000-character string: 780 MB uncapped.
    let mut a = Asm::new();
    let s = a.utf8(&"x".repeat(60_000));
    let string = a.entry([vec![8], s.to_be_bytes().to_vec()].concat());
    a.code = Vec::new();
    for _ in 0..13_000 {
        a.code.extend([0x13]);
        a.code.extend(string.to_be_bytes());
        a.code.push(0x57);
    }
    a.code.push(0xb1);
    let text = disassemble(&a.build(), &JavapOptions::default()).expect("valid");
    assert!(text.len() <= MAX_OUTPUT + 100, "{} bytes", text.len());
    assert!(text.ends_with(&format!("... (output truncated at {MAX_OUTPUT} bytes)\n")));
}

#[test]
fn every_truncation_of_a_real_class_is_an_error() {
    for seed in seeds().iter().take(4) {
        let b = std::fs::read(seed).expect("seed");
        for len in 0..b.len() {
            assert!(preflight(&b[..len]).is_err(), "{}: truncated at {len}", seed.display());
            assert!(disassemble(&b[..len], &JavapOptions::default()).is_err());
        }
    }
}

// ----- deterministic mutation testing over the fuzz seeds ---------------------------------

/// The fuzzers' seed corpus: real class files from javac 8, 17 and 25.
fn seeds() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fuzz/fixtures/seeds");
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "class"))
        .collect();
    v.sort();
    assert!(v.len() >= 20, "expected the seed corpus in {}", dir.display());
    v
}

struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// One random change, of the kinds that find bugs in binary parsers: bit flips, interesting
/// values over 1, 2 or 4 bytes, truncation, insertion, deletion, duplicated ranges.
fn mutate(rng: &mut XorShift, b: &mut Vec<u8>) {
    const INTERESTING: [u32; 10] = [0, 1, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0x7fff_ffff, 0x8000_0000];
    if b.is_empty() {
        b.push(0);
    }
    let at = rng.below(b.len());
    match rng.below(8) {
        0 => b[at] ^= 1 << rng.below(8),
        1 => b[at] = INTERESTING[rng.below(5)] as u8,
        2 => {
            let v = (INTERESTING[rng.below(INTERESTING.len())] as u16).to_be_bytes();
            for (k, x) in v.iter().enumerate() {
                if let Some(y) = b.get_mut(at + k) {
                    *y = *x;
                }
            }
        }
        3 => {
            let v = INTERESTING[rng.below(INTERESTING.len())].to_be_bytes();
            for (k, x) in v.iter().enumerate() {
                if let Some(y) = b.get_mut(at + k) {
                    *y = *x;
                }
            }
        }
        4 => b.truncate(at),
        5 => b.insert(at, rng.next() as u8),
        6 => {
            b.remove(at);
        }
        _ => {
            let len = rng.below(64).min(b.len() - at);
            let chunk = b[at..at + len].to_vec();
            let to = rng.below(b.len());
            b.splice(to..to, chunk);
        }
    }
}

#[test]
fn mutated_real_classes_never_panic_or_allocate_much() {
    let seeds = seeds();
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    let (mut cases, mut ok) = (0, 0);
    for seed in &seeds {
        let original = std::fs::read(seed).expect("seed");
        for round in 0..120 {
            let mut b = original.clone();
            for _ in 0..=(round % 4) {
                mutate(&mut rng, &mut b);
            }
            let (r, largest) = measured(|| {
                let pre = preflight(&b).is_ok();
                let parsed = for_cafebabe(&b).map(|c| cafebabe::parse_class(&c).is_ok()).unwrap_or(false);
                let text = disassemble(&b, &JavapOptions { constant_pool: round % 2 == 0 });
                (pre, parsed, text.map(|t| t.len()))
            });
            cases += 1;
            if let (_, _, Ok(len)) = r {
                ok += 1;
                assert!(len <= MAX_OUTPUT + 100);
            }
            assert!(r.0 || r.2.is_err(), "disassembled what preflight refused");
            // Output and parse trees grow with the input; nothing else may.
            assert!(
                largest < 64 * b.len() + (1 << 18),
                "{}: {largest} bytes at once for {} bytes",
                seed.display(),
                b.len()
            );
        }
    }
    assert!(cases >= 3000, "{cases} cases");
    assert!(ok > 0, "no mutation was still a valid class: the mutator is too coarse");
}

// ----- the real javap, on classes compiled by the real javac --------------------------------

/// JDK 17's `bin/` (javac and javap): /usr/lib/jvm/java-17-openjdk-amd64, `$JAVA_HOME`, or the
/// PATH's javac if it is JDK 17.
fn jdk17_bin() -> PathBuf {
    let mut candidates = vec![PathBuf::from("/usr/lib/jvm/java-17-openjdk-amd64/bin")];
    if let Some(h) = std::env::var_os("JAVA_HOME") {
        candidates.push(PathBuf::from(h).join("bin"));
    }
    if let Ok(out) = Command::new("sh").args(["-c", "command -v javac"]).output()
        && let Ok(p) = std::fs::canonicalize(String::from_utf8_lossy(&out.stdout).trim())
        && let Some(dir) = p.parent()
    {
        candidates.push(dir.to_path_buf());
    }
    for bin in candidates {
        let Ok(v) = Command::new(bin.join("javac")).arg("-version").output() else { continue };
        let v = String::from_utf8_lossy(&v.stdout).to_string() + &String::from_utf8_lossy(&v.stderr);
        if v.contains("javac 17") && bin.join("javap").is_file() {
            return bin;
        }
    }
    panic!("these tests compare with JDK 17's javap: install openjdk-17-jdk-headless or set JAVA_HOME to a JDK 17");
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

fn class_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).expect("dir") {
        let p = e.expect("entry").path();
        if p.is_dir() {
            class_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "class") {
            out.push(p);
        }
    }
    out.sort();
}

/// Compiles the seed sources that JDK 17 can compile, several ways.
fn compiled_with_jdk17(bin: &Path, tmp: &Path) -> Vec<PathBuf> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fuzz/fixtures/seeds-src");
    let java = |dir: &str| -> Vec<PathBuf> {
        let mut v = Vec::new();
        let mut stack = vec![src.join(dir)];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).expect("sources") {
                let p = e.expect("entry").path();
                if p.is_dir() {
                    stack.push(p);
                } else if p.extension().is_some_and(|x| x == "java") {
                    v.push(p);
                }
            }
        }
        v
    };
    let mut classes = Vec::new();
    for (name, dir, flags) in [
        ("plain", "j17", &["--release", "17"][..]),
        ("debug", "j17", &["--release", "17", "-g", "-parameters"][..]),
        ("none", "j17", &["--release", "17", "-g:none"][..]),
        ("old", "j8", &["--release", "8", "-g"][..]),
        ("module", "mod", &["--release", "17"][..]),
    ] {
        let out = tmp.join(name);
        run(Command::new(bin.join("javac"))
            .args(["-nowarn", "-Xlint:none", "-d"])
            .arg(&out)
            .args(flags)
            .args(java(dir)));
        class_files(&out, &mut classes);
    }
    classes
}

/// Lines up to the class's closing `}` (what `javap -c -p -l` prints), trailing spaces trimmed.
fn body(text: &str) -> Vec<String> {
    let lines: Vec<String> = text.lines().map(|l| l.trim_end().to_owned()).collect();
    let end = lines.iter().rposition(|l| l == "}").map_or(lines.len(), |i| i + 1);
    lines[..end].to_vec()
}

/// `javap -v`'s sections that [`disassemble`] prints too: the header lines and the constant
/// pool between the class line and `{`, and the class attributes after `}` it knows.
fn verbose_sections(text: &str, from_javap: bool) -> Vec<String> {
    const KEEP: [&str; 9] = [
        "NestHost:",
        "NestMembers:",
        "PermittedSubclasses:",
        "Record:",
        "InnerClasses:",
        "BootstrapMethods:",
        "EnclosingMethod:",
        "ModulePackages:",
        "ModuleMainClass:",
    ];
    let mut out = Vec::new();
    let (mut state, mut keep) = (0, false);
    for l in text.lines().map(str::trim_end) {
        match state {
            0 if l.starts_with("  minor version:") => {
                state = 1;
                out.push(l.to_owned());
            }
            0 => {}
            1 if l == "{" => state = 2,
            1 => out.push(l.to_owned()),
            2 if l == "}" => state = 3,
            2 => {}
            _ => {
                if !l.is_empty() && !l.starts_with(' ') {
                    keep = KEEP.iter().any(|k| l.starts_with(k));
                }
                if keep {
                    out.push(l.to_owned());
                }
            }
        }
    }
    let _ = from_javap;
    out
}

fn first_difference(what: &str, theirs: &[String], mine: &[String]) -> Option<String> {
    let i = theirs.iter().zip(mine).position(|(a, b)| a != b).unwrap_or(theirs.len().min(mine.len()));
    if i == theirs.len() && i == mine.len() {
        return None;
    }
    let show = |v: &[String]| v.iter().skip(i.saturating_sub(3)).take(7).cloned().collect::<Vec<_>>().join("\n");
    Some(format!("{what}: first difference at line {}\n--- javap:\n{}\n--- jhot:\n{}", i + 1, show(theirs), show(mine)))
}

#[test]
fn matches_jdk17_javap_line_for_line() {
    let bin = jdk17_bin();
    let tmp = tempfile::tempdir().expect("tempdir");
    let classes = compiled_with_jdk17(&bin, tmp.path());
    assert!(classes.len() >= 40, "{} classes", classes.len());
    let mut failures = Vec::new();
    let mut instructions = 0;
    for chunk in classes.chunks(25) {
        let theirs = run(Command::new(bin.join("javap")).args(["-c", "-p", "-l"]).args(chunk));
        let theirs_v = run(Command::new(bin.join("javap")).args(["-v", "-p"]).args(chunk));
        // javap prints the classes one after the other; split at each class's closing `}`
        // and at the start of each `Classfile` block.
        let mut theirs_bodies = Vec::new();
        let mut cur = String::new();
        for l in theirs.lines() {
            cur.push_str(l);
            cur.push('\n');
            if l == "}" {
                theirs_bodies.push(std::mem::take(&mut cur));
            }
        }
        let theirs_v: Vec<&str> = theirs_v.split("Classfile ").skip(1).collect();
        assert_eq!(theirs_bodies.len(), chunk.len());
        assert_eq!(theirs_v.len(), chunk.len());
        for (k, class) in chunk.iter().enumerate() {
            let bytes = std::fs::read(class).expect("class");
            let mine = disassemble(&bytes, &JavapOptions::default()).expect("disassembles");
            let (t, m) = (body(&theirs_bodies[k]), body(&mine));
            instructions += t
                .iter()
                .filter(|l| {
                    l.len() > 10
                        && l.as_bytes()[..6].iter().all(|c| *c == b' ' || c.is_ascii_digit())
                        && l.contains(": ")
                })
                .count();
            failures.extend(first_difference(&format!("{} (-c -p -l)", class.display()), &t, &m));
            let mine_v = disassemble(&bytes, &JavapOptions { constant_pool: true }).expect("disassembles");
            let (t, m) = (verbose_sections(theirs_v[k], true), verbose_sections(&mine_v, false));
            assert!(t.iter().any(|l| l == "Constant pool:"), "{}", class.display());
            failures.extend(first_difference(&format!("{} (-v sections)", class.display()), &t, &m));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} classes differ:\n\n{}",
        failures.len(),
        classes.len(),
        failures.join("\n\n")
    );
    assert!(instructions > 1000, "only {instructions} instruction lines compared");
}

#[test]
fn java25_pattern_switch_with_dynamic_constant_arguments() {
    // cafebabe alone refuses this class (its typeSwitch takes CONSTANT_Dynamic arguments).
    let seed = seeds().into_iter().find(|p| p.ends_with("j25-seeds25.Modern.class")).expect("seed");
    let b = std::fs::read(&seed).expect("seed");
    assert!(cafebabe::parse_class(&b).is_err(), "cafebabe learnt CONSTANT_Dynamic arguments: drop the workaround");
    assert!(matches!(for_cafebabe(&b), Ok(Cow::Owned(_))));
    let text = disassemble(&b, &JavapOptions::default()).expect("disassembles");
    assert!(text.contains("REF_invokeStatic java/lang/runtime/SwitchBootstraps.typeSwitch:"), "{text}");
    assert!(text.contains(":invoke:Ljava/lang/Enum$EnumDesc;"), "{text}");
    assert!(text.contains("invokedynamic"), "{text}");
}

// ----- the pieces ---------------------------------------------------------------------------

#[test]
fn numbers_print_as_java_prints_them() {
    let cases: [(f64, &str); 12] = [
        (2.5, "2.5"),
        (100.0, "100.0"),
        (0.001, "0.001"),
        (1e7, "1.0E7"),
        (1234567.0, "1234567.0"),
        (1e-4, "1.0E-4"),
        (1e300, "1.0E300"),
        (-0.0, "-0.0"),
        (f64::MIN_POSITIVE, "2.2250738585072014E-308"),
        (5e-324, "4.9E-324"),
        (f64::NAN, "NaN"),
        (f64::NEG_INFINITY, "-Infinity"),
    ];
    for (v, s) in cases {
        assert_eq!(java_double(v), s, "{v:e}");
    }
    assert_eq!(java_float(3.4028235e38), "3.4028235E38");
    assert_eq!(java_float(1.4e-45), "1.4E-45");
    assert_eq!(java_float(1.5), "1.5");
    assert_eq!(java_float(329.0 / 256.0), "1.2851562"); // 1.28515625, a tie: the even digit
    assert_eq!(java_float(0.1), "0.1");
}

#[test]
fn names_are_quoted_as_javap_quotes_them() {
    assert_eq!(check_name("java/lang/Object"), "java/lang/Object");
    assert_eq!(check_name("lambda$run$0"), "lambda$run$0");
    assert_eq!(check_name("<init>"), "\"<init>\"");
    assert_eq!(check_name("[Ljava/lang/String;"), "\"[Ljava/lang/String;\"");
    assert_eq!(check_name("a//b"), "\"a//b\"");
    assert_eq!(check_name(""), "\"\"");
    assert_eq!(escape_utf8("a\"b\n\u{1}"), "a\\\"b\\n\\u0001");
}

#[test]
fn signatures_print_as_java_types() {
    let m = SigParser::method_sig(
        "<T:Ljava/lang/Object;U::Ljava/lang/Comparable<-TU;>;>(Ljava/util/Map<+TT;[TU;>;[[I*)V^Ljava/io/IOException;",
    );
    assert!(m.is_none(), "`*` is not a type");
    let m = SigParser::method_sig(
        "<T:Ljava/lang/Object;U::Ljava/lang/Comparable<-TU;>;>(Ljava/util/Map<+TT;[TU;>;[[I)V^TT;",
    )
    .expect("parses");
    let mut s = String::new();
    fmt_type_params(&m.params, &mut s);
    assert_eq!(s, "<T, U extends java.lang.Comparable<? super U>>");
    assert_eq!(join_types(&m.args, ", "), "java.util.Map<? extends T, U[]>, int[][]");
    assert_eq!(join_types(&m.throws, ", "), "T");
    let f = SigParser::field_sig("Lp/Outer<TT;>.Inner<*>;").expect("parses");
    assert_eq!(ty_string(&f), "p.Outer<T>.Inner<?>");
    // Nesting beyond the limit is refused, not followed.
    let deep = format!("{}I{}", "Ljava/util/List<".repeat(1000), ">;".repeat(1000));
    assert!(SigParser::field_sig(&deep).is_none());
}

#[test]
fn modified_utf8_is_read_as_cafebabe_reads_it() {
    assert_eq!(cafebabe_utf8(b"abc").as_deref(), Some("abc"));
    assert_eq!(cafebabe_utf8(&[0xc0, 0x80]).as_deref(), Some("\0"));
    // A surrogate pair in CESU-8 form is one character.
    assert_eq!(cafebabe_utf8(&[0xed, 0xa0, 0xbd, 0xed, 0xb8, 0x80]).as_deref(), Some("\u{1f600}"));
    // An unpaired surrogate is not UTF-8 for cafebabe; javap shows `?`.
    assert_eq!(cafebabe_utf8(&[0x61, 0xed, 0xa0, 0xbd]), None);
    assert_eq!(decode_modified_utf8(&[0x61, 0xed, 0xa0, 0xbd]), "a?");
    assert_eq!(cafebabe_utf8(&[0x61, 0x00]), Some(Cow::Borrowed("a\0")));
}
