//! Integration tests of libjhot_shim.so: real processes (Python 3 and JDK 17/25 servers) run with
//! the library preloaded, and the test plays jhot's part of docs/shim-protocol.md.

mod harness;

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::os::fd::AsRawFd;

use harness::*;

// ---- Python: protocol-level ------------------------------------------------------------------------

/// Adoption, ADOPTED and ACCEPTING, the O_NONBLOCK guard (fcntl and FIONBIO), the shutdown guard
/// and the environment clean-up.
#[test]
fn python_adopts_inherited_listener() {
    let (parent, port) = listener();
    let pfd = parent.as_raw_fd();
    assert!(!nonblocking(pfd), "std listeners start blocking");
    let mut ctl = Ctl::new();
    let page = Page::new();
    let mut srv = Spawn::python()
        .fd(pfd, "listen-0")
        .fd(ctl.child_end(), "jhot-ctl")
        .fd(page.fd(), "jhot-page")
        .env("JHOT_SHIM_SOMETHING", "x")
        .start_with_preload(&format!("libm.so.6:{}", shim_path().display()));
    ctl.spawned();
    let hello = ctl.expect(Kind::Hello);
    assert_eq!(hello.pid, srv.pid);
    srv.line("ready");

    srv.cmd(&format!("bind web 127.0.0.1 {port}"));
    let bound = srv.line("bound web");
    let server_fd: i32 = bound.split_whitespace().nth(3).unwrap().parse().unwrap();
    let adopted = ctl.expect(Kind::Adopted);
    assert_eq!((adopted.fd, adopted.index, adopted.port, adopted.pid), (server_fd, 0, port as u32, srv.pid));
    assert!(adopted.file.is_none());
    // The selector registered the listener (epoll_ctl ADD, EPOLLIN).
    let accepting = ctl.expect(Kind::Accepting);
    assert_eq!((accepting.fd, accepting.index, accepting.port), (server_fd, 0, port as u32));

    // One kernel socket, held by both processes.
    assert_eq!(inode_in(srv.pid, server_fd), inode(pfd));
    // The server answers on it.
    let mut c = connect(port);
    let body = get(&mut c, "/");
    assert!(body.starts_with(&format!("old pid={} ", srv.pid)), "{body}");

    // O_NONBLOCK forced on the shared description, and kept whichever way the server clears it.
    assert!(nonblocking(pfd), "O_NONBLOCK not set on the adopted listener");
    srv.cmd("clear-fcntl web");
    assert_eq!(srv.line("flags web"), "flags web nonblock");
    srv.cmd("clear-ioctl web");
    assert_eq!(srv.line("flags web"), "flags web nonblock");
    assert!(nonblocking(pfd));

    // shutdown() of the shared listener must not stop it listening for the parent.
    srv.cmd("pause web");
    srv.line("paused web");
    srv.cmd("shutdown web");
    assert_eq!(srv.line("shutdown web"), "shutdown web ok");
    let mut c2 = connect(port);
    let (mut s2, _) = accept_within(pfd);
    c2.write_all(b"ping").unwrap();
    let mut buf = [0u8; 4];
    s2.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"ping");
    srv.cmd("resume web");
    srv.line("resumed web");
    assert!(get(&mut c, "/again").contains("path=/again"));

    // Children of the server inherit none of the shim.
    srv.cmd("env");
    let mut child_env = Vec::new();
    loop {
        let l = srv.line("env");
        if l == "env-done" {
            break;
        }
        child_env.push(l);
    }
    let leaks: Vec<&String> = child_env
        .iter()
        .filter(|l| l.contains("LISTEN_") || l.contains("JHOT_SHIM_") || l.contains("jhot_shim"))
        .collect();
    assert!(leaks.is_empty(), "leaked into the environment: {leaks:?}");
    assert!(child_env.contains(&"env-child LD_PRELOAD=libm.so.6".to_string()), "{child_env:?}");
    assert!(child_env.contains(&"env-self LD_PRELOAD=libm.so.6".to_string()), "{child_env:?}");
    srv.stderr_has("adopted inherited listener 0");
}

