/*
 * bounds.h - every limit Stremora puts on untrusted input, in one place, with its unit.
 * No bare number stands for a limit anywhere else. A limit that a later issue needs goes
 * here too, beside its kin.
 */
#ifndef STREMORA_BOUNDS_H
#define STREMORA_BOUNDS_H

/* Memory */
#define MAX_REQ_ARENA (8u << 20) /* bytes one request may allocate; far above valid input */

/* HTTP */
#define MAX_JSON_BODY    (128u * 1024) /* bytes of a JSON request body: a comment, escaped */
#define MAX_JSON_DEPTH   16            /* nesting levels of a JSON document */
#define MAX_JSON_STRING  40960         /* bytes of one JSON string, unescaped: >= 4 * MAX_COMMENT */
#define MAX_JSON_MEMBERS 256           /* members of all objects in one document */
#define MAX_ROUTE_PARAMS 4             /* {param} segments in one route pattern */
#define MAX_PATH         2048          /* bytes of a request path */
#define MAX_HEADER_VALUE 8192          /* bytes of one header value we parse */
#define MAX_COOKIES      32            /* cookies in one Cookie header we look through */
#define MAX_FIELD_ERRORS 16            /* entries in a problem's errors[] */

/* Accounts */
#define MIN_USERNAME          3   /* bytes */
#define MAX_USERNAME          30  /* bytes */
#define MAX_EMAIL             254 /* bytes (RFC 5321 path limit) */
#define MAX_EMAIL_LOCAL       64  /* bytes before the @ */
#define MIN_PASSWORD          8   /* characters (UTF-8 code points) */
#define MAX_PASSWORD          128 /* characters (UTF-8 code points) */
#define MAX_PASSWORD_BYTES    511 /* bytes: libxcrypt refuses 512 and more */
#define MAX_DISPLAY_NAME      64  /* characters (UTF-8 code points) */
#define MAX_PASSWORD_GUESSES  5   /* wrong current passwords per account in one window */
#define PASSWORD_GUESS_WINDOW 900 /* seconds of that window */

/* Tokens */
#define MAX_JWT             2048         /* bytes of an access token */
#define MAX_JWT_PART        1024         /* bytes of one decoded JWT part (header or payload) */
#define MIN_KEY_BYTES       32           /* bytes of an HMAC signing key */
#define MAX_KEY_BYTES       128          /* bytes of an HMAC signing key */
#define MAX_KID             32           /* bytes of a key id: [A-Za-z0-9_-] */
#define MAX_KEYS            16           /* keys in the key file */
#define MAX_KEY_FILE        (64u * 1024) /* bytes of the key file */
#define REFRESH_TOKEN_BYTES 32           /* random bytes in a refresh token (256 bits) */
#define MAX_REFRESH_TOKEN   64           /* bytes of a refresh token as sent (base64url) */
#define MAX_SESSION_MODE    6            /* bytes of a session mode: "cookie" or "body" */
#define MAX_SLINK_TOKEN                                                                            \
    96 /* bytes of a media link token: kid "." expiry "." mac (<= 32+1+19+1+43) */
#define MAX_MEDIA_PATH 255 /* bytes of the file path after /media/<token>/<videoId>/ */

/* Community */
#define MAX_CACHED_PAGE          (64u * 1024) /* bytes of a list page kept in a worker's cache */
#define MAX_BIO                  1000         /* characters of a channel's bio */
#define MAX_COMMENT              10000        /* characters of a comment */
#define MAX_POST                 5000         /* characters of a community post */
#define MAX_PLAYLIST_TITLE       150          /* characters of a playlist's title */
#define MAX_PLAYLIST_DESCRIPTION 5000         /* characters of a playlist's description */
#define MAX_PLAYLIST_ITEMS       5000         /* videos in one playlist */
#define MAX_IMAGE_BYTES          (5u << 20)   /* bytes of an avatar or banner as uploaded */

/* Videos */
#define MAX_TITLE           200          /* characters of a video title */
#define MAX_DESCRIPTION     5000         /* characters of a description */
#define MAX_TAGS            20           /* tags on one video */
#define MAX_TAG             40           /* characters of one tag */
#define MAX_TAGS_FIELD      4096         /* bytes of an upload's tags part: 20 x 40 x 4 + commas */
#define MAX_FIELD_BYTES     4            /* bytes per character when sizing field buffers (UTF-8) */
#define MAX_UPLOAD_OVERHEAD (64u * 1024) /* multipart bytes beyond the file we allow */
#define MAX_MP_BOUNDARY     70           /* bytes of a boundary (RFC 2046 section 5.1.1) */
#define MAX_MP_HEADER       2048 /* bytes of one part's header lines together, CRLFs included */
#define MAX_MP_HEADERS      8    /* header lines in one part */
#define MAX_MP_PARTS        16   /* parts in one multipart body */
#define MAX_MP_PREAMBLE     1024 /* bytes before the first boundary */
#define MAX_MP_EPILOGUE     1024 /* bytes after the close delimiter but for one CRLF */
#define MAX_LIST_LIMIT      100  /* items in one page of a list */
#define MAX_QUERY_Q         100  /* characters of a search text */
#define MAX_CURSOR          64   /* bytes of a list cursor */

/* Resumable uploads (tus) */
#define MAX_TUS_CHUNK    (16u << 20) /* bytes of one PATCH (nginx's limit for the location too) */
#define MAX_TUS_METADATA 8192        /* bytes of an Upload-Metadata header */
#define MAX_TUS_PAIRS    16          /* key/value pairs in Upload-Metadata */
#define MAX_TUS_KEY      32          /* bytes of one metadata key */
#define MAX_TUS_FILENAME 255         /* bytes of the filename metadata */

/* Webhooks */
#define MAX_WEBHOOKS    20   /* webhooks of one user */
#define MAX_WEBHOOK_URL 2048 /* bytes of a webhook's URL */

/* Cache */
#define MAX_CACHE_KEY 64 /* bytes of an LRU key */

#endif
