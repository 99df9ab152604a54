//! The bytes of the HotSpot attach protocol: requests out, replies in.
//!
//! HotSpot drops a request it does not like without a word (the client just sees EOF), so
//! every limit it enforces is checked here first and reported as a typed error instead.

use crate::error::AttachError;

/// `name_length_max` in HotSpot's attachListener.hpp.
pub const CMD_MAX: usize = 16;
/// `arg_length_max`.
pub const ARG_MAX: usize = 1024;
/// v1 always sends exactly this many arguments (empty = absent).
pub const V1_ARGS: usize = 3;
/// HotSpot's cap on a v2 request (bytes after the length field).
pub const V2_MAX: usize = 256 * 1024;

/// Status HotSpot answers to a request version it does not speak (`ATTACH_ERROR_BADVERSION`).
const STATUS_BAD_VERSION: i32 = 101;

/// The JVM's answer: the status line and everything after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub status: i32,
    pub body: String,
}

/// True if `cmd`/`args` do not fit protocol v1 and need v2 (JDK 24+).
pub fn needs_v2(cmd: &str, args: &[&str]) -> bool {
    cmd.len() > CMD_MAX || args.len() > V1_ARGS || args.iter().any(|a| a.len() > ARG_MAX)
}

/// `"1\0<cmd>\0<a0>\0<a1>\0<a2>\0"`.
pub fn request_v1(cmd: &str, args: &[&str]) -> Result<Vec<u8>, AttachError> {
    check_no_nul(cmd, args)?;
    if cmd.is_empty() || cmd.len() > CMD_MAX {
        return Err(bad(format!("command `{cmd}` must be 1 to {CMD_MAX} bytes")));
    }
    if args.len() > V1_ARGS {
        return Err(bad(format!("{} arguments given, protocol v1 takes at most {V1_ARGS}", args.len())));
    }
    if let Some(long) = args.iter().find(|a| a.len() > ARG_MAX) {
        return Err(bad(format!(
            "an argument is {} bytes long, the JVM accepts at most {ARG_MAX} (JDK 24+ accepts more)",
            long.len()
        )));
    }
    let mut out = b"1\0".to_vec();
    push_cstr(&mut out, cmd);
    for i in 0..V1_ARGS {
        push_cstr(&mut out, args.get(i).copied().unwrap_or(""));
    }
    Ok(out)
}

/// `"2\0<len>\0<cmd>\0<arg>\0…"`, where `<len>` counts every byte after its own terminator.
pub fn request_v2(cmd: &str, args: &[&str]) -> Result<Vec<u8>, AttachError> {
    check_no_nul(cmd, args)?;
    if cmd.is_empty() {
        return Err(bad("empty command".to_string()));
    }
    let mut body = Vec::new();
    push_cstr(&mut body, cmd);
    for a in args {
        push_cstr(&mut body, a);
    }
    if body.len() > V2_MAX {
        return Err(bad(format!("request is {} bytes, the JVM accepts at most {V2_MAX}", body.len())));
    }
    let mut out = format!("2\0{}\0", body.len()).into_bytes();
    out.extend_from_slice(&body);
    Ok(out)
}

fn push_cstr(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(s.as_bytes());
    out.push(0);
}

fn check_no_nul(cmd: &str, args: &[&str]) -> Result<(), AttachError> {
    if std::iter::once(&cmd).chain(args).any(|s| s.contains('\0')) {
        return Err(bad("the command and its arguments must not contain NUL bytes".to_string()));
    }
    Ok(())
}

fn bad(detail: String) -> AttachError {
    AttachError::BadRequest { detail }
}

/// Splits `"<status>\n<body>"`.
pub fn parse_reply(bytes: &[u8]) -> Result<Reply, AttachError> {
    if bytes.is_empty() {
        return Err(AttachError::protocol(
            "the JVM closed the connection without answering (request rejected: too long, or \
             credentials mismatch)",
        ));
    }
    let text = String::from_utf8_lossy(bytes);
    let (first, body) = text.split_once('\n').unwrap_or((&text, ""));
    let status: i32 = first.trim().parse().map_err(|_| {
        AttachError::protocol(format!("the reply does not start with a status line: {:?}", clip(&text)))
    })?;
    if status == STATUS_BAD_VERSION {
        return Err(AttachError::protocol(format!(
            "protocol version mismatch (status 101{}{}): the JVM does not speak this request version",
            if body.is_empty() { "" } else { ", " },
            body.trim()
        )));
    }
    Ok(Reply { status, body: body.to_string() })
}

