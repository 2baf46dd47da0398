/*
 * test_multipart.c - unit tests for multipart.c. Every body is parsed whole, a byte at a
 * time and split at every point, and all must tell the same story (status and callbacks);
 * each limit is tried at its value and one past it; a 10 MB part is streamed through in
 * 64 KiB chunks and checked by checksum.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "multipart.h"

#define BOUNDARY "XbOuNdArY"
#define DASH     "--" BOUNDARY
#define CRLF     "\r\n"
#define CD(name) "Content-Disposition: form-data; name=\"" name "\"" CRLF
#define LOG_CAP  4096

/* What the callbacks saw, as text: "[name;filename;type]" data "[/]" per part, '-' for a
 * null str. */
struct rec {
    char log[LOG_CAP];
    size_t len;
    size_t begins, ends, datas;
    size_t abort_begin, abort_end; /* abort at this call (1-based); 0: never */
    bool abort_data;
    bool in_part;
    bool bad; /* a callback out of order, an empty data call, or the log full */
};

static const struct mp_limits roomy = {64, MP_BUF_SIZE, 16, 4096, 4096};

static void
rec_put(struct rec *r, const char *p, size_t n)
{
    if (n > LOG_CAP - r->len) {
        r->bad = true;
        return;
    }
    memcpy(r->log + r->len, p, n);
    r->len += n;
}

static void
rec_str(struct rec *r, struct str s)
{
    if (s.p == NULL) {
        rec_put(r, "-", 1);
    } else {
        rec_put(r, s.p, s.len);
    }
}

static int
on_begin(void *ctx, const struct mp_part_info *info)
{
    struct rec *r = ctx;

    r->bad |= r->in_part;
    r->in_part = true;
    r->begins++;
    rec_put(r, "[", 1);
    rec_str(r, info->name);
    rec_put(r, ";", 1);
    rec_str(r, info->filename);
    rec_put(r, ";", 1);
    rec_str(r, info->content_type);
    rec_put(r, "]", 1);
    return r->begins == r->abort_begin;
}

static int
on_data(void *ctx, const char *p, size_t n)
{
    struct rec *r = ctx;

    r->bad |= !r->in_part || n == 0;
    r->datas++;
    rec_put(r, p, n);
    return r->abort_data;
}

static int
on_end(void *ctx)
{
    struct rec *r = ctx;

    r->bad |= !r->in_part;
    r->in_part = false;
    r->ends++;
    rec_put(r, "[/]", 3);
    return r->ends == r->abort_end;
}

static void
rec_reset(struct rec *r)
{
    r->len = r->begins = r->ends = r->datas = 0;
    r->in_part = r->bad = false;
}

/* Feeds b cut at j and k (j <= k <= len); returns mp_finish's answer. */
static enum mp_status
parse_split(struct rec *r, const char *b, size_t len, const struct mp_limits *lim, size_t j,
            size_t k)
{
    struct mp_callbacks cb = {on_begin, on_data, on_end, r};
    struct mp_parser p;

    rec_reset(r);
    assert_int_equal(mp_init(&p, STR_LIT(BOUNDARY), &cb, lim), 0);
    (void)mp_feed(&p, b, j);
    (void)mp_feed(&p, b + j, k - j);
    (void)mp_feed(&p, b + k, len - k);
    return mp_finish(&p);
}

/* Feeds b n bytes at a time; returns mp_finish's answer. */
static enum mp_status
parse_chunked(struct rec *r, const char *b, size_t len, const struct mp_limits *lim, size_t n)
{
    struct mp_callbacks cb = {on_begin, on_data, on_end, r};
    struct mp_parser p;
    size_t at;

    rec_reset(r);
    assert_int_equal(mp_init(&p, STR_LIT(BOUNDARY), &cb, lim), 0);
    for (at = 0; at < len; at += n) {
        (void)mp_feed(&p, b + at, len - at < n ? len - at : n);
    }
    return mp_finish(&p);
}

static void
check(const struct rec *r, enum mp_status st, enum mp_status want, const char *log, size_t n)
{
    assert_int_equal(st, want);
    assert_false(r->bad);
    assert_int_equal(r->len, n);
    assert_memory_equal(r->log, log, n);
}

