/*
 * log.c - JSON lines on stderr. One write(2) per line so that lines from the workers of
 * one pool, which share stderr, never interleave.
 */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LOG_LINE 2048 /* bytes of one line; longer messages are cut */

static const char *const level_names[] = {"debug", "info", "warn", "error"};
static enum log_level min_level = LOG_INFO;
static char program[32] = "stremora";
static char request_id[64];

void
log_init(const char *prog, enum log_level min)
{
    snprintf(program, sizeof(program), "%s", prog);
    min_level = min;
}

void
log_set_request(const char *req_id)
{
    snprintf(request_id, sizeof(request_id), "%s", req_id != NULL ? req_id : "");
}

void
log_escape(char *buf, size_t cap, size_t *n, const char *s)
{
    static const char hex[] = "0123456789abcdef";

    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        char esc[7];
        size_t k = 0;

        if (c == '"' || c == '\\') {
            esc[k++] = '\\';
            esc[k++] = (char)c;
        } else if (c < 0x20 || c == 0x7f) {
            memcpy(esc, "\\u00", 4);
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            k = 6;
        } else {
            esc[k++] = (char)c;
        }
        if (*n + k >= cap) {
            return;
        }
        memcpy(buf + *n, esc, k);
        *n += k;
    }
}

static void
append(char *buf, size_t cap, size_t *n, const char *s)
{
    size_t k = strlen(s);

    if (*n + k < cap) {
        memcpy(buf + *n, s, k);
        *n += k;
    }
}

static void
write_line(char *buf, size_t n)
{
    buf[n++] = '\n';
    while (n > 0) {
        ssize_t w = write(STDERR_FILENO, buf, n);

        if (w <= 0) {
            if (w == -1 && errno == EINTR) {
                continue;
            }
            return;
        }
        buf += w;
        n -= (size_t)w;
    }
}

void
log_raw(const char *json_line)
{
    char buf[LOG_LINE + 1];
    size_t n = 0;

    append(buf, LOG_LINE, &n, json_line);
    write_line(buf, n);
}

void
log_ev(enum log_level level, const char *event, const char *fmt, ...)
{
    char buf[LOG_LINE + 1], msg[LOG_LINE], ts[40], base[24];
    struct timespec now;
    struct tm tm;
    size_t n = 0;
    va_list ap;

    if (level < min_level) {
        return;
    }
    clock_gettime(CLOCK_REALTIME, &now);
    gmtime_r(&now.tv_sec, &tm);
    strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(ts, sizeof(ts), "%.20s.%03ldZ", base, now.tv_nsec / 1000000);
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);

    append(buf, LOG_LINE, &n, "{\"ts\":\"");
    append(buf, LOG_LINE, &n, ts);
    append(buf, LOG_LINE, &n, "\",\"level\":\"");
    append(buf, LOG_LINE, &n, level_names[level]);
    append(buf, LOG_LINE, &n, "\",\"prog\":\"");
    log_escape(buf, LOG_LINE, &n, program);
    if (request_id[0] != '\0') {
        append(buf, LOG_LINE, &n, "\",\"req\":\"");
        log_escape(buf, LOG_LINE, &n, request_id);
    }
    append(buf, LOG_LINE, &n, "\",\"event\":\"");
    log_escape(buf, LOG_LINE, &n, event);
    append(buf, LOG_LINE, &n, "\",\"msg\":\"");
    log_escape(buf, LOG_LINE - 2, &n, msg);
    append(buf, LOG_LINE, &n, "\"}");
    write_line(buf, n);
}

void
log_errno(const char *call, const char *object)
{
    int e = errno;

    log_ev(LOG_ERROR, "syscall_failed", "%s %s: %s", call, object != NULL ? object : "",
           strerror(e));
    errno = e;
}
