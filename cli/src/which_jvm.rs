//! `--select TEXT`, `--pid-file FILE` and `--port N` in place of a command's pid. They are taken
//! out of the command line and the pid they name is put where the pid goes, before clap parses
//! it: every command keeps its one positional `PID`, and these mean the same for all of them.
//! A JVM is never picked by guessing: none or several is an error (exit 3 / exit 2).

use std::ffi::OsString;
use std::path::PathBuf;

use jhot_engine::Error;

/// Commands whose first positional argument is a pid (or, for `diff` and `javap`, may be one).
const TAKE_A_PID: &[&str] = &[
    "info",
    "redefine",
    "rollback",
    "history",
    "deploy",
    "replace",
    "diff",
    "javap",
    "sc",
    "sm",
    "classloader",
    "dump",
    "jad",
    "mc",
    "edit",
    "getstatic",
    "thread",
    "jvm",
    "sysprop",
    "shell",
    "watch",
];

/// How the command line names its JVM, when not by pid.
#[derive(Debug, PartialEq, Eq)]
pub enum Choice {
    Select(String),
    PidFile(PathBuf),
    Port(u16),
}

impl Choice {
    fn resolve(&self) -> Result<u32, Error> {
        match self {
            Choice::Select(text) => Ok(jhot_engine::inspect::select(text)?.pid),
            Choice::PidFile(path) => jhot_engine::inspect::from_pid_file(path),
            Choice::Port(port) => jhot_engine::inspect::listening_on(*port),
        }
    }
}

/// Whether `command` takes a pid as its first positional argument (the shell puts its JVM's there).
pub fn takes_a_pid(command: &str) -> bool {
    TAKE_A_PID.contains(&command)
}

/// The command line with a chosen JVM's pid in place of its `--select`/`--pid-file`/`--port`.
pub fn resolve(argv: Vec<OsString>) -> Result<Vec<OsString>, Error> {
    rewrite(argv, |c| c.resolve())
}

