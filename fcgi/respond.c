/*
 * respond.c - answers every handler file gives the same way: a database failure is 503
 * db_unavailable when the server did not answer (db.c logged it) and 500 internal for
 * anything else (db.c logged it too); a list's limit and cursor are refused with the same
 * 400s on every route.
 */
#include "handlers.h"

#include "bounds.h"
#include "cursor.h"
#include "db.h"
#include "problem.h"
#include "str.h"

#define DEFAULT_LIST_LIMIT 20 /* items in a page when ?limit= is absent */

enum prob
db_prob(enum db_status st)
{
    return st == DB_UNAVAILABLE ? PROB_DB_UNAVAILABLE : PROB_INTERNAL;
}

int
respond_db_problem(struct request *r, enum db_status st)
{
    return respond_problem(r, db_prob(st), NULL);
}

bool
page_query_parse(struct request *r, struct page_query *q, int *rc)
{
    struct str limit = req_query(r, "limit"), cur = req_query(r, "cursor");
    uint64_t n = DEFAULT_LIST_LIMIT;
    char hex[25];

    *q = (struct page_query){0};
    if (!http_query_is_valid(r->query)) {
        *rc = respond_problem(r, PROB_INVALID_QUERY, "Malformed percent-escape in the query");
        return false;
    }
    if (limit.p != NULL && str_to_u64(limit, 1, MAX_LIST_LIMIT, &n) == -1) {
        *rc = respond_problem(r, PROB_INVALID_QUERY, "limit must be 1-100");
        return false;
    }
    q->limit = (size_t)n;
    if (cur.p != NULL) {
        if (cursor_parse(cur, &q->cursor_key, hex) == -1 ||
            db_oid_parse(str_from(hex), &q->cursor_id) == -1) {
            *rc = respond_problem(r, PROB_INVALID_CURSOR, NULL);
            return false;
        }
        q->has_cursor = true;
    }
    return true;
}
