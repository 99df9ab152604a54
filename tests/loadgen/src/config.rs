//! What to run: [`Config`], and the URL it is built from.

use std::fmt;
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;

/// How each worker uses its connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// Reuse the connection for the next request.
    KeepAlive,
    /// Send `Connection: close`; a new connection per request.
    Close,
}

/// What to run. Build it with [`Config::new`], then set the public fields.
#[derive(Debug, Clone)]
pub struct Config {
    /// The URL as given (echoed in the report).
    pub url: String,
    pub addr: SocketAddr,
    /// The `Host` header.
    pub host: String,
    pub path: String,
    pub connections: usize,
    pub mode: Mode,
    /// Total requests per second over all workers; `None` = closed loop.
    pub rate: Option<f64>,
    /// Hard cap on the run.
    pub duration: Duration,
    /// Stop early once this file exists (checked every 10 ms).
    pub stop_file: Option<PathBuf>,
    /// Stop after this many requests have been started (connect attempts refused do not count).
    pub max_requests: Option<u64>,
    /// Per request (and per connect attempt).
    pub timeout: Duration,
    pub retry: bool,
    pub bucket_ms: u64,
    /// Print `LOADGEN started` and the `RESULT` line on stderr.
    pub announce: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError(pub String);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

impl Config {
    /// Parses `http://HOST[:PORT][/PATH]` (the path, if any, becomes the default path) and fills in
    /// the defaults: 16 keep-alive connections, closed loop, 5 s timeout, 50 ms buckets.
    pub fn new(url: &str, duration: Duration) -> Result<Config, ConfigError> {
        let (addr, host, path) = parse_url(url)?;
        let c = Config {
            url: url.to_string(),
            addr,
            host,
            path,
            connections: 16,
            mode: Mode::KeepAlive,
            rate: None,
            duration,
            stop_file: None,
            max_requests: None,
            timeout: Duration::from_secs(5),
            retry: false,
            bucket_ms: 50,
            announce: false,
        };
        Ok(c)
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        let err = |s: &str| Err(ConfigError(s.to_string()));
        if self.connections == 0 || self.connections > 10_000 {
            return err("connections must be between 1 and 10000");
        }
        if self.duration.is_zero() {
            return err("duration must be > 0");
        }
        if self.timeout.is_zero() {
            return err("timeout must be > 0");
        }
        if self.bucket_ms == 0 {
            return err("bucket-ms must be > 0");
        }
        if self.duration.as_millis() / u128::from(self.bucket_ms) > 10_000_000 {
            return err("too many buckets: raise bucket-ms or lower duration");
        }
        if let Some(r) = self.rate
            && (!r.is_finite() || r <= 0.0)
        {
            return err("rate must be > 0");
        }
        if !self.path.starts_with('/') || self.path.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return err("path must start with '/' and contain no spaces");
        }
        self.path.parse::<hyper::Uri>().map_err(|e| ConfigError(format!("bad path {:?}: {e}", self.path)))?;
        Ok(())
    }
}

fn parse_url(url: &str) -> Result<(SocketAddr, String, String), ConfigError> {
    let bad = |m: &str| ConfigError(format!("{m}: {url:?}"));
    let Some(scheme_end) = url.find("://") else {
        return Err(bad("not a URL (expected http://HOST:PORT)"));
    };
    if !url[..scheme_end].eq_ignore_ascii_case("http") {
        return Err(bad("only http:// URLs are supported"));
    }
    let rest = &url[scheme_end + 3..];
    let auth_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(auth_end);
    if authority.is_empty() || authority.contains('@') {
        return Err(bad("missing host, or user info in URL"));
    }
    let (host, port) = if let Some(stripped) = authority.strip_prefix('[') {
        let close = stripped.find(']').ok_or_else(|| bad("bad IPv6 literal"))?;
        let h = &stripped[..close];
        let p = &stripped[close + 1..];
        (h.to_string(), if p.is_empty() { None } else { Some(p.strip_prefix(':').ok_or_else(|| bad("bad port"))?) })
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h.to_string(), Some(p)),
            None => (authority.to_string(), None),
        }
    };
    let port: u16 = match port {
        Some(p) => p.parse().map_err(|_| bad("bad port"))?,
        None => 80,
    };
    let addr = (host.as_str(), port)
        .to_socket_addrs()
        .map_err(|e| ConfigError(format!("cannot resolve {host:?}: {e}")))?
        .next()
        .ok_or_else(|| bad("host resolves to no address"))?;
    let tail = tail.split('#').next().unwrap_or("");
    let path = if tail.is_empty() || tail.starts_with('?') { format!("/{tail}") } else { tail.to_string() };
    Ok((addr, authority.to_string(), path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let (a, h, p) = parse_url("http://127.0.0.1:8080").unwrap();
        assert_eq!((a.to_string(), h.as_str(), p.as_str()), ("127.0.0.1:8080".into(), "127.0.0.1:8080", "/"));
        let (a, _, p) = parse_url("HTTP://127.0.0.1:9/slow?ms=50").unwrap();
        assert_eq!((a.port(), p.as_str()), (9, "/slow?ms=50"));
        let (a, h, _) = parse_url("http://[::1]:81/").unwrap();
        assert_eq!((a.to_string(), h.as_str()), ("[::1]:81".into(), "[::1]:81"));
        assert_eq!(parse_url("http://127.0.0.1").unwrap().0.port(), 80);
        assert!(parse_url("https://127.0.0.1:443").unwrap_err().0.contains("only http://"));
        assert!(parse_url("127.0.0.1:80").is_err());
        assert!(parse_url("http://u@127.0.0.1:80").is_err());
        assert!(parse_url("http://127.0.0.1:99999").is_err());
    }

    #[test]
    fn validation() {
        let mut c = Config::new("http://127.0.0.1:1", Duration::from_secs(1)).unwrap();
        assert!(c.validate().is_ok());
        c.connections = 0;
        assert!(c.validate().is_err());
        c.connections = 1;
        c.path = "x".into();
        assert!(c.validate().is_err());
        c.path = "/a b".into();
        assert!(c.validate().is_err());
        c.path = "/ok".into();
        c.rate = Some(0.0);
        assert!(c.validate().is_err());
    }
}
