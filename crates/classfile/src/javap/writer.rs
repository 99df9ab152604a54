//! javap's line writer: indentation, pending spaces, the comment column, and the output cap.

use std::fmt::Write as _;

pub(super) struct Writer {
    out: String,
    line: String,
    line_chars: usize,
    pending_spaces: usize,
    indent: usize,
    pub pending_newline: bool,
    limit: usize,
    truncated: bool,
}

const INDENT_WIDTH: usize = 2;
const TAB_COLUMN: usize = 40;

impl Writer {
    pub(super) fn new(limit: usize) -> Self {
        Writer {
            out: String::new(),
            line: String::new(),
            line_chars: 0,
            pending_spaces: 0,
            indent: 0,
            pending_newline: false,
            limit,
            truncated: false,
        }
    }

    pub(super) fn full(&self) -> bool {
        self.truncated
    }

    pub(super) fn print(&mut self, s: &str) {
        if self.truncated {
            return;
        }
        if self.pending_newline {
            self.pending_newline = false;
            self.println();
        }
        // Runs of characters other than space and newline go in whole.
        for (i, piece) in s.split('\n').enumerate() {
            if i > 0 {
                self.println();
            }
            for (j, run) in piece.split(' ').enumerate() {
                if j > 0 {
                    self.pending_spaces += 1;
                }
                if run.is_empty() {
                    continue;
                }
                if self.line_chars == 0 {
                    self.pending_spaces += self.indent * INDENT_WIDTH;
                }
                self.line.extend(std::iter::repeat_n(' ', self.pending_spaces));
                self.line.push_str(run);
                self.line_chars += self.pending_spaces + if run.is_ascii() { run.len() } else { run.chars().count() };
                self.pending_spaces = 0;
                if self.line.len() > self.limit {
                    self.truncate();
                    return;
                }
            }
        }
    }

    pub(super) fn println(&mut self) {
        if self.truncated {
            return;
        }
        self.pending_spaces = 0;
        self.out.push_str(&self.line);
        self.out.push('\n');
        self.line.clear();
        self.line_chars = 0;
        if self.out.len() > self.limit {
            self.truncate();
        }
    }

    pub(super) fn line(&mut self, s: &str) {
        self.print(s);
        self.println();
    }

    pub(super) fn tab(&mut self) {
        let col = self.indent * INDENT_WIDTH + TAB_COLUMN;
        self.pending_spaces += if col <= self.line_chars { 1 } else { col - self.line_chars };
    }

    pub(super) fn indent(&mut self, delta: isize) {
        self.indent = self.indent.saturating_add_signed(delta);
    }

    fn truncate(&mut self) {
        self.truncated = true;
        self.line.clear();
        let mut cut = self.limit.min(self.out.len());
        while !self.out.is_char_boundary(cut) {
            cut -= 1;
        }
        self.out.truncate(cut);
        let cut = self.out.rfind('\n').map_or(0, |i| i + 1);
        self.out.truncate(cut);
        let _ = writeln!(self.out, "... (output truncated at {} bytes)", self.limit);
    }

    pub(super) fn finish(mut self) -> String {
        if !self.truncated && !self.line.is_empty() {
            self.println();
        }
        self.out
    }
}