/// The server's own listener on an explicit port is reported with a usable copy; one on port 0
/// is neither reported nor treated as a service listener.
#[test]
fn python_own_listener_reported_port_zero_not() {
    let mut ctl = Ctl::new();
    let page = Page::new();
    let mut srv = Spawn::python().fd(ctl.child_end(), "jhot-ctl").fd(page.fd(), "jhot-page").start();
    ctl.spawned();
    ctl.expect(Kind::Hello);
    srv.line("ready");

    srv.cmd("bind zero 127.0.0.1 0");
    let zero_port: u16 = srv.line("bound zero").split_whitespace().nth(2).unwrap().parse().unwrap();
    let port = free_port();
    srv.cmd(&format!("bind web 127.0.0.1 {port}"));
    let server_fd: i32 = srv.line("bound web").split_whitespace().nth(3).unwrap().parse().unwrap();

    // The port-0 listener came first: had it been reported, its message would be this one.
    let listening = ctl.expect(Kind::Listening);
    assert_eq!((listening.fd, listening.index, listening.port), (server_fd, -1, port as u32));
    let copy = listening.file.expect("LISTENING carries the listener");
    assert_eq!(local_port(copy.as_raw_fd()), port);
    assert_eq!(inode(copy.as_raw_fd()), inode_in(srv.pid, server_fd));
    let accepting = ctl.expect(Kind::Accepting);
    assert_eq!((accepting.fd, accepting.index, accepting.port), (server_fd, -1, port as u32));

    // The copy is usable: with the server not accepting, the parent takes the connection.
    srv.cmd("pause web");
    srv.line("paused web");
    let mut c = connect(port);
    set_nonblocking(copy.as_raw_fd(), true);
    let (mut s, _) = accept_within(copy.as_raw_fd());
    c.write_all(b"hi").unwrap();
    let mut buf = [0u8; 2];
    s.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"hi");
    assert_ne!(zero_port, port);

    // Draining refuses new connections only on service listeners: port 0 keeps accepting, and its
    // connections are not handed over.
    page.set_drain(true);
    let mut z = connect(zero_port);
    srv.line("accepted zero");
    assert!(get(&mut z, "/zero").contains("path=/zero"));
    assert!(get(&mut z, "/zero2").contains("path=/zero2"));
    assert!(ctl.pending().is_none(), "unexpected message");
}

/// While draining: idle (fresh or at a boundary) keep-alive connections move to jhot with the
/// client's next request still in the kernel, and accept says EAGAIN.
#[test]
fn python_hands_over_while_draining() {
    let mut ctl = Ctl::new();
    let page = Page::new();
    let mut srv = Spawn::python().fd(ctl.child_end(), "jhot-ctl").fd(page.fd(), "jhot-page").start();
    ctl.spawned();
    ctl.expect(Kind::Hello);
    srv.line("ready");
    let port = free_port();
    srv.cmd(&format!("bind web 127.0.0.1 {port}"));
    srv.line("bound web");
    let copy = ctl.expect(Kind::Listening).file.expect("listener copy");
    ctl.expect(Kind::Accepting);

    // a: one request answered (at a boundary); b: connected, nothing sent (fresh).
    let mut a = connect(port);
    assert!(get(&mut a, "/1").starts_with("old "));
    let mut b = connect(port);
    srv.line("accepted web");
    srv.line("accepted web");

    page.set_drain(true);

    for (client, path) in [(&mut a, "/2"), (&mut b, "/first")] {
        client.write_all(request(path).as_bytes()).unwrap();
        let h = ctl.expect(Kind::Handover);
        assert_eq!(h.flags & 1, 1, "the request should be waiting in the kernel");
        assert_eq!((h.index, h.port), (-1, port as u32));
        let mut conn = std::net::TcpStream::from(h.file.expect("HANDOVER carries the connection"));
        conn.set_read_timeout(Some(TIMEOUT)).unwrap();
        assert_eq!(conn.peer_addr().unwrap(), client.local_addr().unwrap());
        let (head, _) = read_head(&mut conn);
        assert!(head.starts_with(format!("GET {path} ").as_bytes()));
        respond(&mut conn, "from jhot\n");
        assert_eq!(read_response(client), "from jhot\n");
        // The old server saw end of stream and closed its descriptor, without a FIN to the client.
        srv.line("eof");
        respond(&mut conn, "still open\n");
        assert_eq!(read_response(client), "still open\n");
    }

    // A new connection is left in the shared queue for whoever else accepts.
    let mut c = connect(port);
    srv.line("accept-eagain web");
    let (mut s, peer) = accept_within(copy.as_raw_fd());
    assert_eq!(peer, c.local_addr().unwrap());
    c.write_all(b"x").unwrap();
    let mut one = [0u8; 1];
    s.read_exact(&mut one).unwrap();
    srv.stderr_has("handed over to jhot");
}

