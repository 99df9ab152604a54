//! `--ready-url`: an application-level readiness check of the new process. The new and the old
//! process share the listening socket, so a plain request could be answered by the old one; the
//! probe connects from an address and port it announces in the shim's page (with the address it
//! connects to), and only a connection the shim reports (PROBE) as accepted by the new process
//! carries the request. The whole 4-tuple counts: any local user can connect from 127.0.0.2 with
//! the probe's port, but nobody can from jhot's bound address and port.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs};
use std::os::fd::AsFd;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpSocket;

use super::TakeoverError;
use super::generation::{ExitWatch, Generation};

#[derive(Debug, Clone)]
pub struct ReadyUrl {
    pub url: String,
    pub addr: SocketAddr,
    pub host: String,
    pub path: String,
}

impl ReadyUrl {
    pub fn parse(url: &str) -> Result<ReadyUrl, TakeoverError> {
        let bad =
            |why: &str| TakeoverError::Usage(format!("--ready-url {url}: {why}; e.g. http://127.0.0.1:8080/health"));
        let rest = url.strip_prefix("http://").ok_or_else(|| bad("only http:// URLs can be probed"))?;
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        if authority.is_empty() {
            return Err(bad("no host"));
        }
        let with_port = if authority.rsplit_once(':').is_some_and(|(_, p)| p.parse::<u16>().is_ok()) {
            authority.to_string()
        } else {
            format!("{authority}:80")
        };
        let addr = with_port
            .to_socket_addrs()
            .map_err(|e| bad(&format!("cannot resolve the host: {e}")))?
            .next()
            .ok_or_else(|| bad("the host has no address"))?;
        Ok(ReadyUrl { url: url.to_string(), addr, host: authority.to_string(), path: path.to_string() })
    }
}

/// Probes until a 2xx from the new process, the deadline, or the new process's exit.
pub async fn probe_until_ok(
    g: &mut Generation,
    watch: &dyn ExitWatch,
    url: &ReadyUrl,
    shared_ports: &[u16],
    deadline: Instant,
) -> Result<u16, TakeoverError> {
    let shared = shared_ports.contains(&url.addr.port());
    let mut last = String::from("no answer yet");
    // What the new process said (or what failed) matters more than a probe the old one took later.
    let mut answered = false;
    while Instant::now() < deadline {
        if let Some(status) = watch.exited(g.pid) {
            return Err(TakeoverError::NewExited { pid: g.pid, status });
        }
        match probe_once(g, url, shared, deadline).await {
            Ok(Some(code)) if (200..300).contains(&code) => return Ok(code),
            Ok(Some(code)) => (last, answered) = (format!("HTTP {code}"), true),
            Ok(None) if !answered => last = "the old process took every probe connection".into(),
            Ok(None) => {}
            Err(e) => (last, answered) = (e.to_string(), true),
        }
        g.wait_message(Duration::from_millis(50)).await;
    }
    Err(TakeoverError::NotReady {
        pid: g.pid,
        secs: 0.0,
        shim_loaded: g.hello,
        missing: vec![],
        url: Some(format!("{} ({last})", url.url)),
    })
}

