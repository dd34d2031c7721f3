//! anpa (stub: to be written).

use crate::wire::{ParseError, ParseOptions, Story};

/// Whether the start of a transmission is in this format.
pub fn detect(_head: &[u8]) -> bool {
    false
}

/// Reads one transmission.
pub fn parse(_bytes: &[u8], _options: &ParseOptions) -> Result<Story, ParseError> {
    Err(ParseError::Empty)
}
