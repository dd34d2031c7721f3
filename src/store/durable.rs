//! Group commit: writers wait for a flush that started after their write,
//! and one flush serves every writer that was waiting for it, instead of one
//! fsync each.
//!
//! A flush is sled's `flush` and then `fdatasync` of sled's log file. On
//! Linux sled 0.34 makes its writes stable with `sync_file_range` only, which
//! neither records a grown file's new size and blocks nor empties the disk's
//! write cache (sled's own `fsync` comes every 500 ms): an acknowledged story
//! could be lost to a power cut. The `fdatasync` closes that window.

use std::fs::File;
use std::sync::{Arc, Condvar, Mutex};
use std::thread;

#[derive(Default)]
struct State {
    /// Tickets handed out: a writer's ticket is covered by a flush that began after it.
    requested: u64,
    /// Highest ticket covered by a finished flush.
    flushed: u64,
    /// Flushes done since start: writers per flush shows the sharing.
    flushes: u64,
    /// Highest ticket whose flush failed, and why.
    failed: Option<(u64, String)>,
    closed: bool,
}

/// The flusher thread and the writers' waiting room.
pub struct GroupCommit {
    shared: Arc<(Mutex<State>, Condvar)>,
    flusher: Mutex<Option<thread::JoinHandle<()>>>,
}

impl GroupCommit {
    /// Starts the flusher thread for `db`, whose log file is `log`.
    pub fn start(db: sled::Db, log: File) -> GroupCommit {
        let shared = Arc::new((Mutex::new(State::default()), Condvar::new()));
        let flusher = Arc::clone(&shared);
        let flusher = thread::Builder::new()
            .name("wirefeed-flush".into())
            .spawn(move || flush_loop(&db, &log, &flusher))
            .expect("spawning the flush thread");
        GroupCommit { shared, flusher: Mutex::new(Some(flusher)) }
    }

    /// Blocks until every write made before this call is on disk.
    pub fn sync(&self) -> Result<(), String> {
        let (lock, cvar) = &*self.shared;
        let mut state = lock.lock().unwrap_or_else(|e| e.into_inner());
        state.requested += 1;
        let ticket = state.requested;
        cvar.notify_all();
        while state.flushed < ticket {
            state = cvar.wait(state).unwrap_or_else(|e| e.into_inner());
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
            let _ = flusher.join();
        }
    }
}

fn flush_loop(db: &sled::Db, log: &File, shared: &(Mutex<State>, Condvar)) {
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
        let result = db.flush().map_err(|e| e.to_string()).and_then(|_| log.sync_data().map_err(|e| e.to_string()));
        let mut state = lock.lock().unwrap_or_else(|e| e.into_inner());
        if let Err(e) = result {
            tracing::error!(error = %e, "store: flush failed");
            state.failed = Some((target, format!("flushing the store: {e}")));
        }
        state.flushed = target;
        state.flushes += 1;
        cvar.notify_all();
    }
}