/// A connection with a request in flight stays with the old server, and so does one whose client
/// has already closed.
#[test]
fn python_keeps_in_flight_connections() {
    let mut ctl = Ctl::new();
    let page = Page::new();
    let mut srv = Spawn::python().fd(ctl.child_end(), "jhot-ctl").fd(page.fd(), "jhot-page").start();
    ctl.spawned();
    ctl.expect(Kind::Hello);
    srv.line("ready");
    let port = free_port();
    srv.cmd(&format!("bind web 127.0.0.1 {port}"));
    srv.line("bound web");
    ctl.expect(Kind::Listening);
    ctl.expect(Kind::Accepting);

    // a: a POST whose body is half sent; b: headers half sent; c: nothing sent yet.
    let mut a = connect(port);
    a.write_all(b"POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nab").unwrap();
    srv.line("partial");
    let mut b = connect(port);
    b.write_all(b"GET /close HTTP/1.1\r\n").unwrap();
    srv.line("partial");
    let mut c = connect(port);
    srv.line("accepted web");

    page.set_drain(true);

    // The rest of a's body reaches the old server, which answers.
    a.write_all(b"cde").unwrap();
    assert!(read_response(&mut a).contains("path=/upload"));
    // b's request completes; the old server closes without answering: no hand-over.
    b.write_all(b"\r\n").unwrap();
    srv.line("closing");
    assert_eof(&mut b);
    // c closes before ever sending: nothing to hand over.
    c.shutdown(std::net::Shutdown::Write).unwrap();
    assert_eof(&mut c);
    srv.line("eof");
    // Each decision was taken before the event just awaited, so a HANDOVER would be queued now.
    assert!(ctl.pending().is_none(), "a connection was handed over");

    // a is at a boundary now: its next request does move.
    a.write_all(request("/next").as_bytes()).unwrap();
    let h = ctl.expect(Kind::Handover);
    assert_eq!(h.flags & 1, 1);
    let mut conn = std::net::TcpStream::from(h.file.unwrap());
    conn.set_read_timeout(Some(TIMEOUT)).unwrap();
    assert!(read_head(&mut conn).0.starts_with(b"GET /next "));
    srv.stderr_has("client has closed; not handed over");
}

