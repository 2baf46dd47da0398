/*
 * problem.h - every error Stremora answers, one row each: HTTP status, stable machine code
 * (never renamed: clients match on it) and title. Mirrored in docs/openapi.yaml.
 * Answers are RFC 9457 problem details; http.c writes them.
 */
#ifndef STREMORA_PROBLEM_H
#define STREMORA_PROBLEM_H

enum prob {
    PROB_NOT_FOUND,
    PROB_METHOD_NOT_ALLOWED,
    PROB_BODY_TOO_LARGE,
    PROB_INVALID_JSON,
    PROB_UNSUPPORTED_MEDIA_TYPE,
    PROB_VALIDATION_FAILED,
    PROB_USERNAME_TAKEN,
    PROB_EMAIL_TAKEN,
    PROB_INVALID_CREDENTIALS,
    PROB_MISSING_TOKEN,
    PROB_INVALID_TOKEN,
    PROB_TOKEN_EXPIRED,
    PROB_INVALID_REFRESH_TOKEN,
    PROB_REFRESH_TOKEN_REUSED,
    PROB_WRONG_PASSWORD,
    PROB_CURRENT_PASSWORD_REQUIRED,
    PROB_PASSWORD_TOO_COMMON,
    PROB_TOO_MANY_ATTEMPTS,
    PROB_FORBIDDEN,
    PROB_USER_NOT_FOUND,
    PROB_VIDEO_NOT_FOUND,
    PROB_WEBHOOK_NOT_FOUND,
    PROB_TOO_MANY_WEBHOOKS,
    PROB_UPLOAD_TOO_LARGE,
    PROB_INVALID_MULTIPART,
    PROB_UPLOAD_INCOMPLETE,
    PROB_TOO_MANY_UPLOADS,
    PROB_STORAGE_FULL,
    PROB_INVALID_QUERY,
    PROB_INVALID_CURSOR,
    PROB_INVALID_LINK,
    PROB_LINK_EXPIRED,
    PROB_DB_UNAVAILABLE,
    PROB_STORAGE_UNAVAILABLE,
    PROB_INTERNAL,
    PROB__MAX
};

struct problem {
    int status;
    const char *code;
    const char *title;
};

/* Returns the row for p (static, never NULL for p < PROB__MAX). */
const struct problem *problem_get(enum prob p);

#endif
