//! The bytes of a segment file: its header, and each record framed so that
//! it can be read forwards (a scan), backwards (the last record, at start)
//! and found again after damage (by its magic).
//!
//! ```text
//! segment: "WFARCH01" | first sequence number (u64 LE) | record | record | ...
//! record:  "WFr1" | n (u32 LE) | seq (u64 LE) | kind (u8) | payload (n - 9 bytes)
//!          | CRC-32 of n..payload (u32 LE) | n again (u32 LE)
//! ```
//!
//! Numbers are little-endian; the CRC is CRC-32/ISO-HDLC (zlib's, `crc32fast`).

/// The first bytes of every segment file.
pub const SEGMENT_MAGIC: &[u8; 8] = b"WFARCH01";
/// A segment's header: the magic and the sequence number of its first record.
pub const HEADER_LEN: usize = 16;
/// The first bytes of every record.
pub const RECORD_MAGIC: &[u8; 4] = b"WFr1";
/// Bytes a record adds to its payload.
pub const OVERHEAD: usize = 4 + 4 + 8 + 1 + 4 + 4;
/// Largest record body: far above any story the server accepts (1 GiB).
const MAX_BODY: usize = 1 << 30;

/// A segment's header bytes.
pub fn header(first: u64) -> [u8; HEADER_LEN] {
    let mut out = [0; HEADER_LEN];
    out[..8].copy_from_slice(SEGMENT_MAGIC);
    out[8..].copy_from_slice(&first.to_le_bytes());
    out
}

/// The first sequence number a header names, if it is a header.
pub fn read_header(bytes: &[u8]) -> Option<u64> {
    let head = bytes.get(..HEADER_LEN)?;
    (&head[..8] == SEGMENT_MAGIC).then(|| u64::from_le_bytes(head[8..16].try_into().unwrap_or_default()))
}

/// One record's bytes.
pub fn encode(seq: u64, kind: u8, payload: &[u8]) -> Vec<u8> {
    let n = (8 + 1 + payload.len()) as u32;
    let mut out = Vec::with_capacity(OVERHEAD + payload.len());
    out.extend_from_slice(RECORD_MAGIC);
    out.extend_from_slice(&n.to_le_bytes());
    out.extend_from_slice(&seq.to_le_bytes());
    out.push(kind);
    out.extend_from_slice(payload);
    let crc = crc32fast::hash(&out[4..]);
    out.extend_from_slice(&crc.to_le_bytes());
    out.extend_from_slice(&n.to_le_bytes());
    out
}

/// A record read from a segment, borrowing its payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame<'a> {
    pub seq: u64,
    pub kind: u8,
    pub payload: &'a [u8],
    /// Where the record starts in the segment file.
    pub offset: usize,
    /// Where the next one starts.
    pub end: usize,
}

/// Why the bytes at an offset are not a whole record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Bad {
    /// The file ends inside the record (a write cut short).
    Short,
    /// The bytes are not a record, or their checksum does not match.
    Damaged(String),
}

fn u32_at(bytes: &[u8], at: usize) -> Option<usize> {
    Some(u32::from_le_bytes(bytes.get(at..at + 4)?.try_into().ok()?) as usize)
}

/// The record that starts at `offset` of a segment's bytes.
pub fn decode_at(bytes: &[u8], offset: usize) -> Result<Frame<'_>, Bad> {
    let rest = &bytes[offset.min(bytes.len())..];
    if rest.len() < 8 {
        return Err(if RECORD_MAGIC.starts_with(&rest[..rest.len().min(4)]) {
            Bad::Short
        } else {
            Bad::Damaged("no record magic".into())
        });
    }
    if &rest[..4] != RECORD_MAGIC {
        return Err(Bad::Damaged("no record magic".into()));
    }
    let n = u32_at(rest, 4).unwrap_or(0);
    if !(9..=MAX_BODY).contains(&n) {
        return Err(Bad::Damaged(format!("a record length of {n} bytes")));
    }
    let total = OVERHEAD - 9 + n;
    if rest.len() < total {
        return Err(Bad::Short);
    }
    let crc = u32::from_le_bytes(rest[8 + n..12 + n].try_into().unwrap_or_default());
    if crc32fast::hash(&rest[4..8 + n]) != crc {
        return Err(Bad::Damaged("checksum mismatch".into()));
    }
    if u32_at(rest, 12 + n) != Some(n) {
        return Err(Bad::Damaged("the trailing length does not match".into()));
    }
    Ok(Frame {
        seq: u64::from_le_bytes(rest[8..16].try_into().unwrap_or_default()),
        kind: rest[16],
        payload: &rest[17..8 + n],
        offset,
        end: offset + total,
    })
}

