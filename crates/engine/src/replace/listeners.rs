//! Finding a process's listening TCP sockets from /proc: `net/tcp{,6}` (in the process's own network
//! namespace) gives the LISTEN sockets and their inodes, `fd/` says which descriptor holds each.
//! The files are read and parsed by `jhot_attach::procfs`; this module decides what they mean.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use jhot_attach::procfs::{self, TCP_ESTABLISHED, TCP_LISTEN, TcpSocket};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Listener {
    /// The descriptor number in the process that holds it.
    pub fd: i32,
    pub inode: u64,
    /// Local address, normalised: an IPv4-mapped IPv6 address is shown as IPv4.
    pub addr: SocketAddr,
    /// Whether the socket is AF_INET6 (dual-stack when bound to `::`).
    pub ipv6: bool,
}

/// TCP sockets in state LISTEN held by `pid`, ordered by port.
pub fn of_process(pid: u32) -> std::io::Result<Vec<Listener>> {
    let mut by_inode: HashMap<u64, (SocketAddr, bool)> = HashMap::new();
    for v6 in [false, true] {
        match procfs::read_net_tcp(pid, v6) {
            Ok(sockets) => {
                for (addr, inode) in listening(&sockets) {
                    by_inode.insert(inode, (addr, v6));
                }
            }
            // A kernel without IPv6 has no tcp6.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && v6 => {}
            Err(e) => return Err(e),
        }
    }
    let mut out = Vec::new();
    for open in procfs::read_fds(pid)? {
        let Some(inode) = open.socket_inode() else { continue };
        let Some(&(addr, ipv6)) = by_inode.get(&inode) else { continue };
        // Several descriptors may hold the same socket (dup); one is enough.
        if out.iter().any(|l: &Listener| l.inode == inode) {
            continue;
        }
        out.push(Listener { fd: open.fd, inode, addr, ipv6 });
    }
    out.sort_by_key(|l| (l.addr.port(), l.fd));
    Ok(out)
}

/// Who listens on 127.0.0.1:`port` in the network namespace of process `pid`.
#[derive(Debug, PartialEq, Eq)]
pub enum PortHolder {
    /// Process `pid` itself: where jhot may send the agent's token.
    Target,
    /// Some other socket: the token must not go there.
    Other,
    /// Nobody: a port file left behind.
    Nobody,
}

pub fn loopback_listener(pid: u32, port: u16) -> std::io::Result<PortHolder> {
    let matches = |addr: &SocketAddr| {
        addr.port() == port && (addr.ip() == IpAddr::V4(Ipv4Addr::LOCALHOST) || addr.ip().is_unspecified())
    };
    if of_process(pid)?.iter().any(|l| matches(&l.addr)) {
        return Ok(PortHolder::Target);
    }
    for v6 in [false, true] {
        if let Ok(sockets) = procfs::read_net_tcp(pid, v6)
            && listening(&sockets).iter().any(|(addr, _)| matches(addr))
        {
            return Ok(PortHolder::Other);
        }
    }
    Ok(PortHolder::Nobody)
}

/// How many connected TCP sockets `pid` holds with bytes in their receive queue: data the
/// process has not read yet (a request no exchange has started on).
pub fn unread_connections(pid: u32) -> std::io::Result<usize> {
    let mut unread = Vec::new();
    for v6 in [false, true] {
        if let Ok(sockets) = procfs::read_net_tcp(pid, v6) {
            unread.extend(with_unread_bytes(&sockets));
        }
    }
    if unread.is_empty() {
        return Ok(0);
    }
    let held = procfs::read_fds(pid)?;
    Ok(held.iter().filter(|open| open.socket_inode().is_some_and(|i| unread.contains(&i))).count())
}

/// Inodes of ESTABLISHED sockets with a non-empty receive queue.
fn with_unread_bytes(sockets: &[TcpSocket]) -> Vec<u64> {
    sockets.iter().filter(|s| s.state == TCP_ESTABLISHED && s.rx_queue > 0 && s.inode != 0).map(|s| s.inode).collect()
}

/// (local address, normalised, and inode) of every LISTEN socket.
fn listening(sockets: &[TcpSocket]) -> Vec<(SocketAddr, u64)> {
    sockets
        .iter()
        .filter(|s| s.state == TCP_LISTEN && s.inode != 0)
        .map(|s| (SocketAddr::new(normalise(s.local.ip()), s.local.port()), s.inode))
        .collect()
}