/// Where a probe connects from: the loopback address of the URL's family for a loopback URL, else
/// the URL's own address (a shared listener is local, so that address is one of this machine's).
/// An explicit address, not a wildcard, so the page can name the exact source before the connect.
pub fn probe_source(url: SocketAddr) -> SocketAddr {
    let ip = match url.ip() {
        IpAddr::V4(v4) if v4.is_loopback() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(v6) if v6.is_loopback() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    SocketAddr::new(ip, 0)
}

/// One probe. `Ok(None)`: the connection went to the old process (it is closed unused).
async fn probe_once(
    g: &mut Generation,
    url: &ReadyUrl,
    shared: bool,
    deadline: Instant,
) -> std::io::Result<Option<u16>> {
    // In the new process's network namespace when it is not jhot's (a container): 127.0.0.1
    // means its loopback there.
    let socket = match &g.netns {
        Some(ns) => TcpSocket::from_std_stream(std::net::TcpStream::from(super::namespaces::tcp_socket_in(
            ns.as_fd(),
            url.addr.is_ipv4(),
        )?)),
        None if url.addr.is_ipv4() => TcpSocket::new_v4()?,
        None => TcpSocket::new_v6()?,
    };
    if shared {
        socket.bind(probe_source(url.addr))?;
    } else {
        socket.bind(SocketAddr::new(unspecified(url.addr), 0))?;
    }
    let src = socket.local_addr()?;
    let port = src.port();
    // Holds the source address and port bound until the page no longer names them, whatever
    // happens to `socket` (a failed connect drops it).
    let _hold = socket.as_fd().try_clone_to_owned()?;
    if shared {
        if !g.page.add_probe(src, url.addr) {
            return Err(std::io::Error::other("no free probe slot"));
        }
        // A report for this port from an earlier probe is stale.
        g.probes.remove(&port);
    }
    let result = async {
        let mut stream = tokio::time::timeout(Duration::from_secs(2), socket.connect(url.addr))
            .await
            .map_err(|_| std::io::Error::other("connect timed out"))??;
        if shared {
            // The shim reports the accept; give the server a moment to reach accept().
            let until =
                Instant::now() + Duration::from_millis(500).min(deadline.saturating_duration_since(Instant::now()));
            while !g.probes.contains(&port) && Instant::now() < until {
                g.wait_message(Duration::from_millis(5)).await;
            }
            if !g.probes.remove(&port) {
                return Ok(None);
            }
        }
        let req = format!(
            "GET {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: jhot-ready\r\nConnection: close\r\n\r\n",
            url.path, url.host
        );
        stream.write_all(req.as_bytes()).await?;
        let mut head = Vec::new();
        let read = async {
            let mut buf = [0u8; 512];
            while !head.windows(2).any(|w| w == b"\r\n") && head.len() < 4096 {
                let n = stream.read(&mut buf).await?;
                if n == 0 {
                    break;
                }
                head.extend_from_slice(&buf[..n]);
            }
            Ok::<(), std::io::Error>(())
        };
        tokio::time::timeout(Duration::from_secs(5), read)
            .await
            .map_err(|_| std::io::Error::other("no answer within 5 s"))??;
        let line = String::from_utf8_lossy(&head);
        let code = line.split_whitespace().nth(1).and_then(|c| c.parse::<u16>().ok());
        code.map(Some).ok_or_else(|| {
            std::io::Error::other(format!("not an HTTP answer: {:?}", line.lines().next().unwrap_or("")))
        })
    }
    .await;
    if shared {
        g.page.remove_probe(src);
        g.probes.remove(&port);
    }
    result
}

fn unspecified(addr: SocketAddr) -> IpAddr {
    if addr.is_ipv4() { Ipv4Addr::UNSPECIFIED.into() } else { Ipv6Addr::UNSPECIFIED.into() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let u = ReadyUrl::parse("http://127.0.0.1:8080/actuator/health").expect("parse");
        assert_eq!(u.addr, "127.0.0.1:8080".parse().unwrap());
        assert_eq!(u.path, "/actuator/health");
        let u = ReadyUrl::parse("http://127.0.0.1:9000").expect("parse");
        assert_eq!(u.path, "/");
        assert!(ReadyUrl::parse("https://127.0.0.1/").is_err());
        assert!(ReadyUrl::parse("http:///x").is_err());
    }

    #[test]
    fn probes_come_from_an_exact_address() {
        let at = |s: &str| probe_source(s.parse().unwrap()).to_string();
        assert_eq!(at("127.0.0.5:8080"), "127.0.0.1:0");
        assert_eq!(at("[::1]:8080"), "[::1]:0");
        assert_eq!(at("10.1.2.3:8080"), "10.1.2.3:0");
    }
}
