//! Finding a process's listening TCP sockets from /proc: `net/tcp{,6}` (in the process's own network
//! namespace) gives the LISTEN sockets and their inodes, `fd/` says which descriptor holds each.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::Path;

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
    let proc_dir = Path::new("/proc").join(pid.to_string());
    let mut by_inode: HashMap<u64, (SocketAddr, bool)> = HashMap::new();
    for (file, v6) in [("net/tcp", false), ("net/tcp6", true)] {
        match std::fs::read_to_string(proc_dir.join(file)) {
            Ok(text) => {
                for (addr, inode) in parse_listen_table(&text, v6) {
                    by_inode.insert(inode, (addr, v6));
                }
            }
            // A kernel without IPv6 has no tcp6.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && v6 => {}
            Err(e) => return Err(e),
        }
    }
    let mut out = Vec::new();
    for entry in std::fs::read_dir(proc_dir.join("fd"))? {
        let Ok(entry) = entry else { continue };
        let Ok(link) = std::fs::read_link(entry.path()) else { continue };
        let Some(inode) = socket_inode(&link.to_string_lossy()) else { continue };
        let Some(&(addr, ipv6)) = by_inode.get(&inode) else { continue };
        let Ok(fd) = entry.file_name().to_string_lossy().parse::<i32>() else { continue };
        // Several descriptors may hold the same socket (dup); one is enough.
        if out.iter().any(|l: &Listener| l.inode == inode) {
            continue;
        }
        out.push(Listener { fd, inode, addr, ipv6 });
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
    let proc_dir = Path::new("/proc").join(pid.to_string());
    for (file, v6) in [("net/tcp", false), ("net/tcp6", true)] {
        if let Ok(text) = std::fs::read_to_string(proc_dir.join(file))
            && parse_listen_table(&text, v6).iter().any(|(addr, _)| matches(addr))
        {
            return Ok(PortHolder::Other);
        }
    }
    Ok(PortHolder::Nobody)
}

/// How many connected TCP sockets `pid` holds with bytes in their receive queue: data the
/// process has not read yet (a request no exchange has started on).
pub fn unread_connections(pid: u32) -> std::io::Result<usize> {
    let proc_dir = Path::new("/proc").join(pid.to_string());
    let mut unread = Vec::new();
    for file in ["net/tcp", "net/tcp6"] {
        if let Ok(text) = std::fs::read_to_string(proc_dir.join(file)) {
            unread.extend(parse_unread_table(&text));
        }
    }
    if unread.is_empty() {
        return Ok(0);
    }
    let mut n = 0;
    for entry in std::fs::read_dir(proc_dir.join("fd"))?.flatten() {
        let Ok(link) = std::fs::read_link(entry.path()) else { continue };
        if socket_inode(&link.to_string_lossy()).is_some_and(|i| unread.contains(&i)) {
            n += 1;
        }
    }
    Ok(n)
}

/// Inodes of ESTABLISHED (01) sockets with a non-empty receive queue (`tx_queue:rx_queue`, hex).
pub fn parse_unread_table(text: &str) -> Vec<u64> {
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let cols: Vec<&str> = line.split_whitespace().collect();
            if cols.len() < 10 || cols[3] != "01" {
                return None;
            }
            let rx = u64::from_str_radix(cols[4].split_once(':')?.1, 16).ok()?;
            let inode = cols[9].parse::<u64>().ok()?;
            (rx > 0 && inode != 0).then_some(inode)
        })
        .collect()
}

/// `socket:[12345]` → 12345.
pub fn socket_inode(link: &str) -> Option<u64> {
    link.strip_prefix("socket:[")?.strip_suffix(']')?.parse().ok()
}

/// (local address, inode) of every LISTEN (state 0A) line of /proc/net/tcp or tcp6.
pub fn parse_listen_table(text: &str, v6: bool) -> Vec<(SocketAddr, u64)> {
    let mut out = Vec::new();
    for line in text.lines().skip(1) {
        let cols: Vec<&str> = line.split_whitespace().collect();
        if cols.len() < 10 || cols[3] != "0A" {
            continue;
        }
        let Some(addr) = parse_addr(cols[1], v6) else { continue };
        let Ok(inode) = cols[9].parse::<u64>() else { continue };
        if inode == 0 {
            continue;
        }
        out.push((addr, inode));
    }
    out
}

/// The kernel prints addresses as the in-memory words in hex: each 32-bit word in host byte order,
/// the port in network order.
fn parse_addr(s: &str, v6: bool) -> Option<SocketAddr> {
    let (ip_hex, port_hex) = s.split_once(':')?;
    let port = u16::from_str_radix(port_hex, 16).ok()?;
    let ip = if v6 {
        if ip_hex.len() != 32 {
            return None;
        }
        let mut bytes = [0u8; 16];
        for w in 0..4 {
            let word = u32::from_str_radix(&ip_hex[w * 8..w * 8 + 8], 16).ok()?;
            bytes[w * 4..w * 4 + 4].copy_from_slice(&word.to_ne_bytes());
        }
        normalise(IpAddr::V6(Ipv6Addr::from(bytes)))
    } else {
        let word = u32::from_str_radix(ip_hex, 16).ok()?;
        IpAddr::V4(Ipv4Addr::from(word.to_ne_bytes()))
    };
    Some(SocketAddr::new(ip, port))
}

/// IPv4-mapped → IPv4, and `::` ≡ `0.0.0.0`, as the shim compares them.
pub fn normalise(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) if v6.is_unspecified() => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    }
}

/// The kernel's ephemeral port range: a listener in it was most likely bound to port 0 (an RMI
/// registry, a debugger, jhot's own agent channel on JDK 11–15) and a new process cannot ask for it.
pub fn ephemeral_range(pid: u32) -> (u16, u16) {
    let read = |p: &str| std::fs::read_to_string(p).ok();
    let text = read(&format!("/proc/{pid}/root/proc/sys/net/ipv4/ip_local_port_range"))
        .or_else(|| read("/proc/sys/net/ipv4/ip_local_port_range"))
        .unwrap_or_default();
    let mut it = text.split_whitespace().filter_map(|x| x.parse::<u16>().ok());
    match (it.next(), it.next()) {
        (Some(a), Some(b)) if a <= b => (a, b),
        _ => (32768, 60999),
    }
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
    fn socket_links() {
        assert_eq!(socket_inode("socket:[64413]"), Some(64413));
        assert_eq!(socket_inode("pipe:[5]"), None);
        assert_eq!(socket_inode("/dev/null"), None);
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
