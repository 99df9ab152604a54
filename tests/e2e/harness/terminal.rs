//! [`Terminal`]: a real terminal for the shell's tests. A tmux server of the test's own (its socket
//! in a temporary directory, so it never meets anyone's tmux) runs one command in a pane of a
//! fixed size; the test types into it and reads the screen as a user would see it.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

pub struct Terminal {
    dir: tempfile::TempDir,
}

impl Terminal {
    /// Starts `argv` in a 200×50 terminal, with `env` added to a minimal environment. The pane
    /// stays after the command exits, so its exit status can be read.
    pub fn start(argv: &[&str], env: &[(&str, &Path)]) -> Terminal {
        let dir = tempfile::tempdir().expect("temp dir for tmux");
        let t = Terminal { dir };
        let mut cmd = t.tmux();
        cmd.args(["-f", "/dev/null", "new-session", "-d", "-s", "t", "-x", "200", "-y", "50"]);
        for (k, v) in env {
            cmd.arg("-e").arg(format!("{k}={}", v.display()));
        }
        cmd.arg("--");
        cmd.args(argv);
        let out = cmd.output().expect("run tmux (is it installed? scripts/test.sh installs it)");
        assert!(out.status.success(), "tmux new-session failed: {}", String::from_utf8_lossy(&out.stderr));
        let out = t.tmux().args(["set-option", "-t", "t", "remain-on-exit", "on"]).output().expect("tmux set-option");
        assert!(out.status.success(), "tmux set-option failed: {}", String::from_utf8_lossy(&out.stderr));
        t
    }

    fn socket(&self) -> PathBuf {
        self.dir.path().join("tmux.sock")
    }

    fn tmux(&self) -> Command {
        let mut c = Command::new("tmux");
        c.arg("-S").arg(self.socket());
        c.env_remove("TMUX");
        c
    }

    /// Types `text` literally.
    pub fn type_text(&self, text: &str) {
        let out = self.tmux().args(["send-keys", "-t", "t", "-l", text]).output().expect("tmux send-keys");
        assert!(out.status.success(), "tmux send-keys failed: {}", String::from_utf8_lossy(&out.stderr));
    }

    /// Presses keys by tmux's names: `Enter`, `Tab`, `Up`, `C-c`, `C-d`.
    pub fn keys(&self, keys: &[&str]) {
        let out = self.tmux().args(["send-keys", "-t", "t"]).args(keys).output().expect("tmux send-keys");
        assert!(out.status.success(), "tmux send-keys failed: {}", String::from_utf8_lossy(&out.stderr));
    }

    /// The screen as text (`escapes`: with the colour and attribute sequences).
    pub fn screen_with(&self, escapes: bool) -> String {
        let mut c = self.tmux();
        c.args(["capture-pane", "-p", "-t", "t", "-S", "-200"]);
        if escapes {
            c.arg("-e");
        }
        let out = c.output().expect("tmux capture-pane");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn screen(&self) -> String {
        self.screen_with(false)
    }

    /// Waits until the screen contains `needle`; panics with the screen if it never does.
    pub fn wait_for(&self, needle: &str, timeout: Duration) -> String {
        self.wait_until(|s| s.contains(needle), timeout)
            .unwrap_or_else(|s| panic!("the terminal never showed {needle:?} in {timeout:?}; it shows:\n{s}"))
    }

    /// Waits until `pred` holds for the screen: `Ok(screen)`, or `Err(last screen)` after `timeout`.
    pub fn wait_until(&self, pred: impl Fn(&str) -> bool, timeout: Duration) -> Result<String, String> {
        let deadline = Instant::now() + timeout;
        loop {
            let s = self.screen();
            if pred(&s) {
                return Ok(s);
            }
            if Instant::now() > deadline {
                return Err(s);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The command's exit status once it has exited, waiting up to `timeout` (a command ended by
    /// a signal gives 128 + the signal, as shells report it).
    pub fn exit_status(&self, timeout: Duration) -> Option<i32> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            let out = self
                .tmux()
                .args(["display-message", "-p", "-t", "t", "#{pane_dead} #{pane_dead_status} #{pane_dead_signal}"])
                .output()
                .ok()?;
            let text = String::from_utf8_lossy(&out.stdout);
            // "dead status signal", either of the last two empty.
            let fields: Vec<&str> = text.trim_end_matches('\n').split(' ').collect();
            // tmux may see the terminal close before it has reaped the process: dead, but no
            // status yet. Keep asking.
            if let ["1", status, signal] = fields.as_slice()
                && let Some(code) = status.parse().ok().or_else(|| signal.parse::<i32>().ok().map(|s| 128 + s))
            {
                return Some(code);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        // Ends the pane's command (SIGHUP) and the server this test started.
        let _ = self.tmux().arg("kill-server").output();
    }
}
