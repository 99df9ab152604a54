//! libjhot_jni.so as the agent uses it: a JVM loads it with System.load and calls
//! `dev.jhot.agent.Native.sendFds` (the agent's own Native.java), and this test receives the
//! message the way jhot does — recvmsg with SCM_RIGHTS, SO_PEERCRED on the connection.
//!
//! Needs a JDK with javac: `$JHOT_JNI_TEST_JDK`, else /usr/lib/jvm/java-17-openjdk-amd64.

use std::fs;
use std::io::{IoSliceMut, Write};
use std::mem::MaybeUninit;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rustix::net::{self, RecvAncillaryBuffer, RecvAncillaryMessage, RecvFlags};

const MAIN: &str = r#"package dev.jhot.agent;

/** Each argument after the library is one call: "<socket path>|<fd>,<fd>,...". */
public final class SendFdsMain {
    public static void main(String[] args) {
        System.load(args[0]);
        for (int k = 1; k < args.length; k++) {
            int bar = args[k].indexOf('|');
            String[] parts = args[k].substring(bar + 1).split(",");
            int[] fds = new int[parts.length];
            for (int i = 0; i < parts.length; i++) fds[i] = Integer.parseInt(parts[i]);
            try {
                System.out.println("sent " + Native.sendFds(args[k].substring(0, bar), fds));
            } catch (Throwable t) {
                System.out.println("threw " + t);
            }
            System.out.flush();
        }
    }
}
"#;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The cdylib this `cargo test` built: beside the test executable in `<target>/<profile>/deps/`
/// (cargo uplifts it to `<target>/<profile>/` only for `cargo build`).
fn cdylib() -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    let deps = exe.parent().expect("deps dir");
    let candidates = [deps.join("libjhot_jni.so"), deps.parent().expect("target dir").join("libjhot_jni.so")];
    match candidates.iter().find(|p| p.is_file()) {
        Some(p) => p.clone(),
        None => panic!("libjhot_jni.so is in neither {candidates:?}: run the tests with `cargo test -p jhot-jni`"),
    }
}

fn jdk() -> PathBuf {
    let home = std::env::var_os("JHOT_JNI_TEST_JDK")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/lib/jvm/java-17-openjdk-amd64"));
    assert!(home.join("bin/javac").is_file(), "no javac in {} (set JHOT_JNI_TEST_JDK to a JDK)", home.display());
    home
}

struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
        let p = std::env::temp_dir().join(format!("jhot-jni-it-{}-{nanos}", std::process::id()));
        fs::create_dir(&p).expect("create temp dir");
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// Accepts one connection, giving up when the child has exited or after 60 s.
fn accept(l: &UnixListener, child: &mut Child) -> UnixStream {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        match l.accept() {
            Ok((s, _)) => {
                s.set_nonblocking(false).expect("blocking");
                return s;
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                if let Some(status) = child.try_wait().expect("try_wait") {
                    let out = child.stdout.take().map(|mut o| {
                        let mut s = String::new();
                        std::io::Read::read_to_string(&mut o, &mut s).ok();
                        s
                    });
                    panic!("java exited ({status}) before connecting; stdout: {out:?}");
                }
                assert!(Instant::now() < deadline, "no connection within 60 s");
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(e) => panic!("accept: {e}"),
        }
    }
}

/// Receives the one message of a sendFds call: (count from the payload, the descriptors).
fn receive(conn: &UnixStream) -> (u32, Vec<OwnedFd>) {
    let mut payload = [0u8; 16];
    let mut space = [MaybeUninit::<u8>::uninit(); rustix::cmsg_space!(ScmRights(32))];
    let mut control = RecvAncillaryBuffer::new(&mut space);
    let msg = net::recvmsg(conn.as_fd(), &mut [IoSliceMut::new(&mut payload)], &mut control, RecvFlags::CMSG_CLOEXEC)
        .expect("recvmsg");
    assert_eq!(msg.bytes, 4, "payload is the count as a u32");
    assert!(!msg.flags.contains(net::ReturnFlags::CTRUNC), "control data truncated");
    let mut fds = Vec::new();
    for m in control.drain() {
        if let RecvAncillaryMessage::ScmRights(got) = m {
            fds.extend(got);
        }
    }
    // One message, then the sender closes.
    let rest = net::recv(conn.as_fd(), &mut payload, RecvFlags::empty()).expect("recv").0;
    assert_eq!(rest, 0, "bytes after the message");
    (u32::from_le_bytes(payload[..4].try_into().unwrap()), fds)
}

fn same_file(a: impl AsFd, b: impl AsFd) -> bool {
    let (x, y) = (rustix::fs::fstat(a).expect("fstat"), rustix::fs::fstat(b).expect("fstat"));
    (x.st_dev, x.st_ino) == (y.st_dev, y.st_ino)
}

