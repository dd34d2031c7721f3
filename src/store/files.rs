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
        // sled writes on at the end of what it could read, so the sign is
        // gone after this start: the finding is kept in a file.
        use std::io::Write;
        let mut report = std::fs::OpenOptions::new().create(true).append(true).open(dir.join(DAMAGE_REPORT))?;
        writeln!(report, "{problem}")?;
    }
    if let Ok(report) = std::fs::read_to_string(dir.join(DAMAGE_REPORT)) {
        damage.extend(report.lines().filter(|l| !l.trim().is_empty()).map(|l| {
            format!(
                "{l} (noted in {}; delete that file once the store is restored or the loss accepted)",
                DAMAGE_REPORT
            )
        }));
    }
    Ok(damage)
}

/// Damage found at an earlier start, one line each, kept until the operator deletes the file.
pub const DAMAGE_REPORT: &str = "damage-report.txt";

/// Moves the store's files (sled's log, snapshots, blobs and config, and
/// the notes kept beside them) into `set-aside/store-<time>/`, so a new
/// store can be made in their place; returns where they went. Nothing is
/// deleted.
pub fn set_aside_store(dir: &Path) -> std::io::Result<PathBuf> {
    let stamp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let mut to = dir.join(SET_ASIDE).join(format!("store-{stamp}"));
    let mut n = 1;
    while to.exists() {
        n += 1;
        to = dir.join(SET_ASIDE).join(format!("store-{stamp}-{n}"));
    }
    std::fs::create_dir_all(&to)?;
    for entry in std::fs::read_dir(dir)? {
        let name = entry?.file_name().to_string_lossy().into_owned();
        let sled_file = matches!(name.as_str(), "db" | "conf" | "blobs" | LOG_SIZE | DAMAGE_REPORT);
        if sled_file || name.starts_with("snap.") {
            std::fs::rename(dir.join(&name), to.join(&name))?;
        }
    }
    std::fs::File::open(dir)?.sync_all()?;
    Ok(to)
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

/// The size of sled's log at the last clean stop, written by [`record_log_size`].
const LOG_SIZE: &str = "log-size";

/// Notes the size of sled's log after a clean stop: a log found shorter at
/// the next start has lost its end (a copy cut short, a file truncated).
/// sled then opens what is left, and the stories written last are missing
/// with no other sign.
pub fn record_log_size(dir: &Path) -> std::io::Result<()> {
    let size = std::fs::metadata(dir.join("db"))?.len();
    std::fs::write(dir.join(LOG_SIZE), size.to_string())
}

/// Compares the log with the size noted at the last clean stop. The note
/// is used once: sled itself may shorten the log when it recovers from a
/// crash, so a start after a crash has nothing to compare with.
fn log_cut_short(dir: &Path) -> std::io::Result<Option<String>> {
    let noted = dir.join(LOG_SIZE);
    let Ok(text) = std::fs::read_to_string(&noted) else { return Ok(None) };
    std::fs::remove_file(&noted)?;
    let (Ok(expected), Ok(meta)) = (text.trim().parse::<u64>(), std::fs::metadata(dir.join("db"))) else {
        return Ok(None);
    };
    let size = meta.len();
    Ok((size < expected).then(|| {
        format!(
            "the log file {} is {size} bytes, shorter than the {expected} it had at the last clean stop: its end is missing and the stories written last may be lost",
            dir.join("db").display()
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
        std::fs::write(dir.path().join("db"), vec![0; 2048]).unwrap();
        record_log_size(dir.path()).unwrap();
        assert!(tidy(dir.path()).unwrap().is_empty());
        record_log_size(dir.path()).unwrap();
        std::fs::write(dir.path().join("db"), vec![0; 1500]).unwrap();
        let damage = tidy(dir.path()).unwrap();
        assert!(damage[0].contains("its end is missing"), "{damage:?}");
        // Still reported at the next start, after sled has written on.
        std::fs::write(dir.path().join("db"), vec![0; 4096]).unwrap();
        assert_eq!(tidy(dir.path()).unwrap().len(), 1);
    }
}
