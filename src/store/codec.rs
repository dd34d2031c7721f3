//! Stored values: one format-version byte, then bincode 2 (serde) bytes.
//!
//! bincode's upstream stopped in 2025; this file is the only one that knows
//! it, so the codec can be swapped by changing this file (and the version).

use serde::{de::DeserializeOwned, Serialize};

/// The format of values this build writes.
pub const FORMAT: u8 = 1;

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

fn config() -> bincode::config::Configuration {
    bincode::config::standard()
}

/// Encodes a value with its format byte.
pub fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    let mut out = vec![FORMAT];
    // Encoding our own plain structs into a Vec cannot fail.
    let body = bincode::serde::encode_to_vec(value, config()).expect("bincode encodes plain structs");
    out.extend_from_slice(&body);
    out
}

/// Decodes a value, checking its format byte.
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, CodecError> {
    match bytes.first() {
        Some(&FORMAT) => {
            let (value, _) = bincode::serde::decode_from_slice(&bytes[1..], config())
                .map_err(|e| CodecError::Corrupt(e.to_string()))?;
            Ok(value)
        }
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
    fn newer_values_are_refused() {
        let mut bytes = encode(&1u8);
        bytes[0] = FORMAT + 1;
        assert!(matches!(decode::<u8>(&bytes), Err(CodecError::Newer { .. })));
    }
}