/// Connections whose boundaries the shim cannot see stay with the old server: one that does not
/// speak HTTP/1.x (TLS here), one whose last response said `Connection: close`, and one waiting
/// for its body after `100 Continue`.
#[test]
fn python_pins_what_is_not_plain_http1() {
    let mut ctl = Ctl::new();
    let page = Page::new();
    let mut srv = Spawn::python().fd(ctl.child_end(), "jhot-ctl").fd(page.fd(), "jhot-page").start();
    ctl.spawned();
    ctl.expect(Kind::Hello);
    srv.line("ready");
    let port = free_port();
    srv.cmd(&format!("bind web 127.0.0.1 {port}"));
    srv.line("bound web");
    ctl.expect(Kind::Listening);
    ctl.expect(Kind::Accepting);

    // c1: a TLS ClientHello-like start.
    let mut tls = connect(port);
    tls.write_all(b"\x16\x03\x01\x00\x05hello").unwrap();
    assert_eq!(srv.line("partial c1"), "partial c1 10");
    // c2: a response that is the connection's last.
    let mut last = connect(port);
    assert!(get(&mut last, "/last").contains("path=/last"));
    // c3: headers of an upload that waits for 100 Continue.
    let mut upload = connect(port);
    upload.write_all(b"POST /upload HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n").unwrap();
    srv.line("continued c3");
    let (interim, _) = read_head(&mut upload);
    assert!(interim.starts_with(b"HTTP/1.1 100 "));

    page.set_drain(true);

    tls.write_all(b"more").unwrap();
    assert_eq!(srv.line("partial c1"), "partial c1 14");
    assert!(get(&mut last, "/after-last").contains("path=/after-last"));
    upload.write_all(b"abcde").unwrap();
    assert!(read_response(&mut upload).contains("path=/upload"));
    assert!(ctl.pending().is_none(), "a connection was handed over");

    // The upload's exchange is over: its next request moves.
    upload.write_all(request("/next").as_bytes()).unwrap();
    let h = ctl.expect(Kind::Handover);
    assert_eq!(h.flags & 1, 1);
    srv.stderr_has("pinned to this process");
}

/// INJECT through a doorbell (accept4), and PROBE.
#[test]
fn python_inject_and_probe() {
    let (parent, port) = listener();
    let mut ctl = Ctl::new();
    let page = Page::new();
    let mut srv = Spawn::python()
        .fd(parent.as_raw_fd(), "listen-0")
        .fd(ctl.child_end(), "jhot-ctl")
        .fd(page.fd(), "jhot-page")
        .start();
    ctl.spawned();
    ctl.expect(Kind::Hello);
    srv.line("ready");
    srv.cmd(&format!("bind web 127.0.0.1 {port}"));
    srv.line("bound web");
    ctl.expect(Kind::Adopted);
    ctl.expect(Kind::Accepting);

    inject(&ctl, &page, port, |client, doorbell_port, injected| {
        let accepted = srv.line("accepted web");
        assert!(accepted.ends_with(&format!(" {}", client.local_addr().unwrap())), "{accepted}");
        assert_eq!(injected.port, doorbell_port as u32);
        let body = get(client, "/injected");
        assert!(body.contains(&format!("peer={} ", client.local_addr().unwrap())), "{body}");
    });

    probe(&ctl, &page, port);
}

/// Plays jhot: a connected pair, INJECT with the server-side end, the doorbell; then `check`.
fn inject(ctl: &Ctl, page: &Page, port: u16, check: impl FnOnce(&mut std::net::TcpStream, u16, &Msg)) {
    let (side, side_port) = listener();
    let mut client = connect(side_port);
    let (server_end, _) = side.accept().unwrap();
    client.write_all(request("/early").as_bytes()).unwrap();
    let doorbell = bound_socket();
    let doorbell_port = doorbell.port;
    ctl.send_inject(server_end.as_raw_fd(), doorbell_port);
    page.bump_inject_seq();
    drop(server_end);
    let mut bell = doorbell.connect(port);
    let injected = ctl.expect(Kind::Injected);
    // The request sent before the move is answered by the new server, on the same connection.
    let early = read_response(&mut client);
    assert!(early.contains("path=/early"), "{early}");
    assert!(early.contains(&format!("peer={} ", client.local_addr().unwrap())), "{early}");
    check(&mut client, doorbell_port, &injected);
    assert_eof(&mut bell);
}

fn probe(ctl: &Ctl, page: &Page, port: u16) {
    let p = bound_socket();
    let probe_port = p.port;
    let dst: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    page.set_probe(3, format!("127.0.0.1:{probe_port}").parse().unwrap(), dst);
    let mut s = p.connect(port);
    let m = ctl.expect(Kind::Probe);
    assert_eq!(m.port, probe_port as u32);
    assert!(get(&mut s, "/probe").contains("path=/probe"));
}

