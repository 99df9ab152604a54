//! What the line editor asks while the user types: Tab completion (commands, options, paths,
//! class names), the hint after a command (its arguments), and colour (only on a terminal).
//! Everything answers from memory: the class names come from the shell's index, fetched from the
//! agent before the prompt, so a Tab never waits on the JVM.

use std::borrow::Cow;
use std::sync::{Arc, RwLock};

use clap::CommandFactory;
use rustyline::completion::{Completer, FilenameCompleter, Pair};
use rustyline::highlight::{CmdKind, Highlighter};
use rustyline::hint::{Hinter, HistoryHinter};
use rustyline::validate::Validator;
use rustyline::{Context, Helper};

use super::index::ClassNames;
use super::line;
use crate::args::Cli;

/// Commands whose first argument after the (implied) pid is a class name.
const CLASS_FIRST: &[&str] = &["sc", "sm", "jad", "dump", "getstatic", "javap", "edit", "rollback"];

/// The shell's own words, beside jhot's commands.
pub const BUILTINS: &[(&str, &str)] =
    &[("help", "list the commands, or `help CMD` for one"), ("exit", "leave the shell")];

pub struct ShellHelper {
    commands: Vec<Verb>,
    files: FilenameCompleter,
    history: HistoryHinter,
    pub classes: Arc<RwLock<ClassNames>>,
    pub color: bool,
}

struct Verb {
    name: String,
    /// `--long` and `-s` spellings of its options.
    options: Vec<String>,
    /// Its arguments, as its usage line shows them after the pid.
    usage: String,
}

impl ShellHelper {
    pub fn new(classes: Arc<RwLock<ClassNames>>, color: bool) -> ShellHelper {
        let mut cli = Cli::command();
        cli.build(); // the commands' arguments are deferred (args.rs)
        let mut commands: Vec<Verb> = cli
            .get_subcommands()
            .filter(|c| super::available(c.get_name()))
            .map(|c| {
                let mut options = Vec::new();
                for a in c.get_arguments().chain(cli.get_arguments()) {
                    if let Some(l) = a.get_long() {
                        options.push(format!("--{l}"));
                    }
                    if let Some(s) = a.get_short() {
                        options.push(format!("-{s}"));
                    }
                }
                options.sort();
                options.dedup();
                let usage = c.clone().render_usage().to_string();
                let usage = usage.trim_start_matches("Usage:").trim().trim_start_matches(c.get_name()).trim();
                let usage = usage.split(' ').filter(|w| *w != "<PID>" && *w != "[PID]").collect::<Vec<_>>().join(" ");
                Verb { name: c.get_name().to_string(), options, usage }
            })
            .collect();
        commands.extend(BUILTINS.iter().map(|(n, _)| Verb {
            name: n.to_string(),
            options: vec![],
            usage: String::new(),
        }));
        commands.sort_by(|a, b| a.name.cmp(&b.name));
        ShellHelper { commands, files: FilenameCompleter::new(), history: HistoryHinter::new(), classes, color }
    }

    fn verb(&self, name: &str) -> Option<&Verb> {
        self.commands.iter().find(|v| v.name == name)
    }

    /// The candidates for the word `line[start..]`, given the statement's earlier words.
    pub fn candidates(&self, words: &[String], typed: &str) -> Vec<Pair> {
        let pair = |s: &str| Pair { display: s.to_string(), replacement: format!("{s} ") };
        if words.is_empty() {
            return self.commands.iter().filter(|v| v.name.starts_with(typed)).map(|v| pair(&v.name)).collect();
        }
        let verb = words[0].as_str();
        if typed.starts_with('-') {
            let Some(v) = self.verb(verb) else { return Vec::new() };
            return v.options.iter().filter(|o| o.starts_with(typed)).map(|o| pair(o)).collect();
        }
        // The first argument that is not an option (nor an option's value: options that take a
        // path are completed as paths below).
        let positional = words[1..].iter().filter(|w| !w.starts_with('-')).count();
        if positional == 0 && CLASS_FIRST.contains(&verb) && !looks_like_path(typed) {
            let mut names = self.classes.write().unwrap_or_else(|p| p.into_inner());
            return names.complete(typed);
        }
        if verb == "help" && positional == 0 {
            return self.candidates(&[], typed);
        }
        Vec::new()
    }
}

