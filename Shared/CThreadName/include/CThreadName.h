#ifndef HERALD_CTHREADNAME_H
#define HERALD_CTHREADNAME_H

#include <sys/prctl.h>

// Names the calling thread (`top -H`, perf, /proc/…/task/…/comm); Linux keeps the first 15 bytes
// and refuses a longer name. prctl is variadic, which Swift does not import, and glibc's
// pthread_setname_np is hidden behind _GNU_SOURCE. Foundation's Thread.name is not used: set from
// inside a new thread it is sometimes dropped, set before start it was never applied here.
static inline int herald_name_this_thread(const char *name) {
    return prctl(PR_SET_NAME, (unsigned long)name, 0, 0, 0);
}

#endif