/// Review M7: only jhot's exact source address and port make a probe or a doorbell. Another
/// local user can connect from 127.0.0.2 with the same port; that connection is an ordinary one.
#[test]
fn python_probe_and_doorbell_match_the_whole_address() {
    let (parent, port) = listener();
    let mut ctl = Ctl::new();
    let page = Page::new();
    let mut srv = Spawn::python()
        .fd(parent.as_raw_fd(), "listen-0")
        .fd(ctl.child_end(), "jhot-ctl")
        .fd(page.fd(), "jhot-page")
        .env("JHOT_SHIM_DEBUG", "1")
        .start();
    ctl.spawned();
    ctl.expect(Kind::Hello);
    srv.line("ready");
    srv.cmd(&format!("bind web 127.0.0.1 {port}"));
    srv.line("bound web");
    ctl.expect(Kind::Adopted);
    ctl.expect(Kind::Accepting);

    // jhot's probe source is bound (and stays bound) on 127.0.0.1; the spoofer takes its port on
    // 127.0.0.2 and connects first.
    let probe = bound_socket();
    let dst: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    page.set_probe(0, format!("127.0.0.1:{}", probe.port).parse().unwrap(), dst);
    let mut spoof = bound_socket_at([127, 0, 0, 2], probe.port).connect(port);
    let accepted = srv.line("accepted web");
    assert!(accepted.ends_with(&format!("127.0.0.2:{}", probe.port)), "{accepted}");
    assert!(get(&mut spoof, "/spoof").contains("path=/spoof"), "an ordinary connection");
    assert!(ctl.pending().is_none(), "no PROBE for a connection from 127.0.0.2");
    let mut real = probe.connect(port);
    srv.line("accepted web");
    assert_eq!(ctl.expect(Kind::Probe).port, u32::from(local_port(real.as_raw_fd())));
    assert!(get(&mut real, "/probe").contains("path=/probe"));

    // A doorbell port announced with INJECT, spoofed from 127.0.0.2: not injected.
    let (side, side_port) = listener();
    let mut client = connect(side_port);
    let (server_end, _) = side.accept().unwrap();
    let doorbell = bound_socket();
    ctl.send_inject(server_end.as_raw_fd(), doorbell.port);
    page.bump_inject_seq();
    drop(server_end);
    let mut spoof = bound_socket_at([127, 0, 0, 2], doorbell.port).connect(port);
    let accepted = srv.line("accepted web");
    assert!(accepted.ends_with(&format!("127.0.0.2:{}", doorbell.port)), "{accepted}");
    assert!(get(&mut spoof, "/spoof2").contains("path=/spoof2"), "the spoofer got nobody's connection");
    assert!(ctl.pending().is_none(), "no INJECTED for a connection from 127.0.0.2");
    let _bell = doorbell.connect(port);
    assert_eq!(ctl.expect(Kind::Injected).port, u32::from(local_port(_bell.as_raw_fd())));
    assert!(get(&mut client, "/moved").contains("path=/moved"), "the real doorbell delivers");
}

/// The refuse flag (a rollback): accept says EAGAIN and the connection stays queued for another
/// process; clearing it (a test-only move) lets the server take it.
#[test]
fn python_refuses_while_rolled_back() {
    let (parent, port) = listener();
    let mut ctl = Ctl::new();
    let page = Page::new();
    let mut srv = Spawn::python()
        .fd(parent.as_raw_fd(), "listen-0")
        .fd(ctl.child_end(), "jhot-ctl")
        .fd(page.fd(), "jhot-page")
        .start();
    ctl.spawned();
    ctl.expect(Kind::Hello);
    srv.line("ready");
    srv.cmd(&format!("bind web 127.0.0.1 {port}"));
    srv.line("bound web");
    ctl.expect(Kind::Adopted);
    let mut kept = connect(port);
    srv.line("accepted web");
    page.set_refuse(true);
    let mut queued = connect(port);
    srv.line("accept-eagain web");
    // The test holds the listener too: the queued connection is there for it.
    let (mut taken, _) = accept_within(parent.as_raw_fd());
    queued.write_all(request("/queued").as_bytes()).unwrap();
    let mut buf = [0u8; 64];
    let n = taken.read(&mut buf).unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).contains("/queued"));
    respond(&mut taken, "taken elsewhere");
    assert!(read_response(&mut queued).contains("taken elsewhere"));
    assert!(get(&mut kept, "/kept").contains("path=/kept"), "connections it has stay served");
    page.set_refuse(false);
    let mut later = connect(port);
    srv.line("accepted web");
    assert!(get(&mut later, "/later").contains("path=/later"));
}

