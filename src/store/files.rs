//! sled's files in the data directory, looked at before sled opens them:
//! what an interrupted or failed start leaves behind is cleared, a damaged
//! snapshot is set aside, a cut log is reported.
//!
//! sled opens the newest `snap.<lsn>` file it finds, `.generating` ones
//! included, and refuses the store ("Read corrupted data") when that file
//! is incomplete; yet a snapshot only saves replaying the log, which sled
//! does in full when there is none. A `.generating` file is written by a
//! start that failed before renaming it (typically on a full disk), so it
//! is never the only copy of anything: it is removed. A complete snapshot
//! whose checksum does not match is moved into `set-aside/`, so sled rebuilds
//! from the log and the operator still has the file.

use std::path::{Path, PathBuf};

/// Where damaged files are moved, inside the data directory.
pub const SET_ASIDE: &str = "set-aside";

/// sled's log segment size when `conf` does not say (sled 0.34's default).
const DEFAULT_SEGMENT: u64 = 512 * 1024;

/// Clears what an interrupted start left and sets aside damaged
/// snapshots (each logged); returns what looks damaged and cannot be
/// mended here (a log cut short), for the operator.
pub fn tidy(dir: &Path) -> std::io::Result<Vec<String>> {
    let mut damage = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else { return Ok(damage) };
    let mut names: Vec<String> =
        entries.filter_map(Result::ok).filter_map(|e| e.file_name().into_string().ok()).collect();
    names.sort();
    for name in &names {
        let path = dir.join(name);
        if !name.starts_with("snap.") {
            continue;
        }
        if name.ends_with(".generating") || name.ends_with(".in___motion") {
            std::fs::remove_file(&path)?;
            tracing::warn!(
                file = %path.display(),
                "removed a snapshot left unfinished by an earlier start (a full disk or a crash while starting)"
            );
        } else if !snapshot_is_whole(&path)? {
            let to = set_aside(dir, name)?;
            tracing::warn!(
                file = %path.display(),
                moved_to = %to.display(),
                "set aside a damaged snapshot: the store is rebuilt from its log"
            );
        }
    }
    if let Some(problem) = log_cut_short(dir)? {
        damage.push(problem);
    }
    Ok(damage)
}

/// Moves every snapshot into `set-aside/` (after sled refused to open the
/// store with them); returns how many were moved.
pub fn set_aside_snapshots(dir: &Path) -> std::io::Result<usize> {
    let mut moved = 0;
    for entry in std::fs::read_dir(dir)? {
        let name = entry?.file_name().to_string_lossy().into_owned();
        if name.starts_with("snap.") {
            let to = set_aside(dir, &name)?;
            tracing::warn!(file = %dir.join(&name).display(), moved_to = %to.display(), "set aside a snapshot");
            moved += 1;
        }
    }
    Ok(moved)
}

/// Whether a snapshot ends with the length and CRC-32 sled writes after it.
fn snapshot_is_whole(path: &Path) -> std::io::Result<bool> {
    let bytes = std::fs::read(path)?;
    if bytes.len() <= 12 {
        return Ok(false);
    }
    let (body, tail) = bytes.split_at(bytes.len() - 12);
    let expected = u32::from_le_bytes([tail[8], tail[9], tail[10], tail[11]]);
    Ok(crc32fast::hash(body) == expected)
}

fn set_aside(dir: &Path, name: &str) -> std::io::Result<PathBuf> {
    let aside = dir.join(SET_ASIDE);
    std::fs::create_dir_all(&aside)?;
    let stamp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let to = aside.join(format!("{name}.{stamp}"));
    std::fs::rename(dir.join(name), &to)?;
    Ok(to)
}

/// sled grows its log a whole segment at a time: a log whose size is not a
/// whole number of segments has lost its end (a copy cut short, a file
/// truncated). sled then opens what is left and stories written last are
/// missing, with no other sign.
fn log_cut_short(dir: &Path) -> std::io::Result<Option<String>> {
    let log = dir.join("db");
    let Ok(meta) = std::fs::metadata(&log) else { return Ok(None) };
    let segment = std::fs::read_to_string(dir.join("conf"))
        .ok()
        .and_then(|conf| {
            conf.lines().find_map(|l| l.strip_prefix("segment_size:").and_then(|v| v.trim().parse::<u64>().ok()))
        })
        .filter(|&s| s > 0)
        .unwrap_or(DEFAULT_SEGMENT);
    let size = meta.len();
    Ok((size % segment != 0).then(|| {
        format!(
            "the log file {} is {size} bytes, not a whole number of {segment}-byte segments: its end is missing and the stories written last may be lost",
            log.display()
        )
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unfinished_snapshot_is_removed_and_a_damaged_one_set_aside() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(d.join("snap.0000000000000010.generating"), b"").unwrap();
        let mut good = b"snapshot bytes".to_vec();
        let crc = crc32fast::hash(&good);
        good.extend_from_slice(&(good.len() as u64).to_le_bytes());
        good.extend_from_slice(&crc.to_le_bytes());
        std::fs::write(d.join("snap.0000000000000008"), &good).unwrap();
        std::fs::write(d.join("snap.0000000000000009"), b"garbage that is no snapshot").unwrap();
        assert_eq!(tidy(d).unwrap(), Vec::<String>::new());
        let left: Vec<String> = std::fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with("snap."))
            .collect();
        assert_eq!(left, ["snap.0000000000000008"]);
        assert_eq!(std::fs::read_dir(d.join(SET_ASIDE)).unwrap().count(), 1);
    }

    #[test]
    fn a_log_cut_short_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("conf"), "segment_size: 1024\nuse_compression: false\n").unwrap();
        std::fs::write(dir.path().join("db"), vec![0; 2048]).unwrap();
        assert!(tidy(dir.path()).unwrap().is_empty());
        std::fs::write(dir.path().join("db"), vec![0; 1500]).unwrap();
        let damage = tidy(dir.path()).unwrap();
        assert!(damage[0].contains("its end is missing"), "{damage:?}");
    }
}
