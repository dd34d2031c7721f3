//! The archive: records appended to segment files under
//! `<data dir>/archive/`, and read back in order. It knows nothing of
//! stories, parsers or sled: a record is a sequence number, a kind byte and
//! payload bytes (what they mean is `journal`'s business).
//!
//! Segments are named by the sequence number of their first record
//! (`00000000000000000001.seg`), so the one holding a given record is found
//! from the names alone. A segment is appended to until the next record
//! would take it past the size limit (64 MiB); it is then closed (cut to its
//! length and fsynced) and never written again, so a backup copies only new
//! files. Room for a record is reserved (`fallocate`, keeping the file's
//! size) before the write it records is made, so a full disk refuses the
//! write before anything changes rather than after the store has.
//!
//! Opening reads only the last record of the last segment, from its end; a
//! scan of that segment happens only when the last record is not whole (a
//! crash during an append), and the torn bytes are cut off and kept beside
//! it. Reading skips a damaged record, naming its segment and offset, and
//! goes on with the next whole one. The byte layout is in [`frame`] and
//! docs/design.md.

pub mod frame;

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// The archive's directory inside the data directory.
pub const DIR: &str = "archive";
/// Default largest segment.
pub const SEGMENT_LIMIT: u64 = 64 * 1024 * 1024;
/// Room reserved at a time beyond the end of the open segment.
const RESERVE_CHUNK: u64 = 1024 * 1024;

/// The open archive: appends go to the last segment.
pub struct Archive {
    dir: PathBuf,
    limit: u64,
    tail: Option<Tail>,
    /// The sequence number the next record gets.
    next: u64,
    sync: SyncHandle,
}

/// The segment appended to.
struct Tail {
    file: File,
    len: u64,
    /// Bytes from the start of the file that are reserved on disk.
    reserved: u64,
}

/// Syncs the open segment from another thread (the store's group commit)
/// without waiting for the writer.
#[derive(Clone, Default)]
pub struct SyncHandle(Arc<Mutex<Option<File>>>);

impl SyncHandle {
    /// Makes every record appended so far durable.
    pub fn sync(&self) -> std::io::Result<()> {
        match &*self.0.lock().unwrap_or_else(|e| e.into_inner()) {
            Some(file) => file.sync_data(),
            None => Ok(()),
        }
    }
}

/// A stretch of a segment that is no whole record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Damage {
    pub segment: String,
    pub offset: u64,
    pub len: u64,
    pub why: String,
}

impl std::fmt::Display for Damage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "archive segment {} at byte {}: {} ({} bytes skipped)", self.segment, self.offset, self.why, self.len)
    }
}

/// A record read back.
#[derive(Debug, Clone, Copy)]
pub struct Record<'a> {
    pub seq: u64,
    pub kind: u8,
    pub payload: &'a [u8],
}

/// What reading meets, in order.
#[derive(Debug)]
pub enum Found<'a> {
    Record(Record<'a>),
    Damaged(Damage),
}

/// A segment file.
#[derive(Debug, Clone)]
pub struct Segment {
    pub first: u64,
    pub path: PathBuf,
}

impl Segment {
    pub fn name(&self) -> String {
        segment_name(self.first)
    }
}

fn segment_name(first: u64) -> String {
    format!("{first:020}.seg")
}

/// The segments in `dir`, by first sequence number.
pub fn segments(dir: &Path) -> std::io::Result<Vec<Segment>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(first) = name.strip_suffix(".seg").and_then(|n| n.parse::<u64>().ok()) else { continue };
        out.push(Segment { first, path: entry.path() });
    }
    out.sort_by_key(|s| s.first);
    Ok(out)
}

/// Bytes of every segment.
pub fn size(dir: &Path) -> u64 {
    segments(dir).unwrap_or_default().iter().filter_map(|s| std::fs::metadata(&s.path).ok()).map(|m| m.len()).sum()
}

