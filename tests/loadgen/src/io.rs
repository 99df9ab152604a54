//! A `TcpStream` wrapper that records what the socket itself saw (bytes read and written, EOF,
//! reset), so a failed request is classified from the I/O layer rather than from hyper's error text.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

#[derive(Debug, Default)]
pub struct IoState {
    pub read: AtomicU64,
    pub written: AtomicU64,
    /// A read returned 0 bytes (FIN from the server).
    pub eof: AtomicBool,
    /// A read or write failed with ECONNRESET, ECONNABORTED or EPIPE.
    pub reset: AtomicBool,
    /// Any other I/O error.
    pub other: AtomicBool,
}

impl IoState {
    pub fn read(&self) -> u64 {
        self.read.load(Relaxed)
    }
    pub fn clear_flags(&self) {
        self.eof.store(false, Relaxed);
        self.reset.store(false, Relaxed);
        self.other.store(false, Relaxed);
    }
    fn note_err(&self, e: &io::Error) {
        if is_reset(e.kind()) {
            self.reset.store(true, Relaxed);
        } else {
            self.other.store(true, Relaxed);
        }
    }
}

pub fn is_reset(k: io::ErrorKind) -> bool {
    matches!(k, io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted | io::ErrorKind::BrokenPipe)
}

pub struct Tracked {
    inner: TcpStream,
    state: Arc<IoState>,
}

impl Tracked {
    pub fn new(inner: TcpStream, state: Arc<IoState>) -> Self {
        Tracked { inner, state }
    }
}

impl AsyncRead for Tracked {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let r = Pin::new(&mut this.inner).poll_read(cx, buf);
        match &r {
            Poll::Ready(Ok(())) => {
                let n = buf.filled().len() - before;
                if n == 0 && buf.remaining() > 0 {
                    this.state.eof.store(true, Relaxed);
                } else {
                    this.state.read.fetch_add(n as u64, Relaxed);
                }
            }
            Poll::Ready(Err(e)) => this.state.note_err(e),
            Poll::Pending => {}
        }
        r
    }
}

impl AsyncWrite for Tracked {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let r = Pin::new(&mut this.inner).poll_write(cx, buf);
        match &r {
            Poll::Ready(Ok(n)) => {
                this.state.written.fetch_add(*n as u64, Relaxed);
            }
            Poll::Ready(Err(e)) => this.state.note_err(e),
            Poll::Pending => {}
        }
        r
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let r = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        match &r {
            Poll::Ready(Ok(n)) => {
                this.state.written.fetch_add(*n as u64, Relaxed);
            }
            Poll::Ready(Err(e)) => this.state.note_err(e),
            Poll::Pending => {}
        }
        r
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}