/* Parses body whole, in chunks of 1..8 bytes and split at every point (every pair of points
 * too if pairs), and checks each run gives status want and callbacks log. */
static void
expect(const char *body, size_t len, const struct mp_limits *lim, enum mp_status want,
       const char *log, size_t loglen, bool pairs)
{
    struct rec r = {.len = 0};
    size_t j, k;

    check(&r, parse_split(&r, body, len, lim, 0, 0), want, log, loglen);
    for (j = 1; j <= 8; j++) {
        check(&r, parse_chunked(&r, body, len, lim, j), want, log, loglen);
    }
    for (j = 0; j <= len; j++) {
        for (k = j; k <= (pairs ? len : j); k++) {
            check(&r, parse_split(&r, body, len, lim, j, k), want, log, loglen);
        }
    }
}

#define EXPECT(body, lim, want, log)                                                               \
    expect(body, sizeof(body) - 1, lim, want, log, sizeof(log) - 1, false)

/* Two fields and a file whose data holds delimiter look-alikes and ends in CRLF. */
static const char form[] = DASH CRLF CD("title") CRLF
    "My first video" CRLF DASH CRLF "content-disposition: form-data; name=description" CRLF CRLF
    "line one\r\nline two" CRLF DASH CRLF
    "Content-Disposition: form-data; name=\"file\"; filename=\"clip \\\"1\\\".mp4\"" CRLF
    "Content-Type: video/mp4" CRLF CRLF "\0\0\0\x18"
    "ftypmp42\r\n--XbOuNdArZ\r\r\n--\r\n--XbOuNdAr\r\n" CRLF DASH "--" CRLF;
static const char form_log[] = "[title;-;-]My first video[/][description;-;-]line one\r\nline two"
                               "[/][file;clip \"1\".mp4;video/mp4]\0\0\0\x18"
                               "ftypmp42\r\n--XbOuNdArZ\r\r\n--\r\n--XbOuNdAr\r\n[/]";

static void
test_mp_feed_whole(void **state)
{
    struct rec r = {.len = 0};

    (void)state;
    check(&r, parse_split(&r, form, sizeof(form) - 1, &roomy, 0, 0), MP_OK, form_log,
          sizeof(form_log) - 1);
    assert_int_equal(r.begins, 3);
    assert_int_equal(r.ends, 3);
    assert_int_equal(r.datas, 3); /* whole spans, not a call per line */
}

static void
test_mp_feed_bytewise(void **state)
{
    struct mp_callbacks cb = {on_begin, on_data, on_end, NULL};
    struct rec r = {.len = 0};
    struct mp_parser p;
    size_t i, close = sizeof(form) - 1 - 2; /* after the close delimiter's "--" */

    (void)state;
    cb.ctx = &r;
    assert_int_equal(mp_init(&p, STR_LIT(BOUNDARY), &cb, &roomy), 0);
    for (i = 0; i < sizeof(form) - 1; i++) {
        assert_int_equal(mp_feed(&p, form + i, 1), i + 1 < close ? MP_AGAIN : MP_OK);
    }
    check(&r, mp_finish(&p), MP_OK, form_log, sizeof(form_log) - 1);
}

static void
test_mp_feed_every_split(void **state)
{
    (void)state;
    expect(form, sizeof(form) - 1, &roomy, MP_OK, form_log, sizeof(form_log) - 1, true);
}

static void
test_mp_feed_lookalike(void **state)
{
    (void)state;
    /* Every proper prefix of the delimiter, cut short by each kind of byte. */
    EXPECT(DASH CRLF CD("f") CRLF
           "\r\n--XbOuNdAr"
           "X\r\n--XbOuNdA\r\n--XbOuNd\r\r\n-\r\n\n\r--XbOuNdArY\rx" CRLF DASH "--",
           &roomy, MP_OK,
           "[f;-;-]\r\n--XbOuNdArX\r\n--XbOuNdA\r\n--XbOuNd\r\r\n-\r\n\n\r--XbOuNdArY\rx[/]");
    /* The boundary at a line's start with more after it is a broken delimiter, not data. */
    EXPECT(DASH CRLF CD("f") CRLF "a\r\n--XbOuNdArYY" CRLF DASH "--", &roomy, MP_EBADFORMAT,
           "[f;-;-]a");
    /* Data right after the blank line: "--boundary" there is the delimiter (RFC 2046). */
    EXPECT(DASH CRLF CD("f") CRLF DASH "--", &roomy, MP_OK, "[f;-;-][/]");
    EXPECT(DASH CRLF CD("f") CRLF CRLF DASH "--", &roomy, MP_OK, "[f;-;-][/]");
    EXPECT(DASH CRLF CD("f") CRLF CRLF CRLF DASH "--", &roomy, MP_OK, "[f;-;-]\r\n[/]");
    EXPECT(DASH CRLF CD("f") CRLF "--XbOuNdArZ" CRLF DASH "--", &roomy, MP_OK,
           "[f;-;-]--XbOuNdArZ[/]");
}

