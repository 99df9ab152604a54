//! A private mount namespace with its own `/tmp`, so that a test can play another local user
//! (plant directories, symlinks, fake sockets in `/tmp`) without touching the machine's `/tmp` or
//! the other tests' JVMs. The pid and network namespaces stay the host's: pids seen inside are the
//! pids jhot is given, and loopback is shared.
//!
//! A holder process (`unshare --mount … sleep`) keeps the namespace alive; everything else enters
//! it with `nsenter --mount`. Dropping the sandbox kills the holder, by pid; the namespace and its
//! tmpfs go with the last process in it.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use super::{App, Jdk, Launch, Outcome, ensure_user, is_root, jhot_bin, output, output_raw, work_dir};

/// One sandbox: the holder process whose mount namespace it is.
pub struct Sandbox {
    holder: Child,
}

impl Sandbox {
    /// A sandbox whose `/tmp` is a fresh tmpfs with the usual mode 1777 (sticky).
    pub fn new() -> Sandbox {
        Sandbox::with_tmp_mode("1777")
    }

    /// A sandbox whose `/tmp` has mode `mode` (octal), e.g. `"0777"` for a Kubernetes emptyDir.
    pub fn with_tmp_mode(mode: &str) -> Sandbox {
        assert!(is_root(), "a sandbox needs root (unshare --mount)");
        let script = format!("mount -t tmpfs -o mode={mode},size=256m tmpfs /tmp && echo ready && exec sleep 100000");
        let mut holder = Command::new("unshare")
            .args(["--mount", "--propagation", "private", "--", "/bin/sh", "-c", &script])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn unshare");
        let mut line = String::new();
        let stdout = holder.stdout.take().expect("holder stdout");
        BufReader::new(stdout).read_line(&mut line).expect("read holder");
        assert_eq!(line.trim(), "ready", "the sandbox's tmpfs did not mount");
        Sandbox { holder }
    }

    /// The holder's pid (its mount namespace is the sandbox).
    pub fn pid(&self) -> u32 {
        self.holder.id()
    }

    /// `program` run inside the sandbox, as root.
    pub fn cmd(&self, program: impl AsRef<Path>) -> Command {
        let mut c = Command::new("nsenter");
        c.arg(format!("--target={}", self.pid())).arg("--mount").arg("--").arg(program.as_ref());
        c
    }

    /// `program` run inside the sandbox as `user` (created if missing), with no supplementary
    /// groups, from `/`.
    pub fn cmd_as(&self, user: &str, program: impl AsRef<Path>) -> Command {
        let (uid, gid) = ensure_user(user);
        let mut c = Command::new("nsenter");
        c.arg(format!("--target={}", self.pid())).args(["--mount", "--"]);
        c.arg("setpriv").arg(format!("--reuid={uid}")).arg(format!("--regid={gid}")).arg("--clear-groups").arg("--");
        c.arg(program.as_ref()).current_dir("/");
        c
    }

    /// Runs a shell script in the sandbox (as `user`, or root), bounded to 60 s; panics with its
    /// output when it fails.
    pub fn sh(&self, user: Option<&str>, script: &str) -> Output {
        let mut c = match user {
            Some(u) => self.cmd_as(u, "/bin/sh"),
            None => self.cmd("/bin/sh"),
        };
        c.arg("-c").arg(script).stdin(Stdio::null());
        let out = output_raw(&mut c, Duration::from_secs(60));
        assert!(
            out.status.success(),
            "sandbox script failed ({}): {script}\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    /// jhot inside the sandbox, as root.
    pub fn jhot(&self, args: &[&str]) -> Outcome {
        output(self.cmd(jhot_bin()).args(args))
    }

    /// The hello-http sample started inside the sandbox, as `user` (root when `None`).
    pub fn app(&self, jdk: &Jdk, user: Option<&str>, extra_jvm_args: &[&str]) -> App {
        let (cmd, launch) = match user {
            Some(u) => {
                let (uid, gid) = ensure_user(u);
                let mut c = self.cmd_as(u, jdk.java());
                c.current_dir(work_dir(Some((u, uid, gid))));
                (c, Launch::AsUser { user: u.to_string(), uid, gid })
            }
            None => {
                let mut c = self.cmd(jdk.java());
                c.current_dir(work_dir(None));
                (c, Launch::Direct)
            }
        };
        App::start_cmd(cmd, jdk, extra_jvm_args, launch)
    }

    /// A path inside the sandbox, as the host reaches it (through the holder's root).
    pub fn host_path(&self, inside: &str) -> PathBuf {
        PathBuf::from(format!("/proc/{}/root{inside}", self.pid()))
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = self.holder.kill();
        let _ = self.holder.wait();
    }
}
