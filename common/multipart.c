/*
 * multipart.c - streaming parser for multipart/form-data (RFC 7578; framing per
 * RFC 2046 section 5.1.1). Takes body bytes in chunks of any size and hands each
 * part's headers and data to callbacks as they arrive; never holds more than
 * MP_BUF_SIZE bytes. Knows nothing of files or HTTP: uploads.c and videos.c do.
 *
 * Data is searched for the delimiter, CRLF "--" boundary, with memmem over whole chunks.
 * A delimiter prefix at the end of a chunk is not copied: those bytes equal
 * delim[0..matched), so if the next chunk breaks the match they are handed on from delim
 * itself (or with the span that follows, when they all came in this chunk). '\r' occurs in
 * delim only at 0, so the byte that breaks a match is the earliest place a new one can
 * start. The body's start and each part's data start count as if
 * CRLF had just been seen (virt): "--boundary" there is a delimiter too, as the grammar
 * reads. Invariant: no data byte goes to a callback before it is known not to be part
 * of a delimiter.
 *
 * Strict where leniency would let two readers disagree: header lines end in CRLF (bare
 * LF, folding and control bytes are refused), a line that starts with the delimiter must
 * be one (the boundary followed by "--", padding or CRLF), repeated Content-Disposition,
 * Content-Type, name or filename are refused. Header names are case-insensitive; quoted
 * values lose their backslashes (RFC 7578 section 4.2); percent-encoding is left as sent.
 */
#include "multipart.h"

#include <string.h>

enum mp_state {
    S_PREAMBLE,     /* before the first delimiter */
    S_BOUNDARY_END, /* after a delimiter: "--", transport padding or CRLF */
    S_PAD,          /* transport padding, until CR */
    S_BOUNDARY_LF,  /* the LF that ends a delimiter line */
    S_CLOSE_DASH,   /* the second '-' of the close delimiter */
    S_HEADER,       /* a part's header line */
    S_HEADER_LF,    /* the LF that ends a header line */
    S_DATA,         /* a part's data */
    S_CLOSE_PAD,    /* after the close delimiter: padding, until CR */
    S_CLOSE_LF,     /* the LF that ends the close delimiter's line */
    S_EPILOGUE,     /* ignored, counted */
};

