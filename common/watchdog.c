/*
 * watchdog.c - one interval timer per process. The line that the signal handler writes is
 * formatted when the deadline is armed, so the handler only calls write(2) and _exit(2),
 * both async-signal-safe. Its exit status says why (WATCHDOG_EXIT); multiwatch restarts
 * the worker whatever the status, since it ran for longer than its retry window.
 */
#include "watchdog.h"

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

#define WATCHDOG_LINE 768 /* bytes of the line written when a deadline passes */
#define WATCHDOG_EXIT 70  /* EX_SOFTWARE */

static char line[WATCHDOG_LINE];
static volatile sig_atomic_t line_len;
static unsigned timeout_s;
static bool armed;

static void
on_alarm(int sig)
{
    ssize_t w;

    (void)sig;
    if (line_len > 0) {
        w = write(STDERR_FILENO, line, (size_t)line_len);
        (void)w;
    }
    _exit(WATCHDOG_EXIT);
}

int
watchdog_init(unsigned seconds)
{
    struct sigaction sa;

    timeout_s = seconds;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_alarm;
    sigfillset(&sa.sa_mask);
    return sigaction(SIGALRM, &sa, NULL);
}

static void
set_timer(unsigned seconds)
{
    struct itimerval it;

    memset(&it, 0, sizeof(it));
    it.it_value.tv_sec = (time_t)seconds;
    setitimer(ITIMER_REAL, &it, NULL);
}

void
watchdog_arm(const char *method, const char *route, const char *req)
{
    char ts[32], base[24];
    size_t n = 0;
    struct tm tm;
    time_t now;

    if (timeout_s == 0) {
        return;
    }
    line_len = 0; /* a deadline passing while the line is rewritten writes nothing */
    now = time(NULL);
    gmtime_r(&now, &tm);
    strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(ts, sizeof(ts), "%sZ", base);
    n = (size_t)snprintf(line, sizeof(line),
                         "{\"ts\":\"%s\",\"level\":\"error\",\"prog\":\"stremora-fcgi\",\"req\":\"",
                         ts);
    log_escape(line, sizeof(line) - 256, &n, req != NULL ? req : "");
    n +=
        (size_t)snprintf(line + n, sizeof(line) - n,
                         "\",\"event\":\"request_timeout\",\"method\":\"%s\",\"route\":\"", method);
    log_escape(line, sizeof(line) - 128, &n, route);
    n += (size_t)snprintf(line + n, sizeof(line) - n,
                          "\",\"msg\":\"no answer after %u s (STREMORA_REQUEST_TIMEOUT): worker "
                          "%ld exits\"}\n",
                          timeout_s, (long)getpid());
    line_len = (sig_atomic_t)(n < sizeof(line) ? n : sizeof(line) - 1);
    armed = true;
    set_timer(timeout_s);
}

void
watchdog_kick(void)
{
    if (armed) {
        set_timer(timeout_s);
    }
}

void
watchdog_disarm(void)
{
    if (armed) {
        set_timer(0);
        armed = false;
    }
}
