//! Bytes to clean text.
//!
//! The encoding is found, not assumed: a BOM wins (UTF-8, UTF-16LE/BE), then
//! valid UTF-8, then the most likely legacy encoding (`chardetng`, which reads
//! Windows-1252 and Latin-1 newsroom bytes correctly). The text is then
//! cleaned in one pass: line ends become `\n`; no-break and other odd spaces
//! become plain spaces; characters XML 1.0 forbids (NUL, C0 and C1 controls,
//! U+FFFE/U+FFFF) and the invisible bidi embedding/override/isolate controls
//! are removed, so no story can make a feed invalid or flip the text around
//! it. Binary data (many NULs, many controls) is an error, not text.

use super::ParseError;

/// Decoded, cleaned text and what was done to get it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    pub text: String,
    /// The encoding the bytes were read as (`UTF-8`, `windows-1252`, ...).
    pub encoding: &'static str,
    /// Invisible or forbidden characters removed (not counting a BOM, the
    /// wire's STX/ETX framing or zero-width spaces).
    pub removed: usize,
    /// Line of the first removed character.
    pub removed_line: usize,
}

/// Decodes and cleans story bytes.
pub fn decode(bytes: &[u8]) -> Result<Decoded, ParseError> {
    let (raw, encoding) = to_utf8(bytes)?;
    binary_check(&raw)?;
    Ok(clean(&raw, encoding))
}

fn to_utf8(bytes: &[u8]) -> Result<(String, &'static str), ParseError> {
    if let Some((encoding, bom_len)) = encoding_rs::Encoding::for_bom(bytes) {
        let body = &bytes[bom_len..];
        let (text, had_errors) = encoding.decode_without_bom_handling(body);
        if !had_errors {
            return Ok((text.into_owned(), encoding.name()));
        }
        if encoding != encoding_rs::UTF_8 {
            return Err(ParseError::Binary { line: 1 });
        }
        // A UTF-8 BOM in front of legacy bytes: detect like any other text.
        return detect(body);
    }
    nul_check(bytes)?;
    match std::str::from_utf8(bytes) {
        Ok(text) => Ok((text.to_owned(), encoding_rs::UTF_8.name())),
        Err(_) => detect(bytes),
    }
}

fn detect(bytes: &[u8]) -> Result<(String, &'static str), ParseError> {
    let mut detector = chardetng::EncodingDetector::new();
    detector.feed(bytes, true);
    let encoding = detector.guess(None, true);
    let (text, _, had_errors) = encoding.decode(bytes);
    if had_errors {
        let at = text.find('\u{FFFD}').unwrap_or(0);
        return Err(ParseError::Binary { line: line_at(&text, at) });
    }
    Ok((text.into_owned(), encoding.name()))
}

/// Text may carry a stray NUL (it is removed like other controls); many NULs
/// mean binary data, or UTF-16 without a BOM, which cannot be told from it.
fn nul_check(bytes: &[u8]) -> Result<(), ParseError> {
    let nuls = bytes.iter().filter(|&&b| b == 0).count();
    if nuls >= 8 || nuls * 100 > bytes.len() {
        let at = bytes.iter().position(|&b| b == 0).unwrap_or(0);
        let line = 1 + bytes[..at].iter().filter(|&&b| b == b'\n').count();
        return Err(ParseError::Binary { line });
    }
    Ok(())
}

/// Controls other than line ends, tabs and the wire framing are rare in text;
/// when they are more than one character in twenty the bytes are not text.
fn binary_check(raw: &str) -> Result<(), ParseError> {
    let mut total = 0usize;
    let mut odd = 0usize;
    let mut first = None;
    for (i, c) in raw.char_indices() {
        total += 1;
        let is_odd = matches!(c, '\0'..='\u{8}' | '\u{B}' | '\u{C}' | '\u{E}'..='\u{1F}' | '\u{7F}'..='\u{84}' | '\u{86}'..='\u{9F}' | '\u{FFFD}')
            && c != '\u{2}'
            && c != '\u{3}';
        if is_odd {
            odd += 1;
            first.get_or_insert(i);
        }
    }
    if odd > 4 && odd * 20 > total {
        return Err(ParseError::Binary { line: line_at(raw, first.unwrap_or(0)) });
    }
    Ok(())
}

fn line_at(text: &str, byte: usize) -> usize {
    1 + text.as_bytes()[..byte.min(text.len())].iter().filter(|&&b| b == b'\n').count()
}

/// Line ends to `\n`, odd spaces to ` `, forbidden and invisible characters removed.
fn clean(raw: &str, encoding: &'static str) -> Decoded {
    let mut text = String::with_capacity(raw.len());
    let mut removed = 0usize;
    let mut removed_line = 0usize;
    let mut line = 1usize;
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        let out = match c {
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                Some('\n')
            }
            '\n' | '\u{0085}' | '\u{2028}' | '\u{2029}' => Some('\n'),
            '\t' => Some('\t'),
            '\u{00A0}' | '\u{1680}' | '\u{2000}'..='\u{200A}' | '\u{202F}' | '\u{205F}' | '\u{3000}' => Some(' '),
            // Framing and zero-width characters: dropped without a word.
            '\u{2}' | '\u{3}' | '\u{FEFF}' | '\u{200B}' | '\u{2060}' => None,
            c if c.is_control()
                || matches!(c, '\u{FFFE}' | '\u{FFFF}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}') =>
            {
                removed += 1;
                if removed_line == 0 {
                    removed_line = line;
                }
                None
            }
            c => Some(c),
        };
        if let Some(o) = out {
            if o == '\n' {
                line += 1;
            }
            text.push(o);
        }
    }
    Decoded { text, encoding, removed, removed_line }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_1252_quotes_are_decoded() {
        let bytes = b"China\x92s \x93news\x94 \x97 here\r\n";
        let decoded = decode(bytes).unwrap();
        assert_eq!(decoded.text, "China\u{2019}s \u{201C}news\u{201D} \u{2014} here\n");
        assert_eq!(decoded.encoding, "windows-1252");
    }

    #[test]
    fn utf16_with_bom_is_decoded() {
        let mut bytes = vec![0xFF, 0xFE];
        for unit in "Héllo\r\n".encode_utf16() {
            bytes.extend_from_slice(&unit.to_le_bytes());
        }
        assert_eq!(decode(&bytes).unwrap().text, "Héllo\n");
    }

    #[test]
    fn many_nul_bytes_are_binary() {
        assert_eq!(decode(b"a\nb\0c"), Err(ParseError::Binary { line: 2 }));
        assert_eq!(decode(&[0u8; 64]), Err(ParseError::Binary { line: 1 }));
    }

    #[test]
    fn a_stray_nul_in_long_text_is_removed() {
        let mut bytes = "word ".repeat(100).into_bytes();
        bytes[7] = 0;
        let decoded = decode(&bytes).unwrap();
        assert!(!decoded.text.contains('\0'));
        assert_eq!(decoded.removed, 1);
    }

    #[test]
    fn odd_spaces_and_controls_are_cleaned() {
        let decoded = decode("\u{2}UN\u{a0}talks\u{202E}\r\rx\u{3}\u{1b}".as_bytes()).unwrap();
        assert_eq!(decoded.text, "UN talks\n\nx");
        assert_eq!(decoded.removed, 2);
        assert_eq!(decoded.removed_line, 1);
    }
}
