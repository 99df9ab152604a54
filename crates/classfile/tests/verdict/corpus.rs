//! The compiled-class corpus of the verdict tests: small Java sources, before and after one change
//! each, compiled by javac 17 with `--release 8/11/17`. Each case is a package `t<name>` with a
//! before and an after version of one compilation unit; all cases of one release are compiled
//! together, once per test binary.
//!
//! Shared by the integration test `tests/verdict` (almost every test) and the crate's unit tests
//! in `src/verdict/tests.rs` (the two that look at the crate's internals), which include this file
//! by path. It uses the verdict types its parent module imports.
//!
//! javac is found through `JHOT_JAVAC`, then the Debian JDK 17 path, then `javac` on PATH. Without
//! one the tests print a note and pass on a developer's machine, but fail when `CI` or
//! `JHOT_REQUIRE_JAVAC` is set (see [`javac_or_skip`]).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

use super::{ClassDiff, ReasonKind, Vm, diff_sets};

pub type Set = BTreeMap<String, Vec<u8>>;

/// javac: `JHOT_JAVAC`, then the Debian JDK 17 path, then `javac` on PATH.
pub fn javac() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("JHOT_JAVAC") {
        return Some(PathBuf::from(p));
    }
    let debian = PathBuf::from("/usr/lib/jvm/java-17-openjdk-amd64/bin/javac");
    if debian.exists() {
        return Some(debian);
    }
    Command::new("javac").arg("-version").output().ok().filter(|o| o.status.success()).map(|_| PathBuf::from("javac"))
}

/// Whether the environment variable is set to something other than "", "0" or "false".
fn env_set(var: &str) -> bool {
    std::env::var(var).is_ok_and(|v| !v.is_empty() && v != "0" && v != "false")
}

/// [`javac`], or `None` to skip the compiled-class tests, with a note, on a developer's machine
/// without a JDK. They are the verdict's main check: with `CI` set (as CI services set it) or
/// `JHOT_REQUIRE_JAVAC` set, a missing javac fails them instead of letting them pass unrun.
pub fn javac_or_skip() -> Option<PathBuf> {
    let found = javac();
    if found.is_none() {
        if let Some(var) = ["JHOT_REQUIRE_JAVAC", "CI"].into_iter().find(|v| env_set(v)) {
            panic!(
                "{var} is set but there is no javac (JHOT_JAVAC, /usr/lib/jvm/java-17-openjdk-amd64/bin/javac \
                 or javac on PATH): install openjdk-17-jdk-headless or set JHOT_JAVAC"
            );
        }
        eprintln!("no javac: skipping the compiled-class tests (JHOT_REQUIRE_JAVAC=1 makes this an error)");
    }
    found
}

/// (package, before source, after source). The package line is added here.
pub type Case = (&'static str, &'static str, &'static str);

pub fn compile(release: u32, extra: &[&str], sources: &[(&str, &str)]) -> Set {
    let javac = javac().expect("javac");
    let dir = tempfile::tempdir().expect("tempdir");
    let src = dir.path().join("src");
    let out = dir.path().join("out");
    let mut files = Vec::new();
    for (pkg, text) in sources {
        let d = src.join(pkg);
        std::fs::create_dir_all(&d).expect("mkdir");
        let f = d.join("A.java");
        std::fs::write(&f, format!("package {pkg};\n{text}")).expect("write");
        files.push(f);
    }
    let status = Command::new(&javac)
        .arg("--release")
        .arg(release.to_string())
        .args(extra)
        .arg("-nowarn")
        .arg("-d")
        .arg(&out)
        .args(&files)
        .output()
        .expect("run javac");
    assert!(status.status.success(), "javac failed: {}", String::from_utf8_lossy(&status.stderr));
    let mut set = Set::new();
    let mut stack = vec![out.clone()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("readdir") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "class") {
                let rel = p.strip_prefix(&out).expect("rel").with_extension("");
                let name = rel.to_string_lossy().replace('/', ".");
                set.insert(name, std::fs::read(&p).expect("read"));
            }
        }
    }
    set
}

pub struct Corpus {
    pub before: Set,
    pub after: Set,
}

pub fn corpus(release: u32) -> Option<&'static Corpus> {
    static C8: OnceLock<Option<Corpus>> = OnceLock::new();
    static C11: OnceLock<Option<Corpus>> = OnceLock::new();
    static C17: OnceLock<Option<Corpus>> = OnceLock::new();
    let (cell, cases): (&OnceLock<Option<Corpus>>, &[Case]) = match release {
        8 => (&C8, CASES_8),
        11 => (&C11, CASES_11),
        _ => (&C17, CASES_17),
    };
    cell.get_or_init(|| {
        javac_or_skip()?;
        let before: Vec<(&str, &str)> = cases.iter().map(|c| (c.0, c.1)).collect();
        let after: Vec<(&str, &str)> = cases.iter().map(|c| (c.0, c.2)).collect();
        Some(Corpus { before: compile(release, &["-g"], &before), after: compile(release, &["-g"], &after) })
    })
    .as_ref()
}

