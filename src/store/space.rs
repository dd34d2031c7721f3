//! Free space on the data directory's file system, and the threshold below
//! which imports are refused (`WIREFEED_MIN_FREE_MIB`).
//!
//! sled fails for good once a write of its log hits a full disk (every later
//! read and write answers the same error until the store is opened again),
//! so imports stop while there is still room: the store never sees ENOSPC
//! in the ordinary course, reads go on, and imports resume by themselves
//! when space returns.

use std::path::Path;

/// Free and total bytes of a file system.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Space {
    /// Bytes an unprivileged writer may still use.
    pub free: u64,
    pub total: u64,
}

/// The free space of the file system holding `dir`.
#[cfg(unix)]
pub fn of(dir: &Path) -> std::io::Result<Space> {
    use std::os::unix::ffi::OsStrExt;
    let path = std::ffi::CString::new(dir.as_os_str().as_bytes())
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidInput, "a NUL byte in the data directory"))?;
    let mut out = std::mem::MaybeUninit::<libc::statvfs>::uninit();
    // SAFETY: `path` is a NUL-terminated string that outlives the call and
    // `out` points to writable memory of the right type, which statvfs fills
    // completely when it returns 0.
    let stat = unsafe {
        if libc::statvfs(path.as_ptr(), out.as_mut_ptr()) != 0 {
            return Err(std::io::Error::last_os_error());
        }
        out.assume_init()
    };
    let block = stat.f_frsize as u64;
    Ok(Space { free: stat.f_bavail as u64 * block, total: stat.f_blocks as u64 * block })
}

/// No statvfs: the check is off (free space is reported as unlimited).
#[cfg(not(unix))]
pub fn of(_dir: &Path) -> std::io::Result<Space> {
    Ok(Space { free: u64::MAX, total: u64::MAX })
}

/// The default threshold, from the largest story accepted. sled keeps up to
/// 16 stories in a leaf and rewrites a whole leaf when it consolidates one,
/// so one import may write ~17 times its size; twice that leaves room for
/// importers running at once and for the snapshot sled writes at start.
/// Never under 16 MiB.
pub fn default_min_free(max_body: usize) -> u64 {
    (max_body as u64).saturating_mul(32).max(16 * 1024 * 1024)
}

/// Whether an I/O error says the disk (or the quota) is full.
pub fn is_no_space(e: &std::io::Error) -> bool {
    #[cfg(unix)]
    if matches!(e.raw_os_error(), Some(libc::ENOSPC) | Some(libc::EDQUOT)) {
        return true;
    }
    e.kind() == std::io::ErrorKind::StorageFull
}

/// Bytes as MiB with one decimal, for messages.
pub fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_free_space_of_a_directory_is_known() {
        let dir = tempfile::tempdir().unwrap();
        let space = of(dir.path()).unwrap();
        assert!(space.total > 0 && space.free <= space.total, "{space:?}");
        assert!(of(&dir.path().join("missing")).is_err());
    }

    #[test]
    fn the_default_threshold_grows_with_the_largest_story() {
        assert_eq!(default_min_free(1024 * 1024), 32 * 1024 * 1024);
        assert_eq!(default_min_free(1024), 16 * 1024 * 1024);
    }

    #[test]
    fn enospc_is_no_space() {
        assert!(is_no_space(&std::io::Error::from_raw_os_error(28)));
        assert!(!is_no_space(&std::io::Error::from_raw_os_error(2)));
    }
}