/* Found by fuzz_multipart: a broken match that began in the same chunk went out from the
 * parser's copy of the delimiter as a span of its own; it now joins the input span. */
static void
test_mp_feed_one_span(void **state)
{
    static const char body[] = DASH CRLF CD("a") CRLF "--XbOu\r\n--XbOuNdArZ--" CRLF DASH "--",
                      log[] = "[a;-;-]--XbOu\r\n--XbOuNdArZ--[/]";
    struct rec r = {.len = 0};

    (void)state;
    check(&r, parse_split(&r, body, sizeof(body) - 1, &roomy, 0, 0), MP_OK, log, sizeof(log) - 1);
    assert_int_equal(r.datas, 1);
}

static void
test_mp_feed_framing(void **state)
{
    (void)state;
    /* Preamble ending in CRLF, transport padding, epilogue. */
    EXPECT("junk" CRLF DASH " \t" CRLF CD("a") CRLF "1" CRLF DASH "-- \t" CRLF "epilogue", &roomy,
           MP_OK, "[a;-;-]1[/]");
    EXPECT(CRLF DASH CRLF CD("a") CRLF "1" CRLF DASH "--", &roomy, MP_OK, "[a;-;-]1[/]");
    /* No part at all: RFC 2046 asks for one. */
    EXPECT(DASH "--" CRLF, &roomy, MP_EBADFORMAT, "");
    /* The first boundary not at a line's start is preamble; no delimiter follows. */
    EXPECT("x" DASH CRLF CD("a") CRLF "1", &roomy, MP_EBADFORMAT, "");
    EXPECT(DASH "x" CRLF CD("a") CRLF "1", &roomy, MP_EBADFORMAT, "");
    EXPECT(DASH "-x", &roomy, MP_EBADFORMAT, "");
    EXPECT(DASH "\rx", &roomy, MP_EBADFORMAT, "");
    EXPECT(DASH " x", &roomy, MP_EBADFORMAT, "");
}

static void
test_mp_feed_headers(void **state)
{
    (void)state;
    /* Case-insensitive names, token value, escapes, empty filename, unknown headers. */
    EXPECT(DASH CRLF "CONTENT-DISPOSITION:Form-Data;NAME=a;FileName=\"\";x=\"y;z\"" CRLF
                     "X-Other: 1" CRLF "content-type:  text/plain; charset=utf-8 " CRLF CRLF
                     "v" CRLF DASH "--",
           &roomy, MP_OK, "[a;;text/plain; charset=utf-8]v[/]");
    EXPECT(DASH CRLF "Content-Disposition: form-data; name=\"a\\\\b\\\"c\"; filename*=x" CRLF CRLF
                     "v" CRLF DASH "--",
           &roomy, MP_OK, "[a\\b\"c;-;-]v[/]");
}