/// JHOT_SHIM_REUSEPORT=1 sets SO_REUSEPORT before bind, without any LISTEN_* variable.
#[test]
fn reuseport_without_listen_fds() {
    let script = "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); \
                  print(s.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT))";
    for (value, want) in [("1", "1"), ("0", "0")] {
        let out = std::process::Command::new(python())
            .args(["-c", script])
            .env("LD_PRELOAD", shim_path())
            .env("JHOT_SHIM_REUSEPORT", value)
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), want, "{}", String::from_utf8_lossy(&out.stderr));
    }
}

/// No LISTEN_PID match, or a wrapper executable: pure pass-through, environment untouched.
#[test]
fn inactive_in_other_processes_and_wrappers() {
    let (parent, port) = listener();
    let mut spawn = Spawn::python().fd(parent.as_raw_fd(), "listen-0").env("LISTEN_PID", "1");
    spawn.listen_pid_here = false;
    let mut srv = spawn.start();
    srv.line("ready");
    srv.cmd(&format!("bind web 127.0.0.1 {port}"));
    assert_eq!(srv.line("bind-error"), format!("bind-error web {}", libc::EADDRINUSE));
    srv.cmd("env");
    assert_eq!(srv.line("env-self LISTEN_FDNAMES"), "env-self LISTEN_FDNAMES=listen-0");
    assert!(!nonblocking(parent.as_raw_fd()));
    drop(srv);

    // The shell that execs the server keeps everything for it (same pid).
    let mut spawn = Spawn::new(&["/bin/sh", "-c", "echo \"pid=$$ $LISTEN_PID $LISTEN_FDS ${LD_PRELOAD##*/}\""]);
    spawn.fds.push((parent.as_raw_fd(), "listen-0"));
    let mut sh = spawn.start();
    let pid = sh.pid;
    assert_eq!(sh.line("pid="), format!("pid={pid} {pid} 1 libjhot_shim.so"));
}

// ---- JVM --------------------------------------------------------------------------------------------

const JDK17: &str = "/usr/lib/jvm/java-17-openjdk-amd64/bin/java";
const JDK25: &str = "/usr/lib/jvm/temurin-25-jdk-amd64/bin/java";

fn java_or_skip(java: &str) -> bool {
    let ok = std::path::Path::new(java).exists();
    if !ok {
        eprintln!("SKIPPED: {java} not installed");
    }
    ok
}

fn jvm(java: &str, port: u16) -> Spawn<'static> {
    Spawn::new(&[java, "-Dsun.net.httpserver.nodelay=true", &server_java(), &port.to_string()])
}