/// Reads every record with a sequence number from `from` on, in order,
/// and every damaged stretch met on the way; `each` may stop the read
/// with an error. Reads the files as they are: call it on an archive no
/// one appends to, or accept that the newest records may be missed.
pub fn read<E>(dir: &Path, from: u64, mut each: impl FnMut(Found<'_>) -> Result<(), E>) -> Result<(), E>
where
    E: From<std::io::Error>,
{
    let all = segments(dir)?;
    let mut expected: Option<u64> = None;
    for (i, segment) in all.iter().enumerate() {
        if all.get(i + 1).is_some_and(|next| next.first <= from) {
            continue;
        }
        let bytes = std::fs::read(&segment.path)?;
        let name = segment.name();
        let damage = |offset: usize, len: usize, why: String| Damage {
            segment: name.clone(),
            offset: offset as u64,
            len: len as u64,
            why,
        };
        if frame::read_header(&bytes) != Some(segment.first) {
            each(Found::Damaged(damage(0, bytes.len(), "no segment header for its name".into())))?;
            expected = None;
            continue;
        }
        for item in frame::scan(&bytes, frame::HEADER_LEN) {
            match item {
                frame::Item::Record(f) => {
                    if let Some(want) = expected.filter(|want| f.seq > *want && f.seq > from) {
                        let why = format!("records {want} to {} are missing", f.seq - 1);
                        each(Found::Damaged(damage(f.offset, 0, why)))?;
                    }
                    expected = Some(f.seq + 1);
                    if f.seq >= from {
                        each(Found::Record(Record { seq: f.seq, kind: f.kind, payload: f.payload }))?;
                    }
                }
                frame::Item::Damaged { offset, len, why } | frame::Item::Tail { offset, len, why } => {
                    each(Found::Damaged(damage(offset, len, why)))?;
                    expected = None;
                }
            }
        }
    }
    Ok(())
}

impl Archive {
    /// Opens the archive in `dir` (created when missing). A last record cut
    /// short by a crash is cut off (and kept beside its segment as
    /// `<segment>.cut-<offset>`); what was found is returned for the log.
    pub fn open(dir: &Path) -> std::io::Result<(Archive, Vec<String>)> {
        Archive::open_with_limit(dir, SEGMENT_LIMIT)
    }

    /// As [`Archive::open`], with segments of at most `limit` bytes.
    pub fn open_with_limit(dir: &Path, limit: u64) -> std::io::Result<(Archive, Vec<String>)> {
        std::fs::create_dir_all(dir)?;
        let mut found = Vec::new();
        let mut archive =
            Archive { dir: dir.to_owned(), limit: limit.max(4096), tail: None, next: 1, sync: SyncHandle::default() };
        let Some(last) = segments(dir)?.pop() else { return Ok((archive, found)) };
        let file = OpenOptions::new().read(true).write(true).open(&last.path)?;
        let size = file.metadata()?.len();
        archive.next = last.first;
        // The usual start: the header and the last record, read from the end; nothing else.
        if let Some(seq) = last_record_seq(&file, size, last.first)? {
            archive.next = seq + 1;
            archive.tail = Some(Tail { file, len: size, reserved: size });
            archive.share_tail()?;
            return Ok((archive, found));
        }
        let bytes = std::fs::read(&last.path)?;
        let name = last.name();
        let mut len = bytes.len();
        if frame::read_header(&bytes) != Some(last.first) {
            // Created by a rotation that did not finish writing its header:
            // it never held a record.
            if bytes.len() < frame::HEADER_LEN && frame::SEGMENT_MAGIC.starts_with(&bytes[..bytes.len().min(8)]) {
                file.set_len(0)?;
                file.write_all_at(&frame::header(last.first), 0)?;
                file.sync_all()?;
                len = frame::HEADER_LEN;
            } else {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("archive segment {} has no segment header: move it away to go on", last.path.display()),
                ));
            }
        } else if let Some(f) = frame::last_whole(&bytes) {
            archive.next = f.seq + 1;
        } else if len > frame::HEADER_LEN {
            for item in frame::scan(&bytes, frame::HEADER_LEN) {
                match item {
                    frame::Item::Record(f) => archive.next = f.seq + 1,
                    frame::Item::Damaged { offset, len, why } => found.push(
                        Damage { segment: name.clone(), offset: offset as u64, len: len as u64, why }.to_string(),
                    ),
                    // A last record written whole and damaged since is kept and
                    // reported (a read skips it); only a write cut short is cut.
                    frame::Item::Tail { offset, len, why } if frame::whole_but_damaged(&bytes[offset..]) => {
                        // Its number, when the damage spared it: the next record
                        // must not take it again.
                        let seq = bytes.get(offset + 8..offset + 16).and_then(|b| b.try_into().ok());
                        if seq.map(u64::from_le_bytes) == Some(archive.next) {
                            archive.next += 1;
                        }
                        found.push(
                            Damage { segment: name.clone(), offset: offset as u64, len: len as u64, why }.to_string(),
                        );
                    }
                    frame::Item::Tail { offset, len: cut, why } => {
                        let kept = dir.join(format!("{name}.cut-{offset}"));
                        std::fs::write(&kept, &bytes[offset..])?;
                        file.set_len(offset as u64)?;
                        file.sync_all()?;
                        len = offset;
                        found.push(format!(
                            "archive segment {name}: the last {cut} bytes from byte {offset} are no whole record ({why}; a write cut short by a crash): cut off, kept in {}",
                            kept.display()
                        ));
                    }
                }
            }
        }
        archive.tail = Some(Tail { file, len: len as u64, reserved: len as u64 });
        archive.share_tail()?;
        Ok((archive, found))
    }

    /// The sequence number of the last record (0: none).
    pub fn last_seq(&self) -> u64 {
        self.next - 1
    }

    /// The archive's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// A handle that syncs what was appended, for another thread.
    pub fn sync_handle(&self) -> SyncHandle {
        self.sync.clone()
    }

    /// Makes every record appended so far durable.
    pub fn sync(&self) -> std::io::Result<()> {
        self.sync.sync()
    }

    fn share_tail(&mut self) -> std::io::Result<()> {
        let clone = self.tail.as_ref().map(|t| t.file.try_clone()).transpose()?;
        *self.sync.0.lock().unwrap_or_else(|e| e.into_inner()) = clone;
        Ok(())
    }

    /// Makes sure a record of `payload` bytes can be appended without the
    /// disk filling: an error here means nothing was written.
    pub fn reserve(&mut self, payload: usize) -> std::io::Result<()> {
        let need = (payload + frame::OVERHEAD) as u64;
        let full = self.tail.as_ref().is_none_or(|t| t.len > frame::HEADER_LEN as u64 && t.len + need > self.limit);
        if full {
            self.rotate()?;
        }
        let Some(tail) = self.tail.as_mut() else { return Ok(()) };
        if tail.reserved < tail.len + need {
            let chunk = need.max(RESERVE_CHUNK).min(self.limit.saturating_sub(tail.len).max(need));
            reserve_space(&tail.file, tail.len, chunk)?;
            tail.reserved = tail.len + chunk;
        }
        Ok(())
    }

    /// Appends one record; returns its sequence number. Not durable until
    /// [`Archive::sync`] (or the sync handle) has run.
    pub fn append(&mut self, kind: u8, payload: &[u8]) -> std::io::Result<u64> {
        self.reserve(payload.len())?;
        let seq = self.next;
        let bytes = frame::encode(seq, kind, payload);
        let Some(tail) = self.tail.as_mut() else { return Err(std::io::Error::other("no open segment")) };
        if let Err(e) = tail.file.write_all_at(&bytes, tail.len) {
            // Nothing half-written is left to be read as a torn record.
            let _ = tail.file.set_len(tail.len);
            return Err(e);
        }
        tail.len += bytes.len() as u64;
        self.next += 1;
        Ok(seq)
    }

    /// Closes the open segment (cut to its length, synced) and starts the next one.
    fn rotate(&mut self) -> std::io::Result<()> {
        if let Some(old) = self.tail.take() {
            old.file.set_len(old.len)?;
            old.file.sync_all()?;
        }
        let path = self.dir.join(segment_name(self.next));
        let mut file = OpenOptions::new().read(true).write(true).create(true).truncate(true).open(&path)?;
        let made = file.write_all(&frame::header(self.next)).and_then(|_| file.sync_all());
        if let Err(e) = made {
            let _ = std::fs::remove_file(&path);
            return Err(e);
        }
        File::open(&self.dir)?.sync_all()?;
        let len = frame::HEADER_LEN as u64;
        self.tail = Some(Tail { file, len, reserved: len });
        self.share_tail()
    }

    /// Syncs and gives back the reserved room of the open segment.
    pub fn close(&mut self) -> std::io::Result<()> {
        if let Some(tail) = &self.tail {
            tail.file.set_len(tail.len)?;
            tail.file.sync_all()?;
        }
        Ok(())
    }
}