static void
test_mp_feed_bad_headers(void **state)
{
    (void)state;
    EXPECT(DASH CRLF "Content-Disposition: form-data" CRLF CRLF "v" CRLF DASH "--", &roomy,
           MP_EBADFORMAT, "");
    EXPECT(DASH CRLF "Content-Disposition: form-data; name=\"\"" CRLF CRLF "v" CRLF DASH "--",
           &roomy, MP_EBADFORMAT, "");
    EXPECT(DASH CRLF "Content-Type: text/plain" CRLF CRLF "v" CRLF DASH "--", &roomy, MP_EBADFORMAT,
           "");
    EXPECT(DASH CRLF "Content-Disposition: attachment; name=a" CRLF CRLF "v" CRLF DASH "--", &roomy,
           MP_EBADFORMAT, "");
    EXPECT(DASH CRLF CD("a") CD("b") CRLF "v" CRLF DASH "--", &roomy, MP_EBADFORMAT, "");
    EXPECT(DASH CRLF "Content-Disposition: form-data; name=a; name=b" CRLF CRLF, &roomy,
           MP_EBADFORMAT, "");
    EXPECT(DASH CRLF "Content-Disposition: form-data; name=a; filename=b; FILENAME=c" CRLF CRLF,
           &roomy, MP_EBADFORMAT, "");
    EXPECT(DASH CRLF "Content-Disposition: form-data; name=\"a" CRLF CRLF, &roomy, MP_EBADFORMAT,
           "");
    EXPECT(DASH CRLF "Content-Disposition: form-data; name=\"a\"b" CRLF CRLF, &roomy, MP_EBADFORMAT,
           "");
    EXPECT(DASH CRLF CD("a") "Content-Type:" CRLF CRLF, &roomy, MP_EBADFORMAT, "");
    EXPECT(DASH CRLF CD("a") "Content-Type : x" CRLF CRLF, &roomy, MP_EBADFORMAT, "");
    EXPECT(DASH CRLF CD("a") "no colon" CRLF CRLF, &roomy, MP_EBADFORMAT, "");
    EXPECT(DASH CRLF CD("a") " folded" CRLF CRLF, &roomy, MP_EBADFORMAT, "");
    EXPECT(DASH CRLF CD("a") "X: a\nb" CRLF CRLF, &roomy, MP_EBADFORMAT, "");
    EXPECT(DASH CRLF CD("a") "X: a\0b" CRLF CRLF, &roomy, MP_EBADFORMAT, "");
    EXPECT(DASH CRLF CD("a") "X: a\rb" CRLF CRLF, &roomy, MP_EBADFORMAT, "");
    EXPECT(DASH CRLF "Content-Disposition: form-data; name=a\n\r\n", &roomy, MP_EBADFORMAT, "");
}

static void
test_mp_feed_too_many_parts(void **state)
{
    struct mp_limits lim = roomy;

    (void)state;
    lim.max_parts = 2;
    EXPECT(DASH CRLF CD("a") CRLF "1" CRLF DASH CRLF CD("b") CRLF "2" CRLF DASH "--", &lim, MP_OK,
           "[a;-;-]1[/][b;-;-]2[/]");
    EXPECT(DASH CRLF CD("a") CRLF "1" CRLF DASH CRLF CD("b") CRLF "2" CRLF DASH CRLF CD("c") CRLF
           "3" CRLF DASH "--",
           &lim, MP_ETOOMANYPARTS, "[a;-;-]1[/][b;-;-]2[/]");
}

/* Parses a part whose headers take exactly n bytes (an X: header pads them out). */
static void
header_fill(const struct mp_limits *lim, size_t n, enum mp_status want, const char *log,
            size_t loglen)
{
    static const char head[] = DASH CRLF CD("a") "X: ", tail[] = CRLF CRLF "1" CRLF DASH "--";
    size_t fixed = sizeof(CD("a") "X: " CRLF CRLF) - 1, len;
    char *b;

    assert_true(n > fixed);
    len = sizeof(head) - 1 + n - fixed + sizeof(tail) - 1;
    assert_non_null(b = malloc(len));
    memcpy(b, head, sizeof(head) - 1);
    memset(b + sizeof(head) - 1, 'x', n - fixed);
    memcpy(b + len - (sizeof(tail) - 1), tail, sizeof(tail) - 1);
    expect(b, len, lim, want, log, loglen, false);
    free(b);
}