/// True if a reply to `getversion` says the JVM speaks protocol v2. JDK ≤ 23 answer
/// "Operation getversion not recognized!" with status -1.
pub fn speaks_v2(reply: &Reply) -> bool {
    reply.status == 0
        && reply.body.split_whitespace().next().and_then(|v| v.parse::<u32>().ok()).is_some_and(|v| v >= 2)
}

/// Decides whether `load instrument` worked.
///
/// The status alone does not tell: JDK 21+ report every failure under status 0 with the
/// message as body, JDK ≤ 20 use -1. Only a line `return code: 0` means the agent started.
pub fn load_outcome(reply: &Reply, pid: u32) -> Result<(), AttachError> {
    let code = reply
        .body
        .lines()
        .find_map(|l| l.trim().strip_prefix("return code:"))
        .and_then(|c| c.trim().parse::<i32>().ok());
    if reply.status == 0 && code == Some(0) {
        return Ok(());
    }
    if reply.body.contains("Dynamic agent loading is not enabled") {
        return Err(AttachError::DynamicLoadingDisabled { pid });
    }
    let message = match code {
        Some(100) => "agent jar not found or not a valid agent jar (missing file, not a zip, or no \
                      Agent-Class in its manifest); the target's stderr says which"
            .to_string(),
        Some(101) => "could not add the jar to the system class path".to_string(),
        Some(102) => "agentmain missing or threw; see the target's stderr".to_string(),
        Some(-4) => "the JVM ran out of memory (ENOMEM) while starting the agent".to_string(),
        Some(other) => {
            format!("the agent's start function returned {other}; see the target's stderr")
        }
        None if reply.body.trim().is_empty() => {
            format!("status {} with an empty message", reply.status)
        }
        None => reply.body.trim().to_string(),
    };
    Err(AttachError::AgentLoad { code, message })
}

