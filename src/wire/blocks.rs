//! Text to blocks: runs of non-blank lines, with the line number each starts on.

/// A run of non-blank lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block<'a> {
    /// 1-based line number of the first line.
    pub line: usize,
    pub lines: Vec<&'a str>,
}

impl Block<'_> {
    /// The lines joined into one line, inner whitespace collapsed.
    pub fn joined(&self) -> String {
        let mut out = String::new();
        for word in self.lines.iter().flat_map(|l| l.split_whitespace()) {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(word);
        }
        out
    }
}

/// Splits text into blank-line separated blocks.
pub fn split(text: &str) -> Vec<Block<'_>> {
    let mut blocks: Vec<Block<'_>> = Vec::new();
    let mut current: Option<Block<'_>> = None;
    for (n, line) in text.split('\n').enumerate() {
        if line.trim().is_empty() {
            blocks.extend(current.take());
        } else {
            current.get_or_insert_with(|| Block { line: n + 1, lines: Vec::new() }).lines.push(line);
        }
    }
    blocks.extend(current);
    blocks
}
