//! NITF and NewsML-G2 (stub: to be written).

use crate::wire::{ParseError, ParseOptions, Story, WireFormat};

/// The format named by the document's root element, when it is XML of a kind we read.
pub fn root_format(_bytes: &[u8]) -> Option<WireFormat> {
    None
}

/// Reads one NITF document or NewsML-G2 news item.
pub fn parse(_bytes: &[u8], _options: &ParseOptions) -> Result<Story, ParseError> {
    Err(ParseError::Empty)
}
