/*
 * child.h - running ffmpeg and ffprobe on untrusted media: a child process started with
 * posix_spawn (no forked child code), in a process group of its own, through
 * `setpriv --pdeathsig KILL` (it dies with the worker, however the worker dies) and
 * `prlimit` (address space and CPU time capped). The caller reads its standard output a
 * line at a time, is called back on a timer (heartbeats, cancellation, shutdown), and
 * gets the exit status and the last bytes of standard error (for a failure reason). A
 * child past its timeout, or stopped by a callback, is killed with its whole group. It
 * gets a minimal environment (PATH, LC_ALL=C, MALLOC_ARENA_MAX): nothing of ours, such as
 * the database's address and credentials, reaches code that parses untrusted media.
 */
#ifndef STREMORA_CHILD_H
#define STREMORA_CHILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define CHILD_ERR_TAIL 2048 /* bytes of standard error kept */
#define CHILD_LINE     4096 /* bytes of one line of standard output; longer ones are cut */

struct child_limits {
    uint64_t mem_bytes; /* RLIMIT_AS (0: none) */
    uint64_t cpu_secs;  /* RLIMIT_CPU (0: none) */
    int64_t timeout_ms; /* wall time before the child is killed (0: none) */
    int64_t tick_ms;    /* how often on_tick runs */
};

/* Called for each line of standard output (without its newline), and every tick_ms.
 * Returning nonzero stops the child (killed). */
struct child_callbacks {
    int (*on_line)(void *ctx, const char *line, size_t len);
    int (*on_tick)(void *ctx);
    void *ctx;
};

enum child_result {
    CHILD_EXITED,  /* *status is the exit status */
    CHILD_SIGNAL,  /* killed by a signal it did not get from us (e.g. a crash) */
    CHILD_TIMEOUT, /* killed at the timeout */
    CHILD_STOPPED, /* killed because a callback asked */
    CHILD_FAILED,  /* could not be started or waited for (logged) */
};

struct child_outcome {
    enum child_result result;
    int status;                        /* exit status (CHILD_EXITED) or signal number */
    bool cut;                          /* a line of standard output was longer than
                                        * CHILD_LINE: on_line got only its start */
    char err_tail[CHILD_ERR_TAIL + 1]; /* the end of standard error, NUL-terminated */
};

/* Runs argv (argv[0] an absolute path) under lim, feeding cb, until it ends. */
void child_run(char *const argv[], const struct child_limits *lim, const struct child_callbacks *cb,
               struct child_outcome *out);

#endif
