/*
 * child.c - child processes for untrusted media (child.h). The child's argv is prefixed
 * with setpriv (parent-death signal) and prlimit (limits), both from util-linux, so no
 * code runs between fork and exec in this process. Standard output and error come back
 * over two pipes read with poll(2); a signal that interrupts the wait (SIGTERM) only makes
 * the next tick come sooner.
 */
#include "child.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"

#define SETPRIV        "/usr/bin/setpriv"
#define PRLIMIT        "/usr/bin/prlimit"
#define CHILD_PREFIX   8   /* argv slots the wrappers take */
#define CHILD_MAX_ARGS 256 /* argv entries of the child itself */

/* The child's whole environment. Few malloc arenas: the address-space cap is per process,
 * and glibc reserves 64 MiB of it for each arena a thread makes. */
static char *const child_env[] = {"PATH=/usr/bin:/bin", "LC_ALL=C", "MALLOC_ARENA_MAX=2", NULL};

struct run {
    const struct child_callbacks *cb;
    char line[CHILD_LINE + 1];
    size_t nline;
    bool cut; /* the current line is past CHILD_LINE: the rest of it is dropped */
    struct child_outcome *out;
    size_t nerr;
    bool stop;
};

/* Splits standard output into lines for on_line. */
static void
take_out(struct run *run, const char *p, size_t n)
{
    size_t i;

    for (i = 0; i < n && !run->stop; i++) {
        if (p[i] != '\n') {
            if (run->nline < CHILD_LINE) {
                run->line[run->nline++] = p[i];
            } else {
                run->cut = true;
                run->out->cut = true;
            }
            continue;
        }
        run->line[run->nline] = '\0';
        if (run->cb->on_line != NULL && run->cb->on_line(run->cb->ctx, run->line, run->nline)) {
            run->stop = true;
        }
        run->nline = 0;
        run->cut = false;
    }
}

/* Keeps the last CHILD_ERR_TAIL bytes of standard error. */
static void
take_err(struct run *run, const char *p, size_t n)
{
    char *tail = run->out->err_tail;

    if (n >= CHILD_ERR_TAIL) {
        memcpy(tail, p + n - CHILD_ERR_TAIL, CHILD_ERR_TAIL);
        run->nerr = CHILD_ERR_TAIL;
    } else {
        if (run->nerr + n > CHILD_ERR_TAIL) {
            size_t drop = run->nerr + n - CHILD_ERR_TAIL;

            memmove(tail, tail + drop, run->nerr - drop);
            run->nerr -= drop;
        }
        memcpy(tail + run->nerr, p, n);
        run->nerr += n;
    }
    tail[run->nerr] = '\0';
}

/* Starts the child with its output on the pipes' write ends. Returns its pid or -1. */
static pid_t
start(char *const argv[], const struct child_limits *lim, int out_w, int err_w)
{
    char as[48], cpu[48], *args[CHILD_PREFIX + CHILD_MAX_ARGS + 1];
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    sigset_t none, all;
    size_t n = 0, i;
    pid_t pid = -1;
    int rc;

    args[n++] = SETPRIV;
    args[n++] = "--pdeathsig";
    args[n++] = "KILL";
    args[n++] = "--";
    args[n++] = PRLIMIT;
    snprintf(as, sizeof(as), "--as=%" PRIu64, lim->mem_bytes);
    snprintf(cpu, sizeof(cpu), "--cpu=%" PRIu64, lim->cpu_secs);
    if (lim->mem_bytes > 0) {
        args[n++] = as;
    }
    if (lim->cpu_secs > 0) {
        args[n++] = cpu;
    }
    args[n++] = "--";
    for (i = 0; argv[i] != NULL; i++) {
        if (i == CHILD_MAX_ARGS) {
            log_ev(LOG_ERROR, "child_args", "%s: more than %d arguments", argv[0], CHILD_MAX_ARGS);
            return -1;
        }
        args[n++] = argv[i];
    }
    args[n] = NULL;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, out_w, STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&fa, err_w, STDERR_FILENO);
    posix_spawnattr_init(&attr);
    /* A group of its own (killed as one), every signal at its default, none blocked. */
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                        POSIX_SPAWN_SETSIGDEF);
    posix_spawnattr_setpgroup(&attr, 0);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &all);
    if ((rc = posix_spawn(&pid, args[0], &fa, &attr, args, child_env)) != 0) {
        errno = rc;
        log_errno("posix_spawn", argv[0]);
        pid = -1;
    }
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    return pid;
}