#[test]
fn a_jvm_sends_descriptors_that_arrive_as_the_same_files() {
    let lib = cdylib();
    let jdk = jdk();
    let tmp = TempDir::new();
    let src = tmp.0.join("src/dev/jhot/agent");
    fs::create_dir_all(&src).unwrap();
    fs::File::create(src.join("SendFdsMain.java")).unwrap().write_all(MAIN.as_bytes()).unwrap();
    let classes = tmp.0.join("classes");
    let status = Command::new(jdk.join("bin/javac"))
        .args(["-encoding", "UTF-8", "-d"])
        .arg(&classes)
        .arg(repo().join("agent-java/src/main/java/dev/jhot/agent/Native.java"))
        .arg(src.join("SendFdsMain.java"))
        .status()
        .expect("run javac");
    assert!(status.success(), "javac failed");

    let sock = tmp.0.join("jhot.sock");
    let listener = UnixListener::bind(&sock).expect("bind");
    listener.set_nonblocking(true).unwrap();
    // The JVM's stdin (fd 0) is this file: the descriptor it sends must arrive as the same file.
    let file_path = tmp.0.join("payload.txt");
    fs::write(&file_path, b"jhot").unwrap();
    let file = fs::File::open(&file_path).unwrap();
    let s = sock.display();
    let missing = tmp.0.join("missing.sock");
    let many = vec!["1"; 33].join(",");
    let mut child = Command::new(jdk.join("bin/java"))
        .arg("-Xshare:auto")
        .arg("-cp")
        .arg(&classes)
        .arg("dev.jhot.agent.SendFdsMain")
        .arg(&lib)
        .arg(format!("{s}|0"))
        .arg(format!("{s}|0,1,2"))
        .arg(format!("{s}|0,999"))
        .arg(format!("{s}|{many}"))
        .arg(format!("{}|0", missing.display()))
        .stdin(Stdio::from(file.try_clone().unwrap()))
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("run java");

    let conn = accept(&listener, &mut child);
    let cred = net::sockopt::socket_peercred(&conn).expect("SO_PEERCRED");
    assert_eq!(cred.pid.as_raw_nonzero().get() as u32, child.id(), "the peer is the java child");
    let (count, fds) = receive(&conn);
    assert_eq!((count, fds.len()), (1, 1));
    assert!(same_file(&fds[0], &file), "the received fd is not the JVM's stdin file");

    let conn = accept(&listener, &mut child);
    let (count, fds) = receive(&conn);
    assert_eq!((count, fds.len()), (3, 3));
    assert!(same_file(&fds[0], &file));
    for (k, fd) in fds.iter().enumerate() {
        assert!(rustix::io::fcntl_getfd(fd).unwrap().contains(rustix::io::FdFlags::CLOEXEC), "fd {k} without CLOEXEC");
    }
    // fds[1] is the write end of the child's stdout pipe: holding it, reading stdout never ends.
    drop(fds);

    let out = child.wait_with_output().expect("wait java");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "java failed: {stdout}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 5, "{stdout}");
    assert_eq!(lines[0], "sent 1");
    assert_eq!(lines[1], "sent 3");
    assert!(
        lines[2].starts_with("threw java.io.IOException: fd 999 is not an open file descriptor: Bad file descriptor"),
        "{}",
        lines[2]
    );
    assert!(
        lines[3].starts_with("threw java.lang.IllegalArgumentException: sendFds takes 1 to 32 descriptors, not 33"),
        "{}",
        lines[3]
    );
    assert!(
        lines[4].starts_with(&format!(
            "threw java.io.IOException: connecting to {}: No such file or directory",
            missing.display()
        )),
        "{}",
        lines[4]
    );
    // Nothing else connected.
    assert!(listener.accept().is_err());
}

const CHECKED_MAIN: &str = r#"package dev.jhot.agent;

/** Calls that the library refuses before sending anything, one result line each. */
public final class CheckedMain {
    public static void main(String[] args) {
        System.load(args[0]);
        int[] many = new int[33];
        Object[][] calls = {{null, new int[] {0}}, {args[1], null}, {args[1], many}};
        for (Object[] c : calls) {
            try {
                System.out.println("sent " + Native.sendFds((String) c[0], (int[]) c[1]));
            } catch (Throwable t) {
                System.out.println("threw " + t);
            }
        }
        System.out.flush();
    }
}
"#;

/// Each refusal reaches Java as its own exception, and -Xcheck:jni finds no JNI call made while
/// an exception was pending (the library returns as soon as it has thrown).
#[test]
fn refused_calls_throw_and_make_no_further_jni_calls() {
    let lib = cdylib();
    let jdk = jdk();
    let tmp = TempDir::new();
    let src = tmp.0.join("src/dev/jhot/agent");
    fs::create_dir_all(&src).unwrap();
    fs::File::create(src.join("CheckedMain.java")).unwrap().write_all(CHECKED_MAIN.as_bytes()).unwrap();
    let classes = tmp.0.join("classes");
    let status = Command::new(jdk.join("bin/javac"))
        .args(["-encoding", "UTF-8", "-d"])
        .arg(&classes)
        .arg(repo().join("agent-java/src/main/java/dev/jhot/agent/Native.java"))
        .arg(src.join("CheckedMain.java"))
        .status()
        .expect("run javac");
    assert!(status.success(), "javac failed");
    let mut child = Command::new(jdk.join("bin/java"))
        .args(["-Xshare:auto", "-Xcheck:jni", "-cp"])
        .arg(&classes)
        .arg("dev.jhot.agent.CheckedMain")
        .arg(&lib)
        .arg(tmp.0.join("never.sock"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run java");
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().expect("try_wait").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("java did not finish within 60 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().expect("wait java");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "java failed ({}): {stdout}{stderr}", out.status);
    assert!(!stdout.contains("exception pending") && !stderr.contains("exception pending"), "{stdout}{stderr}");
    let threw: Vec<&str> = stdout.lines().filter(|l| l.starts_with("threw ") || l.starts_with("sent ")).collect();
    assert_eq!(threw.len(), 3, "{stdout}{stderr}");
    assert!(
        threw[0].starts_with("threw java.lang.NullPointerException: sendFds: socketPath and fds must not be null"),
        "{}",
        threw[0]
    );
    assert!(
        threw[1].starts_with("threw java.lang.NullPointerException: sendFds: socketPath and fds must not be null"),
        "{}",
        threw[1]
    );
    assert!(
        threw[2].starts_with("threw java.lang.IllegalArgumentException: sendFds takes 1 to 32 descriptors, not 33"),
        "{}",
        threw[2]
    );
}