fn rewrite(argv: Vec<OsString>, pid_of: impl FnOnce(&Choice) -> Result<u32, Error>) -> Result<Vec<OsString>, Error> {
    // The subcommand: the first word after jhot's own options.
    let mut i = 1;
    while i < argv.len() {
        let a = argv[i].to_string_lossy();
        if a == "--timeout" {
            i += 2;
        } else if a.starts_with('-') {
            i += 1;
        } else {
            break;
        }
    }
    let Some(command) = argv.get(i).map(|c| c.to_string_lossy().into_owned()) else { return Ok(argv) };
    if !takes_a_pid(&command) {
        return Ok(argv);
    }
    let mut kept: Vec<OsString> = argv[..=i].to_vec();
    let mut choices = Vec::new();
    let mut rest = argv[i + 1..].iter();
    while let Some(a) = rest.next() {
        let text = a.to_string_lossy();
        if text == "--" {
            // What follows is a command (`replace -- java …`), not jhot's.
            kept.push(a.clone());
            kept.extend(rest.cloned());
            break;
        }
        let (flag, inline) = match text.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ => (text.to_string(), None),
        };
        // `replace --port` names the listeners to hand over, not the JVM.
        let ours = matches!(flag.as_str(), "--select" | "--pid-file") || (flag == "--port" && command != "replace");
        if !ours {
            kept.push(a.clone());
            continue;
        }
        let value = match inline {
            Some(v) => v,
            None => rest
                .next()
                .map(|v| v.to_string_lossy().into_owned())
                .ok_or_else(|| Error::Usage(format!("{flag} needs a value")))?,
        };
        choices.push(match flag.as_str() {
            "--select" => Choice::Select(value),
            "--pid-file" => Choice::PidFile(PathBuf::from(value)),
            _ => Choice::Port(value.parse().map_err(|_| Error::Usage(format!("--port {value}: not a port number")))?),
        });
    }
    match choices.as_slice() {
        [] => Ok(argv),
        [one] => {
            let pid = pid_of(one)?;
            kept.insert(i + 1, OsString::from(pid.to_string()));
            Ok(kept)
        }
        _ => Err(Error::Usage("name the JVM once: a pid, --select, --pid-file or --port".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str]) -> Result<Vec<String>, String> {
        let argv = args.iter().map(OsString::from).collect();
        rewrite(argv, |c| match c {
            Choice::Select(t) if t == "shop" => Ok(42),
            Choice::PidFile(p) if p == &PathBuf::from("/run/app.pid") => Ok(43),
            Choice::Port(8080) => Ok(44),
            other => Err(Error::NoTarget(format!("{other:?}"))),
        })
        .map(|v| v.into_iter().map(|a| a.to_string_lossy().into_owned()).collect())
        .map_err(|e| e.to_string())
    }

    #[test]
    fn the_chosen_pid_goes_where_the_pid_goes() {
        assert_eq!(
            run(&["jhot", "deploy", "--select", "shop", "app.jar"]).unwrap(),
            ["jhot", "deploy", "42", "app.jar"]
        );
        assert_eq!(
            run(&["jhot", "--json", "deploy", "app.jar", "--select=shop", "--dry-run"]).unwrap(),
            ["jhot", "--json", "deploy", "42", "app.jar", "--dry-run"]
        );
        assert_eq!(
            run(&["jhot", "--timeout", "5", "history", "--pid-file", "/run/app.pid"]).unwrap(),
            ["jhot", "--timeout", "5", "history", "43"]
        );
        assert_eq!(
            run(&["jhot", "redefine", "--port", "8080", "A.class"]).unwrap(),
            ["jhot", "redefine", "44", "A.class"]
        );
    }

    #[test]
    fn other_command_lines_are_left_as_they_are() {
        assert_eq!(run(&["jhot", "redefine", "4242", "A.class"]).unwrap(), ["jhot", "redefine", "4242", "A.class"]);
        // replace's --port names listeners; what follows -- is the new command.
        assert_eq!(
            run(&["jhot", "replace", "4242", "--port", "8080"]).unwrap(),
            ["jhot", "replace", "4242", "--port", "8080"]
        );
        assert_eq!(
            run(&["jhot", "replace", "--select", "shop", "--", "java", "--select", "x"]).unwrap(),
            ["jhot", "replace", "42", "--", "java", "--select", "x"]
        );
        assert_eq!(run(&["jhot", "ps"]).unwrap(), ["jhot", "ps"]);
        assert_eq!(
            run(&["jhot", "shell", "--select", "shop", "-c", "sc x"]).unwrap(),
            ["jhot", "shell", "42", "-c", "sc x"]
        );
    }

    /// The list stays the set of commands whose first positional is the pid (the shell relies on it).
    #[test]
    fn every_command_whose_first_argument_is_a_pid_is_listed() {
        use clap::CommandFactory;
        let mut cli = crate::args::Cli::command();
        cli.build(); // the commands' arguments are deferred (args.rs)
        for c in cli.get_subcommands() {
            let first = c.get_positionals().next().map(|a| a.get_id().as_str().to_string());
            let pid_first = first.as_deref() == Some("pid") || matches!(c.get_name(), "diff" | "javap");
            assert_eq!(takes_a_pid(c.get_name()), pid_first, "{}", c.get_name());
        }
    }

    #[test]
    fn ambiguity_and_mistakes_are_errors() {
        assert!(
            run(&["jhot", "history", "--select", "shop", "--port", "8080"]).unwrap_err().contains("name the JVM once")
        );
        assert!(run(&["jhot", "history", "--select"]).unwrap_err().contains("needs a value"));
        assert!(run(&["jhot", "history", "--port", "http"]).unwrap_err().contains("not a port number"));
        assert!(run(&["jhot", "history", "--select", "nothing"]).is_err());
    }
}
