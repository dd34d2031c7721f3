//! Bytes to clean text: the encoding detected (BOM, valid UTF-8, else the
//! most likely legacy encoding), line ends made `\n`, odd spaces made plain
//! spaces, and characters XML 1.0 forbids removed.

use super::ParseError;

/// Decodes and cleans story bytes.
pub fn decode(bytes: &[u8]) -> Result<String, ParseError> {
    let text = to_utf8(bytes)?;
    Ok(clean(&text))
}

fn to_utf8(bytes: &[u8]) -> Result<String, ParseError> {
    if let Some((encoding, bom_len)) = encoding_rs::Encoding::for_bom(bytes) {
        let (text, had_errors) = encoding.decode_without_bom_handling(&bytes[bom_len..]);
        if had_errors {
            return Err(ParseError::Binary { line: 1 });
        }
        return Ok(text.into_owned());
    }
    if let Some(line) = nul_line(bytes) {
        return Err(ParseError::Binary { line });
    }
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Ok(text.to_owned());
    }
    let mut detector = chardetng::EncodingDetector::new();
    detector.feed(bytes, true);
    let encoding = detector.guess(None, true);
    let (text, _, had_errors) = encoding.decode(bytes);
    if had_errors {
        return Err(ParseError::Binary { line: 1 });
    }
    Ok(text.into_owned())
}

/// The line of the first NUL byte: text never has one.
fn nul_line(bytes: &[u8]) -> Option<usize> {
    let at = bytes.iter().position(|&b| b == 0)?;
    Some(1 + bytes[..at].iter().filter(|&&b| b == b'\n').count())
}

/// Line ends to `\n`, odd spaces to ` `, forbidden characters removed.
fn clean(text: &str) -> String {
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    text.chars()
        .filter_map(|c| match c {
            '\n' | '\t' => Some(c),
            '\u{00A0}' | '\u{2000}'..='\u{200A}' | '\u{202F}' | '\u{205F}' | '\u{3000}' => Some(' '),
            '\u{0085}' | '\u{2028}' | '\u{2029}' => Some('\n'),
            '\u{FEFF}' | '\u{200B}' => None,
            c if c.is_control() => None,
            '\u{FFFE}' | '\u{FFFF}' => None,
            c => Some(c),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_1252_quotes_are_decoded() {
        let bytes = b"China\x92s \x93news\x94 \x97 here\r\n";
        assert_eq!(decode(bytes).unwrap(), "China\u{2019}s \u{201C}news\u{201D} \u{2014} here\n");
    }

    #[test]
    fn utf16_with_bom_is_decoded() {
        let mut bytes = vec![0xFF, 0xFE];
        for unit in "Héllo\r\n".encode_utf16() {
            bytes.extend_from_slice(&unit.to_le_bytes());
        }
        assert_eq!(decode(&bytes).unwrap(), "Héllo\n");
    }

    #[test]
    fn nul_bytes_are_binary() {
        assert_eq!(decode(b"a\nb\0c"), Err(ParseError::Binary { line: 2 }));
    }

    #[test]
    fn odd_spaces_and_controls_are_cleaned() {
        assert_eq!(decode("\u{2}UN\u{a0}talks\u{3}\u{1b}".as_bytes()).unwrap(), "UN talks");
    }
}
