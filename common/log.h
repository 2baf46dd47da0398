/*
 * log.h - one JSON object per line on stderr. Every string is escaped by log.c, so
 * nothing from a client is written raw. Never log secrets, tokens, hashes or emails.
 */
#ifndef STREMORA_LOG_H
#define STREMORA_LOG_H

#include <stddef.h>

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

/* Sets the lowest level written (default LOG_INFO) and the program name in each line. */
void log_init(const char *program, enum log_level min);
/* Sets the request id that later lines carry (NULL clears it); copied. */
void log_set_request(const char *req_id);
/* Writes {"ts","level","prog","req"?,"event","msg"} with msg formatted from fmt. */
void log_ev(enum log_level level, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Writes an error line for a failed system call: the call, the object, errno's text. */
void log_errno(const char *call, const char *object);
/* Writes a pre-built JSON object (the access line) followed by a newline. */
void log_raw(const char *json_line);
/* Appends s to buf (of size cap, used *n) as a JSON string body (no quotes), escaped;
 * stops silently when full. Used by log.c and the access line. */
void log_escape(char *buf, size_t cap, size_t *n, const char *s);

#endif
