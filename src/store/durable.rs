//! Group commit: writers wait for a flush that started after their write,
//! and one flush serves every writer that was waiting for it, instead of one
//! fsync each.
//!
//! A flush is sled's `flush` and then `fdatasync` of sled's log file. On
//! Linux sled 0.34 makes its writes stable with `sync_file_range` only, which
//! neither records a grown file's new size and blocks nor empties the disk's
//! write cache (sled's own `fsync` comes every 500 ms): an acknowledged story
//! could be lost to a power cut. The `fdatasync` closes that window.
//!
//! Whatever else must be on disk with the store (the archive of what was
//! received) is synced in the same flush, after sled's log: see [`SyncHook`].

use std::fs::File;
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// Longest a writer waits for its flush. sled's flush has waited forever
/// on a full disk (vendor/sled/PATCHES.md, patch 5): whatever the cause, an
/// import is answered, and the store is reported failed.
const SYNC_LIMIT: Duration = Duration::from_secs(20);

/// Syncs something that must be on disk whenever the store is: run by
/// every flush after sled's log, so one group commit covers both.
pub type SyncHook = Arc<dyn Fn() -> std::io::Result<()> + Send + Sync>;

/// Why a flush failed.
#[derive(Debug, Clone)]
pub struct FlushFailure {
    pub detail: String,
    /// The disk (or quota) is full.
    pub no_space: bool,
    /// The flush did not finish within the limit.
    pub timed_out: bool,
}

#[derive(Default)]
struct State {
    /// Tickets handed out: a writer's ticket is covered by a flush that began after it.
    requested: u64,
    /// Highest ticket covered by a finished flush.
    flushed: u64,
    /// Flushes done since start: writers per flush shows the sharing.
    flushes: u64,
    /// Highest ticket whose flush failed, and why.
    failed: Option<(u64, FlushFailure)>,
    closed: bool,
}

/// The flusher thread and the writers' waiting room.
pub struct GroupCommit {
    shared: Arc<(Mutex<State>, Condvar)>,
    also: Arc<Mutex<Option<SyncHook>>>,
    flusher: Mutex<Option<thread::JoinHandle<()>>>,
}

impl GroupCommit {
    /// Starts the flusher thread for `db`, whose log file is `log`.
    pub fn start(db: sled::Db, log: File) -> GroupCommit {
        let shared = Arc::new((Mutex::new(State::default()), Condvar::new()));
        let also: Arc<Mutex<Option<SyncHook>>> = Arc::default();
        let (flusher, hook) = (Arc::clone(&shared), Arc::clone(&also));
        let flusher = thread::Builder::new()
            .name("wirefeed-flush".into())
            .spawn(move || flush_loop(&db, &log, &hook, &flusher))
            .expect("spawning the flush thread");
        GroupCommit { shared, also, flusher: Mutex::new(Some(flusher)) }
    }

    /// Syncs `hook` in every flush from now on.
    pub fn set_also(&self, hook: Option<SyncHook>) {
        *self.also.lock().unwrap_or_else(|e| e.into_inner()) = hook;
    }

    /// Blocks until every write made before this call is on disk.
    pub fn sync(&self) -> Result<(), FlushFailure> {
        let (lock, cvar) = &*self.shared;
        let mut state = lock.lock().unwrap_or_else(|e| e.into_inner());
        state.requested += 1;
        let ticket = state.requested;
        cvar.notify_all();
        let deadline = Instant::now() + SYNC_LIMIT;
        while state.flushed < ticket {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(FlushFailure {
                    detail: format!("flushing the store: not done after {} s", SYNC_LIMIT.as_secs()),
                    no_space: false,
                    timed_out: true,
                });
            }
            state = cvar.wait_timeout(state, left).unwrap_or_else(|e| e.into_inner()).0;
        }
        match &state.failed {
            Some((upto, why)) if *upto >= ticket => Err(why.clone()),
            _ => Ok(()),
        }
    }

    /// Flushes done since start.
    pub fn flushes(&self) -> u64 {
        let (lock, _) = &*self.shared;
        lock.lock().unwrap_or_else(|e| e.into_inner()).flushes
    }

    /// Stops the flusher after a last flush and waits for it, so that its
    /// handle on the store is gone when this returns.
    pub fn close(&self) {
        let (lock, cvar) = &*self.shared;
        {
            let mut state = lock.lock().unwrap_or_else(|e| e.into_inner());
            state.closed = true;
            cvar.notify_all();
        }
        if let Some(flusher) = self.flusher.lock().unwrap_or_else(|e| e.into_inner()).take() {
            // A flusher stuck in sled is left behind rather than waited for forever.
            let deadline = Instant::now() + SYNC_LIMIT;
            while !flusher.is_finished() && Instant::now() < deadline {
                thread::sleep(Duration::from_millis(10));
            }
            if flusher.is_finished() {
                let _ = flusher.join();
            } else {
                tracing::error!("store: the flush thread did not stop; leaving it");
            }
        }
    }
}

fn flush_loop(db: &sled::Db, log: &File, also: &Mutex<Option<SyncHook>>, shared: &(Mutex<State>, Condvar)) {
    let (lock, cvar) = shared;
    loop {
        let target = {
            let mut state = lock.lock().unwrap_or_else(|e| e.into_inner());
            while state.requested == state.flushed && !state.closed {
                state = cvar.wait(state).unwrap_or_else(|e| e.into_inner());
            }
            if state.closed && state.requested == state.flushed {
                return;
            }
            state.requested
        };
        let store = || {
            let flushed = db.flush().map(|_| ()).map_err(|e| match e {
                sled::Error::Io(io) => io,
                other => std::io::Error::other(other.to_string()),
            });
            flushed.and_then(|_| log.sync_data())
        };
        let hook = also.lock().unwrap_or_else(|e| e.into_inner()).clone();
        // The other file is synced at the same time as sled's: a flush
        // waits for the slower of the two, not for both in turn.
        let result = match hook {
            None => store(),
            Some(sync) => thread::scope(|s| {
                let other = s.spawn(|| sync());
                let flushed = store();
                let synced = other.join().unwrap_or_else(|_| Err(std::io::Error::other("the sync panicked")));
                flushed.and(synced)
            }),
        };
        let mut state = lock.lock().unwrap_or_else(|e| e.into_inner());
        if let Err(e) = result {
            tracing::error!(error = %e, "store: flush failed");
            let failure = FlushFailure {
                detail: format!("flushing the store: {e}"),
                no_space: super::space::is_no_space(&e),
                timed_out: false,
            };
            state.failed = Some((target, failure));
        }
        state.flushed = target;
        state.flushes += 1;
        cvar.notify_all();
    }
}