static void
test_mp_feed_header_too_big(void **state)
{
    /* CD("a") CRLF is 44 bytes; transport padding counts too. */
    struct mp_limits lim = roomy;

    (void)state;
    assert_int_equal(sizeof(CD("a") CRLF) - 1, 44);
    lim.max_header_bytes = 44;
    EXPECT(DASH CRLF CD("a") CRLF "1" CRLF DASH "--", &lim, MP_OK, "[a;-;-]1[/]");
    EXPECT(DASH CRLF CD("a") "Content-Type: a" CRLF CRLF "1" CRLF DASH "--", &lim, MP_EHEADERTOOBIG,
           "");
    lim.max_header_bytes = 43;
    EXPECT(DASH CRLF CD("a") CRLF "1" CRLF DASH "--", &lim, MP_EHEADERTOOBIG, "");
    lim.max_header_bytes = 45;
    EXPECT(DASH " " CRLF CD("a") CRLF "1" CRLF DASH "--", &lim, MP_OK, "[a;-;-]1[/]");
    EXPECT(DASH "  " CRLF CD("a") CRLF "1" CRLF DASH "--", &lim, MP_EHEADERTOOBIG, "");
    /* Asking for more than MP_BUF_SIZE gets MP_BUF_SIZE. */
    lim.max_header_bytes = SIZE_MAX;
    header_fill(&lim, MP_BUF_SIZE, MP_OK, "[a;-;-]1[/]", 11);
    header_fill(&lim, MP_BUF_SIZE + 1, MP_EHEADERTOOBIG, "", 0);
}

static void
test_mp_feed_too_many_headers(void **state)
{
    struct mp_limits lim = roomy;

    (void)state;
    lim.max_headers = 3;
    EXPECT(DASH CRLF CD("a") "Content-Type: x" CRLF "X-A: 1" CRLF CRLF
                             "1" CRLF DASH CRLF CD("b") "X-B: 2" CRLF "X-C: 3" CRLF CRLF
                                                        "2" CRLF DASH "--",
           &lim, MP_OK, "[a;-;x]1[/][b;-;-]2[/]");
    lim.max_headers = 2;
    EXPECT(DASH CRLF CD("a") "Content-Type: x" CRLF "X-A: 1" CRLF CRLF "1" CRLF DASH "--", &lim,
           MP_ETOOMANYHEADERS, "");
}

static void
test_mp_feed_preamble_too_big(void **state)
{
    /* The CRLF before the first boundary belongs to the delimiter, not the preamble. */
    struct mp_limits lim = roomy;

    (void)state;
    lim.max_preamble = 9;
    EXPECT("preamble!" CRLF DASH CRLF CD("a") CRLF "1" CRLF DASH "--", &lim, MP_OK, "[a;-;-]1[/]");
    EXPECT("\r\n--XbOuN" CRLF DASH CRLF CD("a") CRLF "1" CRLF DASH "--", &lim, MP_OK,
           "[a;-;-]1[/]");
    lim.max_preamble = 8;
    EXPECT("preamble!" CRLF DASH CRLF CD("a") CRLF "1" CRLF DASH "--", &lim, MP_EPREAMBLE, "");
    lim.max_preamble = 0;
    EXPECT(DASH CRLF CD("a") CRLF "1" CRLF DASH "--", &lim, MP_OK, "[a;-;-]1[/]");
    EXPECT(CRLF DASH CRLF CD("a") CRLF "1" CRLF DASH "--", &lim, MP_OK, "[a;-;-]1[/]");
    EXPECT("-" CRLF DASH CRLF CD("a") CRLF "1" CRLF DASH "--", &lim, MP_EPREAMBLE, "");
}

static void
test_mp_feed_epilogue_too_big(void **state)
{
    /* One CRLF after the close delimiter is its line's end; padding before it counts. */
    struct mp_limits lim = roomy;

    (void)state;
    lim.max_epilogue = 9;
    EXPECT(DASH CRLF CD("a") CRLF "1" CRLF DASH "--" CRLF "epilogue!", &lim, MP_OK, "[a;-;-]1[/]");
    EXPECT(DASH CRLF CD("a") CRLF "1" CRLF DASH "--  " CRLF "epilogu", &lim, MP_OK, "[a;-;-]1[/]");
    EXPECT(DASH CRLF CD("a") CRLF "1" CRLF DASH "--epilogue!", &lim, MP_OK, "[a;-;-]1[/]");
    lim.max_epilogue = 8;
    EXPECT(DASH CRLF CD("a") CRLF "1" CRLF DASH "--" CRLF "epilogue!", &lim, MP_EEPILOGUE,
           "[a;-;-]1[/]");
    EXPECT(DASH CRLF CD("a") CRLF "1" CRLF DASH "--  " CRLF "epilogu", &lim, MP_EEPILOGUE,
           "[a;-;-]1[/]");
    lim.max_epilogue = 0;
    EXPECT(DASH CRLF CD("a") CRLF "1" CRLF DASH "--" CRLF, &lim, MP_OK, "[a;-;-]1[/]");
    EXPECT(DASH CRLF CD("a") CRLF "1" CRLF DASH "--" CRLF "x", &lim, MP_EEPILOGUE, "[a;-;-]1[/]");
    EXPECT(DASH CRLF CD("a") CRLF "1" CRLF DASH "--\rx", &lim, MP_EEPILOGUE, "[a;-;-]1[/]");
    lim.max_epilogue = 1; /* a CR not followed by LF is epilogue too */
    EXPECT(DASH CRLF CD("a") CRLF "1" CRLF DASH "--\rx", &lim, MP_EEPILOGUE, "[a;-;-]1[/]");
    lim.max_epilogue = 2;
    EXPECT(DASH CRLF CD("a") CRLF "1" CRLF DASH "--\rx", &lim, MP_OK, "[a;-;-]1[/]");
}

