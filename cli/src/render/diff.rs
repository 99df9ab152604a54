//! A unified diff of two texts, for showing an edit before it is applied. Common lines at both
//! ends are set aside first, so the quadratic part only sees the lines around the edit.

/// `-`/`+` lines with `context` unchanged lines around each change, in hunks headed `@@ -a,b +c,d @@`.
/// Empty when the texts are equal.
pub fn unified(old: &str, new: &str, context: usize) -> String {
    let a: Vec<&str> = old.lines().collect();
    let b: Vec<&str> = new.lines().collect();
    let ops = diff_ops(&a, &b);
    if ops.iter().all(|o| matches!(o, Op::Same(..))) {
        return String::new();
    }
    let mut out = String::new();
    let mut i = 0;
    while i < ops.len() {
        // The next change, and the hunk around it (merging changes closer than 2 × context).
        let Some(first) = ops[i..].iter().position(|o| !matches!(o, Op::Same(..))).map(|p| p + i) else { break };
        let start = first.saturating_sub(context);
        let mut end = first;
        let mut quiet = 0;
        let mut j = first;
        while j < ops.len() {
            if matches!(ops[j], Op::Same(..)) {
                quiet += 1;
                if quiet > 2 * context {
                    break;
                }
            } else {
                quiet = 0;
                end = j;
            }
            j += 1;
        }
        let stop = (end + context + 1).min(ops.len());
        let (a0, b0) = position(&ops[..start]);
        let (an, bn) = position(&ops[start..stop]);
        out.push_str(&format!("@@ -{},{an} +{},{bn} @@\n", a0 + 1, b0 + 1));
        for op in &ops[start..stop] {
            match op {
                Op::Same(l) => out.push_str(&format!(" {l}\n")),
                Op::Del(l) => out.push_str(&format!("-{l}\n")),
                Op::Add(l) => out.push_str(&format!("+{l}\n")),
            }
        }
        i = stop;
    }
    out
}

#[derive(Debug)]
enum Op<'a> {
    Same(&'a str),
    Del(&'a str),
    Add(&'a str),
}

/// Lines of the old and of the new text the ops cover.
fn position(ops: &[Op]) -> (usize, usize) {
    ops.iter().fold((0, 0), |(a, b), o| match o {
        Op::Same(_) => (a + 1, b + 1),
        Op::Del(_) => (a + 1, b),
        Op::Add(_) => (a, b + 1),
    })
}

fn diff_ops<'a>(a: &[&'a str], b: &[&'a str]) -> Vec<Op<'a>> {
    let prefix = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let suffix = a[prefix..].iter().rev().zip(b[prefix..].iter().rev()).take_while(|(x, y)| x == y).count();
    let (ma, mb) = (&a[prefix..a.len() - suffix], &b[prefix..b.len() - suffix]);
    let mut ops: Vec<Op> = a[..prefix].iter().map(|l| Op::Same(l)).collect();
    // Longest common subsequence of the middle parts; beyond a size where that would be slow, the
    // middle is shown as all removed and all added, which is still a correct diff.
    if ma.len().saturating_mul(mb.len()) > 4_000_000 {
        ops.extend(ma.iter().map(|l| Op::Del(l)));
        ops.extend(mb.iter().map(|l| Op::Add(l)));
    } else {
        let (n, m) = (ma.len(), mb.len());
        let mut lcs = vec![0u32; (n + 1) * (m + 1)];
        for i in (0..n).rev() {
            for j in (0..m).rev() {
                lcs[i * (m + 1) + j] = if ma[i] == mb[j] {
                    lcs[(i + 1) * (m + 1) + j + 1] + 1
                } else {
                    lcs[(i + 1) * (m + 1) + j].max(lcs[i * (m + 1) + j + 1])
                };
            }
        }
        let (mut i, mut j) = (0, 0);
        while i < n || j < m {
            if i < n && j < m && ma[i] == mb[j] {
                ops.push(Op::Same(ma[i]));
                i += 1;
                j += 1;
            } else if i < n && (j == m || lcs[(i + 1) * (m + 1) + j] >= lcs[i * (m + 1) + j + 1]) {
                ops.push(Op::Del(ma[i]));
                i += 1;
            } else {
                ops.push(Op::Add(mb[j]));
                j += 1;
            }
        }
    }
    ops.extend(a[a.len() - suffix..].iter().map(|l| Op::Same(l)));
    ops
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_changed_line_with_context() {
        let old = "a\nb\nc\nd\ne\nf\ng\n";
        let new = "a\nb\nc\nD\ne\nf\ng\n";
        assert_eq!(unified(old, new, 2), "@@ -2,5 +2,5 @@\n b\n c\n-d\n+D\n e\n f\n");
        assert_eq!(unified(old, old, 2), "");
    }

    #[test]
    fn additions_deletions_and_separate_hunks() {
        let old: String = (1..=30).map(|i| format!("{i}\n")).collect();
        let new = old.replace("\n3\n", "\n3\nthree\n").replace("\n25\n", "\n");
        let d = unified(&old, &new, 1);
        assert_eq!(d, "@@ -3,2 +3,3 @@\n 3\n+three\n 4\n@@ -24,3 +25,2 @@\n 24\n-25\n 26\n");
    }
}
