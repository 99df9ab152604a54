//! `jhot diff` (files, Spring Boot jars, a running JVM), `jhot javap`, and the pre-flight of
//! `jhot redefine`: a structural change is refused before anything is sent.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::harness::{self, App, jhot};

fn classes_of(v: &serde_json::Value) -> Vec<(String, String)> {
    v["classes"]
        .as_array()
        .expect("classes")
        .iter()
        .map(|c| (c["name"].as_str().unwrap().to_string(), c["verdict"].as_str().unwrap().to_string()))
        .collect()
}

fn verdict_of(v: &serde_json::Value, class: &str) -> String {
    classes_of(v).into_iter().find(|(n, _)| n == class).map(|(_, v)| v).unwrap_or_else(|| panic!("{class} not in {v}"))
}

/// A sample tree where `patch` replaced its classes: the whole application, as a build would be.
fn patched_tree(dir: &Path, patch: &str) -> PathBuf {
    let out = dir.join(patch);
    copy_tree(&harness::sample_classes(), &out);
    copy_tree(&harness::patch_classes(patch), &out);
    out
}

fn copy_tree(from: &Path, to: &Path) {
    for e in std::fs::read_dir(from).expect("read_dir").flatten() {
        let p = e.path();
        let dest = to.join(e.file_name());
        if p.is_dir() {
            copy_tree(&p, &dest);
        } else {
            std::fs::create_dir_all(to).expect("mkdir");
            std::fs::copy(&p, &dest).expect("copy");
        }
    }
}