static void
test_mp_feed_after_ok(void **state)
{
    static const char body[] = DASH CRLF CD("a") CRLF DASH "--";
    struct mp_limits lim = roomy;
    struct mp_parser p;

    (void)state;
    lim.max_epilogue = 4;
    assert_int_equal(mp_init(&p, STR_LIT(BOUNDARY), NULL, &lim), 0);
    assert_int_equal(mp_feed(&p, body, sizeof(body) - 1), MP_OK);
    assert_int_equal(mp_feed(&p, "\r\nab", 4), MP_OK);
    assert_int_equal(mp_feed(&p, "cd", 2), MP_OK);
    assert_int_equal(mp_feed(&p, "", 0), MP_OK);
    assert_int_equal(mp_feed(&p, "e", 1), MP_EEPILOGUE);
    assert_int_equal(mp_feed(&p, "", 0), MP_EEPILOGUE);
    assert_int_equal(mp_finish(&p), MP_EEPILOGUE);
}

static void
test_mp_finish_truncated(void **state)
{
    static const char body[] = DASH CRLF CD("a") CRLF "1" CRLF DASH "--";
    struct rec r = {.len = 0};
    size_t n;

    (void)state;
    for (n = 0; n < sizeof(body) - 1; n++) {
        assert_int_equal(parse_split(&r, body, n, &roomy, 0, 0), MP_EBADFORMAT);
        assert_int_equal(r.ends, 0);
    }
    assert_int_equal(parse_split(&r, body, n, &roomy, 0, 0), MP_OK);
    assert_int_equal(r.ends, 1);
}

static void
test_mp_feed_abort(void **state)
{
    struct mp_callbacks cb = {on_begin, on_data, on_end, NULL};
    struct rec r = {.len = 0};
    struct mp_parser p;

    (void)state;
    cb.ctx = &r;
    r.abort_begin = 2;
    assert_int_equal(mp_init(&p, STR_LIT(BOUNDARY), &cb, &roomy), 0);
    assert_int_equal(mp_feed(&p, form, sizeof(form) - 1), MP_EABORTED);
    assert_int_equal(r.begins, 2);
    assert_int_equal(r.ends, 1);
    assert_int_equal(mp_feed(&p, form, sizeof(form) - 1), MP_EABORTED); /* sticky, silent */
    assert_int_equal(r.begins, 2);
    assert_int_equal(mp_finish(&p), MP_EABORTED);

    memset(&r, 0, sizeof(r));
    r.abort_data = true;
    assert_int_equal(mp_init(&p, STR_LIT(BOUNDARY), &cb, &roomy), 0);
    assert_int_equal(mp_feed(&p, form, sizeof(form) - 1), MP_EABORTED);
    assert_int_equal(r.datas, 1);
    assert_int_equal(r.ends, 0);

    memset(&r, 0, sizeof(r));
    r.abort_end = 1;
    assert_int_equal(mp_init(&p, STR_LIT(BOUNDARY), &cb, &roomy), 0);
    assert_int_equal(mp_feed(&p, form, sizeof(form) - 1), MP_EABORTED);
    assert_int_equal(r.begins, 1);
    assert_int_equal(r.ends, 1);

    memset(&r, 0, sizeof(r));
    r.abort_end = 3;
    assert_int_equal(mp_init(&p, STR_LIT(BOUNDARY), &cb, &roomy), 0);
    assert_int_equal(mp_feed(&p, form, sizeof(form) - 1), MP_EABORTED);
    assert_int_equal(r.ends, 3);
    assert_int_equal(mp_finish(&p), MP_EABORTED);
}