/// The first bytes of a reply, for error messages.
fn clip(text: &str) -> String {
    text.chars().take(120).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(bytes: &[u8]) -> Reply {
        parse_reply(bytes).unwrap()
    }

    #[test]
    fn v1_pads_to_three_args() {
        assert_eq!(request_v1("jcmd", &["VM.version"]).unwrap(), b"1\0jcmd\0VM.version\0\0\0");
        assert_eq!(
            request_v1("load", &["instrument", "false", "/a.jar=x"]).unwrap(),
            b"1\0load\0instrument\0false\0/a.jar=x\0"
        );
        assert_eq!(request_v1("threaddump", &[]).unwrap(), b"1\0threaddump\0\0\0\0");
    }

    #[test]
    fn v1_enforces_hotspot_limits() {
        assert!(request_v1(&"x".repeat(16), &[]).is_ok());
        assert!(matches!(request_v1(&"x".repeat(17), &[]), Err(AttachError::BadRequest { .. })));
        assert!(request_v1("jcmd", &[&"a".repeat(1024)]).is_ok());
        assert!(matches!(request_v1("jcmd", &[&"a".repeat(1025)]), Err(AttachError::BadRequest { .. })));
        assert!(matches!(request_v1("jcmd", &["a", "b", "c", "d"]), Err(AttachError::BadRequest { .. })));
        assert!(matches!(request_v1("jcmd", &["a\0b"]), Err(AttachError::BadRequest { .. })));
        assert!(matches!(request_v1("", &[]), Err(AttachError::BadRequest { .. })));
        assert!(needs_v2("jcmd", &[&"a".repeat(1025)]));
        assert!(!needs_v2("jcmd", &["VM.version"]));
    }

    #[test]
    fn v2_counts_bytes_after_length() {
        // 5 ("jcmd\0") + 11 ("VM.version\0") = 16, as measured against JDK 25.
        assert_eq!(request_v2("jcmd", &["VM.version"]).unwrap(), b"2\x0016\x00jcmd\x00VM.version\x00");
        let long = "a".repeat(2000);
        let req = request_v2("jcmd", &[&long]).unwrap();
        assert!(req.starts_with(b"2\x002006\x00jcmd\x00"));
        assert!(matches!(request_v2("jcmd", &[&"a".repeat(V2_MAX)]), Err(AttachError::BadRequest { .. })));
    }

    #[test]
    fn replies_split_at_first_newline() {
        let r = reply(b"0\nOpenJDK 64-Bit Server VM version 17.0.15\nJDK 17.0.15\n");
        assert_eq!(r.status, 0);
        assert_eq!(r.body, "OpenJDK 64-Bit Server VM version 17.0.15\nJDK 17.0.15\n");
        assert_eq!(reply(b"-1\nOperation bogus not recognized!").status, -1);
        assert_eq!(reply(b"0\n"), Reply { status: 0, body: String::new() });
        assert_eq!(reply(b"0"), Reply { status: 0, body: String::new() });
    }

    #[test]
    fn bad_replies_are_protocol_errors() {
        for bytes in [&b""[..], b"101\n", b"101\nunknown version", b"hello\n", b"\n"] {
            assert!(matches!(parse_reply(bytes), Err(AttachError::Protocol { .. })), "{bytes:?}");
        }
        let empty = parse_reply(b"").unwrap_err().to_string();
        assert!(empty.contains("without answering"), "{empty}");
    }

    #[test]
    fn getversion() {
        assert!(speaks_v2(&reply(b"0\n2")));
        assert!(speaks_v2(&reply(b"0\n2 streaming")));
        assert!(!speaks_v2(&reply(b"-1\nOperation getversion not recognized!")));
    }

    #[test]
    fn load_success_needs_status_and_return_code() {
        assert!(load_outcome(&reply(b"0\nreturn code: 0\n"), 1).is_ok());
        assert!(load_outcome(&reply(b"-1\nreturn code: 0\n"), 1).is_err());
        assert!(load_outcome(&reply(b"0\n"), 1).is_err());
    }

    #[test]
    fn load_failures_map_codes() {
        let code = |bytes: &[u8]| match load_outcome(&reply(bytes), 1) {
            Err(AttachError::AgentLoad { code, message }) => (code, message),
            other => panic!("{other:?}"),
        };
        assert_eq!(code(b"0\nreturn code: 100\n").0, Some(100));
        assert!(code(b"0\nreturn code: 100\n").1.contains("not a valid agent jar"));
        assert!(code(b"0\nreturn code: 101\n").1.contains("system class path"));
        assert!(code(b"0\nreturn code: 102\n").1.contains("agentmain missing or threw"));
        assert!(code(b"0\nreturn code: -4\n").1.contains("ENOMEM"));
        assert_eq!(code(b"0\nreturn code: 42\n").0, Some(42));
        // JDK 21+: failures come under status 0, the body is the error.
        let (c, m) = code(b"0\nnosuchlib was not loaded.\nlibnosuchlib.so: cannot open shared object file\n");
        assert_eq!(c, None);
        assert!(m.starts_with("nosuchlib was not loaded."));
        let (_, m) = code(b"-1\njava.lang.module.FindException: Module java.instrument not found");
        assert!(m.contains("FindException"));
    }

    #[test]
    fn dynamic_loading_disabled_is_recognised_on_all_versions() {
        let jdk17 =
            b"-1\nDynamic agent loading is not enabled. Use -XX:+EnableDynamicAgentLoading to launch target VM.";
        let jdk21 =
            b"0\nDynamic agent loading is not enabled. Use -XX:+EnableDynamicAgentLoading to launch target VM.\n";
        for bytes in [&jdk17[..], &jdk21[..]] {
            let err = load_outcome(&reply(bytes), 7).unwrap_err();
            assert!(matches!(err, AttachError::DynamicLoadingDisabled { pid: 7 }));
            assert!(err.to_string().contains("--javaagent-flag"));
        }
    }
}