/// Whether `bytes` are exactly one whole record whose contents are damaged
/// (magic, length and trailing length right; checksum wrong): a record
/// that was written whole and changed since, not a write cut short.
pub fn whole_but_damaged(bytes: &[u8]) -> bool {
    let (Some(n), Some(last)) = (u32_at(bytes, 4), bytes.len().checked_sub(4)) else { return false };
    bytes.starts_with(RECORD_MAGIC)
        && (9..=MAX_BODY).contains(&n)
        && bytes.len() == OVERHEAD - 9 + n
        && u32_at(bytes, last) == Some(n)
}

/// The last record of a segment's bytes read from their end, when the
/// segment ends exactly after a whole record (the usual case: no scan).
pub fn last_whole(bytes: &[u8]) -> Option<Frame<'_>> {
    let n = u32_at(bytes, bytes.len().checked_sub(4)?)?;
    let start = bytes.len().checked_sub(OVERHEAD - 9 + n)?;
    if start < HEADER_LEN {
        return None;
    }
    decode_at(bytes, start).ok().filter(|f| f.end == bytes.len())
}

/// What a scan meets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item<'a> {
    Record(Frame<'a>),
    /// Bytes that are no whole record, followed by a record again.
    Damaged {
        offset: usize,
        len: usize,
        why: String,
    },
    /// Bytes that are no whole record, up to the end of the segment (a
    /// torn last write, or damage at the end).
    Tail {
        offset: usize,
        len: usize,
        why: String,
    },
}

/// Every record of a segment's bytes from `from`, and what lies between
/// them that is not one.
pub fn scan(bytes: &[u8], from: usize) -> impl Iterator<Item = Item<'_>> {
    let mut pos = from;
    std::iter::from_fn(move || {
        if pos >= bytes.len() {
            return None;
        }
        match decode_at(bytes, pos) {
            Ok(frame) => {
                pos = frame.end;
                Some(Item::Record(frame))
            }
            Err(bad) => {
                let why = match bad {
                    Bad::Short => "cut short".to_owned(),
                    Bad::Damaged(why) => why,
                };
                let offset = pos;
                // The next place a whole record starts, if any.
                let next = (pos + 1..bytes.len())
                    .filter(|&at| bytes[at..].starts_with(RECORD_MAGIC))
                    .find(|&at| decode_at(bytes, at).is_ok());
                match next {
                    Some(at) => {
                        pos = at;
                        Some(Item::Damaged { offset, len: at - offset, why })
                    }
                    None => {
                        pos = bytes.len();
                        Some(Item::Tail { offset, len: bytes.len() - offset, why })
                    }
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segment(records: &[(u64, &[u8])]) -> Vec<u8> {
        let mut bytes = header(records.first().map_or(1, |r| r.0)).to_vec();
        for (seq, payload) in records {
            bytes.extend(encode(*seq, 1, payload));
        }
        bytes
    }

    fn seqs(bytes: &[u8]) -> Vec<u64> {
        scan(bytes, HEADER_LEN)
            .filter_map(|i| match i {
                Item::Record(f) => Some(f.seq),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn records_read_back_forwards_and_the_last_one_backwards() {
        let bytes = segment(&[(1, b"one"), (2, b""), (3, b"three")]);
        assert_eq!(read_header(&bytes), Some(1));
        assert_eq!(seqs(&bytes), [1, 2, 3]);
        let last = last_whole(&bytes).unwrap();
        assert_eq!((last.seq, last.kind, last.payload), (3, 1, &b"three"[..]));
    }

    #[test]
    fn a_flipped_byte_damages_one_record_and_the_rest_are_read() {
        let mut bytes = segment(&[(1, b"first payload"), (2, b"second payload"), (3, b"third payload")]);
        let second = decode_at(&bytes, HEADER_LEN).unwrap().end;
        bytes[second + 20] ^= 0x40;
        let items: Vec<_> = scan(&bytes, HEADER_LEN).collect();
        assert_eq!(seqs(&bytes), [1, 3]);
        assert!(
            matches!(&items[1], Item::Damaged { offset, why, .. } if *offset == second && why == "checksum mismatch"),
            "{items:?}"
        );
    }

    #[test]
    fn a_torn_last_record_is_a_tail_and_is_not_the_last_whole_one() {
        let bytes = segment(&[(1, b"first payload"), (2, b"second payload")]);
        let cut = &bytes[..bytes.len() - 5];
        assert_eq!(last_whole(cut), None);
        let items: Vec<_> = scan(cut, HEADER_LEN).collect();
        assert!(matches!(items.last(), Some(Item::Tail { why, .. }) if why == "cut short"), "{items:?}");
        assert_eq!(seqs(cut), [1]);
    }

    #[test]
    fn a_damaged_length_is_skipped_by_finding_the_next_record() {
        let mut bytes = segment(&[(1, b"a"), (2, b"b"), (3, b"c")]);
        bytes[HEADER_LEN + 5] = 0xff;
        assert_eq!(seqs(&bytes), [2, 3]);
    }
}
