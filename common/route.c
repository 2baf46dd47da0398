/*
 * route.c - matches a request path against the routing table. Paths are compared segment
 * by segment; among the rows whose pattern matches, the one whose first literal segment
 * comes earliest wins ("specificity": a bit per segment, literal = 1, read from the left),
 * so /videos/trending beats /videos/{id} whatever the table's order. A {param} matches one
 * non-empty segment; a final {name*} matches the non-empty rest of the path, slashes and
 * all (media paths). A trailing slash is a different path (404), as in most APIs.
 */
#include "route.h"

#include <string.h>

#define ROUTE_MAX_SEGMENTS 16 /* segments in a path we try to match */

/* Matches path against pattern. Returns -1 for no match, else the specificity score,
 * and fills names/values (at most MAX_ROUTE_PARAMS). */
static long
match_one(const char *pattern, struct str path, struct str *names, struct str *values,
          size_t *nparams)
{
    struct str pat = str_from(pattern), pseg, sseg;
    long score = 0;
    size_t depth = 0;

    *nparams = 0;
    if (path.len == 0 || path.p[0] != '/' || pat.p[0] != '/') {
        return -1;
    }
    pat.p++, pat.len--;
    path.p++, path.len--;
    for (;;) {
        bool pat_end, path_end;

        if (++depth > ROUTE_MAX_SEGMENTS) {
            return -1;
        }
        pat = str_cut(pat, '/', &pseg);
        path = str_cut(path, '/', &sseg);
        score <<= 1;
        if (pat.p == NULL && pseg.len >= 3 && pseg.p[0] == '{' &&
            str_has_prefix((struct str){pseg.p + pseg.len - 2, 2}, "*}")) {
            if (sseg.len == 0 || *nparams == MAX_ROUTE_PARAMS) {
                return -1;
            }
            names[*nparams] = (struct str){pseg.p + 1, pseg.len - 3};
            values[(*nparams)++] =
                path.p == NULL ? sseg : (struct str){sseg.p, sseg.len + 1 + path.len};
            return score << (ROUTE_MAX_SEGMENTS - depth);
        }
        if (pseg.len >= 2 && pseg.p[0] == '{' && pseg.p[pseg.len - 1] == '}') {
            if (sseg.len == 0 || *nparams == MAX_ROUTE_PARAMS) {
                return -1;
            }
            names[*nparams] = (struct str){pseg.p + 1, pseg.len - 2};
            values[(*nparams)++] = sseg;
        } else if (str_eq(pseg, sseg)) {
            score |= 1;
        } else {
            return -1;
        }
        pat_end = pat.p == NULL;
        path_end = path.p == NULL;
        if (pat_end || path_end) {
            return pat_end && path_end ? score << (ROUTE_MAX_SEGMENTS - depth) : -1;
        }
    }
}

enum route_result
route_match(const struct route *table, size_t n, enum method m, struct str path, struct request *r,
            const struct route **out, unsigned *allow)
{
    struct str names[MAX_ROUTE_PARAMS], values[MAX_ROUTE_PARAMS];
    long best = -1;
    size_t i, np;
    enum method want = m == METHOD_HEAD ? METHOD_GET : m;

    *out = NULL;
    *allow = 0;
    for (i = 0; i < n; i++) {
        long score = match_one(table[i].pattern, path, names, values, &np);

        if (score < 0) {
            continue;
        }
        *allow |= 1u << table[i].method;
        if (table[i].method == METHOD_GET) {
            *allow |= 1u << METHOD_HEAD;
        }
        /* A HEAD row of its own (tus's HEAD) beats a GET row's implied HEAD. */
        if ((table[i].method == want || table[i].method == m) &&
            (score > best || (score == best && table[i].method == m))) {
            best = score;
            *out = &table[i];
            memcpy(r->param_names, names, np * sizeof(names[0]));
            memcpy(r->params, values, np * sizeof(values[0]));
            r->nparams = np;
        }
    }
    if (*out != NULL) {
        return ROUTE_FOUND;
    }
    return *allow != 0 ? ROUTE_METHOD_NOT_ALLOWED : ROUTE_NOT_FOUND;
}

void
route_allow_format(unsigned allow, char *buf, size_t cap)
{
    size_t n = 0;
    int m;

    if (cap == 0) {
        return;
    }
    buf[0] = '\0';
    for (m = 0; m < METHOD__MAX; m++) {
        const char *name = http_method_name((enum method)m);
        size_t k = strlen(name);

        if ((allow & (1u << m)) == 0 || n + k + 3 > cap) {
            continue;
        }
        if (n > 0) {
            memcpy(buf + n, ", ", 2);
            n += 2;
        }
        memcpy(buf + n, name, k + 1);
        n += k;
    }
}
