//! Load from jhot-loadgen on a thread of its own, and what its report must show.

use std::sync::Arc;
use std::thread;
use std::time::Duration;

use jhot_loadgen::{Config, Control, Mode, Report};

/// Load from jhot-loadgen, on a thread of its own until [`Load::finish`].
pub struct Load {
    name: &'static str,
    control: Arc<Control>,
    handle: thread::JoinHandle<Report>,
}

impl Load {
    pub fn start(name: &'static str, port: u16, path: &str, mode: Mode, connections: usize, retry: bool) -> Load {
        Load::start_in(None, name, port, path, mode, connections, retry)
    }

    /// `netns`: a process whose network namespace the load runs in (its loopback, not ours).
    pub fn start_in(
        netns: Option<u32>,
        name: &'static str,
        port: u16,
        path: &str,
        mode: Mode,
        connections: usize,
        retry: bool,
    ) -> Load {
        let mut cfg =
            Config::new(&format!("http://127.0.0.1:{port}{path}"), Duration::from_secs(240)).expect("loadgen config");
        cfg.connections = connections;
        cfg.mode = mode;
        cfg.retry = retry;
        cfg.timeout = Duration::from_secs(10);
        cfg.validate().expect("loadgen config");
        let control = Control::new();
        let c = control.clone();
        let handle = thread::spawn(move || {
            if let Some(pid) = netns {
                // A network namespace is per thread: only this thread's sockets go there.
                let ns = std::fs::File::open(format!("/proc/{pid}/ns/net")).expect("open netns");
                // SAFETY: setns on a descriptor we opened, for this thread only.
                let r = unsafe { libc::setns(std::os::fd::AsRawFd::as_raw_fd(&ns), libc::CLONE_NEWNET) };
                assert_eq!(r, 0, "setns: {}", std::io::Error::last_os_error());
            }
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
            rt.block_on(jhot_loadgen::run_with(cfg, c))
        });
        let load = Load { name, control, handle };
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        let c = load.control.clone();
        rt.block_on(async move { tokio::time::timeout(Duration::from_secs(10), c.started()).await })
            .expect("load started");
        load
    }

    pub fn finish(self) -> Report {
        self.control.stop();
        let r = self.handle.join().expect("loadgen thread");
        eprintln!("load {}: {}", self.name, summary(&r));
        r
    }
}

/// The report's counters on one line, for the log and for failure messages.
pub fn summary(r: &Report) -> String {
    let c = &r.counts;
    format!(
        "requests={} ok={} failed={} [refused={} reset_fresh={} reset_reused={} eof_fresh={} eof_reused={} timeout={} other={} connect_other={}] non2xx={} retries={}/{} gens={:?} statuses={:?} errors={:?}",
        c.requests,
        c.ok,
        c.failed,
        c.refused,
        c.reset_fresh,
        c.reset_reused,
        c.eof_fresh,
        c.eof_reused,
        c.timeout,
        c.other,
        c.connect_other,
        r.counts.non2xx,
        c.retries_ok,
        c.client_retries,
        r.gens,
        r.statuses,
        r.error_samples
    )
}

/// No request failed or got a non-2xx answer, and there was enough load (over 100 successes) to
/// mean something.
pub fn assert_no_failures(r: &Report, what: &str) {
    assert_eq!(r.counts.failed, 0, "{what}: {}", summary(r));
    assert_eq!(r.counts.non2xx, 0, "{what}: {}", summary(r));
    assert!(r.counts.ok > 100, "{what}: too little load to mean anything: {}", summary(r));
}
