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

use std::borrow::Cow;

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
    clean(&raw, encoding)
}

/// The text as UTF-8, borrowed when the bytes already are.
pub(super) fn to_utf8(bytes: &[u8]) -> Result<(Cow<'_, str>, &'static str), ParseError> {
    if let Some((encoding, bom_len)) = encoding_rs::Encoding::for_bom(bytes) {
        let body = &bytes[bom_len..];
        let (text, had_errors) = encoding.decode_without_bom_handling(body);
        if !had_errors {
            return Ok((text, encoding.name()));
        }
        if encoding != encoding_rs::UTF_8 {
            return Err(ParseError::Binary { line: 1 });
        }
        // A UTF-8 BOM in front of legacy bytes: detect like any other text.
        return mixed(body).map(|(t, e)| (Cow::Owned(t), e)).map_or_else(|| detect(body), Ok);
    }
    nul_check(bytes)?;
    match std::str::from_utf8(bytes) {
        Ok(text) => Ok((Cow::Borrowed(text), encoding_rs::UTF_8.name())),
        Err(_) => mixed(bytes).map(|(t, e)| (Cow::Owned(t), e)).map_or_else(|| detect(bytes), Ok),
    }
}

/// The name given to UTF-8 text with a few Windows-1252 bytes pasted in.
pub const MIXED: &str = "UTF-8 with windows-1252 bytes";

/// UTF-8 text with a few stray legacy bytes (a quote pasted from a
/// Windows-1252 document): the UTF-8 is kept, each stray byte read as
/// Windows-1252. Only when the valid non-ASCII UTF-8 characters outnumber
/// the stray bytes; otherwise the whole text is in a legacy encoding.
fn mixed(bytes: &[u8]) -> Option<(String, &'static str)> {
    let mut text = String::with_capacity(bytes.len() + 16);
    let mut rest = bytes;
    let (mut utf8_chars, mut stray) = (0usize, 0usize);
    loop {
        match std::str::from_utf8(rest) {
            Ok(valid) => {
                utf8_chars += valid.chars().filter(|c| !c.is_ascii()).count();
                text.push_str(valid);
                break;
            }
            Err(e) => {
                let (valid, after) = rest.split_at(e.valid_up_to());
                let valid = std::str::from_utf8(valid).ok()?;
                utf8_chars += valid.chars().filter(|c| !c.is_ascii()).count();
                text.push_str(valid);
                let bad = e.error_len().unwrap_or(after.len()).min(after.len());
                let (legacy, _) = encoding_rs::WINDOWS_1252.decode_without_bom_handling(&after[..bad]);
                text.push_str(&legacy);
                stray += bad;
                rest = &after[bad..];
            }
        }
    }
    (utf8_chars > stray).then_some((text, MIXED))
}

fn detect(bytes: &[u8]) -> Result<(Cow<'_, str>, &'static str), ParseError> {
    // Only lines with non-ASCII bytes tell encodings apart; feeding just
    // those (up to 64 KiB) keeps detection cheap on long, mostly ASCII text.
    let mut detector = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Allow);
    let mut fed = 0;
    for line in bytes.split_inclusive(|&b| b == b'\n').filter(|l| !l.is_ascii()) {
        detector.feed(line, false);
        fed += line.len();
        if fed > 64 * 1024 {
            break;
        }
    }
    detector.feed(&[], true);
    let encoding = detector.guess(None, chardetng::Utf8Detection::Allow);
    let (text, _, had_errors) = encoding.decode(bytes);
    if had_errors {
        let at = text.find('\u{FFFD}').unwrap_or(0);
        return Err(ParseError::Binary { line: line_at(&text, at) });
    }
    Ok((text, encoding.name()))
}

/// Text may carry a stray NUL (it is removed like other controls); many NULs
/// mean binary data, or UTF-16 without a BOM, which cannot be told from it.
fn nul_check(bytes: &[u8]) -> Result<(), ParseError> {
    if !bytes.contains(&0) {
        return Ok(());
    }
    let nuls = bytes.iter().filter(|&&b| b == 0).count();
    if nuls >= 8 || nuls * 100 > bytes.len() {
        let at = bytes.iter().position(|&b| b == 0).unwrap_or(0);
        let line = 1 + bytes[..at].iter().filter(|&&b| b == b'\n').count();
        return Err(ParseError::Binary { line });
    }
    Ok(())
}

fn line_at(text: &str, byte: usize) -> usize {
    1 + text.as_bytes()[..byte.min(text.len())].iter().filter(|&&b| b == b'\n').count()
}

