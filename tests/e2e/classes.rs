//! `jhot sc`, `sm`, `classloader` and `dump` on the hello-http sample, on each supported JDK: what
//! is loaded and by whom, a class jhot patched and the redefinition that did it, methods read from
//! the running bytes, the loader tree, dumped bytes equal to what the JVM runs; a pattern that
//! matches nothing; a dump refused because of a link planted in its directory. Also the engine's
//! side the shell uses: the completion index built from a live JVM, and the class-load counter.

use std::path::Path;
use std::time::Duration;

use serde_json::Value;

use crate::harness::{self, App, jhot};

#[test]
fn classes_jdk11() {
    look(11);
}

#[test]
fn classes_jdk17() {
    look(17);
}

#[test]
fn classes_jdk21() {
    look(21);
}

#[test]
fn classes_jdk25() {
    look(25);
}

fn names(v: &Value) -> Vec<(String, String)> {
    v["classes"]
        .as_array()
        .expect("classes")
        .iter()
        .map(|c| (c["name"].as_str().unwrap_or("").to_string(), c["loader"]["name"].as_str().unwrap_or("").to_string()))
        .collect()
}

fn look(feature: u32) {
    let app = App::start(&harness::jdk(feature), harness::LIGHT_JVM_ARGS);
    let pid = app.pid();
    let p = pid.to_string();
    let p = p.as_str();
    assert_eq!(app.get("/").trim(), "Hello from v1");

    // The counter the shell watches, before the agent is even there.
    let target = jhot_attach::Target::open(pid).expect("target");
    let counter = jhot_engine::classes::LoadCounter::open(&target).expect("the sample publishes perf data");
    let before = counter.read().expect("counts");
    assert!(before.loaded > 100, "{before:?}");

    // sc: a glob, one line per class and loader; hello.Lazy is not loaded yet.
    let out = jhot(&["sc", p, "hello.*", "--json"]);
    assert_eq!(out.code, 0, "{out:?}");
    let listed = names(&out.json());
    assert!(listed.contains(&("hello.Greeter".into(), "app".into())), "{listed:?}");
    assert!(listed.contains(&("hello.Main".into(), "app".into())), "{listed:?}");
    assert!(!listed.iter().any(|(n, _)| n == "hello.Lazy"), "{listed:?}");
    let out = jhot(&["sc", p, "hello.Gree?er"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(out.stdout.trim().lines().count(), 1, "{out:?}");
    assert!(out.stdout.contains("hello.Greeter") && out.stdout.contains("app (0x"), "{out:?}");
    let out = jhot(&["sc", p, "*.String"]);
    assert!(out.stdout.lines().any(|l| l.starts_with("java.lang.String ") && l.contains("bootstrap")), "{out:?}");
    for nothing in ["nope.*", "hello.Nope", "hello.Lazy"] {
        let out = jhot(&["sc", p, nothing]);
        assert_eq!(out.code, 6, "{nothing}: {out:?}");
        assert!(out.stderr.contains("no loaded class matches"), "{out:?}");
    }
    let out = jhot(&["sc", p, "hello.*", "--loader", "no-such-loader"]);
    assert_eq!(out.code, 6, "{out:?}");

    // The loading moved the counter; the classes answer feeds the completion index.
    assert_eq!(app.get("/lazy").trim(), "lazy v1");
    let after = counter.read().expect("counts");
    assert!(after.loaded > before.loaded, "{before:?} → {after:?}");
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let all = rt
        .block_on(jhot_engine::classes::loaded(&target, &Default::default(), Duration::from_secs(30)))
        .expect("classes");
    let index = all.index();
    assert!(index.len() > 400, "{}", index.len());
    let c: Vec<String> = index.complete("hello.La").into_iter().map(|c| c.replacement).collect();
    assert_eq!(c, ["hello.Lazy"]);
    let c: Vec<String> = index.complete("java.la").into_iter().map(|c| c.replacement).collect();
    assert_eq!(c, ["java.lang."]);
    assert!(index.complete("SB").iter().any(|c| c.replacement == "java.lang.StringBuilder"));

    // A second loader defines hello.Greeter; then jhot patches both copies.
    assert_eq!(app.get("/isolated").trim(), "Hello from v1");
    let body = harness::patch_class("body", "hello.Greeter");
    let out = jhot(&["redefine", p, body.to_str().unwrap()]);
    assert_eq!(out.code, 0, "{out:?}");
    let out = jhot(&["sc", p, "hello.Greeter", "-d", "--json"]);
    assert_eq!(out.code, 0, "{out:?}");
    let v = out.json();
    let copies = v["classes"].as_array().expect("classes");
    assert_eq!(copies.len(), 2, "{v}");
    let seq = jhot(&["history", p, "--json"]).json()["history"]["entries"][0]["seq"].clone();
    for c in copies {
        let d = &c["details"];
        assert_eq!(d["source_file"], "Greeter.java", "{v}");
        assert_eq!(d["super"], "java.lang.Object", "{v}");
        assert!(d["modifiers"].as_str().unwrap().ends_with("class"), "{v}");
        assert!(d["location"].as_str().unwrap().starts_with("file:"), "{v}");
        assert_eq!(d["patched"]["action"], "redefine", "{v}");
        assert_eq!(d["patched"]["seq"], seq, "the redefinition that did it: {v}");
        assert_eq!(d["patched"]["deploy"], Value::Null, "a plain redefine: {v}");
    }
    let out = jhot(&["sc", p, "hello.Main", "-d"]);
    assert!(
        out.stdout.lines().any(|l| l.trim_start().starts_with("patched") && l.trim_end().ends_with(" no")),
        "{out:?}"
    );
    assert!(out.stdout.contains("Main.java"), "{out:?}");

    // sm: the patched bytes' methods.
    let out = jhot(&["sm", p, "hello.Greeter", "--loader", "app", "--json"]);
    assert_eq!(out.code, 0, "{out:?}");
    let v = out.json();
    let methods = v["classes"][0]["methods"].as_array().expect("methods");
    let greet = methods.iter().find(|m| m["name"] == "greet").expect("greet");
    assert_eq!(greet["descriptor"], "()Ljava/lang/String;", "{v}");
    assert!(greet["signature"].as_str().unwrap().contains("String greet()"), "{v}");
    assert!(greet["lines"].is_array(), "{v}");
    assert_eq!(v["classes"][0]["source_file"], "Greeter.java");
    let out = jhot(&["sm", p, "hello.Greeter", "gr*", "-d", "--loader", "app"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("()Ljava/lang/String;") && out.stdout.contains("line"), "{out:?}");
    assert!(!out.stdout.contains("<init>"), "only methods matching gr*: {out:?}");
    assert_eq!(jhot(&["sm", p, "hello.Greeter", "noSuchMethod"]).code, 6);
    assert_eq!(jhot(&["sm", p, "hello.Nope"]).code, 6);

    // classloader: app under platform under bootstrap, the isolated loader beside app.
    let out = jhot(&["classloader", p, "--json"]);
    assert_eq!(out.code, 0, "{out:?}");
    let v = out.json();
    let loaders = v["loaders"].as_array().expect("loaders");
    let by_name = |n: &str| loaders.iter().find(|l| l["name"] == n).cloned().unwrap_or_else(|| panic!("{n}: {v}"));
    let (boot, platform, app_l, isolated) =
        (by_name("bootstrap"), by_name("platform"), by_name("app"), by_name("isolated"));
    assert_eq!(loaders[0]["id"], "bootstrap", "the root first: {v}");
    assert_eq!(app_l["parent"], platform["id"], "{v}");
    assert_eq!(platform["parent"], "bootstrap", "{v}");
    assert_eq!(isolated["parent"], platform["id"], "{v}");
    assert_eq!(isolated["urls"], 1, "{v}");
    assert!(app_l["classes"].as_u64().unwrap() >= 5 && boot["classes"].as_u64().unwrap() > 300, "{v}");
    let out = jhot(&["classloader", p]);
    assert!(
        out.stdout.contains("─ platform (") && out.stdout.contains("├─ app (") && out.stdout.contains("└─ isolated ("),
        "{out:?}"
    );
    let out = jhot(&["classloader", p, "-l"]);
    assert!(out.stdout.starts_with("ID") && out.stdout.contains("isolated"), "{out:?}");

    // dump: the bytes the JVM runs; both copies of hello.Greeter under their loaders.
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("dump");
    let out = jhot(&["dump", p, "hello.*", "-d", dir.to_str().unwrap(), "--json"]);
    assert_eq!(out.code, 0, "{out:?}");
    let v = out.json();
    let files = v["files"].as_array().expect("files");
    let greeters: Vec<&Value> = files.iter().filter(|f| f["name"] == "hello.Greeter").collect();
    assert_eq!(greeters.len(), 2, "{v}");
    let body_bytes = std::fs::read(&body).expect("body");
    for g in greeters {
        let path = Path::new(g["path"].as_str().unwrap());
        let loader_dir =
            path.strip_prefix(&dir).expect("under dir").iter().next().unwrap().to_string_lossy().to_string();
        assert!(loader_dir.starts_with(g["loader"]["name"].as_str().unwrap()), "{v}");
        assert_eq!(std::fs::read(path).expect("dumped"), body_bytes, "what redefine applied");
    }
    let main = dir.join("hello/Main.class");
    assert!(main.is_file(), "one loader: no loader directory: {v}");
    // An unpatched class: the bytes javap shows for the JVM.
    let from_file = jhot(&["javap", main.to_str().unwrap()]);
    let from_jvm = jhot(&["javap", p, "hello.Main"]);
    assert_eq!(from_file.code, 0, "{from_file:?}");
    let jvm_text: String = from_jvm.stdout.lines().skip(1).map(|l| format!("{l}\n")).collect();
    assert_eq!(from_file.stdout, jvm_text, "javap of the dump = javap of the JVM");
    // Again into the same directory: the files are replaced.
    let out = jhot(&["dump", p, "hello.Main", "-d", dir.to_str().unwrap()]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("wrote 1 class file"), "{out:?}");
    assert_eq!(jhot(&["dump", p, "nope.*", "-d", dir.to_str().unwrap()]).code, 6);
}

/// A link planted in the dump directory (a directory on the way, or the file itself) refuses the
/// dump before anything is written, and nothing lands outside.
#[test]
fn dump_refuses_a_planted_link() {
    let app = App::start(&harness::jdk(17), harness::LIGHT_JVM_ARGS);
    let p = app.pid().to_string();
    assert_eq!(app.get("/").trim(), "Hello from v1");
    let tmp = tempfile::tempdir().expect("tmp");
    let (dir, outside) = (tmp.path().join("dump"), tmp.path().join("outside"));
    std::fs::create_dir_all(&dir).expect("mkdir");
    std::fs::create_dir_all(&outside).expect("mkdir");
    std::os::unix::fs::symlink(&outside, dir.join("hello")).expect("symlink");
    let out = jhot(&["dump", &p, "hello.*", "-d", dir.to_str().unwrap(), "--json"]);
    assert_eq!(out.code, 4, "{out:?}");
    assert!(out.json()["error"]["message"].as_str().unwrap().contains("symbolic link"), "{out:?}");
    assert_eq!(std::fs::read_dir(&outside).expect("ls").count(), 0, "written through the link");
    assert_eq!(std::fs::read_dir(&dir).expect("ls").count(), 1, "nothing written beside it");

    std::fs::remove_file(dir.join("hello")).expect("rm");
    std::fs::create_dir(dir.join("hello")).expect("mkdir");
    let victim = outside.join("victim");
    std::fs::write(&victim, "keep").expect("write");
    std::os::unix::fs::symlink(&victim, dir.join("hello/Greeter.class")).expect("symlink");
    let out = jhot(&["dump", &p, "hello.Greeter", "-d", dir.to_str().unwrap()]);
    assert_eq!(out.code, 4, "{out:?}");
    assert_eq!(std::fs::read_to_string(&victim).expect("read"), "keep");
}
