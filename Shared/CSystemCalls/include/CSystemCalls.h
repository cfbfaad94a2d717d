#ifndef HERALD_CSYSTEMCALLS_H
#define HERALD_CSYSTEMCALLS_H

// Linux calls Swift's Glibc module does not import.

#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/types.h>

// Names the calling thread (`top -H`, perf, /proc/…/task/…/comm); Linux keeps the first 15 bytes
// and refuses a longer name. prctl is variadic, which Swift does not import, and glibc's
// pthread_setname_np is hidden behind _GNU_SOURCE. Foundation's Thread.name is not used: set from
// inside a new thread it is sometimes dropped, set before start it was never applied here.
static inline int herald_name_this_thread(const char *name) {
    return prctl(PR_SET_NAME, (unsigned long)name, 0, 0, 0);
}

// Fills `buffer` from the kernel's random generator (getrandom(2), glibc 2.25 and later; its
// header is not part of Swift's Glibc module). Returns the bytes written, or -1 with errno set.
static inline ssize_t herald_getrandom(void *buffer, size_t length) {
    return getrandom(buffer, length, 0);
}

#endif