/// Whether all eight bytes of `x` are printable ASCII (0x20..=0x7E), tested
/// together: no high bit, no byte below 0x20, no 0x7F.
fn printable_ascii(x: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let below_space = x.wrapping_sub(ONES * 0x20) & !x & HIGH;
    let y = x ^ (ONES * 0x7F);
    let is_del = y.wrapping_sub(ONES) & !y & HIGH;
    (x & HIGH) | below_space | is_del == 0
}

/// Bytes copied as they are: printable ASCII, `\n`, `\t`.
const PLAIN: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0x20;
    while b < 0x7F {
        table[b] = true;
        b += 1;
    }
    table[b'\n' as usize] = true;
    table[b'\t' as usize] = true;
    table
};

/// Line ends to `\n`, odd spaces to ` `, forbidden and invisible characters
/// removed; binary data refused.
///
/// Runs of plain bytes are copied whole; only the rest is looked at one
/// character at a time. Controls other than line ends, tabs and the wire
/// framing, and U+FFFD, are rare in text: when they are more than one
/// character in twenty, the bytes are not text.
pub(super) fn clean(raw: &str, encoding: &'static str) -> Result<Decoded, ParseError> {
    let bytes = raw.as_bytes();
    let mut text = String::with_capacity(raw.len());
    let mut removed = 0usize;
    let mut removed_line = 0usize;
    let mut odd = 0usize;
    let mut first_odd = None;
    let mut run = 0;
    let mut i = 0;
    while i < bytes.len() {
        if let Some(chunk) = bytes.get(i..i + 8) {
            if printable_ascii(u64::from_le_bytes(chunk.try_into().unwrap_or([0; 8]))) {
                i += 8;
                continue;
            }
        }
        if PLAIN[bytes[i] as usize] {
            i += 1;
            continue;
        }
        let c = raw[i..].chars().next().unwrap_or(' ');
        if (c.is_control() && !matches!(c, '\r' | '\u{2}' | '\u{3}' | '\u{85}')) || c == '\u{FFFD}' {
            odd += 1;
            first_odd.get_or_insert(i);
        }
        let out = match c {
            '\r' => Some('\n'),
            '\u{0085}' | '\u{2028}' | '\u{2029}' => Some('\n'),
            '\u{00A0}' | '\u{1680}' | '\u{2000}'..='\u{200A}' | '\u{202F}' | '\u{205F}' | '\u{3000}' => Some(' '),
            // Framing and zero-width characters: dropped without a word.
            '\u{2}' | '\u{3}' | '\u{FEFF}' | '\u{200B}' | '\u{2060}' => None,
            c if c.is_control()
                || matches!(c, '\u{FFFE}' | '\u{FFFF}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}') =>
            {
                removed += 1;
                if removed_line == 0 {
                    text.push_str(&raw[run..i]);
                    run = i;
                    removed_line = 1 + text.bytes().filter(|&b| b == b'\n').count();
                }
                None
            }
            // Any other character is kept as it is.
            _ => {
                i += c.len_utf8();
                continue;
            }
        };
        text.push_str(&raw[run..i]);
        text.extend(out);
        i += c.len_utf8();
        if c == '\r' && bytes.get(i) == Some(&b'\n') {
            i += 1;
        }
        run = i;
    }
    text.push_str(&raw[run..]);
    if odd > 4 && odd * 20 > raw.chars().count() {
        return Err(ParseError::Binary { line: line_at(raw, first_odd.unwrap_or(0)) });
    }
    Ok(Decoded { text, encoding, removed, removed_line })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eight_printable_bytes_are_told_at_once() {
        assert!(printable_ascii(u64::from_le_bytes(*b"abc ~XYZ")));
        for bad in [*b"abc\nXYZ.", *b"abc\x7fXYZ.", *b"abc\x80XYZ.", *b"\x1fbcdXYZ.", *b"abcdXYZ\x00"] {
            assert!(!printable_ascii(u64::from_le_bytes(bad[..8].try_into().unwrap())), "{bad:?}");
        }
    }

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
    fn utf8_with_a_stray_windows_1252_byte_keeps_both() {
        let decoded = decode(
            "Caf\u{e9} \u{201c}ok\u{201d} and ".bytes().chain(*b"\x93quoted\x94").collect::<Vec<u8>>().as_slice(),
        )
        .unwrap();
        assert_eq!(decoded.text, "Caf\u{e9} \u{201c}ok\u{201d} and \u{201c}quoted\u{201d}");
        assert_eq!(decoded.encoding, MIXED);
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
