//! `--ready-url`: an application-level readiness check of the new process. The new and the old
//! process share the listening socket, so a plain request could be answered by the old one; the
//! probe connects from a port it announces in the shim's page, and only a connection the shim
//! reports (PROBE) as accepted by the new process carries the request.

use std::net::{SocketAddr, ToSocketAddrs};
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
        let bad = |why: &str| TakeoverError::Usage(format!("--ready-url {url}: {why}; e.g. http://127.0.0.1:8080/health"));
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
    while Instant::now() < deadline {
        if let Some(status) = watch.exited(g.pid) {
            return Err(TakeoverError::NewExited { pid: g.pid, status });
        }
        match probe_once(g, url, shared, deadline).await {
            Ok(Some(code)) if (200..300).contains(&code) => return Ok(code),
            Ok(Some(code)) => last = format!("HTTP {code}"),
            Ok(None) => last = "the old process took the probe connection".into(),
            Err(e) => last = e.to_string(),
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

/// One probe. `Ok(None)`: the connection went to the old process (it is closed unused).
async fn probe_once(g: &mut Generation, url: &ReadyUrl, shared: bool, deadline: Instant) -> std::io::Result<Option<u16>> {
    let socket = if url.addr.is_ipv4() { TcpSocket::new_v4()? } else { TcpSocket::new_v6()? };
    let local: SocketAddr = if url.addr.is_ipv4() { "127.0.0.1:0".parse().expect("literal") } else { "[::1]:0".parse().expect("literal") };
    let local = if url.addr.ip().is_loopback() { local } else { SocketAddr::new(unspecified(url.addr), 0) };
    socket.bind(local)?;
    let port = socket.local_addr()?.port();
    if shared && !g.page.add_probe(port) {
        return Err(std::io::Error::other("no free probe slot"));
    }
    let result = async {
        let mut stream = tokio::time::timeout(Duration::from_secs(2), socket.connect(url.addr))
            .await
            .map_err(|_| std::io::Error::other("connect timed out"))??;
        if shared {
            // The shim reports the accept; give the server a moment to reach accept().
            let until = Instant::now() + Duration::from_millis(500).min(deadline.saturating_duration_since(Instant::now()));
            while !g.probes.contains(&port) && Instant::now() < until {
                g.wait_message(Duration::from_millis(5)).await;
            }
            if !g.probes.remove(&port) {
                return Ok(None);
            }
        }
        let req = format!("GET {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: jhot-ready\r\nConnection: close\r\n\r\n", url.path, url.host);
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
        tokio::time::timeout(Duration::from_secs(5), read).await.map_err(|_| std::io::Error::other("no answer within 5 s"))??;
        let line = String::from_utf8_lossy(&head);
        let code = line.split_whitespace().nth(1).and_then(|c| c.parse::<u16>().ok());
        code.map(Some).ok_or_else(|| std::io::Error::other(format!("not an HTTP answer: {:?}", line.lines().next().unwrap_or(""))))
    }
    .await;
    if shared {
        g.page.remove_probe(port);
    }
    result
}

fn unspecified(addr: SocketAddr) -> std::net::IpAddr {
    if addr.is_ipv4() { std::net::Ipv4Addr::UNSPECIFIED.into() } else { std::net::Ipv6Addr::UNSPECIFIED.into() }
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
}
