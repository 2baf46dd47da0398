/*
 * multipart.h - streaming multipart/form-data parser (RFC 7578; framing per RFC 2046
 * section 5.1.1). The caller feeds body bytes in chunks of any size; the parser hands
 * each part's headers and data to callbacks as they arrive and never reads, allocates
 * or holds more than MP_BUF_SIZE bytes of one part's headers. struct mp_parser is
 * caller-owned and may live anywhere (an arena, the stack): its fields are private.
 */
#ifndef STREMORA_MULTIPART_H
#define STREMORA_MULTIPART_H

#include <stdbool.h>
#include <stddef.h>

#include "bounds.h"
#include "str.h"

/* Limits to move into bounds.h (identical definitions there are harmless meanwhile). */

/* Bytes of header lines one parser buffers; a larger max_header_bytes is cut to this. */
#define MP_BUF_SIZE MAX_MP_HEADER

enum mp_status {
    MP_OK,              /* closing boundary seen: the body is complete */
    MP_AGAIN,           /* all bytes taken; feed more */
    MP_EBADFORMAT,      /* not RFC 7578 / RFC 2046 multipart, or truncated */
    MP_ETOOMANYPARTS,   /* more than max_parts parts */
    MP_EHEADERTOOBIG,   /* one part's header bytes over max_header_bytes */
    MP_ETOOMANYHEADERS, /* one part's header lines over max_headers */
    MP_EPREAMBLE,       /* preamble over max_preamble */
    MP_EEPILOGUE,       /* epilogue over max_epilogue */
    MP_EABORTED,        /* a callback returned non-zero */
};

struct mp_part_info {
    struct str name;         /* Content-Disposition name, unescaped; never empty */
    struct str filename;     /* unescaped; .p is NULL when absent, "" is a present empty name */
    struct str content_type; /* raw value; .p is NULL when absent */
};

/* Any callback may be NULL. A non-zero return stops the parser with MP_EABORTED. The info
 * strings point into the parser and are valid only during on_part_begin; data bytes only
 * during on_part_data. After an error status no callback runs again. */
struct mp_callbacks {
    int (*on_part_begin)(void *ctx, const struct mp_part_info *info);
    int (*on_part_data)(void *ctx, const char *p, size_t n);
    int (*on_part_end)(void *ctx);
    void *ctx;
};

/* Each limit is inclusive: max_parts = 2 lets two parts through. */
struct mp_limits {
    size_t max_parts;
    size_t max_header_bytes; /* per part, header lines together with their CRLFs */
    size_t max_headers;      /* header lines per part */
    size_t max_preamble;     /* bytes before the first boundary */
    size_t max_epilogue;     /* bytes after the close delimiter but for one CRLF */
};

struct mp_parser {
    struct mp_callbacks cb;
    struct mp_limits lim;
    enum mp_status status; /* sticky once an error */
    int state;
    size_t dlen;    /* bytes in delim */
    size_t matched; /* delim bytes matched at the end of the last chunk */
    size_t virt;    /* of those, virtual CRLF bytes never fed */
    size_t parts, headers, hbytes, hlen, line;
    size_t preamble, epilogue;
    size_t name_off, name_len, fname_off, fname_len, ctype_off, ctype_len;
    bool has_disp, has_name, has_fname, has_ctype, in_part;
    char delim[4 + MAX_MP_BOUNDARY]; /* CRLF "--" boundary */
    char hbuf[MP_BUF_SIZE];
};

/* Copies the boundary parameter of a multipart/form-data Content-Type value into out (cap
 * bytes, not NUL-terminated) and sets *len. Returns 0, or -1 if the type is another, the
 * boundary is missing, repeated or not 1..70 RFC 2046 bchars, or it does not fit. */
int mp_boundary_parse(struct str content_type, char *out, size_t cap, size_t *len);
/* Readies p for a body with this boundary; boundary, cb and lim are copied (NULL cb: no
 * callbacks; NULL lim: the MAX_MP_* limits). Returns 0, or -1 if the boundary is not valid,
 * and then every mp_feed answers MP_EBADFORMAT. */
int mp_init(struct mp_parser *p, struct str boundary, const struct mp_callbacks *cb,
            const struct mp_limits *lim);
/* Takes all n bytes. Returns MP_AGAIN for more, MP_OK once the body is complete (later
 * bytes count as epilogue), or an error, which every later call repeats. */
enum mp_status mp_feed(struct mp_parser *p, const char *data, size_t n);
/* Call at the end of input. Returns MP_OK if the closing boundary was seen, the sticky
 * error if any, else MP_EBADFORMAT (truncated body). */
enum mp_status mp_finish(struct mp_parser *p);

#endif