pub fn pick(set: &Set, pkg: &str) -> Set {
    let prefix = format!("{pkg}.");
    set.iter().filter(|(k, _)| k.starts_with(&prefix)).map(|(k, v)| (k.clone(), v.clone())).collect()
}

pub const fn vm(feature: u32) -> Vm {
    Vm { feature, allow_add_delete_methods: false }
}

/// The diffs of one case on one JVM; `None` without javac.
pub fn run(release: u32, pkg: &str, vm: Vm) -> Option<Vec<ClassDiff>> {
    let c = corpus(release)?;
    let d = diff_sets(&pick(&c.before, pkg), &pick(&c.after, pkg), &vm).expect("diff");
    Some(d)
}

pub fn class<'d>(diffs: &'d [ClassDiff], name: &str) -> &'d ClassDiff {
    diffs.iter().find(|d| d.name == name).unwrap_or_else(|| panic!("{name} not in {diffs:#?}"))
}

pub fn kinds(d: &ClassDiff) -> Vec<ReasonKind> {
    let mut k: Vec<ReasonKind> = d.reasons.iter().map(|r| r.kind).collect();
    k.dedup();
    k
}

pub fn explained(d: &ClassDiff, words: &str) -> bool {
    d.explanations.iter().any(|e| e.contains(words))
}

pub const CASES_8: &[Case] = &[
    (
        "taccessor",
        "public class A { private int count; class In { int get() { return 1; } } }",
        "public class A { private int count; class In { int get() { return count; } } }",
    ),
    (
        "tswitch8",
        "public class A { enum Color { RED, GREEN } int f(Color c) { return c.ordinal(); } }",
        "public class A { enum Color { RED, GREEN } int f(Color c) { switch (c) { case RED: return 1; default: return 2; } } }",
    ),
];