/// The sequence number of the last record of a segment whose header is
/// whole and which ends exactly after a whole record, reading only those
/// bytes; `None` otherwise (an empty segment, a torn or damaged end).
fn last_record_seq(file: &File, size: u64, first: u64) -> std::io::Result<Option<u64>> {
    let header_len = frame::HEADER_LEN as u64;
    if size <= header_len + frame::OVERHEAD as u64 {
        return Ok(None);
    }
    let mut header = [0; frame::HEADER_LEN];
    file.read_exact_at(&mut header, 0)?;
    if frame::read_header(&header) != Some(first) {
        return Ok(None);
    }
    let mut n = [0; 4];
    file.read_exact_at(&mut n, size - 4)?;
    let record = u64::from(u32::from_le_bytes(n)) + (frame::OVERHEAD - 9) as u64;
    if record > size - header_len {
        return Ok(None);
    }
    let mut bytes = vec![0; record as usize];
    file.read_exact_at(&mut bytes, size - record)?;
    Ok(frame::decode_at(&bytes, 0).ok().filter(|f| f.end == bytes.len()).map(|f| f.seq))
}

/// Reserves `len` bytes at `offset` of `file` on disk, keeping its size.
/// A file system that cannot reserve is written to as it is.
#[cfg(target_os = "linux")]
fn reserve_space(file: &File, offset: u64, len: u64) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    // SAFETY: fallocate reads only its integer arguments; the descriptor
    // belongs to `file`, which outlives the call.
    let rc = unsafe { libc::fallocate(file.as_raw_fd(), libc::FALLOC_FL_KEEP_SIZE, offset as i64, len as i64) };
    if rc == 0 {
        return Ok(());
    }
    let e = std::io::Error::last_os_error();
    match e.raw_os_error() {
        Some(libc::EOPNOTSUPP) | Some(libc::ENOSYS) => Ok(()),
        _ => Err(e),
    }
}