/* Reads what fd has; false at its end (or on an error). */
static bool
drain(struct run *run, int fd, bool is_out)
{
    char buf[16384];
    ssize_t k = read(fd, buf, sizeof(buf));

    if (k > 0) {
        if (is_out) {
            take_out(run, buf, (size_t)k);
        } else {
            take_err(run, buf, (size_t)k);
        }
        return true;
    }
    return k < 0 && (errno == EINTR || errno == EAGAIN);
}

static void
collect(pid_t pid, enum child_result why, struct child_outcome *out)
{
    int st = 0;

    if (why != CHILD_EXITED) {
        kill(-pid, SIGKILL);
    }
    while (waitpid(pid, &st, 0) == -1 && errno == EINTR) {
    }
    if (why != CHILD_EXITED) {
        out->result = why;
        out->status = SIGKILL;
    } else if (WIFEXITED(st)) {
        out->result = CHILD_EXITED;
        out->status = WEXITSTATUS(st);
    } else {
        out->result = CHILD_SIGNAL;
        out->status = WIFSIGNALED(st) ? WTERMSIG(st) : 0;
    }
}

void
child_run(char *const argv[], const struct child_limits *lim, const struct child_callbacks *cb,
          struct child_outcome *out)
{
    struct run run = {.cb = cb, .out = out};
    int out_p[2] = {-1, -1}, err_p[2] = {-1, -1};
    int64_t started = clock_mono_ms(), next_tick = started + lim->tick_ms;
    enum child_result why = CHILD_EXITED;
    bool out_open = true, err_open = true;
    pid_t pid;

    memset(out, 0, sizeof(*out));
    out->result = CHILD_FAILED;
    if (pipe2(out_p, O_CLOEXEC) == -1 || pipe2(err_p, O_CLOEXEC) == -1) {
        log_errno("pipe2", argv[0]);
        goto out;
    }
    if ((pid = start(argv, lim, out_p[1], err_p[1])) == -1) {
        goto out;
    }
    close(out_p[1]);
    close(err_p[1]);
    out_p[1] = err_p[1] = -1;
    while ((out_open || err_open) && why == CHILD_EXITED) {
        struct pollfd fds[2] = {{out_open ? out_p[0] : -1, POLLIN, 0},
                                {err_open ? err_p[0] : -1, POLLIN, 0}};
        int64_t now = clock_mono_ms(), wait = lim->tick_ms > 0 ? next_tick - now : 1000;

        if (lim->timeout_ms > 0 && now - started >= lim->timeout_ms) {
            why = CHILD_TIMEOUT;
            break;
        }
        if (poll(fds, 2, (int)(wait > 0 ? wait : 0)) > 0) {
            if (fds[0].revents != 0) {
                out_open = drain(&run, out_p[0], true);
            }
            if (fds[1].revents != 0) {
                err_open = drain(&run, err_p[0], false);
            }
        }
        if (run.stop) {
            why = CHILD_STOPPED;
        } else if (lim->tick_ms > 0 && clock_mono_ms() >= next_tick) {
            next_tick = clock_mono_ms() + lim->tick_ms;
            if (cb->on_tick != NULL && cb->on_tick(cb->ctx)) {
                why = CHILD_STOPPED;
            }
        }
    }
    if (why == CHILD_EXITED && run.nline > 0) { /* a last line without its newline */
        take_out(&run, "\n", 1);
    }
    collect(pid, why, out);
out:
    for (int i = 0; i < 2; i++) {
        if (out_p[i] != -1) {
            close(out_p[i]);
        }
        if (err_p[i] != -1) {
            close(err_p[i]);
        }
    }
}
