//! The server's allocator: jemalloc on Linux (glibc targets), set in
//! `main.rs` with the settings below.
//!
//! Why not glibc's malloc: sled pages tree nodes in and out of its cache as
//! requests wander over a large store, and each node brings kilobytes-sized
//! values with it. In glibc's heap that churn leaves thousands of free chunks
//! between live ones, and every large allocation of a feed render then pays
//! for sorting and merging them: at 1,000,000 stories the newest-50 feed page
//! took ~1.6x its time at 1,000, with `_int_malloc` at 28% of the server's
//! time against 10% (perf; docs/benchmarks.md). With jemalloc the ratio was
//! 1.20–1.36x in four full runs on a quiet host (1.50–1.59x on a busier one).
//!
//! [`MALLOC_CONF`] is read by jemalloc at its first allocation:
//! - `narenas:1`: one arena, not four per core, shared by every thread (each
//!   keeps a small cache of its own in front of it). More arenas spread the
//!   same data over more memory: at 1,000,000 stories, after the 10,000-request
//!   load, one arena held 119–129 MiB and two 123–135 MiB, at the same speed.
//! - `background_thread:true`, `dirty_decay_ms:1000`, `muzzy_decay_ms:0`:
//!   freed pages go back to the system about a second after they were last
//!   used, from jemalloc's own thread, not on a request's path.

/// jemalloc's settings (`malloc_conf`), NUL-terminated.
pub const MALLOC_CONF: &[u8] = b"narenas:1,background_thread:true,dirty_decay_ms:1000,muzzy_decay_ms:0\0";

/// Hands free pages back to the system now, rather than after the decay.
/// Opening a large store builds sled's page table from a snapshot that is
/// dropped afterwards (measured at 1,000,000 stories: RSS after start
/// 79 → 62 MiB). A no-op where jemalloc is not the allocator.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub fn release_free_pages() {
    // `arena.<MALLCTL_ARENAS_ALL>.purge`: every arena, no input, no output.
    const PURGE_ALL: &[u8] = b"arena.4096.purge\0";
    // SAFETY: a NUL-terminated name, and null/0 for the value pointers,
    // which is what a purge takes; mallctl reports errors by return value.
    let rc = unsafe {
        tikv_jemalloc_sys::mallctl(
            PURGE_ALL.as_ptr().cast(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            0,
        )
    };
    if rc != 0 {
        tracing::debug!(rc, "jemalloc purge refused");
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn release_free_pages() {}
