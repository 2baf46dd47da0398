/*
 * fuzz_multipart.c - libFuzzer target for multipart.c. Properties: the same body fed whole
 * and in chunks (sizes from the input's first bytes) ends in the same statuses with the
 * same callbacks, part infos and data bytes (hashed); no more data bytes come out than went
 * in, and whole-fed data points into the input (chunked: or the delimiter); callbacks come in
 * order and never after one asked to stop; info strings lie in the parser's buffer. A
 * Content-Type taken from the body's first line (up to CR or LF) that mp_boundary_parse accepts,
 * mp_init accepts too.
 *
 * Input: byte 0 picks the boundary (bits 0-1), the limits (bits 2-3) and the begin or end
 * callback to abort at (bits 4-7, 0 for none); byte 1 says how many chunk-size bytes follow
 * (1..8; a size of 0 feeds nothing, then one byte); the rest is the body.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "multipart.h"

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const boundaries[] = {
    "b",
    "XbOuNdArY",
    "----WebKitFormBoundary7MA4YWxkTrZu0gW",
    "0123456789012345678901234567890123456789012345678901234567890123456789",
};

static const struct mp_limits limits[] = {
    {64, MP_BUF_SIZE, 16, 4096, 4096},
    {2, 64, 2, 4, 4},
    {MAX_MP_PARTS, MAX_MP_HEADER, MAX_MP_HEADERS, MAX_MP_PREAMBLE, MAX_MP_EPILOGUE},
    {1, 48, 1, 0, 0},
};

struct run {
    const struct mp_parser *p;
    const char *lo, *hi; /* the body */
    bool whole;
    uint64_t h;
    size_t data_bytes, events, abort_at;
    bool in_part, stopped;
};

static void
hash(struct run *r, const void *p, size_t n)
{
    const unsigned char *b = p;
    size_t i;

    for (i = 0; i < n; i++) {
        r->h = (r->h ^ b[i]) * 0x100000001b3u;
    }
}

static bool
in_parser(const struct run *r, const char *s, size_t n)
{
    const char *lo = r->p->hbuf;

    return s >= lo && s <= lo + MP_BUF_SIZE && n <= (size_t)(lo + MP_BUF_SIZE - s);
}

static void
hash_str(struct run *r, struct str s)
{
    bool present = s.p != NULL;

    CHECK(!present || in_parser(r, s.p, s.len));
    hash(r, &present, sizeof(present));
    hash(r, &s.len, sizeof(s.len));
    hash(r, s.p, s.len);
}

static int
event(struct run *r, char what)
{
    CHECK(!r->stopped);
    hash(r, &what, 1);
    hash(r, &r->data_bytes, sizeof(r->data_bytes));
    r->stopped = ++r->events == r->abort_at;
    return r->stopped;
}

static int
on_begin(void *ctx, const struct mp_part_info *info)
{
    struct run *r = ctx;

    CHECK(!r->in_part && info->name.len > 0);
    r->in_part = true;
    hash_str(r, info->name);
    hash_str(r, info->filename);
    hash_str(r, info->content_type);
    return event(r, 'B');
}

static int
on_data(void *ctx, const char *p, size_t n)
{
    struct run *r = ctx;
    const char *d = r->p->delim;

    CHECK(r->in_part && !r->stopped && n > 0);
    /* Bytes of a delimiter prefix that straddled two feeds come from delim, others from the
     * input. */
    CHECK((p >= r->lo && p < r->hi && n <= (size_t)(r->hi - p)) ||
          (!r->whole && p >= d && p < d + r->p->dlen && n <= (size_t)(d + r->p->dlen - p)));
    r->data_bytes += n;
    hash(r, p, n);
    return 0;
}

static int
on_end(void *ctx)
{
    struct run *r = ctx;

    CHECK(r->in_part);
    r->in_part = false;
    return event(r, 'E');
}

/* Parses body whole (nsizes 0) or in chunks; returns mp_finish's status, the last feed's in
 * *fed. */
static enum mp_status
parse(struct run *r, struct mp_parser *p, uint8_t cfg, const char *body, size_t n,
      const uint8_t *sizes, size_t nsizes, enum mp_status *fed)
{
    struct mp_callbacks cb = {on_begin, on_data, on_end, r};
    enum mp_status st = MP_AGAIN, again;
    size_t at = 0, k = 0, c;

    memset(r, 0, sizeof(*r));
    r->p = p;
    r->h = 0xcbf29ce484222325u;
    r->abort_at = cfg >> 4;
    r->lo = body;
    r->hi = body + n;
    r->whole = nsizes == 0;
    CHECK(mp_init(p, str_from(boundaries[cfg & 3]), &cb, &limits[(cfg >> 2) & 3]) == 0);
    if (nsizes == 0) {
        st = mp_feed(p, body, n);
    }
    for (; nsizes > 0 && at < n; k++) {
        if ((c = sizes[k % nsizes]) == 0) {
            again = mp_feed(p, body + at, 0); /* takes nothing, changes nothing */
            CHECK(again == st);
            c = 1;
        }
        c = c < n - at ? c : n - at;
        st = mp_feed(p, body + at, c);
        at += c;
    }
    *fed = st;
    st = mp_finish(p);
    CHECK(r->data_bytes <= n);
    CHECK(st != MP_OK || (!r->in_part && r->events >= 2));
    return st;
}

/* Round trip: a boundary mp_boundary_parse hands out is one mp_init takes. */
static void
check_boundary(const char *ct, size_t n)
{
    char b[MAX_MP_BOUNDARY];
    struct mp_parser p;
    size_t len = 0, i = 0;

    while (i < n && ct[i] != '\r' && ct[i] != '\n') {
        i++;
    }
    if (mp_boundary_parse((struct str){ct, i}, b, sizeof(b), &len) == 0) {
        CHECK(len >= 1 && len <= MAX_MP_BOUNDARY);
        CHECK(mp_init(&p, (struct str){b, len}, NULL, NULL) == 0);
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct mp_parser p1, p2;
    struct run r1, r2;
    enum mp_status fed1, fed2, fin1, fin2;
    size_t nsizes;
    const char *body;

    if (size < 2) {
        return 0;
    }
    nsizes = data[1] % 8u + 1;
    if (size < 2 + nsizes) {
        return 0;
    }
    body = (const char *)data + 2 + nsizes;
    size -= 2 + nsizes;
    check_boundary(body, size);
    fin1 = parse(&r1, &p1, data[0], body, size, NULL, 0, &fed1);
    fin2 = parse(&r2, &p2, data[0], body, size, data + 2, nsizes, &fed2);
    CHECK(fed1 == fed2);
    CHECK(fin1 == fin2);
    CHECK(r1.h == r2.h);
    CHECK(r1.events == r2.events && r1.data_bytes == r2.data_bytes);
    return 0;
}
