//! Class patterns as Arthas takes them (`sc`, `sm`, `dump`): an exact binary name, or a glob where
//! `*` matches any run of characters (dots included: `com.acme.*` reaches sub-packages, as in
//! Arthas) and `?` exactly one. Matched in Rust on the names the agent sent, so the agent never
//! runs a matcher over 30,000 classes.

use std::fmt;

/// A parsed class pattern; `/` is accepted for `.` (`com/acme/Foo`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClassPattern {
    text: String,
    glob: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("empty class pattern: name a class (com.acme.Greeter) or a glob (com.acme.*, *Controller)")]
pub struct EmptyPattern;

impl ClassPattern {
    pub fn parse(text: &str) -> Result<ClassPattern, EmptyPattern> {
        let text = text.trim().replace('/', ".");
        if text.is_empty() {
            return Err(EmptyPattern);
        }
        let glob = text.contains(['*', '?']);
        Ok(ClassPattern { text, glob })
    }

    /// True when the pattern is a plain name (no `*` or `?`).
    pub fn is_exact(&self) -> bool {
        !self.glob
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    pub fn matches(&self, name: &str) -> bool {
        if self.glob { glob(self.text.as_bytes(), name.as_bytes()) } else { self.text == name }
    }
}

impl fmt::Display for ClassPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Length of the UTF-8 character that starts with byte `b` (1 for a byte inside a character,
/// which a `&str` never starts a step at).
fn char_len(b: u8) -> usize {
    match b {
        0xF0..=0xFF => 4,
        0xE0..=0xEF => 3,
        0xC0..=0xDF => 2,
        _ => 1,
    }
}

/// Wildcard match with one backtracking point (the last `*`): linear for the patterns people
/// type, never exponential. `?` consumes one whole character.
fn glob(p: &[u8], n: &[u8]) -> bool {
    let (mut pi, mut ni) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        match p.get(pi) {
            Some(b'*') => {
                star = Some((pi, ni));
                pi += 1;
            }
            Some(b'?') => {
                pi += 1;
                ni += char_len(n[ni]);
            }
            Some(&c) if c == n[ni] => {
                pi += 1;
                ni += 1;
            }
            _ => match star {
                Some((sp, sn)) => {
                    let next = sn + char_len(n[sn]);
                    star = Some((sp, next));
                    pi = sp + 1;
                    ni = next;
                }
                None => return false,
            },
        }
    }
    p[pi.min(p.len())..].iter().all(|&c| c == b'*') && ni == n.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, n: &str) -> bool {
        ClassPattern::parse(p).expect("pattern").matches(n)
    }

    #[test]
    fn exact_names_match_only_themselves() {
        assert!(m("com.acme.Greeter", "com.acme.Greeter"));
        assert!(!m("com.acme.Greeter", "com.acme.Greeter2"));
        assert!(!m("com.acme.Greeter", "com.acme.Greete"));
        assert!(m("com/acme/Greeter", "com.acme.Greeter"));
        assert!(m("a.B$C", "a.B$C"));
        assert!(ClassPattern::parse("a.B").expect("p").is_exact());
        assert_eq!(ClassPattern::parse("  "), Err(EmptyPattern));
    }

    #[test]
    fn stars_cross_packages_like_arthas() {
        assert!(m("com.acme.*", "com.acme.Greeter"));
        assert!(m("com.acme.*", "com.acme.web.Controller"));
        assert!(!m("com.acme.*", "com.acmex.Greeter"));
        assert!(!m("com.acme.*", "org.acme.Greeter"));
        assert!(m("*Controller", "com.acme.web.UserController"));
        assert!(!m("*Controller", "com.acme.web.UserControllerTest"));
        assert!(m("*", "a"));
        assert!(m("*.*Service*", "com.acme.UserServiceImpl"));
        assert!(m("**a**", "xay"));
        assert!(!m("*Foo*Bar", "FooBarBaz"));
        assert!(m("*Foo*Bar", "xFooyBarzBar"));
    }

    #[test]
    fn question_marks_take_one_character() {
        assert!(m("com.acme.web.?oo", "com.acme.web.Foo"));
        assert!(m("com.acme.web.?oo", "com.acme.web.Zoo"));
        assert!(!m("com.acme.web.?oo", "com.acme.web.oo"));
        assert!(!m("com.acme.web.?oo", "com.acme.web.Fooo"));
        assert!(m("a.?", "a.é"), "one character, not one byte");
        assert!(m("a.?b", "a.éb"));
        assert!(m("*é?", "xxéy"));
    }
}
