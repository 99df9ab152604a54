//! Just enough HTTP/1.x recognition to keep the hand-over from breaking a connection.
//!
//! The read/write state machine only knows where a request ends if the connection carries
//! plain HTTP/1.x requests and responses. Anything else (TLS, HTTP/2, a WebSocket after
//! `101 Switching Protocols`, a protocol where the server speaks first) has no boundary the shim
//! can see, and a mid-stream hand-over would corrupt it; those connections are pinned to the
//! process that has them. These checks look at the first bytes of a read or write, only when the
//! state changes, and can only ever keep a connection from moving, never make one move.

/// At most this much of a write is searched for the end of the response head.
const HEAD_SCAN: usize = 8192;

/// Could `b`, the first bytes of what a client sent, start an HTTP/1.x request? `METHOD SP`:
/// a short upper-case token and a space, after any empty lines (RFC 9112 §2.2 lets a client send
/// some). A read too short to tell counts as yes; `PRI` (the HTTP/2 preface) and everything else
/// as no.
pub fn request_start(b: &[u8]) -> bool {
    let skip = b.iter().take_while(|&&c| c == b'\r' || c == b'\n').count();
    let b = b.get(skip..).unwrap_or(&[]);
    let n = b.iter().take_while(|c| c.is_ascii_uppercase()).count();
    if n > 20 || b.get(..n) == Some(b"PRI") {
        return false;
    }
    match b.get(n) {
        None => true,
        Some(&c) => n > 0 && c == b' ',
    }
}

pub enum Response {
    /// 1xx other than 101: the final response is still to come (100 Continue, 103 Early Hints).
    Interim,
    /// A final response after which the connection may carry another request.
    KeepAlive,
    /// 101 Switching Protocols, an HTTP/1.0 response, or `Connection: close`: the connection
    /// ends with this response or stops being HTTP/1.x.
    Last,
}

/// Classifies the first write of a response (`b`: the start of the written data).
pub fn response(b: &[u8]) -> Response {
    let (Some(b"HTTP/1."), Some(&minor), Some(status)) = (b.get(..7), b.get(7), b.get(9..12)) else {
        // Not a status line: nothing to go on, the contract's default.
        return Response::KeepAlive;
    };
    if status == b"101" {
        return Response::Last;
    }
    if status.first() == Some(&b'1') {
        return Response::Interim;
    }
    if minor == b'0' || connection_close(b.get(..HEAD_SCAN).unwrap_or(b)) {
        return Response::Last;
    }
    Response::KeepAlive
}

/// A `Connection:` header in the head at the start of `b` lists `close`.
fn connection_close(b: &[u8]) -> bool {
    for line in b.split(|&c| c == b'\n').skip(1) {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            break; // end of the head
        }
        let Some(name) = line.get(..11) else { continue };
        if name.eq_ignore_ascii_case(b"connection:") {
            let value = line.get(11..).unwrap_or(&[]);
            if value.windows(5).any(|w| w.eq_ignore_ascii_case(b"close")) {
                return true;
            }
        }
    }
    false
}