#[test]
fn diff_between_directories() {
    let work = tempfile::tempdir().expect("tempdir");
    let v1 = harness::sample_classes();
    let body = patched_tree(work.path(), "body");
    let out = jhot(&["diff", v1.to_str().unwrap(), body.to_str().unwrap(), "--jdk", "17", "--json"]);
    assert_eq!(out.code, 0, "{out:?}");
    let v = out.json();
    assert_eq!(verdict_of(&v, "hello.Greeter"), "body_only", "{v}");
    assert_eq!(verdict_of(&v, "hello.Main"), "unchanged", "{v}");
    assert_eq!(v["summary"]["redefinable"], true);
    assert_eq!(v["jdk"], 17);

    let structural = patched_tree(work.path(), "structural");
    let out = jhot(&["diff", v1.to_str().unwrap(), structural.to_str().unwrap(), "--json"]);
    assert_eq!(out.code, 0, "{out:?}");
    let v = out.json();
    assert_eq!(verdict_of(&v, "hello.Greeter"), "structural", "{v}");
    assert_eq!(v["summary"]["redefinable"], false);
    let greeter = v["classes"].as_array().unwrap().iter().find(|c| c["name"] == "hello.Greeter").unwrap();
    let kinds: Vec<&str> = greeter["reasons"].as_array().unwrap().iter().map(|r| r["kind"].as_str().unwrap()).collect();
    assert!(kinds.contains(&"schema_changed") && kinds.contains(&"method_added"), "{greeter}");
    // A class present only on one side.
    std::fs::remove_file(structural.join("hello/Lazy.class")).expect("rm");
    let out = jhot(&["diff", v1.to_str().unwrap(), structural.to_str().unwrap(), "--json"]);
    assert_eq!(verdict_of(&out.json(), "hello.Lazy"), "removed");

    // People read the table and the summary line.
    let out = jhot(&["diff", v1.to_str().unwrap(), body.to_str().unwrap()]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("hello.Greeter") && out.stdout.contains("body-only"), "{out:?}");
    assert!(out.stdout.contains("hot-redefinable"), "{out:?}");
    // Unchanged classes are counted, not listed (a fat jar has tens of thousands), unless --all.
    let row = |text: &str, class: &str| text.lines().any(|l| l.starts_with(class) && l.contains("unchanged"));
    assert!(!row(&out.stdout, "hello.Main"), "{out:?}");
    assert!(out.stdout.contains("unchanged class(es) not listed; --all lists them"), "{out:?}");
    let out = jhot(&["diff", v1.to_str().unwrap(), body.to_str().unwrap(), "--all"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(row(&out.stdout, "hello.Main") && out.stdout.contains("hello.Greeter"), "{out:?}");
    assert!(!out.stdout.contains("not listed"), "{out:?}");
}

/// Builds a Spring Boot-style fat jar: application classes under BOOT-INF/classes/, libraries as
/// STORED jars under BOOT-INF/lib/ (as Spring Boot's loader requires).
fn fat_jar(path: &Path, app: &[(&str, Vec<u8>)], lib: &[(&str, Vec<u8>)]) {
    use zip::write::SimpleFileOptions;
    let mut inner = std::io::Cursor::new(Vec::new());
    {
        let mut z = zip::ZipWriter::new(&mut inner);
        for (name, bytes) in lib {
            z.start_file(*name, SimpleFileOptions::default()).expect("entry");
            z.write_all(bytes).expect("write");
        }
        z.finish().expect("finish");
    }
    let mut z = zip::ZipWriter::new(std::fs::File::create(path).expect("jar"));
    z.start_file("META-INF/MANIFEST.MF", SimpleFileOptions::default()).expect("manifest");
    z.write_all(b"Manifest-Version: 1.0\r\nMain-Class: org.springframework.boot.loader.launch.JarLauncher\r\n\r\n")
        .expect("write");
    for (name, bytes) in app {
        z.start_file(format!("BOOT-INF/classes/{name}"), SimpleFileOptions::default()).expect("entry");
        z.write_all(bytes).expect("write");
    }
    let stored = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    z.start_file("BOOT-INF/lib/hot-lib-1.0.jar", stored).expect("lib");
    z.write_all(inner.get_ref()).expect("write");
    z.finish().expect("finish");
}

#[test]
fn diff_between_spring_boot_jars() {
    let work = tempfile::tempdir().expect("tempdir");
    let read = |p: PathBuf| std::fs::read(p).expect("class");
    let v1 = harness::sample_classes();
    let old = work.path().join("app-1.jar");
    fat_jar(
        &old,
        &[
            ("hello/Greeter.class", read(v1.join("hello/Greeter.class"))),
            ("hello/Main.class", read(v1.join("hello/Main.class"))),
        ],
        &[("hello/Hot.class", read(v1.join("hello/Hot.class")))],
    );
    let new = work.path().join("app-2.jar");
    fat_jar(
        &new,
        &[
            ("hello/Greeter.class", read(harness::patch_classes("body").join("hello/Greeter.class"))),
            ("hello/Main.class", read(v1.join("hello/Main.class"))),
        ],
        &[("hello/Hot.class", read(harness::patch_classes("hot").join("hello/Hot.class")))],
    );
    let out = jhot(&["diff", old.to_str().unwrap(), new.to_str().unwrap(), "--json"]);
    assert_eq!(out.code, 0, "{out:?}");
    let v = out.json();
    assert_eq!(verdict_of(&v, "hello.Greeter"), "body_only", "{v}");
    assert_eq!(verdict_of(&v, "hello.Hot"), "body_only", "the class in the nested jar was not compared: {v}");
    assert_eq!(verdict_of(&v, "hello.Main"), "unchanged", "{v}");
}

#[test]
fn diff_against_a_running_jvm_and_preflight() {
    let app = App::start(&harness::jdk(17), &[]);
    let pid = app.pid().to_string();
    assert_eq!(app.get("/").trim(), "Hello from v1");
    let structural = harness::patch_classes("structural");
    let out = jhot(&["diff", &pid, structural.to_str().unwrap(), "--json"]);
    assert_eq!(out.code, 0, "{out:?}");
    let v = out.json();
    assert_eq!(v["jdk"], 17, "the JVM's own version decides: {v}");
    let greeter =
        v["classes"].as_array().unwrap().iter().find(|c| c["name"] == "hello.Greeter").cloned().expect("Greeter");
    assert_eq!(greeter["verdict"], "structural", "{v}");
    assert_eq!(greeter["loader"]["name"], "app", "{v}");
    let lazy = harness::patch_classes("lazy");
    let out = jhot(&["diff", &pid, lazy.to_str().unwrap(), "--json"]);
    assert_eq!(verdict_of(&out.json(), "hello.Lazy"), "new", "a class the JVM has not loaded: {out:?}");

    // redefine judges the change: the structural one is refused, and nothing changes.
    let out = jhot(&["redefine", &pid, structural.join("hello/Greeter.class").to_str().unwrap(), "--json"]);
    assert_eq!(out.code, 7, "{out:?}");
    let e = &out.json()["error"];
    assert!(e["message"].as_str().unwrap().contains("nothing was changed"), "{out:?}");
    assert_eq!(e["classes"][0]["name"], "hello.Greeter", "{out:?}");
    assert_eq!(app.get("/").trim(), "Hello from v1");
    let h = jhot(&["history", &pid, "--json"]);
    assert_eq!(h.json()["history"]["entries"], serde_json::json!([]), "{h:?}");
    // A body change passes the check and is applied.
    let body = harness::patch_classes("body").join("hello/Greeter.class");
    let out = jhot(&["redefine", &pid, body.to_str().unwrap(), "--json"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(out.json()["preflight"]["body_only"], 1, "{out:?}");
    assert_eq!(app.get("/").trim(), "Hello from v2");
}

#[test]
fn javap_from_files_jars_and_a_jvm() {
    let body = harness::patch_classes("body");
    let class = body.join("hello/Greeter.class");
    let out = jhot(&["javap", class.to_str().unwrap()]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("Hello from v2") && out.stdout.contains("greet()"), "{out:?}");
    assert!(out.stdout.contains("ldc") && out.stdout.contains("areturn"), "{out:?}");

    let work = tempfile::tempdir().expect("tempdir");
    let jar = work.path().join("fix.jar");
    let status = std::process::Command::new(harness::jar_tool())
        .args(["--create", "--file"])
        .arg(&jar)
        .arg("-C")
        .arg(&body)
        .arg(".")
        .status()
        .expect("jar");
    assert!(status.success());
    let by_name = jhot(&["javap", jar.to_str().unwrap(), "hello.Greeter"]);
    assert_eq!(by_name.code, 0, "{by_name:?}");
    let by_entry = jhot(&["javap", &format!("{}!hello/Greeter.class", jar.display())]);
    assert_eq!(by_entry.code, 0, "{by_entry:?}");
    assert_eq!(by_name.stdout, by_entry.stdout);
    let missing = jhot(&["javap", jar.to_str().unwrap(), "hello.Nope"]);
    assert_eq!(missing.code, 6, "{missing:?}");

    // From a running JVM: the bytes it runs, here after jhot patched it.
    let app = App::start(&harness::jdk(17), &[]);
    let pid = app.pid().to_string();
    assert_eq!(app.get("/").trim(), "Hello from v1");
    let out = jhot(&["javap", &pid, "hello.Greeter"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("Hello from v1") && out.stdout.contains("loader app"), "{out:?}");
    assert_eq!(jhot(&["redefine", &pid, class.to_str().unwrap()]).code, 0);
    let out = jhot(&["javap", &pid, "hello.Greeter"]);
    assert!(out.stdout.contains("Hello from v2"), "{out:?}");
}
