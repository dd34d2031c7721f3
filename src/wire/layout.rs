//! Lines to paragraphs: hard wraps joined, wire-style indented paragraphs
//! split, fixed-width tables kept line by line.
//!
//! Within one run of non-blank lines:
//! - a **table line** (column gaps, dot leaders, rules) is never joined to
//!   prose; consecutive table lines make one paragraph whose lines are kept,
//!   joined by `\n`, with their alignment (common indent removed, tabs
//!   expanded) so a renderer can show it preformatted;
//! - when any prose line is longer than [`MAX_WRAP`] characters, the text is
//!   not hard-wrapped: every line is its own paragraph;
//! - otherwise lines are hard-wrapped prose and are joined, except that a
//!   line indented deeper than the run's shallowest line starts a paragraph
//!   (the Reuters wire convention), and so does a line after a sentence end
//!   whose first word would easily have fitted on that line (a wrapper never
//!   breaks early, so the break was meant).

/// The widest hard wrap we expect; longer lines are whole paragraphs.
pub const MAX_WRAP: usize = 100;

/// How much shorter than the widest line a line must be, beyond the next
/// word, before its end is taken as a paragraph end: hand-wrapped text is
/// ragged.
const SLACK: usize = 8;

/// List markers that start an item.
const LIST_MARKERS: [&str; 4] = ["- ", "* ", "• ", "– "];

/// One line of the decoded text.
#[derive(Debug, Clone, Copy)]
pub struct Line<'a> {
    /// 1-based line number.
    pub no: usize,
    /// The line without trailing whitespace.
    pub raw: &'a str,
    /// The line without leading or trailing whitespace.
    pub content: &'a str,
    /// Width of the leading whitespace, tabs to the next multiple of 8.
    pub indent: usize,
    /// Width of the whole line in characters.
    pub width: usize,
}

