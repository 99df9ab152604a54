//! Aligned columns for text output.

pub fn print_table(rows: &[Vec<String>]) {
    print_table_indented(rows, "");
}

pub fn print_table_indented(rows: &[Vec<String>], indent: &str) {
    let cols = rows.iter().map(|r| r.len()).max().unwrap_or(0);
    let widths: Vec<usize> =
        (0..cols).map(|c| rows.iter().map(|r| r.get(c).map_or(0, |s| s.chars().count())).max().unwrap_or(0)).collect();
    let mut text = String::new();
    for r in rows {
        let mut line = String::from(indent);
        for (i, cell) in r.iter().enumerate() {
            if i + 1 == r.len() {
                line.push_str(cell);
            } else {
                line.push_str(&format!("{:<width$}  ", cell, width = widths[i]));
            }
        }
        text.push_str(line.trim_end());
        text.push('\n');
    }
    // Cells carry strings other users control (command lines): escaped like every other line.
    super::stdout(&super::clean(&text, super::Stream::Out));
}