pub const CASES_11: &[Case] = &[
    ("tsame", "public class A { int f() { return 1; } }", "public class A { int f() { return 1; } }"),
    (
        "tbody",
        "public class A { String greet(String s) { return \"hi \" + s; } int other() { return 1; } }",
        "public class A { String greet(String s) { return \"hello \" + s; } int other() { return 1; } }",
    ),
    (
        "tlines",
        "public class A {\n int f() { return 1; }\n}",
        "public class A {\n\n\n // moved\n int f() { return 1; }\n}",
    ),
    (
        // The after version uses 300 strings before a() in the pool: a()'s ldc becomes ldc_w.
        "tldcw",
        "public class A { String a() { return \"x\"; } String b() { return \"0\"; } }",
        LDC_W_AFTER,
    ),
    ("tfieldadd", "public class A { int x; }", "public class A { int x; long y; }"),
    ("tfieldorder", "public class A { int x; String y; }", "public class A { String y; int x; }"),
    ("tfieldtype", "public class A { int x; private int z; }", "public class A { long x; private volatile int z; }"),
    (
        "thier",
        "interface I {} interface J {} class Base {} public class A implements I, J {}",
        "interface I {} interface J {} class Base {} public class A extends Base implements J, I {}",
    ),
    ("tfinal", "public class A {}", "public final class A {}"),
    ("tpubadd", "public class A { public void a() {} }", "public class A { public void a() {} public void b() {} }"),
    (
        "tprivstatic",
        "public class A { int f() { return 1; } }",
        "public class A { int f() { return helper(1); } private static int helper(int x) { return x; } }",
    ),
    (
        "tprivdel",
        "public class A { int f() { return helper(1); } private static int helper(int x) { return x; } }",
        "public class A { int f() { return 1; } }",
    ),
    (
        "tprivinst",
        "public class A { int f() { return 1; } }",
        "public class A { int f() { return helper(); } private int helper() { return 2; } }",
    ),
    ("tsync", "public class A { void f() {} }", "public class A { synchronized void f() {} }"),
    ("tnative", "public class A { int f() { return 1; } }", "public class A { native int f(); }"),
    (
        "tlambdabefore",
        "import java.util.function.*; public class A {\n Supplier<String> hello() { return null; }\n Supplier<String> greet() { return () -> \"g\"; }\n}",
        "import java.util.function.*; public class A {\n Supplier<String> hello() { return () -> \"h\"; }\n Supplier<String> greet() { return () -> \"g\"; }\n}",
    ),
    (
        "tlambdaafter",
        "import java.util.function.*; public class A {\n Supplier<String> greet() { return () -> \"g\"; }\n Supplier<String> hello() { return null; }\n}",
        "import java.util.function.*; public class A {\n Supplier<String> greet() { return () -> \"g\"; }\n Supplier<String> hello() { return () -> \"h\"; }\n}",
    ),
    (
        "tlambdathis",
        "import java.util.function.*; public class A { int n; Supplier<Integer> f() { return null; } }",
        "import java.util.function.*; public class A { int n; Supplier<Integer> f() { return () -> n; } }",
    ),
    (
        "tlambdabody",
        "import java.util.function.*; public class A { Supplier<String> f() { return () -> \"a\"; } }",
        "import java.util.function.*; public class A { Supplier<String> f() { return () -> \"b\"; } }",
    ),
    (
        "tmethodref",
        "import java.util.function.*; public class A { Function<String, Integer> f() { return s -> s.length(); } }",
        "import java.util.function.*; public class A { Function<String, Integer> f() { return String::length; } }",
    ),
    (
        "tmethodref2",
        "import java.util.function.*; public class A { Function<String, Integer> f() { return String::length; } }",
        "import java.util.function.*; public class A { Function<String, Integer> f() { return s -> s.length(); } }",
    ),
    (
        "tswitch",
        "public class A { enum Color { RED, GREEN } int f(Color c) { return c.ordinal(); } }",
        "public class A { enum Color { RED, GREEN } int f(Color c) { switch (c) { case RED: return 1; default: return 2; } } }",
    ),
    (
        "tnested",
        "public class A { int f() { return 1; } }",
        "public class A { int f() { return 1; } static class Helper {} }",
    ),
    (
        "tanon",
        "public class A { Runnable a() { return null; } Runnable b() { return new Runnable() { public void run() {} }; } }",
        "public class A { Runnable a() { return new Runnable() { public void run() { } }; } Runnable b() { return new Runnable() { public void run() {} }; } }",
    ),
    ("tclinit", "public class A { static int x; }", "public class A { static int x = Integer.parseInt(\"4\"); }"),
    ("tassert", "public class A { void f(int x) { } }", "public class A { void f(int x) { assert x > 0; } }"),
    (
        "tbridge",
        "import java.util.function.*; public class A { }",
        "import java.util.function.*; public class A implements Comparable<A> { public int compareTo(A o) { return 0; } }",
    ),
    (
        "tbridge2",
        "abstract class Base<T> { abstract void take(T t); } public class A extends Base<Object> { void take(Object s) {} }",
        "abstract class Base<T> { abstract void take(T t); } public class A extends Base<Object> { void take(Object s) {} void take(String s) {} }",
    ),
    (
        "tconst",
        "public class A { static final int LIMIT = 1; int f() { return LIMIT; } }",
        "public class A { static final int LIMIT = 2; int f() { return LIMIT; } }",
    ),
    (
        "tconcat",
        "public class A { String f(int x) { return \"v\"; } }",
        "public class A { String f(int x) { return \"v\" + x; } }",
    ),
    ("tannot", "public class A { void f() {} }", "public class A { @Deprecated void f() {} }"),
    (
        "tinvisible",
        "@interface M {} public class A { void f() {} }",
        "@interface M {} public class A { @M void f() {} }",
    ),
    ("tenum", "public enum A { X, Y }", "public enum A { X, Y, Z }"),
    (
        "treorder",
        "public class A {\n int a() { return 1; }\n int b() { return 2; }\n}",
        "public class A {\n int b() { return 2; }\n int a() { return 1; }\n}",
    ),
    (
        "texcept",
        "public class A { int f(String s) { try { return Integer.parseInt(s); } catch (NumberFormatException e) { return 0; } } }",
        "public class A { int f(String s) { try { return Integer.parseInt(s); } catch (RuntimeException e) { return 0; } } }",
    ),
];

pub const CASES_17: &[Case] = &[
    (
        "trecstr",
        "public record A(int x, int y) { }",
        "public record A(int x, int y) { public String toString() { return \"A\"; } }",
    ),
    ("trecacc", "public record A(int x, int y) { }", "public record A(int x, int y) { public int x() { return x; } }"),
    (
        "trecfinal",
        "public record A(int x, int y) { }",
        "public record A(int x, int y) { public final int x() { return x; } }",
    ),
    ("treccomp", "public record A(int x, int y) { }", "public record A(int x, int y, int z) { }"),
    (
        "tsealed",
        "public sealed interface A permits B, C {} final class B implements A {} final class C implements A {}",
        "public sealed interface A permits B, C, D {} final class B implements A {} final class C implements A {} final class D implements A {}",
    ),
    (
        "tsealedorder",
        "public sealed interface A permits B, C {} final class B implements A {} final class C implements A {}",
        "public sealed interface A permits C, B {} final class B implements A {} final class C implements A {}",
    ),
    (
        "tswitch17",
        "public class A { enum Color { RED, GREEN } int f(Color c) { return c.ordinal(); } }",
        "public class A { enum Color { RED, GREEN } int f(Color c) { switch (c) { case RED: return 1; default: return 2; } } }",
    ),
];

