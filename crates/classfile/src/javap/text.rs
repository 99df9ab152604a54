//! Text as javap prints it: modified UTF-8 decoded for display, javap's quoting of strings and
//! names, Java's formatting of `float` and `double` constants.

use std::borrow::Cow;
use std::fmt::Write as _;

use crate::validate::cafebabe_utf8;

/// A Utf8 entry as text for display: like [`cafebabe_utf8`], but never failing. As javap's
/// output does, malformed bytes and unpaired surrogates show as `?`.
pub(super) fn decode_modified_utf8(b: &[u8]) -> Cow<'_, str> {
    if let Some(s) = cafebabe_utf8(b) {
        return s;
    }
    // Decode to UTF-16 units as Java does, then pair the surrogates.
    let mut units: Vec<u16> = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let c2 = b.get(i + 1).copied().unwrap_or(0);
        let c3 = b.get(i + 2).copied().unwrap_or(0);
        if c < 0x80 {
            units.push(u16::from(c));
            i += 1;
        } else if c & 0xe0 == 0xc0 && c2 & 0xc0 == 0x80 {
            units.push((u16::from(c & 0x1f) << 6) | u16::from(c2 & 0x3f));
            i += 2;
        } else if c & 0xf0 == 0xe0 && c2 & 0xc0 == 0x80 && c3 & 0xc0 == 0x80 {
            units.push((u16::from(c & 0x0f) << 12) | (u16::from(c2 & 0x3f) << 6) | u16::from(c3 & 0x3f));
            i += 3;
        } else {
            units.push(u16::from(b'?'));
            i += 1;
        }
    }
    Cow::Owned(char::decode_utf16(units).map(|c| c.unwrap_or('?')).collect())
}

/// javap's `ConstantWriter.stringValue` for Utf8 entries: escapes, `\uXXXX` for control chars.
pub(super) fn escape_utf8(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '"' => out.push_str("\\\""),
            '\'' => out.push_str("\\'"),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

fn is_java_ident_start(c: char) -> bool {
    c == '$' || c == '_' || c.is_alphabetic() || (!c.is_ascii() && is_currency(c))
}

fn is_java_ident_part(c: char) -> bool {
    is_java_ident_start(c)
        || c.is_numeric()
        || matches!(c, '\u{0}'..='\u{8}' | '\u{e}'..='\u{1b}' | '\u{7f}'..='\u{9f}')
        || (!c.is_ascii() && !c.is_whitespace() && !c.is_control() && c.is_alphanumeric())
}

fn is_currency(c: char) -> bool {
    matches!(c, '\u{a2}'..='\u{a5}' | '\u{20a0}'..='\u{20cf}')
}

/// javap's `checkName`: a valid binary name as is, anything else quoted.
pub(super) fn check_name(name: &str) -> Cow<'_, str> {
    if name.is_empty() {
        return Cow::Borrowed("\"\"");
    }
    let mut prev = '/';
    for c in name.chars() {
        if (prev == '/' && !is_java_ident_start(c)) || (c != '/' && !is_java_ident_part(c)) {
            let mut out = String::with_capacity(name.len() + 2);
            out.push('"');
            for c in name.chars() {
                match c {
                    '\\' => out.push_str("\\\\"),
                    '"' => out.push_str("\\\""),
                    '\n' => out.push_str("\\n"),
                    '\t' => out.push_str("\\t"),
                    c => out.push(c),
                }
            }
            out.push('"');
            return Cow::Owned(out);
        }
        prev = c;
    }
    Cow::Borrowed(name)
}

/// `Double.toString` (Java 19 and later): plain notation for 10^-3 <= |v| < 10^7, else
/// `d.dddE±n`; always a digit after the point. The digits are the fewest (at least two) that
/// round-trip, the closest such to the exact value, ties to an even last digit.
pub(super) fn java_double(v: f64) -> String {
    java_number(
        v.is_nan(),
        v.is_infinite(),
        v.is_sign_negative(),
        v == 0.0,
        v.abs() >= 1e-3 && v.abs() < 1e7,
        java_digits(v.abs()),
    )
}

/// `Float.toString` (see [`java_double`]).
pub(super) fn java_float(v: f32) -> String {
    java_number(
        v.is_nan(),
        v.is_infinite(),
        v.is_sign_negative(),
        v == 0.0,
        v.abs() >= 1e-3 && v.abs() < 1e7,
        java_digits(v.abs()),
    )
}

/// The digits of `v` in `{:e}` form as Java 19+ chooses them: Rust's shortest round-trip digits
/// give their number; Rust's exactly rounded (ties to even) formatting at that precision gives
/// the closest such decimal.
fn java_digits<T>(v: T) -> String
where
    T: std::fmt::LowerExp + std::str::FromStr + PartialEq + Copy,
{
    let shortest = format!("{v:e}");
    let n = shortest.split('e').next().map_or(1, |m| m.chars().filter(char::is_ascii_digit).count());
    let closest = format!("{:.*e}", n.max(2) - 1, v);
    if closest.parse::<T>().ok() == Some(v) { closest } else { shortest }
}

fn java_number(nan: bool, inf: bool, neg: bool, zero: bool, plain: bool, sci: String) -> String {
    let sign = if neg { "-" } else { "" };
    if nan {
        return "NaN".into();
    }
    if inf {
        return format!("{sign}Infinity");
    }
    if zero {
        return format!("{sign}0.0");
    }
    // `sci` is like "1.2345e6" or "5e-324": digits and a decimal exponent.
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let digits = match digits.trim_end_matches('0') {
        "" => "0",
        d => d,
    };
    if plain {
        // value = 0.d1d2…dn × 10^(exp+1)
        let point = exp + 1;
        let mut s = String::from(sign);
        if point <= 0 {
            s.push_str("0.");
            for _ in 0..(-point) {
                s.push('0');
            }
            s.push_str(digits);
        } else {
            let point = point as usize;
            if digits.len() <= point {
                s.push_str(digits);
                for _ in digits.len()..point {
                    s.push('0');
                }
                s.push_str(".0");
            } else {
                s.push_str(&digits[..point]);
                s.push('.');
                s.push_str(&digits[point..]);
            }
        }
        s
    } else {
        let (first, rest) = digits.split_at(1.min(digits.len()));
        let rest = if rest.is_empty() { "0" } else { rest };
        format!("{sign}{first}.{rest}E{exp}")
    }
}

pub(super) fn java_name(internal: &str) -> String {
    internal.replace('/', ".")
}