/// IPv4-mapped → IPv4, and `::` ≡ `0.0.0.0`, as the shim compares them.
pub fn normalise(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) if v6.is_unspecified() => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    }
}

/// Ports of a JVM that are provably not its application's. jhot's own agent channel is not handed
/// over at all. A debugger's or JMX's listener is handed over, because the new JVM, started with
/// the same options, binds the same fixed port early and would fail on a port still in use; but
/// readiness does not wait for it (a port-0 one is never taken up) and it is not the application's
/// traffic.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct NotTheApplications {
    /// jhot's agent channel (JDK 11–15).
    pub jhot: Option<u16>,
    /// (port, why), e.g. (5005, "JDWP (the debugger)").
    pub ports: Vec<(u16, String)>,
}

impl NotTheApplications {
    fn add(&mut self, port: Option<u16>, why: &str) {
        if let Some(p) = port.filter(|p| *p != 0)
            && !self.ports.iter().any(|(q, _)| *q == p)
        {
            self.ports.push((p, why.to_string()));
        }
    }

    /// From the JVM's system properties and agent properties (the attach `properties` and
    /// `agentProperties` answers, in `java.util.Properties` text form).
    pub fn from_properties(&mut self, system: &str, agent: &str) {
        let sys = parse_properties(system);
        let agent = parse_properties(agent);
        self.add(agent.get("sun.jdwp.listenerAddress").and_then(|a| last_port(a)), "JDWP (the debugger)");
        for (key, why) in JMX_KEYS {
            self.add(sys.get(*key).and_then(|v| v.trim().parse().ok()), why);
        }
    }

    /// From the command line (and JAVA_TOOL_OPTIONS / JDK_JAVA_OPTIONS, split on spaces): what a
    /// JVM that refuses to attach still shows.
    pub fn from_command_line<'a>(&mut self, args: impl IntoIterator<Item = &'a str>) {
        for a in args {
            if let Some(opts) = a.strip_prefix("-agentlib:jdwp=").or_else(|| a.strip_prefix("-Xrunjdwp:")) {
                let address = opts.split(',').find_map(|o| o.strip_prefix("address="));
                self.add(address.and_then(last_port), "JDWP (the debugger)");
            }
            if let Some(def) = a.strip_prefix("-D")
                && let Some((key, value)) = def.split_once('=')
                && let Some((_, why)) = JMX_KEYS.iter().find(|(k, _)| *k == key)
            {
                self.add(value.trim().parse().ok(), why);
            }
        }
    }

    pub fn why(&self, port: u16) -> Option<&str> {
        self.ports.iter().find(|(p, _)| *p == port).map(|(_, w)| w.as_str())
    }
}

const JMX_KEYS: &[(&str, &str)] = &[
    ("com.sun.management.jmxremote.port", "JMX (its RMI registry)"),
    ("com.sun.management.jmxremote.rmi.port", "JMX (its RMI connector)"),
    ("com.sun.management.jmxremote.local.port", "JMX (its local connector)"),
];

/// `host:port`, `*:port`, `port`, or `transport:host:port`: the number after the last colon.
fn last_port(address: &str) -> Option<u16> {
    address.rsplit(':').next()?.trim().parse().ok()
}

/// `java.util.Properties` text: `key=value` lines, `#` comments, backslash escapes (`\:` for a
/// colon, `\uXXXX`); continuation lines are not needed for the keys jhot reads.
pub fn parse_properties(text: &str) -> HashMap<String, String> {
    let unescape = |s: &str| {
        let mut out = String::with_capacity(s.len());
        let mut it = s.chars();
        while let Some(c) = it.next() {
            if c != '\\' {
                out.push(c);
                continue;
            }
            match it.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some('u') => {
                    let hex: String = it.by_ref().take(4).collect();
                    if let Some(ch) = u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                        out.push(ch);
                    }
                }
                Some(other) => out.push(other),
                None => {}
            }
        }
        out
    };
    let mut map = HashMap::new();
    for line in text.lines() {
        let line = line.trim_start();
        if line.is_empty() || line.starts_with('#') || line.starts_with('!') {
            continue;
        }
        // The first '=' or ':' not escaped ends the key.
        let mut split = None;
        let mut escaped = false;
        for (i, c) in line.char_indices() {
            match c {
                '\\' if !escaped => escaped = true,
                '=' | ':' if !escaped => {
                    split = Some(i);
                    break;
                }
                _ => escaped = false,
            }
        }
        let Some(i) = split else { continue };
        map.insert(unescape(line[..i].trim_end()), unescape(line[i + 1..].trim_start()));
    }
    map
}