static void
test_mp_init_bad_boundary(void **state)
{
    static const char body[] = "--a b\r\n" CD("x") CRLF "\r\n--a b--";
    struct mp_parser p;

    (void)state;
    assert_int_equal(mp_init(&p, STR_NULL, NULL, NULL), -1);
    assert_int_equal(mp_feed(&p, "--\r\n", 4), MP_EBADFORMAT);
    assert_int_equal(mp_init(&p, STR_LIT("a b "), NULL, NULL), -1);
    assert_int_equal(mp_init(&p, STR_LIT("a\r\nb"), NULL, NULL), -1);
    assert_int_equal(mp_finish(&p), MP_EBADFORMAT);
    assert_int_equal(mp_init(&p, STR_LIT("a b"), NULL, NULL), 0); /* default limits */
    assert_int_equal(mp_feed(&p, body, sizeof(body) - 1), MP_OK);
}

static int
boundary_of(const char *ct, char *out, size_t cap, size_t *len)
{
    return mp_boundary_parse(str_from(ct), out, cap, len);
}

static void
test_mp_boundary_parse_ok(void **state)
{
    char b[MAX_MP_BOUNDARY];
    size_t n = 0;

    (void)state;
    assert_int_equal(
        boundary_of("multipart/form-data; boundary=----WebKitFormBoundary7MA4YWxkTrZu0gW", b,
                    sizeof(b), &n),
        0);
    assert_int_equal(n, 37);
    assert_memory_equal(b, "----WebKitFormBoundary7MA4YWxkTrZu0gW", 37);
    assert_int_equal(boundary_of("Multipart/Form-Data ;charset=utf-8;  BOUNDARY=a1 ", b, 2, &n), 0);
    assert_int_equal(n, 2);
    assert_memory_equal(b, "a1", 2);
    assert_int_equal(
        boundary_of("multipart/form-data; boundary=\"simple boundary\"", b, sizeof(b), &n), 0);
    assert_int_equal(n, 15);
    assert_memory_equal(b, "simple boundary", 15);
    assert_int_equal(boundary_of("multipart/form-data; boundary=\"a\\bc\";x=y", b, sizeof(b), &n),
                     0);
    assert_int_equal(n, 3);
    assert_memory_equal(b, "abc", 3);
    assert_int_equal(
        boundary_of("multipart/form-data; boundary=\"'()+_,-./:=?\"", b, sizeof(b), &n), 0);
    assert_int_equal(n, 12);
    /* 70 bytes is the most RFC 2046 allows. */
    assert_int_equal(boundary_of("multipart/form-data; boundary="
                                 "0123456789012345678901234567890123456789012345678901234567890123"
                                 "456789",
                                 b, sizeof(b), &n),
                     0);
    assert_int_equal(n, 70);
}

static void
test_mp_boundary_parse_bad(void **state)
{
    static const char *const bad[] = {
        "",
        "text/plain; boundary=abc",
        "multipart/mixed; boundary=abc",
        "multipart/form-datax; boundary=abc",
        "multipart/form-data",
        "multipart/form-data;",
        "multipart/form-data; charset=utf-8",
        "multipart/form-data; boundary=",
        "multipart/form-data; boundary=\"\"",
        "multipart/form-data; boundary=\"abc",
        "multipart/form-data; boundary=\"abc \"",
        "multipart/form-data; boundary=ab@c",
        "multipart/form-data; boundary=\"ab\\\"c\"",
        "multipart/form-data; boundary=abc; boundary=abc",
        "multipart/form-data; boundary=abc x",
        "multipart/form-data; =abc",
        "multipart/form-data; boundary",
        "multipart/form-data; boundary="
        "0123456789012345678901234567890123456789012345678901234567890123"
        "4567890",
        "multipart/form-data; boundary=\""
        "0123456789012345678901234567890123456789012345678901234567890123"
        "4567890\"",
    };
    char b[MAX_MP_BOUNDARY];
    size_t i, n = 99;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (boundary_of(bad[i], b, sizeof(b), &n) != -1) {
            fail_msg("accepted: %s", bad[i]);
        }
    }
    assert_int_equal(mp_boundary_parse(STR_NULL, b, sizeof(b), &n), -1);
    assert_int_equal(boundary_of("multipart/form-data; boundary=abc", b, 2, &n), -1); /* cap */
    assert_int_equal(n, 99);
}

