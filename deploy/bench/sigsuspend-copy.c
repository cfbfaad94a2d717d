/* Preloaded into Herald's services under valgrind by deploy/bench/instructions.sh, nowhere else.
 *
 * Valgrind's wrapper of rt_sigsuspend writes into the caller's signal mask (it removes a signal it
 * reserves). libdispatch's main thread, which every Swift executable parks in, calls sigsuspend
 * with a mask in read-only memory, so valgrind (3.19 to 3.27 at least) dies with an internal
 * SIGSEGV at once. This sigsuspend passes a writable copy; the mask and the call are the same. */
#define _GNU_SOURCE
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

int sigsuspend(const sigset_t *mask) {
    sigset_t copy = *mask;
    return (int)syscall(SYS_rt_sigsuspend, &copy, _NSIG / 8);
}