impl<'a> Line<'a> {
    pub fn new(no: usize, text: &'a str) -> Line<'a> {
        let raw = text.trim_end();
        let content = raw.trim_start();
        let mut indent = 0;
        for c in raw[..raw.len() - content.len()].chars() {
            indent = if c == '\t' { (indent / 8 + 1) * 8 } else { indent + 1 };
        }
        let width = indent + content.chars().count();
        Line { no, raw, content, indent, width }
    }

    pub fn is_blank(&self) -> bool {
        self.content.is_empty()
    }

    /// Characters of the first word.
    pub fn first_word_width(&self) -> usize {
        self.content.split_whitespace().next().map_or(0, |w| w.chars().count())
    }
}

/// Whether a line is part of a fixed-width table: two column gaps, a wide
/// gap, a dot leader (`reserves....644`: four dots or more run into the
/// next word, unlike an ellipsis), or a rule (`-----`).
pub fn is_table(line: &Line<'_>) -> bool {
    let s = line.content;
    if s.is_empty() || line.width > 160 {
        return false;
    }
    // Every table sign needs a doubled space, a tab, a run of dots, or a rule.
    // `| a | b |`: a table drawn with bars.
    if s.len() >= 3 && s.starts_with('|') && s.ends_with('|') {
        return true;
    }
    let rule = s.starts_with(['-', '=', '_', '+', '|']);
    if !rule && !s.contains("  ") && !s.as_bytes().contains(&b'\t') && !s.contains("....") {
        return false;
    }
    if s.len() >= 3 && s.chars().all(|c| matches!(c, '-' | '=' | '_' | '+' | ' ' | '|')) {
        return true;
    }
    let mut gaps = 0;
    let mut spaces = 0;
    let mut dots = 0;
    let mut before_gap = ' ';
    let mut prev = ' ';
    for c in s.chars() {
        if c == ' ' || c == '\t' {
            if spaces == 0 {
                before_gap = prev;
            }
            spaces += if c == '\t' { 3 } else { 1 };
        } else {
            let sentence_gap =
                spaces == 2 && matches!(before_gap, '.' | '?' | '!' | ':' | ';' | ',' | '"' | '\'' | ')');
            if spaces >= 3 || (spaces == 2 && !sentence_gap) {
                gaps += 1;
                if spaces >= 3 {
                    gaps += 1;
                }
            }
            spaces = 0;
            if prev == '.' && dots >= 4 && c != '.' {
                return true;
            }
            dots = if c == '.' { dots + 1 } else { 0 };
        }
        prev = c;
    }
    gaps >= 2
}

/// Paragraphs of one run of non-blank body lines.
pub fn paragraphs(lines: &[Line<'_>], out: &mut Vec<String>) {
    // The usual case, one line between blank lines: one paragraph.
    if let [line] = lines {
        let mut one = vec![line];
        if is_table(line) {
            flush_table(&mut one, out);
        } else {
            flush_prose(&mut one, out);
        }
        return;
    }
    let mut tabular: Vec<bool> = lines.iter().map(is_table).collect();
    // A short line between two table rows (a sub-heading, a row with one
    // column) belongs to the table.
    for i in 1..lines.len().saturating_sub(1) {
        if !tabular[i] && tabular[i - 1] && tabular[i + 1] && lines[i].width <= 80 {
            tabular[i] = true;
        }
    }
    let prose = || lines.iter().zip(&tabular).filter(|(_, t)| !**t).map(|(l, _)| l);
    let min_indent = prose().map(|l| l.indent).min().unwrap_or(0);
    let width = prose().map(|l| l.width).max().unwrap_or(0);
    let line_mode = width > MAX_WRAP;
    // A bullet used on two lines or more marks list items, each a paragraph;
    // a single `- ` at a line start is more likely a wrapped dash.
    let bullet_of = |l: &Line<'_>| LIST_MARKERS.iter().position(|b| l.content.starts_with(b));
    let mut bullets = [0usize; LIST_MARKERS.len()];
    for l in lines {
        if let Some(b) = bullet_of(l) {
            bullets[b] += 1;
        }
    }
    let mut para: Vec<&Line<'_>> = Vec::new();
    let mut table: Vec<&Line<'_>> = Vec::new();
    for (line, &is_row) in lines.iter().zip(&tabular) {
        if is_row {
            flush_prose(&mut para, out);
            table.push(line);
            continue;
        }
        flush_table(&mut table, out);
        if let Some(prev) = para.last() {
            let sentence_end = prev.content.ends_with(['.', '!', '?', '"', '\u{201D}', ':']);
            let meant = sentence_end && prev.width + 1 + line.first_word_width() + SLACK <= width;
            let item = bullet_of(line).is_some_and(|b| bullets[b] >= 2);
            if line_mode || line.indent > min_indent || meant || item {
                flush_prose(&mut para, out);
            }
        }
        para.push(line);
    }
    flush_prose(&mut para, out);
    flush_table(&mut table, out);
}

fn flush_prose(para: &mut Vec<&Line<'_>>, out: &mut Vec<String>) {
    if !para.is_empty() {
        out.push(join(para.iter().map(|l| l.content)));
        para.clear();
    }
}

fn flush_table(table: &mut Vec<&Line<'_>>, out: &mut Vec<String>) {
    if table.is_empty() {
        return;
    }
    let cut = table.iter().map(|l| l.indent).min().unwrap_or(0);
    let mut text = String::new();
    for line in table.iter() {
        if !text.is_empty() {
            text.push('\n');
        }
        let mut expanded = String::with_capacity(line.raw.len());
        for c in line.raw.chars() {
            if c == '\t' {
                let col = expanded.chars().count();
                expanded.extend(std::iter::repeat_n(' ', 8 - col % 8));
            } else {
                expanded.push(c);
            }
        }
        text.extend(expanded.chars().skip(cut));
    }
    out.push(text);
    table.clear();
}

/// Lines joined into one line: inner whitespace collapsed; a word broken
/// after a hyphen at a line end (`English-` / `language`) is joined back.
pub fn join<'a>(lines: impl IntoIterator<Item = &'a str>) -> String {
    let mut out = String::new();
    for line in lines {
        // After decoding, whitespace is only ` `, `\t` and `\n`: a line
        // without doubled spaces or tabs is copied whole.
        let simple = !line.is_empty() && !needs_collapse(line);
        if simple && !out.is_empty() && !hyphen_break(&out, line) {
            out.push(' ');
            out.push_str(line);
            continue;
        }
        if simple && out.is_empty() {
            out.push_str(line);
            continue;
        }
        let mut words = line.split_whitespace();
        if let Some(first) = words.next() {
            if !out.is_empty() && !hyphen_break(&out, first) {
                out.push(' ');
            }
            out.push_str(first);
        }
        for word in words {
            out.push(' ');
            out.push_str(word);
        }
    }
    out
}

/// Whether a line has whitespace other than single spaces between words.
/// After decoding, whitespace is only ` `, `\t` and `\n`, and a line holds
/// no `\n`; the searches here are the fast, vectorised ones.
fn needs_collapse(line: &str) -> bool {
    line.starts_with(' ') || line.ends_with(' ') || line.as_bytes().contains(&b'\t') || line.contains("  ")
}

/// `English-` at a line end and `language` on the next: one word.
fn hyphen_break(before: &str, next: &str) -> bool {
    before.ends_with('-')
        && before[..before.len() - 1].chars().next_back().is_some_and(char::is_alphabetic)
        && next.chars().next().is_some_and(char::is_lowercase)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paras(text: &str) -> Vec<String> {
        let lines: Vec<Line<'_>> = text.split('\n').enumerate().map(|(n, l)| Line::new(n + 1, l)).collect();
        let mut out = Vec::new();
        paragraphs(&lines, &mut out);
        out
    }

    #[test]
    fn hard_wraps_are_joined() {
        let text = "The quick brown fox jumps over the lazy dog and then\nruns away into the forest, where nobody can see\nit.";
        assert_eq!(paras(text), vec!["The quick brown fox jumps over the lazy dog and then runs away into the forest, where nobody can see it."]);
    }

    #[test]
    fn indented_lines_start_wire_paragraphs() {
        let text = "WASHINGTON, Feb 26 - The report, which says the deal was\nbad, ends it, analysts said.\n    \"This is certification of incompetence,\" private\nanalyst Stephen Hess said.";
        assert_eq!(paras(text).len(), 2);
    }

    #[test]
    fn tables_keep_their_lines() {
        let text = "Prices were as follows -\n         Natl   Loan   Call\n Wheat   2.55   2.40     --\n Net free reserves.....644 vs.....1,337";
        let out = paras(text);
        assert_eq!(out[0], "Prices were as follows -");
        assert_eq!(
            out[1],
            "        Natl   Loan   Call\nWheat   2.55   2.40     --\nNet free reserves.....644 vs.....1,337"
        );
    }

    #[test]
    fn prose_with_sentence_spaces_is_not_a_table() {
        assert!(!is_table(&Line::new(1, "January 19, 1984.  X-1986 rates.  Y-dlrs per CWT (100 lbs).")));
        assert!(!is_table(&Line::new(1, "move (ahead with the daily).... This is it")));
        assert!(is_table(&Line::new(1, " Required reserves (adj)....55,250 vs....55,366")));
        assert!(is_table(&Line::new(1, "    Two weeks ended Feb 25      daily avgs-mlns")));
    }

    #[test]
    fn list_items_are_paragraphs() {
        assert_eq!(paras("Key points:\n- one thing\n- another thing").len(), 3);
        assert_eq!(paras("the rate rose sharply in the month\n- the highest since 1980.").len(), 1);
    }

    #[test]
    fn long_lines_are_paragraphs_each() {
        let long = "word ".repeat(30);
        let text = format!("Short heading\n{long}\n{long}");
        assert_eq!(paras(&text).len(), 3);
    }

    #[test]
    fn broken_hyphenated_words_are_joined() {
        assert_eq!(join(["its second English-", "language paper"]), "its second English-language paper");
        assert_eq!(join(["rates rose -", "sharply"]), "rates rose - sharply");
    }
}