/// Where a client on this machine reaches a listener: the wildcard addresses mean loopback.
pub fn connect_addr(addr: SocketAddr) -> SocketAddr {
    match addr.ip() {
        IpAddr::V4(v4) if v4.is_unspecified() => SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), addr.port()),
        IpAddr::V6(v6) if v6.is_unspecified() => SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), addr.port()),
        _ => addr,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TCP: &str = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 64413 1 0000000000000000 100 0 0 10 0
   1: 0100007F:1F90 0100007F:C350 01 00000000:00000000 00:00000000 00000000     0        0 64999 1 0000000000000000 20 4 30 10 -1
   2: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 111 1 0000000000000000 100 0 0 10 0
";
    const TCP6: &str = "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0000000000000000FFFF00000100007F:46A0 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 64457 1 0000000000000000 100 0 0 10 0
   1: 00000000000000000000000000000000:1F91 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 777 1 0000000000000000 100 0 0 10 0
   2: 00000000000000000000000001000000:1F92 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 778 1 0000000000000000 100 0 0 10 0
";

    fn parse_listen_table(text: &str, v6: bool) -> Vec<(SocketAddr, u64)> {
        listening(&procfs::parse_net_tcp(text, v6))
    }

    fn parse_unread_table(text: &str) -> Vec<u64> {
        with_unread_bytes(&procfs::parse_net_tcp(text, false))
    }

    #[test]
    fn listen_lines_only_with_addresses_decoded() {
        let v4 = parse_listen_table(TCP, false);
        assert_eq!(v4, vec![("127.0.0.1:8080".parse().unwrap(), 64413), ("0.0.0.0:22".parse().unwrap(), 111)]);
        let v6 = parse_listen_table(TCP6, true);
        assert_eq!(
            v6,
            vec![
                ("127.0.0.1:18080".parse().unwrap(), 64457),
                ("0.0.0.0:8081".parse().unwrap(), 777),
                ("[::1]:8082".parse().unwrap(), 778),
            ]
        );
    }

    #[test]
    fn unread_lines_are_established_with_a_receive_queue() {
        assert!(parse_unread_table(TCP).is_empty());
        let busy = TCP.replace("01 00000000:00000000", "01 00000000:0000004E");
        assert_eq!(parse_unread_table(&busy), vec![64999]);
        let listening_with_backlog = TCP.replace(
            "0A 00000000:00000000 00:00000000 00000000     0        0 111",
            "0A 00000000:00000003 00:00000000 00000000     0        0 111",
        );
        assert!(parse_unread_table(&listening_with_backlog).is_empty(), "a listener's queue is its backlog, not data");
    }

    #[test]
    fn ports_that_are_not_the_applications() {
        let mut n = NotTheApplications::default();
        n.from_properties(
            "#Thu Dec 05\ncom.sun.management.jmxremote.port=9010\njava.vm.name=OpenJDK 64-Bit Server VM\n",
            "sun.jdwp.listenerAddress=dt_socket\\:*\\:5005\nsun.java.command=app.jar\n",
        );
        assert_eq!(n.why(5005), Some("JDWP (the debugger)"));
        assert_eq!(n.why(9010), Some("JMX (its RMI registry)"));
        assert_eq!(n.why(8080), None);
        let mut c = NotTheApplications::default();
        c.from_command_line([
            "java",
            "-agentlib:jdwp=transport=dt_socket,server=y,suspend=n,address=localhost:8000",
            "-Dcom.sun.management.jmxremote.rmi.port=9011",
            "-Dother.port=1",
            "-jar",
            "app.jar",
        ]);
        assert_eq!(c.ports, vec![(8000, "JDWP (the debugger)".into()), (9011, "JMX (its RMI connector)".into())]);
        let p = parse_properties("a\\:b=c\\u0041\n  x : y\n!comment\n");
        assert_eq!(p.get("a:b").map(String::as_str), Some("cA"));
        assert_eq!(p.get("x").map(String::as_str), Some("y"));
    }

    #[test]
    fn finds_own_listener() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = l.local_addr().expect("addr").port();
        let found = of_process(std::process::id()).expect("scan");
        let me = found.iter().find(|x| x.addr.port() == port).expect("our listener is listed");
        assert_eq!(me.fd, std::os::fd::AsRawFd::as_raw_fd(&l));
        assert_eq!(me.addr.ip(), IpAddr::V4(Ipv4Addr::LOCALHOST));
    }
}
