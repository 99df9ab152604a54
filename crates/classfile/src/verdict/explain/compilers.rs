//! Another compiler. javac and Eclipse's compiler (ecj, which runs on a JRE and is what tools use
//! when no JDK is at hand) name what they generate differently: javac calls a lambda body
//! `lambda$<method>$<n>` and puts an enum switch's table in a nested `$SwitchMap$` class; ecj calls
//! it `lambda$<n>` and adds a `$SWITCH_TABLE$` field and method to the class itself. The same
//! source compiled by the other one therefore adds and deletes methods.

use super::super::ctx::Ctx;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compiler {
    Javac,
    Ecj,
}

impl Compiler {
    fn name(self) -> &'static str {
        match self {
            Compiler::Javac => "javac",
            Compiler::Ecj => "Eclipse's compiler (ecj)",
        }
    }
}

/// Which compiler made a class, from the names of its methods and fields; `None` when nothing it
/// generated says (no lambda, no enum switch).
pub(crate) fn compiler_of<'n>(
    methods: impl IntoIterator<Item = &'n [u8]>,
    fields: impl IntoIterator<Item = &'n [u8]>,
) -> Option<Compiler> {
    let mut found = None;
    for m in methods {
        if m.starts_with(b"$SWITCH_TABLE$") {
            return Some(Compiler::Ecj);
        }
        if let Some(rest) = m.strip_prefix(b"lambda$") {
            if !rest.is_empty() && rest.iter().all(u8::is_ascii_digit) {
                return Some(Compiler::Ecj);
            }
            // `lambda$greet$0`, `lambda$static$0`, `lambda$new$0`: javac's.
            if rest.contains(&b'$') {
                found = Some(Compiler::Javac);
            }
        }
    }
    if fields.into_iter().any(|f| f.starts_with(b"$SWITCH_TABLE$")) {
        return Some(Compiler::Ecj);
    }
    found
}

/// When the two versions come from different compilers and the change is structural, says so
/// first: it is the cause of the methods that came and went, not the edit.
pub(super) fn other_compiler(cx: &mut Ctx) {
    if cx.reasons.is_empty() {
        return;
    }
    let a = compiler_of(cx.ma.iter().map(|m| m.name), cx.fa.iter().map(|f| f.name));
    let b = compiler_of(cx.mb.iter().map(|m| m.name), cx.fb.iter().map(|f| f.name));
    let (Some(a), Some(b)) = (a, b) else { return };
    if a == b {
        return;
    }
    cx.explain(format!(
        "the running class was compiled by {} and this one by {}: ecj names lambda bodies lambda$0 where javac \
         names them lambda$greet$0, and compiles an enum switch to a $SWITCH_TABLE$ field and method where javac \
         uses a nested $SwitchMap$ class, so methods come and go that the source does not show. Compile it with \
         the compiler that built the running code{}",
        a.name(),
        b.name(),
        if a == Compiler::Javac {
            " (javac, from a JDK, with --release set to the running class's version)"
        } else {
            ""
        }
    ));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(methods: &[&str], fields: &[&str]) -> Option<Compiler> {
        compiler_of(methods.iter().map(|m| m.as_bytes()), fields.iter().map(|f| f.as_bytes()))
    }

    #[test]
    fn generated_names_tell_the_compiler() {
        assert_eq!(of(&["greet", "lambda$greet$0", "lambda$static$1"], &[]), Some(Compiler::Javac));
        assert_eq!(of(&["greet", "lambda$0", "lambda$1"], &[]), Some(Compiler::Ecj));
        assert_eq!(of(&["$SWITCH_TABLE$a$E", "greet"], &["$SWITCH_TABLE$a$E"]), Some(Compiler::Ecj));
        assert_eq!(of(&["greet"], &["$SWITCH_TABLE$a$E"]), Some(Compiler::Ecj));
        assert_eq!(of(&["greet", "<init>"], &["count"]), None);
        assert_eq!(of(&["lambda$"], &[]), None);
    }
}