#[cfg(not(target_os = "linux"))]
fn reserve_space(_file: &File, _offset: u64, _len: u64) -> std::io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(dir: &Path, from: u64) -> (Vec<(u64, Vec<u8>)>, Vec<Damage>) {
        let (mut records, mut damage) = (Vec::new(), Vec::new());
        read::<std::io::Error>(dir, from, |found| {
            match found {
                Found::Record(r) => records.push((r.seq, r.payload.to_vec())),
                Found::Damaged(d) => damage.push(d),
            }
            Ok(())
        })
        .unwrap();
        (records, damage)
    }

    #[test]
    fn records_survive_a_reopen_and_segments_roll_over_at_the_limit() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join(DIR);
        {
            let (mut archive, found) = Archive::open_with_limit(&dir, 4096).unwrap();
            assert!(found.is_empty());
            for i in 0..100u64 {
                assert_eq!(archive.append(1, format!("record {i} {}", "x".repeat(100)).as_bytes()).unwrap(), i + 1);
            }
            archive.close().unwrap();
        }
        let segs = segments(&dir).unwrap();
        assert!(segs.len() > 3, "{segs:?}");
        for s in &segs[..segs.len() - 1] {
            assert!(std::fs::metadata(&s.path).unwrap().len() <= 4096);
        }
        let (mut archive, found) = Archive::open_with_limit(&dir, 4096).unwrap();
        assert!(found.is_empty(), "{found:?}");
        assert_eq!(archive.last_seq(), 100);
        assert_eq!(archive.append(2, b"after").unwrap(), 101);
        let (records, damage) = all(&dir, 50);
        assert!(damage.is_empty());
        assert_eq!(records.iter().map(|r| r.0).collect::<Vec<_>>(), (50..=101).collect::<Vec<_>>());
        assert_eq!(records.last().unwrap().1, b"after");
    }

    #[test]
    fn a_torn_tail_is_cut_and_kept_and_appends_go_on_after_it() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join(DIR);
        let (mut archive, _) = Archive::open(&dir).unwrap();
        for i in 0..3 {
            archive.append(1, format!("story {i}").as_bytes()).unwrap();
        }
        archive.close().unwrap();
        drop(archive);
        let seg = segments(&dir).unwrap().pop().unwrap().path;
        let len = std::fs::metadata(&seg).unwrap().len();
        OpenOptions::new().write(true).open(&seg).unwrap().set_len(len - 3).unwrap();
        let (mut archive, found) = Archive::open(&dir).unwrap();
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].contains("cut short"), "{found:?}");
        assert_eq!(archive.last_seq(), 2);
        archive.append(1, b"story 3 again").unwrap();
        let (records, damage) = all(&dir, 1);
        assert!(damage.is_empty(), "{damage:?}");
        assert_eq!(records.iter().map(|r| r.0).collect::<Vec<_>>(), [1, 2, 3]);
        assert_eq!(records[2].1, b"story 3 again");
    }

    #[test]
    fn a_damaged_last_record_is_reported_and_kept_not_cut() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join(DIR);
        let (mut archive, _) = Archive::open(&dir).unwrap();
        for i in 0..3 {
            archive.append(1, format!("story number {i}").as_bytes()).unwrap();
        }
        archive.close().unwrap();
        drop(archive);
        let seg = segments(&dir).unwrap().pop().unwrap();
        let mut bytes = std::fs::read(&seg.path).unwrap();
        let len = bytes.len();
        bytes[len - 12] ^= 1;
        std::fs::write(&seg.path, &bytes).unwrap();
        let (mut archive, found) = Archive::open(&dir).unwrap();
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].contains("checksum mismatch"), "{found:?}");
        assert_eq!(std::fs::metadata(&seg.path).unwrap().len(), len as u64, "cut");
        assert_eq!(archive.append(1, b"after").unwrap(), 4, "the damaged record keeps its number");
        let (records, damage) = all(&dir, 1);
        assert_eq!(records.iter().map(|r| r.0).collect::<Vec<_>>(), [1, 2, 4]);
        assert_eq!(damage.len(), 1, "{damage:?}");
    }

    #[test]
    fn a_damaged_record_is_named_by_segment_and_offset_and_the_others_are_read() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join(DIR);
        let (mut archive, _) = Archive::open(&dir).unwrap();
        for i in 0..5 {
            archive.append(1, format!("story number {i}").as_bytes()).unwrap();
        }
        archive.close().unwrap();
        let seg = segments(&dir).unwrap().pop().unwrap();
        let mut bytes = std::fs::read(&seg.path).unwrap();
        let second = frame::decode_at(&bytes, frame::HEADER_LEN).unwrap().end;
        bytes[second + 20] ^= 1;
        std::fs::write(&seg.path, &bytes).unwrap();
        // Opening reads the last record only: the damage is found by reading, not at open.
        let (archive, found) = Archive::open(&dir).unwrap();
        assert!(found.is_empty(), "{found:?}");
        assert_eq!(archive.last_seq(), 5);
        let (records, damage) = all(&dir, 1);
        assert_eq!(records.iter().map(|r| r.0).collect::<Vec<_>>(), [1, 3, 4, 5]);
        assert_eq!(damage.len(), 1);
        assert_eq!((damage[0].segment.as_str(), damage[0].offset), (seg.name().as_str(), second as u64));
        assert!(damage[0].to_string().contains("checksum mismatch"), "{}", damage[0]);
    }
}