static bool
is_alnum(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* RFC 2046 section 5.1.1 bcharsnospace. */
static bool
is_bchar_nospace(char c)
{
    static const char extra[] = "'()+_,-./:=?";

    return is_alnum(c) || (c != '\0' && memchr(extra, c, sizeof(extra) - 1) != NULL);
}

/* RFC 7230 section 3.2.6 tchar. */
static bool
is_tchar(char c)
{
    static const char extra[] = "!#$%&'*+-.^_`|~";

    return is_alnum(c) || (c != '\0' && memchr(extra, c, sizeof(extra) - 1) != NULL);
}

static bool
is_token(struct str s)
{
    size_t i;

    for (i = 0; i < s.len; i++) {
        if (!is_tchar(s.p[i])) {
            return false;
        }
    }
    return s.len > 0;
}

/* RFC 2046 section 5.1.1: boundary := 0*69<bchars> bcharsnospace. */
static bool
boundary_is_valid(struct str b)
{
    size_t i;

    if (b.len == 0 || b.len > MAX_MP_BOUNDARY || !is_bchar_nospace(b.p[b.len - 1])) {
        return false;
    }
    for (i = 0; i < b.len; i++) {
        if (b.p[i] != ' ' && !is_bchar_nospace(b.p[i])) {
            return false;
        }
    }
    return true;
}

/* Splits a header value at its first ';': *type gets what is before, trimmed; the return
 * value starts at the ';' (or is empty). v.p must not be NULL. */
static struct str
type_split(struct str v, struct str *type)
{
    const char *semi = memchr(v.p, ';', v.len);
    size_t n = semi != NULL ? (size_t)(semi - v.p) : v.len;

    *type = str_trim((struct str){v.p, n});
    return (struct str){v.p + n, v.len - n};
}

/* Reads the next "; name=value" parameter (RFC 7231 section 3.1.1.1) from *s. *val is the
 * token, or a quoted-string's inside, still escaped, with *quoted set. Returns 1, 0 at the
 * end (a trailing ';' is let through), or -1. */
static int
param_next(struct str *s, struct str *name, struct str *val, bool *quoted)
{
    struct str t = str_trim(*s);
    size_t i = 0;

    if (t.len == 0) {
        return 0;
    }
    if (t.p[0] != ';') {
        return -1;
    }
    if ((t = str_trim((struct str){t.p + 1, t.len - 1})).len == 0) {
        *s = t;
        return 0;
    }
    while (i < t.len && is_tchar(t.p[i])) {
        i++;
    }
    *name = (struct str){t.p, i};
    t = str_trim((struct str){t.p + i, t.len - i});
    if (name->len == 0 || t.len == 0 || t.p[0] != '=') {
        return -1;
    }
    t = str_trim((struct str){t.p + 1, t.len - 1});
    if (t.len > 0 && t.p[0] == '"') {
        for (i = 1; i < t.len && t.p[i] != '"'; i++) {
            i += t.p[i] == '\\'; /* quoted-pair: the next byte is content */
        }
        if (i >= t.len) {
            return -1;
        }
        *val = (struct str){t.p + 1, i - 1};
        *quoted = true;
        i++;
    } else {
        for (i = 0; i < t.len && t.p[i] != ';' && t.p[i] != ' ' && t.p[i] != '\t'; i++) {
        }
        *val = (struct str){t.p, i};
        *quoted = false;
        if (i == 0) {
            return -1;
        }
    }
    *s = (struct str){t.p + i, t.len - i};
    return 1;
}

/* Writes the quoted-string inside src to dst (which may be src.p) without its quoted-pair
 * backslashes and sets *len. Returns 0, or -1 if that is more than cap bytes. */
static int
unquote(char *dst, size_t cap, struct str src, size_t *len)
{
    size_t i, n = 0;

    for (i = 0; i < src.len; i++) {
        if (src.p[i] == '\\' && i + 1 < src.len) {
            i++;
        }
        if (n == cap) {
            return -1;
        }
        dst[n++] = src.p[i];
    }
    *len = n;
    return 0;
}

/* Records where v (inside hbuf) sits, unescaped in place if quoted. */
static void
value_keep(struct mp_parser *p, struct str v, bool quoted, size_t *off, size_t *len)
{
    *off = (size_t)(v.p - p->hbuf);
    *len = v.len;
    if (quoted) {
        (void)unquote(p->hbuf + *off, v.len, v, len); /* never grows: cannot fail */
    }
}

/* RFC 7578 section 4.2: Content-Disposition: form-data; name="..."[; filename="..."]. */
static int
disposition_parse(struct mp_parser *p, struct str v)
{
    struct str type, name, val;
    bool quoted;
    int r;

    if (p->has_disp) {
        return -1;
    }
    p->has_disp = true;
    v = type_split(v, &type);
    if (!str_ieq_cstr(type, "form-data")) {
        return -1;
    }
    while ((r = param_next(&v, &name, &val, &quoted)) == 1) {
        if (str_ieq_cstr(name, "name")) {
            if (p->has_name) {
                return -1;
            }
            p->has_name = true;
            value_keep(p, val, quoted, &p->name_off, &p->name_len);
        } else if (str_ieq_cstr(name, "filename")) {
            if (p->has_fname) {
                return -1;
            }
            p->has_fname = true;
            value_keep(p, val, quoted, &p->fname_off, &p->fname_len);
        }
    }
    return r;
}

static int
ctype_parse(struct mp_parser *p, struct str v)
{
    if (p->has_ctype || v.len == 0) {
        return -1;
    }
    p->has_ctype = true;
    value_keep(p, v, false, &p->ctype_off, &p->ctype_len);
    return 0;
}

static void
part_begin(struct mp_parser *p)
{
    struct mp_part_info info = {STR_NULL, STR_NULL, STR_NULL};

    if (!p->has_name || p->name_len == 0) { /* RFC 7578 section 4.2: name is required */
        p->status = MP_EBADFORMAT;
        return;
    }
    info.name = (struct str){p->hbuf + p->name_off, p->name_len};
    if (p->has_fname) {
        info.filename = (struct str){p->hbuf + p->fname_off, p->fname_len};
    }
    if (p->has_ctype) {
        info.content_type = (struct str){p->hbuf + p->ctype_off, p->ctype_len};
    }
    if (p->cb.on_part_begin != NULL && p->cb.on_part_begin(p->cb.ctx, &info) != 0) {
        p->status = MP_EABORTED;
        return;
    }
    p->in_part = true;
    p->state = S_DATA;
    p->matched = p->virt = 2; /* a part without data: the blank line's CRLF is the delimiter's */
}

static int
part_end(struct mp_parser *p)
{
    p->in_part = false;
    if (p->cb.on_part_end != NULL && p->cb.on_part_end(p->cb.ctx) != 0) {
        p->status = MP_EABORTED;
        return -1;
    }
    return 0;
}

/* At the LF of a delimiter line: the part before it ends, the next one's headers start. */
static void
part_next(struct mp_parser *p)
{
    if (p->in_part && part_end(p) == -1) {
        return;
    }
    if (p->parts == p->lim.max_parts) {
        p->status = MP_ETOOMANYPARTS;
        return;
    }
    p->parts++;
    p->headers = p->hlen = p->line = 0;
    p->has_disp = p->has_name = p->has_fname = p->has_ctype = false;
    p->state = S_HEADER;
}

/* At the LF of a header line: the line is whole in hbuf[line..hlen). */
static void
header_line(struct mp_parser *p)
{
    struct str line = {p->hbuf + p->line, p->hlen - p->line}, name, value;
    int r = 0;

    if (line.len == 0) {
        part_begin(p);
        return;
    }
    if (p->headers == p->lim.max_headers) {
        p->status = MP_ETOOMANYHEADERS;
        return;
    }
    p->headers++;
    value = str_trim(str_cut(line, ':', &name));
    if (value.p == NULL || !is_token(name)) { /* RFC 7230 section 3.2: no space before ':' */
        p->status = MP_EBADFORMAT;
        return;
    }
    if (str_ieq_cstr(name, "Content-Disposition")) {
        r = disposition_parse(p, value);
    } else if (str_ieq_cstr(name, "Content-Type")) {
        r = ctype_parse(p, value);
    }
    if (r == -1) {
        p->status = MP_EBADFORMAT;
        return;
    }
    p->line = p->hlen;
    p->state = S_HEADER;
}

/* Counts one byte between a delimiter and the part's data. Returns 0, or -1 over the limit. */
static int
header_count(struct mp_parser *p)
{
    if (p->hbytes == p->lim.max_header_bytes) {
        p->status = MP_EHEADERTOOBIG;
        return -1;
    }
    p->hbytes++;
    return 0;
}

static void
header_byte(struct mp_parser *p, char c)
{
    unsigned char u = (unsigned char)c;

    if (header_count(p) == -1) {
        return;
    }
    if (c == '\r') {
        p->state = S_HEADER_LF;
    } else if ((c == ' ' || c == '\t') && p->hlen == p->line) {
        p->status = MP_EBADFORMAT; /* folding (obs-fold, RFC 7230 section 3.2.4) */
    } else if ((u < 0x20 && c != '\t') || u == 0x7f) {
        p->status = MP_EBADFORMAT; /* bare LF, NUL, other controls */
    } else {
        p->hbuf[p->hlen++] = c; /* hlen <= hbytes <= max_header_bytes <= MP_BUF_SIZE */
    }
}

static void
epilogue_add(struct mp_parser *p, size_t n)
{
    if (n > p->lim.max_epilogue - p->epilogue) {
        p->status = MP_EEPILOGUE;
        return;
    }
    p->epilogue += n;
}

/* Hands n bytes known not to be delimiter to the preamble count or the part. */
static int
emit(struct mp_parser *p, const char *d, size_t n)
{
    if (p->state == S_PREAMBLE) {
        if (n > p->lim.max_preamble - p->preamble) {
            p->status = MP_EPREAMBLE;
            return -1;
        }
        p->preamble += n;
    } else if (n > 0 && p->cb.on_part_data != NULL && p->cb.on_part_data(p->cb.ctx, d, n) != 0) {
        p->status = MP_EABORTED;
        return -1;
    }
    return 0;
}

static void
delim_found(struct mp_parser *p)
{
    p->matched = p->virt = 0;
    p->hbytes = 0;
    p->state = S_BOUNDARY_END;
}

/* Returns where in d[from..n) a delimiter prefix runs to the end, or n if none does. The
 * caller has ruled out a whole delimiter in d[from..n). */
static size_t
tail_match(const struct mp_parser *p, const char *d, size_t from, size_t n)
{
    size_t at = n - from < p->dlen ? from : n - p->dlen + 1;
    const char *cr;

    while ((cr = memchr(d + at, '\r', n - at)) != NULL) {
        at = (size_t)(cr - d);
        if (memcmp(cr, p->delim, n - at) == 0) {
            return at;
        }
        at++;
    }
    return n;
}

/* S_PREAMBLE and S_DATA: hands on d[0..n) up to the delimiter. Returns the bytes taken. */
static size_t
scan(struct mp_parser *p, const char *d, size_t n)
{
    const char *hit;
    size_t i = 0, start = 0, real, at;

    if (p->matched > 0) {
        while (i < n && p->matched < p->dlen && d[i] == p->delim[p->matched]) {
            i++;
            p->matched++;
        }
        if (p->matched == p->dlen) {
            delim_found(p);
            return i;
        }
        if (i == n) {
            return n;
        }
        /* d[i] broke the match: what matched was content, and d[i] may start a delimiter.
         * Matched bytes all in d go on with the span that follows; others from delim. */
        real = p->matched - p->virt;
        if (real <= i) {
            start = i - real;
        } else if (emit(p, p->delim + p->virt, real) == -1) {
            return n;
        } else {
            start = i;
        }
        p->matched = p->virt = 0;
    }
    if ((hit = memmem(d + i, n - i, p->delim, p->dlen)) != NULL) {
        at = (size_t)(hit - d);
        if (emit(p, d + start, at - start) == 0) {
            delim_found(p);
        }
        return at + p->dlen;
    }
    at = tail_match(p, d, i, n);
    p->matched = n - at;
    (void)emit(p, d + start, at - start);
    return n;
}

/* The states that take one byte at a time: delimiter lines and headers, all short. */
static void
step(struct mp_parser *p, char c)
{
    switch (p->state) {
    case S_BOUNDARY_END:
        if (c == '-') {
            p->state = S_CLOSE_DASH;
        } else if (c == '\r') {
            p->state = S_BOUNDARY_LF;
        } else if (c == ' ' || c == '\t') {
            p->state = S_PAD;
            (void)header_count(p);
        } else {
            p->status = MP_EBADFORMAT; /* the boundary runs on: not a delimiter line */
        }
        break;
    case S_PAD:
        if (c == '\r') {
            p->state = S_BOUNDARY_LF;
        } else if (c != ' ' && c != '\t') {
            p->status = MP_EBADFORMAT;
        } else {
            (void)header_count(p);
        }
        break;
    case S_BOUNDARY_LF:
        if (c != '\n') {
            p->status = MP_EBADFORMAT;
        } else {
            part_next(p);
        }
        break;
    case S_CLOSE_DASH:
        if (c != '-' || !p->in_part) { /* RFC 2046: at least one body part */
            p->status = MP_EBADFORMAT;
        } else if (part_end(p) == 0) {
            p->status = MP_OK;
            p->state = S_CLOSE_PAD;
        }
        break;
    case S_HEADER:
        header_byte(p, c);
        break;
    case S_HEADER_LF:
        if (c != '\n') {
            p->status = MP_EBADFORMAT;
        } else if (header_count(p) == 0) {
            header_line(p);
        }
        break;
    case S_CLOSE_PAD:
        if (c == '\r') {
            p->state = S_CLOSE_LF;
            break;
        }
        epilogue_add(p, 1);
        p->state = c == ' ' || c == '\t' ? S_CLOSE_PAD : S_EPILOGUE;
        break;
    case S_CLOSE_LF:
        epilogue_add(p, c == '\n' ? 0 : 2); /* not CRLF: both bytes were epilogue */
        p->state = S_EPILOGUE;
        break;
    default:
        p->status = MP_EBADFORMAT; /* not reached: mp_feed handles the others */
        break;
    }
}

int
mp_boundary_parse(struct str content_type, char *out, size_t cap, size_t *len)
{
    struct str type, rest, name, val, b = STR_NULL;
    char buf[MAX_MP_BOUNDARY];
    bool quoted, found = false, bquoted = false;
    size_t n;
    int r;

    if (content_type.len == 0) {
        return -1;
    }
    rest = type_split(content_type, &type);
    if (!str_ieq_cstr(type, "multipart/form-data")) {
        return -1;
    }
    while ((r = param_next(&rest, &name, &val, &quoted)) == 1) {
        if (str_ieq_cstr(name, "boundary")) {
            if (found) {
                return -1;
            }
            found = true;
            b = val;
            bquoted = quoted;
        }
    }
    if (r == -1 || !found) {
        return -1;
    }
    if (bquoted) {
        if (unquote(buf, sizeof(buf), b, &n) == -1) {
            return -1;
        }
        b = (struct str){buf, n};
    }
    if (!boundary_is_valid(b) || b.len > cap) {
        return -1;
    }
    memcpy(out, b.p, b.len);
    *len = b.len;
    return 0;
}

int
mp_init(struct mp_parser *p, struct str boundary, const struct mp_callbacks *cb,
        const struct mp_limits *lim)
{
    static const struct mp_limits def = {MAX_MP_PARTS, MAX_MP_HEADER, MAX_MP_HEADERS,
                                         MAX_MP_PREAMBLE, MAX_MP_EPILOGUE};

    memset(p, 0, offsetof(struct mp_parser, hbuf)); /* hbuf is written before it is read */
    if (cb != NULL) {
        p->cb = *cb;
    }
    p->lim = lim != NULL ? *lim : def;
    if (p->lim.max_header_bytes > MP_BUF_SIZE) {
        p->lim.max_header_bytes = MP_BUF_SIZE;
    }
    p->state = S_PREAMBLE;
    if (!boundary_is_valid(boundary)) {
        p->status = MP_EBADFORMAT;
        return -1;
    }
    memcpy(p->delim, "\r\n--", 4);
    memcpy(p->delim + 4, boundary.p, boundary.len);
    p->dlen = 4 + boundary.len;
    p->matched = p->virt = 2; /* the body may open with "--boundary" */
    p->status = MP_AGAIN;
    return 0;
}

enum mp_status
mp_feed(struct mp_parser *p, const char *data, size_t n)
{
    size_t i = 0;

    while (i < n && (p->status == MP_AGAIN || p->status == MP_OK)) {
        if (p->state == S_PREAMBLE || p->state == S_DATA) {
            i += scan(p, data + i, n - i);
        } else if (p->state == S_EPILOGUE) {
            epilogue_add(p, n - i);
            i = n;
        } else {
            step(p, data[i++]);
        }
    }
    return p->status;
}

enum mp_status
mp_finish(struct mp_parser *p)
{
    if (p->status == MP_AGAIN) {
        p->status = MP_EBADFORMAT; /* truncated */
    }
    return p->status;
}
