//! Other local users, for the tests that play one (created on demand; needs root).

use std::process::{Command, Stdio};
use std::sync::Mutex;

/// True when the tests run as root (needed by [`App::start_as`], [`App::start_in_namespace`],
/// [`ensure_user`]).
pub fn is_root() -> bool {
    // std has no geteuid.
    super::euid_of("self") == Some(0)
}

/// `(uid, gid)` of a user, if it exists.
pub fn user_ids(name: &str) -> Option<(u32, u32)> {
    let id = |flag: &str| -> Option<u32> {
        let out = Command::new("id").arg(flag).arg(name).stderr(Stdio::null()).output().ok()?;
        if !out.status.success() {
            return None;
        }
        String::from_utf8_lossy(&out.stdout).trim().parse().ok()
    };
    Some((id("-u")?, id("-g")?))
}

/// Makes sure a system user `name` exists (`useradd -M -r`, no home, no login shell) and returns
/// its `(uid, gid)`. Requires root. Safe to call from parallel tests and processes.
pub fn ensure_user(name: &str) -> (u32, u32) {
    static LOCK: Mutex<()> = Mutex::new(());
    let _guard = LOCK.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(ids) = user_ids(name) {
        return ids;
    }
    assert!(is_root(), "ensure_user({name:?}): the user does not exist and the tests do not run as root");
    let out = Command::new("useradd")
        .args(["-M", "-r", "-U", "-s", "/usr/sbin/nologin", name])
        .output()
        .unwrap_or_else(|e| panic!("cannot run useradd: {e}"));
    // Exit 9 = the name exists already (another process created it meanwhile).
    if !out.status.success() && out.status.code() != Some(9) {
        panic!("useradd {name} failed ({}): {}", out.status, String::from_utf8_lossy(&out.stderr));
    }
    user_ids(name).unwrap_or_else(|| panic!("user {name} still does not exist after useradd"))
}
