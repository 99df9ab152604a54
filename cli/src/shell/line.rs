//! A shell line, split the way a Unix shell would, minus everything jhot does not need: words
//! (with '…', "…" and backslash quoting), statements separated by `;` or newlines, `#` comments,
//! and a local tail after an unquoted `|` or `>` that goes to `/bin/sh` as it was typed. No
//! globbing and no variables: `sc com.acme.*` reaches `sc` as typed.

/// One command of a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    pub words: Vec<String>,
    /// What the command's output goes through, as `/bin/sh -c` text: `grep X` for `| grep X`,
    /// `cat > f` for `> f`.
    pub sink: Option<String>,
}

/// Splits `text` (a line, or a whole script) into statements.
pub fn parse(text: &str) -> Result<Vec<Statement>, String> {
    let mut out = Vec::new();
    let mut words: Vec<String> = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = text.chars().peekable();
    let finish = |words: &mut Vec<String>, sink: Option<String>, out: &mut Vec<Statement>| {
        if !words.is_empty() {
            out.push(Statement { words: std::mem::take(words), sink });
        } else if sink.is_some() {
            return Err("a `|` or `>` needs a jhot command before it".to_string());
        }
        Ok(())
    };
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(ch) => word.push(ch),
                        None => return Err("unterminated ' quote".into()),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(ch @ ('"' | '\\' | '$' | '`')) => word.push(ch),
                            Some(ch) => {
                                word.push('\\');
                                word.push(ch);
                            }
                            None => return Err("unterminated \" quote".into()),
                        },
                        Some(ch) => word.push(ch),
                        None => return Err("unterminated \" quote".into()),
                    }
                }
            }
            '\\' => {
                in_word = true;
                match chars.next() {
                    Some('\n') | None => {}
                    Some(ch) => word.push(ch),
                }
            }
            '#' if !in_word => {
                // A comment runs to the end of the line.
                for ch in chars.by_ref() {
                    if ch == '\n' {
                        break;
                    }
                }
                push_word(&mut words, &mut word, &mut in_word);
                finish(&mut words, None, &mut out)?;
            }
            ';' | '\n' => {
                push_word(&mut words, &mut word, &mut in_word);
                finish(&mut words, None, &mut out)?;
            }
            '|' | '>' => {
                push_word(&mut words, &mut word, &mut in_word);
                let tail = take_tail(&mut chars)?;
                let sink = if c == '|' {
                    if tail.trim().is_empty() {
                        return Err("`|` needs a command after it".into());
                    }
                    tail.trim().to_string()
                } else {
                    let target = tail.trim();
                    if target.is_empty() || target == ">" {
                        return Err("`>` needs a file after it".into());
                    }
                    // `>>` appends: the tail then starts with the second `>`.
                    format!("cat >{target}")
                };
                finish(&mut words, Some(sink), &mut out)?;
            }
            c if c.is_whitespace() => push_word(&mut words, &mut word, &mut in_word),
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    push_word(&mut words, &mut word, &mut in_word);
    finish(&mut words, None, &mut out)?;
    Ok(out)
}

fn push_word(words: &mut Vec<String>, word: &mut String, in_word: &mut bool) {
    if *in_word {
        words.push(std::mem::take(word));
        *in_word = false;
    }
}

