//! Stored values: one format-version byte, then bincode 2 (serde) bytes,
//! LZ4-compressed (format 2) or plain (format 1, still read).
//!
//! Compression shrinks a stored article on disk and in sled's page cache
//! (a million synthetic stories: 4,281 → 3,023 MiB), so the same cache
//! holds more articles and a page fetched from disk is fewer bytes; LZ4
//! decodes at several GB/s, a few microseconds per article. bincode's
//! upstream stopped in 2025; this file is the only one that knows it, so the
//! codec can be swapped by changing this file (and the version).

use serde::{de::DeserializeOwned, Serialize};

/// The format of values this build writes.
pub const FORMAT: u8 = 2;

/// Largest decoded value: far above any story (imports are capped at a few MiB).
const MAX_DECODED: u32 = 64 << 20;

/// Largest decompression buffer a thread keeps between values.
const KEPT_BUFFER: usize = 256 << 10;

thread_local! {
    static DECOMPRESSED: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Plain bincode: what format 1 wrote.
const PLAIN: u8 = 1;

/// Why a stored value could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CodecError {
    /// Written by a newer wirefeed.
    #[error("value written in store format {found}; this build reads format {FORMAT} (upgrade wirefeed)")]
    Newer { found: u8 },
    /// Not a value of ours.
    #[error("value is corrupt: {0}")]
    Corrupt(String),
}

/// bincode's standard encoding; decoding never claims more than
/// [`MAX_DECODED`] bytes, whatever a damaged length prefix says.
fn config() -> impl bincode::config::Config {
    bincode::config::standard().with_limit::<{ MAX_DECODED as usize }>()
}

/// Encodes a value with its format byte.
pub fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    // Encoding our own plain structs into a Vec cannot fail.
    let body = bincode::serde::encode_to_vec(value, config()).expect("bincode encodes plain structs");
    let mut out = vec![FORMAT];
    out.extend_from_slice(&lz4_flex::block::compress_prepend_size(&body));
    out
}

/// Encodes a value as format 1 did (tests of reading old stores).
#[cfg(test)]
pub fn encode_plain<T: Serialize>(value: &T) -> Vec<u8> {
    let mut out = vec![PLAIN];
    out.extend(bincode::serde::encode_to_vec(value, config()).expect("bincode encodes plain structs"));
    out
}

/// Decodes a value, checking its format byte.
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, CodecError> {
    let plain = |body: &[u8]| {
        bincode::serde::decode_from_slice(body, config())
            .map(|(value, _)| value)
            .map_err(|e| CodecError::Corrupt(e.to_string()))
    };
    match bytes.first() {
        Some(&FORMAT) => {
            let corrupt = |e: lz4_flex::block::DecompressError| CodecError::Corrupt(e.to_string());
            // The size comes first; a damaged one must not make a huge allocation.
            let (size, compressed) = lz4_flex::block::uncompressed_size(&bytes[1..]).map_err(corrupt)?;
            if size > MAX_DECODED as usize {
                return Err(CodecError::Corrupt(format!("claims {size} bytes")));
            }
            // Into a buffer kept per thread: a fresh buffer per value is a
            // kilobytes-sized allocation per article read (docs/benchmarks.md).
            // LZ4 writes every byte it reports before it reads it back, so the
            // buffer is zeroed only when it grows, not for every value.
            DECOMPRESSED.with_borrow_mut(|buf| {
                if buf.len() < size {
                    buf.resize(size, 0);
                }
                let n = lz4_flex::block::decompress_into(compressed, &mut buf[..size]).map_err(corrupt)?;
                let value = plain(&buf[..n]);
                if buf.capacity() > KEPT_BUFFER {
                    *buf = Vec::new();
                }
                value
            })
        }
        Some(&PLAIN) => plain(&bytes[1..]),
        Some(&found) if found > FORMAT => Err(CodecError::Newer { found }),
        Some(found) => Err(CodecError::Corrupt(format!("unknown format byte {found}"))),
        None => Err(CodecError::Corrupt("empty value".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip_with_their_format_byte() {
        let bytes = encode(&("a".to_string(), 7u64));
        assert_eq!(bytes[0], FORMAT);
        assert_eq!(decode::<(String, u64)>(&bytes).unwrap(), ("a".to_string(), 7));
    }

    #[test]
    fn format_1_values_are_still_read() {
        let bytes = encode_plain(&("a".to_string(), 7u64));
        assert_eq!(bytes, [PLAIN, 1, b'a', 7], "bincode's standard layout, as format 1 wrote it");
        assert_eq!(decode::<(String, u64)>(&bytes).unwrap(), ("a".to_string(), 7));
    }

    #[test]
    fn text_is_stored_compressed_and_corruption_is_an_error() {
        let text = "The talks in Geneva resumed on Tuesday. ".repeat(50);
        let bytes = encode(&text);
        assert!(bytes.len() < text.len() / 4, "{} bytes for {}", bytes.len(), text.len());
        let mut broken = bytes.clone();
        broken.truncate(bytes.len() / 2);
        assert!(matches!(decode::<String>(&broken), Err(CodecError::Corrupt(_))));
        let mut huge = bytes;
        huge[1..5].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(matches!(decode::<String>(&huge), Err(CodecError::Corrupt(_))));
    }

    #[test]
    fn damaged_values_are_errors_never_panics() {
        let good = encode(&("The talks in Geneva resumed.".repeat(20), vec![1u64, 2, 3]));
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..20_000 {
            let mut bytes = good.clone();
            for _ in 0..(next() % 4 + 1) {
                let at = (next() as usize) % bytes.len();
                bytes[at] = next() as u8;
            }
            bytes.truncate(1 + (next() as usize) % bytes.len());
            let _ = decode::<(String, Vec<u64>)>(&bytes);
        }
    }

    #[test]
    fn the_shared_buffer_never_leaks_one_value_into_the_next() {
        // Larger than the buffer a thread keeps, then smaller, then larger again:
        // each decodes to itself, whatever the buffer held before.
        let big: String = (0..(KEPT_BUFFER / 8)).map(|i| format!("{i:07} ")).collect();
        let small = "Geneva".to_string();
        for text in [&big, &small, &big, &small] {
            assert_eq!(&decode::<String>(&encode(text)).unwrap(), text);
        }
        let shorter = encode(&vec![1u8; 10]);
        assert_eq!(decode::<Vec<u8>>(&encode(&vec![7u8; 4000])).unwrap(), vec![7u8; 4000]);
        assert_eq!(decode::<Vec<u8>>(&shorter).unwrap(), vec![1u8; 10]);
    }

    #[test]
    fn newer_values_are_refused() {
        let mut bytes = encode(&1u8);
        bytes[0] = FORMAT + 1;
        assert!(matches!(decode::<u8>(&bytes), Err(CodecError::Newer { .. })));
    }
}
