//! Aligned columns for text output.

use std::io::Write;

pub fn print_table(rows: &[Vec<String>]) {
    print_table_indented(rows, "");
}

pub fn print_table_indented(rows: &[Vec<String>], indent: &str) {
    let cols = rows.iter().map(|r| r.len()).max().unwrap_or(0);
    let widths: Vec<usize> =
        (0..cols).map(|c| rows.iter().map(|r| r.get(c).map_or(0, |s| s.chars().count())).max().unwrap_or(0)).collect();
    let stdout = std::io::stdout();
    let mut w = stdout.lock();
    for r in rows {
        let mut line = String::from(indent);
        for (i, cell) in r.iter().enumerate() {
            if i + 1 == r.len() {
                line.push_str(cell);
            } else {
                line.push_str(&format!("{:<width$}  ", cell, width = widths[i]));
            }
        }
        let _ = writeln!(w, "{}", line.trim_end());
    }
}