pub const LDC_W_AFTER: &str = concat!(
    "public class A { String b() { String[] s = {",
    "\"s0\",\"s1\",\"s2\",\"s3\",\"s4\",\"s5\",\"s6\",\"s7\",\"s8\",\"s9\",",
    "\"s10\",\"s11\",\"s12\",\"s13\",\"s14\",\"s15\",\"s16\",\"s17\",\"s18\",\"s19\",",
    "\"s20\",\"s21\",\"s22\",\"s23\",\"s24\",\"s25\",\"s26\",\"s27\",\"s28\",\"s29\",",
    "\"s30\",\"s31\",\"s32\",\"s33\",\"s34\",\"s35\",\"s36\",\"s37\",\"s38\",\"s39\",",
    "\"s40\",\"s41\",\"s42\",\"s43\",\"s44\",\"s45\",\"s46\",\"s47\",\"s48\",\"s49\",",
    "\"s50\",\"s51\",\"s52\",\"s53\",\"s54\",\"s55\",\"s56\",\"s57\",\"s58\",\"s59\",",
    "\"s60\",\"s61\",\"s62\",\"s63\",\"s64\",\"s65\",\"s66\",\"s67\",\"s68\",\"s69\",",
    "\"s70\",\"s71\",\"s72\",\"s73\",\"s74\",\"s75\",\"s76\",\"s77\",\"s78\",\"s79\",",
    "\"s80\",\"s81\",\"s82\",\"s83\",\"s84\",\"s85\",\"s86\",\"s87\",\"s88\",\"s89\",",
    "\"s90\",\"s91\",\"s92\",\"s93\",\"s94\",\"s95\",\"s96\",\"s97\",\"s98\",\"s99\",",
    "\"t0\",\"t1\",\"t2\",\"t3\",\"t4\",\"t5\",\"t6\",\"t7\",\"t8\",\"t9\",",
    "\"t10\",\"t11\",\"t12\",\"t13\",\"t14\",\"t15\",\"t16\",\"t17\",\"t18\",\"t19\",",
    "\"t20\",\"t21\",\"t22\",\"t23\",\"t24\",\"t25\",\"t26\",\"t27\",\"t28\",\"t29\",",
    "\"t30\",\"t31\",\"t32\",\"t33\",\"t34\",\"t35\",\"t36\",\"t37\",\"t38\",\"t39\",",
    "\"t40\",\"t41\",\"t42\",\"t43\",\"t44\",\"t45\",\"t46\",\"t47\",\"t48\",\"t49\",",
    "\"t50\",\"t51\",\"t52\",\"t53\",\"t54\",\"t55\",\"t56\",\"t57\",\"t58\",\"t59\",",
    "\"t60\",\"t61\",\"t62\",\"t63\",\"t64\",\"t65\",\"t66\",\"t67\",\"t68\",\"t69\",",
    "\"t70\",\"t71\",\"t72\",\"t73\",\"t74\",\"t75\",\"t76\",\"t77\",\"t78\",\"t79\",",
    "\"t80\",\"t81\",\"t82\",\"t83\",\"t84\",\"t85\",\"t86\",\"t87\",\"t88\",\"t89\",",
    "\"t90\",\"t91\",\"t92\",\"t93\",\"t94\",\"t95\",\"t96\",\"t97\",\"t98\",\"t99\",",
    "\"u0\",\"u1\",\"u2\",\"u3\",\"u4\",\"u5\",\"u6\",\"u7\",\"u8\",\"u9\",",
    "\"u10\",\"u11\",\"u12\",\"u13\",\"u14\",\"u15\",\"u16\",\"u17\",\"u18\",\"u19\",",
    "\"u20\",\"u21\",\"u22\",\"u23\",\"u24\",\"u25\",\"u26\",\"u27\",\"u28\",\"u29\",",
    "\"u30\",\"u31\",\"u32\",\"u33\",\"u34\",\"u35\",\"u36\",\"u37\",\"u38\",\"u39\",",
    "}; return s[0]; }\n String a() { return \"x\"; } }"
);

/// A compiled class of the corpus (`tlambdabefore.A` after), for the hostile-input tests.
pub fn sample() -> Option<Vec<u8>> {
    corpus(11).map(|c| c.after["tlambdabefore.A"].clone())
}