fn looks_like_path(word: &str) -> bool {
    word.starts_with(['/', '.', '~']) || word.contains('/')
}

impl Completer for ShellHelper {
    type Candidate = Pair;

    fn complete(&self, line: &str, pos: usize, ctx: &Context<'_>) -> rustyline::Result<(usize, Vec<Pair>)> {
        let before = &line[..pos];
        let (mut words, start, tail) = line::context(before);
        let typed = words.pop().unwrap_or_default();
        if !tail {
            let found = self.candidates(&words, &typed);
            if !found.is_empty() || words.is_empty() || typed.starts_with('-') {
                return Ok((start, found));
            }
        }
        // Anything else is a path: a class file, a jar, a build directory, a script's output.
        self.files.complete(line, pos, ctx)
    }
}

impl Hinter for ShellHelper {
    type Hint = String;

    fn hint(&self, line: &str, pos: usize, ctx: &Context<'_>) -> Option<String> {
        if pos < line.len() {
            return None;
        }
        // Right after a command and a space: what it takes.
        if let Some(name) = line.strip_suffix(' ')
            && !name.contains(char::is_whitespace)
            && let Some(v) = self.verb(name)
            && !v.usage.is_empty()
        {
            return Some(v.usage.clone());
        }
        self.history.hint(line, pos, ctx)
    }
}

impl Highlighter for ShellHelper {
    fn highlight_prompt<'b, 's: 'b, 'p: 'b>(&'s self, prompt: &'p str, default: bool) -> Cow<'b, str> {
        if self.color && default { Cow::Owned(format!("\x1b[1;32m{prompt}\x1b[0m")) } else { Cow::Borrowed(prompt) }
    }

    fn highlight_hint<'h>(&self, hint: &'h str) -> Cow<'h, str> {
        if self.color { Cow::Owned(format!("\x1b[2m{hint}\x1b[0m")) } else { Cow::Borrowed(hint) }
    }

    fn highlight_char(&self, _line: &str, _pos: usize, _kind: CmdKind) -> bool {
        false
    }
}

impl Validator for ShellHelper {}
impl Helper for ShellHelper {}

#[cfg(test)]
mod tests {
    use super::*;

    fn helper() -> ShellHelper {
        let names = ClassNames::from_names(vec![
            "com.acme.Greeter".into(),
            "com.acme.web.HttpServletRequestWrapper".into(),
            "java.lang.String".into(),
        ]);
        ShellHelper::new(Arc::new(RwLock::new(names)), false)
    }

    fn shown(p: Vec<Pair>) -> Vec<String> {
        p.into_iter().map(|p| p.replacement).collect()
    }

    #[test]
    fn commands_options_and_classes() {
        let h = helper();
        assert_eq!(shown(h.candidates(&[], "jav")), vec!["javap "]);
        assert_eq!(shown(h.candidates(&[], "his")), vec!["history "]);
        assert!(shown(h.candidates(&[], "ex")).contains(&"exit ".to_string()));
        assert!(!shown(h.candidates(&[], "")).iter().any(|c| c == "run " || c == "shell "));
        assert_eq!(shown(h.candidates(&["redefine".into()], "--forc")), vec!["--force "]);
        assert!(shown(h.candidates(&["javap".into()], "Gree")).contains(&"com.acme.Greeter ".to_string()));
        // Past the class, or for a command that takes files, nothing here: the file completer answers.
        assert!(h.candidates(&["javap".into(), "com.acme.Greeter".into()], "Gr").is_empty());
        assert!(h.candidates(&["redefine".into()], "Gr").is_empty());
        assert_eq!(shown(h.candidates(&["sc".into()], "com.acme.w")), vec!["com.acme.web."]);
        assert!(
            shown(h.candidates(&["edit".into()], "HSRW"))
                .contains(&"com.acme.web.HttpServletRequestWrapper ".to_string())
        );
    }

    #[test]
    fn the_hint_after_a_command_is_its_arguments_without_the_pid() {
        let h = helper();
        let v = h.verb("redefine").expect("redefine");
        assert!(v.usage.contains("<PATHS>"), "{}", v.usage);
        assert!(!v.usage.contains("PID"), "{}", v.usage);
    }
}