/* Running state of the big-file test: FNV-1a over the data, and how it arrived. */
struct sum {
    uint64_t h;
    size_t bytes, calls;
};

static uint64_t
fnv(uint64_t h, const char *p, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        h = (h ^ (unsigned char)p[i]) * 0x100000001b3u;
    }
    return h;
}

static int
sum_data(void *ctx, const char *p, size_t n)
{
    struct sum *s = ctx;

    s->h = fnv(s->h, p, n);
    s->bytes += n;
    s->calls++;
    return 0;
}

static void
test_mp_feed_large_file(void **state)
{
    static const char head[] =
        DASH CRLF "Content-Disposition: form-data; name=\"file\"; "
                  "filename=\"big.mp4\"" CRLF "Content-Type: video/mp4" CRLF CRLF,
                      tail[] = CRLF DASH "--" CRLF, near[] = "\r\n--XbOuNdAr";
    size_t size = 10u << 20, chunk = 64u << 10, len, at, i;
    struct sum s = {0xcbf29ce484222325u, 0, 0};
    struct mp_callbacks cb = {NULL, sum_data, NULL, &s};
    struct mp_parser p;
    uint64_t x = 88172645463325252u, want;
    enum mp_status st = MP_AGAIN;
    char *b, *d;

    (void)state;
    len = sizeof(head) - 1 + size + sizeof(tail) - 1;
    assert_non_null(b = malloc(len));
    memcpy(b, head, sizeof(head) - 1);
    d = b + sizeof(head) - 1;
    for (i = 0; i < size; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        d[i] = (char)(x >> 56);
    }
    /* Delimiter look-alikes every 4099 bytes, so some straddle the 64 KiB chunks. */
    for (i = 0; i + sizeof(near) < size; i += 4099) {
        memcpy(d + i, near, sizeof(near) - 1);
        d[i + sizeof(near) - 1] = 'Z';
    }
    memcpy(d + size, tail, sizeof(tail) - 1);
    want = fnv(0xcbf29ce484222325u, d, size);

    assert_int_equal(mp_init(&p, STR_LIT(BOUNDARY), &cb, NULL), 0);
    for (at = 0; at < len; at += chunk) {
        st = mp_feed(&p, b + at, len - at < chunk ? len - at : chunk);
        assert_true(st == MP_AGAIN || st == MP_OK);
    }
    assert_int_equal(st, MP_OK);
    assert_int_equal(mp_finish(&p), MP_OK);
    assert_int_equal(s.bytes, size);
    assert_true(s.h == want);
    /* At most two spans per chunk: one held back from the last chunk, one from this. */
    assert_true(s.calls <= 2 * (len / chunk + 1));
    free(b);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mp_feed_whole),
        cmocka_unit_test(test_mp_feed_bytewise),
        cmocka_unit_test(test_mp_feed_every_split),
        cmocka_unit_test(test_mp_feed_lookalike),
        cmocka_unit_test(test_mp_feed_one_span),
        cmocka_unit_test(test_mp_feed_framing),
        cmocka_unit_test(test_mp_feed_headers),
        cmocka_unit_test(test_mp_feed_bad_headers),
        cmocka_unit_test(test_mp_feed_too_many_parts),
        cmocka_unit_test(test_mp_feed_header_too_big),
        cmocka_unit_test(test_mp_feed_too_many_headers),
        cmocka_unit_test(test_mp_feed_preamble_too_big),
        cmocka_unit_test(test_mp_feed_epilogue_too_big),
        cmocka_unit_test(test_mp_feed_after_ok),
        cmocka_unit_test(test_mp_finish_truncated),
        cmocka_unit_test(test_mp_feed_abort),
        cmocka_unit_test(test_mp_init_bad_boundary),
        cmocka_unit_test(test_mp_boundary_parse_ok),
        cmocka_unit_test(test_mp_boundary_parse_bad),
        cmocka_unit_test(test_mp_feed_large_file),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
