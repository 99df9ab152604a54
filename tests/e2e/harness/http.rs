//! A minimal HTTP/1.1 client for the samples (std only).

use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::time::Duration;

/// Connect / read / write timeout of one HTTP request.
pub const HTTP_TIMEOUT: Duration = Duration::from_secs(10);

/// One `GET path` over HTTP/1.1 to `127.0.0.1:port` (`Connection: close`), with
/// [`HTTP_TIMEOUT`] on connect, read and write. Returns `(status, body)`.
pub fn http_get(port: u16, path: &str) -> io::Result<(u16, String)> {
    let mut s = send_get(port, path)?;
    let mut raw = Vec::new();
    // Bounded by the read timeout; the server closes the connection after the response.
    s.read_to_end(&mut raw)?;
    parse_http_response(&raw)
}

/// `GET path` to `127.0.0.1:port` for a `contains` check on the answer: the whole response as
/// text (head and body). Panics when it cannot connect or send; a read error (a reset) ends the
/// text early.
pub fn get(port: u16, path: &str) -> String {
    let mut s = send_get(port, path).unwrap_or_else(|e| panic!("GET {path} on port {port}: {e}"));
    let mut text = String::new();
    let _ = s.read_to_string(&mut text);
    text
}

/// A connection to `127.0.0.1:port` with [`HTTP_TIMEOUT`] on connect, read and write, on which
/// `GET path` (`Connection: close`) has been written.
fn send_get(port: u16, path: &str) -> io::Result<TcpStream> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let mut s = TcpStream::connect_timeout(&addr, HTTP_TIMEOUT)?;
    s.set_read_timeout(Some(HTTP_TIMEOUT))?;
    s.set_write_timeout(Some(HTTP_TIMEOUT))?;
    let req =
        format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\nUser-Agent: jhot-e2e\r\n\r\n");
    s.write_all(req.as_bytes())?;
    Ok(s)
}

fn parse_http_response(raw: &[u8]) -> io::Result<(u16, String)> {
    let bad = |m: &str| io::Error::new(io::ErrorKind::InvalidData, format!("bad HTTP response: {m}"));
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n").ok_or_else(|| bad("no end of head"))?;
    let head = String::from_utf8_lossy(&raw[..end]);
    let mut lines = head.split("\r\n");
    let status_line = lines.next().ok_or_else(|| bad("empty"))?;
    let status: u16 =
        status_line.split_whitespace().nth(1).and_then(|s| s.parse().ok()).ok_or_else(|| bad(status_line))?;
    let mut body = &raw[end + 4..];
    for l in lines {
        if let Some((k, v)) = l.split_once(':')
            && k.trim().eq_ignore_ascii_case("content-length")
        {
            let n: usize = v.trim().parse().map_err(|_| bad(l))?;
            if body.len() < n {
                return Err(bad(&format!("body has {} bytes, Content-Length {n}", body.len())));
            }
            body = &body[..n];
        }
    }
    Ok((status, String::from_utf8_lossy(body).into_owned()))
}
