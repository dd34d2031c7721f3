/* A slow disk, emulated: every call that makes file data durable (fsync,
 * fdatasync, sync_file_range) returns only after an extra SLOW_SYNC_MS
 * milliseconds. Loaded with LD_PRELOAD by `scripts/bench-import
 * --sync-delay-ms N`, into the fsync probe and the server alike, to show
 * what group commit does on a disk slower than this machine's.
 * Built by that script: cc -shared -fPIC -O2 -o slow-sync.so slow-sync.c -ldl */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdlib.h>
#include <time.h>

static void wait_for_the_disk(void) {
    static long ms = -1;
    if (ms < 0) {
        const char *v = getenv("SLOW_SYNC_MS");
        ms = v ? atol(v) : 0;
    }
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&t, &t) != 0) {
    }
}

/* fsync and fdatasync: the real call, then the wait. */
#define DELAYED(name)                                                   \
    int name(int fd) {                                                  \
        static int (*real)(int);                                        \
        if (!real) real = (int (*)(int))dlsym(RTLD_NEXT, #name);        \
        int r = real(fd);                                               \
        wait_for_the_disk();                                            \
        return r;                                                       \
    }

DELAYED(fsync)
DELAYED(fdatasync)

int sync_file_range(int fd, off64_t offset, off64_t nbytes, unsigned int flags) {
    static int (*real)(int, off64_t, off64_t, unsigned int);
    if (!real) real = (int (*)(int, off64_t, off64_t, unsigned int))dlsym(RTLD_NEXT, "sync_file_range");
    int r = real(fd, offset, nbytes, flags);
    wait_for_the_disk();
    return r;
}
