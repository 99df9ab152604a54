//! Literal inputs for the planner's tests: class files assembled by hand (no compiler), and
//! builds and jars made of them.

use std::io::Write;

use crate::archive::{self, Snapshot};

/// A class file: `name extends superclass` with a method `int answer()` returning `answer`, and
/// a field `int <field>` if one is named. Another `answer` changes a method body only; another
/// field or superclass changes the class's shape.
pub fn class(name: &str, superclass: &str, answer: u8, field: Option<&str>) -> Vec<u8> {
    let utf8 = |s: &str| {
        let mut v = vec![1u8];
        v.extend((s.len() as u16).to_be_bytes());
        v.extend(s.as_bytes());
        v
    };
    let pool: Vec<Vec<u8>> = vec![
        utf8(&name.replace('.', "/")),       // 1
        vec![7, 0, 1],                       // 2: this class
        utf8(&superclass.replace('.', "/")), // 3
        vec![7, 0, 3],                       // 4: its superclass
        utf8("answer"),                      // 5
        utf8("()I"),                         // 6
        utf8("Code"),                        // 7
        utf8(field.unwrap_or("unused")),     // 8
        utf8("I"),                           // 9
    ];
    let mut b = vec![0xCA, 0xFE, 0xBA, 0xBE, 0, 0, 0, 52];
    b.extend(((pool.len() + 1) as u16).to_be_bytes());
    for e in &pool {
        b.extend(e);
    }
    b.extend(0x0021u16.to_be_bytes()); // public super
    b.extend(2u16.to_be_bytes());
    b.extend(4u16.to_be_bytes());
    b.extend(0u16.to_be_bytes()); // interfaces
    match field {
        Some(_) => b.extend([0, 1, 0, 1, 0, 8, 0, 9, 0, 0]), // one public field, no attributes
        None => b.extend([0, 0]),
    }
    b.extend([0, 1]); // one method: public int answer() { return <answer>; }
    b.extend([0, 1, 0, 5, 0, 6, 0, 1]);
    b.extend([0, 7]); // Code
    b.extend(15u32.to_be_bytes());
    b.extend([0, 1, 0, 1]); // max_stack, max_locals
    b.extend(3u32.to_be_bytes());
    b.extend([0x10, answer, 0xAC]); // bipush answer; ireturn
    b.extend([0, 0, 0, 0]); // no exception table, no attributes
    b.extend([0, 0]); // no class attributes
    b
}

/// The hash jhot and the agent name bytes by.
pub fn sha(bytes: &[u8]) -> String {
    archive::sha_hex(bytes)
}

/// A build of these classes (read from `build/…`), with these resources (name, hash).
pub fn snapshot(classes: &[(&str, &[u8])], resources: &[(&str, &str)]) -> Snapshot {
    let mut s = Snapshot::default();
    for (name, bytes) in classes {
        s.classes.insert(name.to_string(), sha(bytes));
        s.bytes.insert(name.to_string(), (bytes.to_vec(), format!("build/{}.class", name.replace('.', "/"))));
    }
    for (name, hash) in resources {
        s.resources.insert(name.to_string(), hash.to_string());
    }
    s.digest = "b0".into();
    s
}

/// A jar (stored, not compressed) holding these entries.
pub fn jar(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (name, bytes) in entries {
        w.start_file(*name, opts).expect("entry");
        w.write_all(bytes).expect("write");
    }
    w.finish().expect("jar").into_inner()
}