/// A JVM as the new process: adoption, ADOPTED + ACCEPTING, INJECT (accept), PROBE, environment.
fn jvm_new_process(java: &str) {
    if !java_or_skip(java) {
        return;
    }
    let (parent, port) = listener();
    let pfd = parent.as_raw_fd();
    let mut ctl = Ctl::new();
    let page = Page::new();
    let mut srv =
        jvm(java, port).fd(pfd, "listen-0").fd(ctl.child_end(), "jhot-ctl").fd(page.fd(), "jhot-page").start();
    ctl.spawned();
    assert_eq!(ctl.expect(Kind::Hello).pid, srv.pid);
    let adopted = ctl.expect(Kind::Adopted);
    assert_eq!((adopted.index, adopted.port), (0, port as u32));
    srv.line("ready");
    let accepting = ctl.expect(Kind::Accepting);
    assert_eq!((accepting.fd, accepting.index), (adopted.fd, 0));
    assert_eq!(inode_in(srv.pid, adopted.fd), inode(pfd));
    assert!(nonblocking(pfd));

    let mut c = connect(port);
    let body = get(&mut c, "/");
    assert!(body.starts_with(&format!("jvm pid={} ", srv.pid)), "{body}");

    inject(&ctl, &page, port, |client, doorbell_port, injected| {
        assert_eq!(injected.port, doorbell_port as u32);
        assert_eq!(injected.index, 0);
        let body = get(client, "/after");
        assert!(body.contains(&format!("peer={} path=/after", client.local_addr().unwrap())), "{body}");
    });
    probe(&ctl, &page, port);

    let env = get(&mut c, "/env");
    let leaks: Vec<&str> = env
        .lines()
        .filter(|l| l.starts_with("LISTEN_") || l.starts_with("JHOT_SHIM_") || l.starts_with("LD_PRELOAD="))
        .collect();
    assert!(leaks.is_empty(), "leaked into a child's environment: {leaks:?}");
    assert!(env.lines().any(|l| l.starts_with("PATH=")), "{env}");
}

/// A JVM as the draining old process: its keep-alive connection moves with the next request.
fn jvm_old_process(java: &str) {
    if !java_or_skip(java) {
        return;
    }
    let port = free_port();
    let mut ctl = Ctl::new();
    let page = Page::new();
    let mut srv = jvm(java, port).fd(ctl.child_end(), "jhot-ctl").fd(page.fd(), "jhot-page").start();
    ctl.spawned();
    ctl.expect(Kind::Hello);
    let listening = ctl.expect(Kind::Listening);
    assert_eq!(listening.port, port as u32);
    srv.line("ready");
    ctl.expect(Kind::Accepting);

    let mut c = connect(port);
    assert!(get(&mut c, "/1").starts_with("jvm "));
    page.set_drain(true);
    c.write_all(request("/2").as_bytes()).unwrap();
    let h = ctl.expect(Kind::Handover);
    assert_eq!(h.flags & 1, 1);
    let mut conn = std::net::TcpStream::from(h.file.unwrap());
    conn.set_read_timeout(Some(TIMEOUT)).unwrap();
    assert!(read_head(&mut conn).0.starts_with(b"GET /2 "));
    respond(&mut conn, "from jhot\n");
    assert_eq!(read_response(&mut c), "from jhot\n");
}

#[test]
fn jdk17_new_process() {
    jvm_new_process(JDK17);
}

#[test]
fn jdk25_new_process() {
    jvm_new_process(JDK25);
}

#[test]
fn jdk17_old_process_hands_over() {
    jvm_old_process(JDK17);
}

#[test]
fn jdk25_old_process_hands_over() {
    jvm_old_process(JDK25);
}

/// A native blocking acceptor (the JDWP agent is one) on an adopted listener: the shared
/// description is non-blocking, but the application never looked at the flags, so its accept
/// waits for a connection instead of failing with EAGAIN.
#[test]
fn a_blocking_acceptor_on_an_adopted_listener_waits() {
    let (parent, port) = listener();
    let mut ctl = Ctl::new();
    let page = Page::new();
    let mut srv = Spawn::python()
        .fd(parent.as_raw_fd(), "listen-0")
        .fd(ctl.child_end(), "jhot-ctl")
        .fd(page.fd(), "jhot-page")
        .start();
    ctl.spawned();
    ctl.expect(Kind::Hello);
    srv.line("ready");
    srv.cmd(&format!("bind-blocking dbg 127.0.0.1 {port}"));
    srv.line("bound-blocking dbg");
    ctl.expect(Kind::Adopted);
    assert!(nonblocking(parent.as_raw_fd()), "the shared description is kept non-blocking");
    // Long enough for an accept without the wait to have failed already.
    std::thread::sleep(std::time::Duration::from_millis(300));
    let _client = connect(port);
    let got = srv.line("blocking-");
    assert!(got.starts_with("blocking-accepted dbg 127.0.0.1:"), "{got}");
}