/// The raw text up to the next unquoted `;` or newline (consumed), quotes kept for `/bin/sh`.
fn take_tail(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> Result<String, String> {
    let mut tail = String::new();
    let mut quote: Option<char> = None;
    while let Some(c) = chars.next() {
        match (quote, c) {
            (None, ';' | '\n') => return Ok(tail),
            (None, '\'' | '"') => {
                quote = Some(c);
                tail.push(c);
            }
            (None, '\\') | (Some('"'), '\\') => {
                tail.push(c);
                if let Some(n) = chars.next() {
                    tail.push(n);
                }
            }
            (Some(q), c) if c == q => {
                quote = None;
                tail.push(c);
            }
            (_, c) => tail.push(c),
        }
    }
    match quote {
        Some(q) => Err(format!("unterminated {q} quote")),
        None => Ok(tail),
    }
}

/// For completion: the words of the statement the cursor is in, before the cursor, the start of
/// the word being typed, and whether the cursor is in a local tail (after `|` or `>`). Lenient:
/// an open quote counts as part of the word.
pub fn context(line: &str) -> (Vec<String>, usize, bool) {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut start = 0;
    let mut in_word = false;
    let mut quote: Option<char> = None;
    let mut tail = false;
    for (i, c) in line.char_indices() {
        if let Some(q) = quote {
            if c == q {
                quote = None;
            } else {
                word.push(c);
            }
            continue;
        }
        match c {
            '\'' | '"' => {
                if !in_word {
                    start = i;
                }
                in_word = true;
                quote = Some(c);
            }
            ';' | '\n' => {
                words.clear();
                word.clear();
                in_word = false;
                tail = false;
            }
            '|' | '>' => {
                words.clear();
                word.clear();
                in_word = false;
                tail = true;
            }
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            c => {
                if !in_word {
                    start = i;
                    in_word = true;
                }
                word.push(c);
            }
        }
    }
    if !in_word {
        start = line.len();
    }
    words.push(word);
    (words, start, tail)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn st(words: &[&str], sink: Option<&str>) -> Statement {
        Statement { words: words.iter().map(|w| w.to_string()).collect(), sink: sink.map(str::to_string) }
    }

    #[test]
    fn words_quotes_and_statements() {
        assert_eq!(
            parse(r#"sc com.acme.* ; jad 'a b' "c \"d\"" e\ f"#).unwrap(),
            vec![st(&["sc", "com.acme.*"], None), st(&["jad", "a b", "c \"d\"", "e f"], None)]
        );
        assert_eq!(
            parse("info\n\n  history --json\n").unwrap(),
            vec![st(&["info"], None), st(&["history", "--json"], None)]
        );
        assert_eq!(parse("  # a comment\ninfo # another\n").unwrap(), vec![st(&["info"], None)]);
        assert_eq!(parse("jad 'a#b' c#d").unwrap(), vec![st(&["jad", "a#b", "c#d"], None)]);
        assert_eq!(parse("").unwrap(), vec![]);
        assert_eq!(parse(" ; ;").unwrap(), vec![]);
    }

    #[test]
    fn a_local_tail_is_kept_as_typed_up_to_the_next_statement() {
        assert_eq!(
            parse("sc com.acme.* | grep -i 'Con;troller' | wc -l; info").unwrap(),
            vec![st(&["sc", "com.acme.*"], Some("grep -i 'Con;troller' | wc -l")), st(&["info"], None)]
        );
        assert_eq!(parse("jad X > X.java").unwrap(), vec![st(&["jad", "X"], Some("cat >X.java"))]);
        assert_eq!(parse("jad X >> all.java").unwrap(), vec![st(&["jad", "X"], Some("cat >> all.java"))]);
        assert_eq!(parse("sc 'a|b'").unwrap(), vec![st(&["sc", "a|b"], None)]);
    }

    #[test]
    fn mistakes_are_named() {
        assert_eq!(parse("jad 'X").unwrap_err(), "unterminated ' quote");
        assert_eq!(parse("jad \"X").unwrap_err(), "unterminated \" quote");
        assert_eq!(parse("| grep x").unwrap_err(), "a `|` or `>` needs a jhot command before it");
        assert_eq!(parse("sc x |").unwrap_err(), "`|` needs a command after it");
        assert_eq!(parse("sc x > ").unwrap_err(), "`>` needs a file after it");
        assert_eq!(parse("sc x | grep 'y").unwrap_err(), "unterminated ' quote");
    }

    #[test]
    fn completion_context() {
        assert_eq!(context("jad com.ac"), (vec!["jad".into(), "com.ac".into()], 4, false));
        assert_eq!(context("jad "), (vec!["jad".into(), "".into()], 4, false));
        assert_eq!(context(""), (vec!["".into()], 0, false));
        assert_eq!(context("info; sc Gr"), (vec!["sc".into(), "Gr".into()], 9, false));
        assert_eq!(context("sc x | gre"), (vec!["gre".into()], 7, true));
        assert_eq!(context("redefine 'my dir/Fo"), (vec!["redefine".into(), "my dir/Fo".into()], 9, false));
    }
}
