/*
 * recount.c - stremoractl recount [--dry-run]: every counter rebuilt from the documents it
 * counts. Counters are $inc'd where they change (DESIGN.md section 4), so a crash between a
 * write and its $inc, or a cleanup that stopped half-way, leaves one off: this puts them
 * right.
 *
 * One row of the table per counter: the counter (target collection and field, on the
 * target's own document, matched by _id), and what it counts (the source collection's
 * documents matching a filter, grouped by the field that names the target). A new counter
 * is a new row; its group-by field needs an index in the source's schema file (every page
 * of targets is counted with an $in on it).
 *
 * How: one pass over the targets (a single cursor read to its end first, ids and counters
 * only, about 32 bytes a target: checking every target is a scan by nature, done once), then
 * one aggregate per page of 100: $match (the row's filter and group-by $in the page's ids,
 * served by the group-by field's index) and a $group with ONE $sum (FerretDB 1.24 computes
 * only the first accumulator right). A target with no source documents counts 0. A counter is
 * written only when it differs, with $set conditioned on the value read, so an $inc that lands
 * meanwhile is not overwritten (that target is reported, and a second run settles it).
 *
 * Output: --dry-run prints one line per wrong counter, "<collection> <id> <field> <stored>
 * <expected>" (stored "missing" when the field is absent or not a number; an absent one
 * reads as 0, so it is wrong only when the count is not 0), and exits 1 if
 * any is wrong, 0 if all are right. Without it, the wrong ones are fixed and one summary
 * line per row is printed; exit 0, or 1 if some changed meanwhile. 2: the database failed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bson/bson.h>
#include <mongoc/mongoc.h>

#include "ctl.h"
#include "db.h"

/* Targets asked for in one reply (the server caps a reply at 16 MB, about 400k of these
 * small documents): the local server answered a getMore with "cursor id not found" at 10k
 * and 100k targets with smaller batches, on a busy machine. */
#define RECOUNT_BATCH 1000000
#define RECOUNT_PAGE  100 /* targets a page: $in of at most 100 values is index-served */

struct counter {
    const char *target;   /* the collection holding the counter */
    const char *field;    /* the counter (written as int64) */
    const char *source;   /* the collection whose documents are counted */
    const char *filter;   /* which of them count: a query document, in JSON */
    const char *group_by; /* the source's field holding the target's _id (indexed) */
};

static const struct counter counters[] = {
    {"videos", "likeCount", "ratings", "{\"kind\": \"video\", \"value\": \"like\"}", "targetId"},
    {"videos", "dislikeCount", "ratings", "{\"kind\": \"video\", \"value\": \"dislike\"}",
     "targetId"},
    {"comments", "likeCount", "ratings", "{\"kind\": \"comment\", \"value\": \"like\"}",
     "targetId"},
    {"posts", "likeCount", "ratings", "{\"kind\": \"post\", \"value\": \"like\"}", "targetId"},
    {"videos", "commentCount", "comments", "{\"kind\": \"video\", \"deleted\": false}", "targetId"},
    {"posts", "commentCount", "comments", "{\"kind\": \"post\", \"deleted\": false}", "targetId"},
    {"comments", "replyCount", "comments", "{\"reply\": true}", "parentId"},
    {"users", "subscriberCount", "subscriptions", "{}", "channelId"},
    {"playlists", "itemCount", "playlist_items", "{}", "playlistId"},
};

/* One page of targets. */
struct page {
    bson_oid_t ids[RECOUNT_PAGE];
    int64_t stored[RECOUNT_PAGE];
    bool has[RECOUNT_PAGE];    /* the counter is there and a number */
    bool absent[RECOUNT_PAGE]; /* there is no such field (read as 0) */
    int64_t expected[RECOUNT_PAGE];
    size_t n;
};

struct tally {
    long checked, wrong, fixed, raced;
};

static bool
number_of(const bson_iter_t *it, int64_t *out)
{
    switch (bson_iter_type(it)) {
    case BSON_TYPE_INT32:
    case BSON_TYPE_INT64:
        *out = bson_iter_as_int64(it);
        return true;
    case BSON_TYPE_DOUBLE:
        *out = (int64_t)bson_iter_double(it);
        return (double)*out == bson_iter_double(it);
    default:
        return false;
    }
}

/* One target as first read: its id and its counter. */
struct target {
    bson_oid_t id;
    int64_t stored;
    bool has, absent;
};

/* Reads every target's id and counter into *out (malloc'd, *n of them) in one pass of one
 * cursor, in as few replies as the server gives (RECOUNT_BATCH), before any page is
 * counted; a keyset on _id alone would be a scan per page on the local server (its planner
 * pushes no range without an equality before it). About 32 bytes a target: 3 MB for 100k. */
static int
load_targets(mongoc_database_t *d, const struct counter *c, struct target **out, size_t *n)
{
    mongoc_collection_t *coll = mongoc_database_get_collection(d, c->target);
    bson_t f = BSON_INITIALIZER, opts = BSON_INITIALIZER, proj;
    mongoc_cursor_t *cur;
    const bson_t *doc;
    struct target *rows = NULL;
    size_t cap = 0;
    bson_error_t e;
    bson_iter_t it;
    int rc = 0;

    *n = 0;
    BSON_APPEND_DOCUMENT_BEGIN(&opts, "projection", &proj);
    BSON_APPEND_INT32(&proj, c->field, 1);
    bson_append_document_end(&opts, &proj);
    BSON_APPEND_INT32(&opts, "batchSize", RECOUNT_BATCH);
    cur = mongoc_collection_find_with_opts(coll, &f, &opts, NULL);
    while (rc == 0 && mongoc_cursor_next(cur, &doc)) {
        if (!bson_iter_init_find(&it, doc, "_id") || !BSON_ITER_HOLDS_OID(&it)) {
            continue; /* counters are on documents with ObjectIds */
        }
        if (*n == cap) {
            struct target *more = realloc(rows, (cap = cap ? 2 * cap : 1024) * sizeof(*rows));

            if (more == NULL) {
                fprintf(stderr, "stremoractl: out of memory\n");
                rc = -1;
                break;
            }
            rows = more;
        }
        bson_oid_copy(bson_iter_oid(&it), &rows[*n].id);
        rows[*n].absent = !bson_iter_init_find(&it, doc, c->field);
        rows[*n].has = !rows[*n].absent && number_of(&it, &rows[*n].stored);
        (*n)++;
    }
    if (rc == 0 && mongoc_cursor_error(cur, &e)) {
        fprintf(stderr, "stremoractl: reading %s: %s\n", c->target, e.message);
        rc = -1;
    }
    mongoc_cursor_destroy(cur);
    mongoc_collection_destroy(coll);
    bson_destroy(&f);
    bson_destroy(&opts);
    *out = rows;
    return rc;
}

/* The $match of a page: the row's filter and group_by $in the page's ids. */
static void
page_match(const struct counter *c, const bson_t *filter, const struct page *p, bson_t *m)
{
    bson_t in, arr, and, one;
    size_t i;

    if (bson_has_field(filter, c->group_by)) { /* both conditions on one field: $and */
        BSON_APPEND_ARRAY_BEGIN(m, "$and", &and);
        BSON_APPEND_DOCUMENT(&and, "0", filter);
        BSON_APPEND_DOCUMENT_BEGIN(&and, "1", &one);
    } else {
        bson_concat(m, filter);
    }
    BSON_APPEND_DOCUMENT_BEGIN(bson_has_field(filter, c->group_by) ? &one : m, c->group_by, &in);
    BSON_APPEND_ARRAY_BEGIN(&in, "$in", &arr);
    for (i = 0; i < p->n; i++) {
        const char *kp;
        char k[16];

        bson_uint32_to_string((uint32_t)i, &kp, k, sizeof(k));
        BSON_APPEND_OID(&arr, kp, &p->ids[i]);
    }
    bson_append_array_end(&in, &arr);
    if (bson_has_field(filter, c->group_by)) {
        bson_append_document_end(&one, &in);
        bson_append_document_end(&and, &one);
        bson_append_array_end(m, &and);
    } else {
        bson_append_document_end(m, &in);
    }
}

/* Counts the source documents of each target of the page into p->expected. */
static int
count_page(mongoc_database_t *d, const struct counter *c, const bson_t *filter, struct page *p)
{
    mongoc_collection_t *coll = mongoc_database_get_collection(d, c->source);
    bson_t pipeline = BSON_INITIALIZER, stages, stage, match, group, sum;
    mongoc_cursor_t *cur;
    const bson_t *doc;
    bson_error_t e;
    bson_iter_t it;
    char ref[128];
    int rc = 0;

    snprintf(ref, sizeof(ref), "$%s", c->group_by);
    BSON_APPEND_ARRAY_BEGIN(&pipeline, "pipeline", &stages);
    BSON_APPEND_DOCUMENT_BEGIN(&stages, "0", &stage);
    BSON_APPEND_DOCUMENT_BEGIN(&stage, "$match", &match);
    page_match(c, filter, p, &match);
    bson_append_document_end(&stage, &match);
    bson_append_document_end(&stages, &stage);
    BSON_APPEND_DOCUMENT_BEGIN(&stages, "1", &stage);
    BSON_APPEND_DOCUMENT_BEGIN(&stage, "$group", &group);
    BSON_APPEND_UTF8(&group, "_id", ref);
    BSON_APPEND_DOCUMENT_BEGIN(&group, "n", &sum); /* the one accumulator */
    BSON_APPEND_INT32(&sum, "$sum", 1);
    bson_append_document_end(&group, &sum);
    bson_append_document_end(&stage, &group);
    bson_append_document_end(&stages, &stage);
    bson_append_array_end(&pipeline, &stages);
    cur = mongoc_collection_aggregate(coll, MONGOC_QUERY_NONE, &pipeline, NULL, NULL);
    while (mongoc_cursor_next(cur, &doc)) {
        const bson_oid_t *id;
        int64_t n;
        size_t i;

        if (!bson_iter_init_find(&it, doc, "_id") || !BSON_ITER_HOLDS_OID(&it)) {
            continue;
        }
        id = bson_iter_oid(&it);
        if (!bson_iter_init_find(&it, doc, "n") || !number_of(&it, &n)) {
            continue;
        }
        for (i = 0; i < p->n; i++) {
            if (bson_oid_equal(id, &p->ids[i])) {
                p->expected[i] = n;
            }
        }
    }
    if (mongoc_cursor_error(cur, &e)) {
        fprintf(stderr, "stremoractl: counting %s: %s\n", c->source, e.message);
        rc = -1;
    }
    mongoc_cursor_destroy(cur);
    bson_destroy(&pipeline);
    mongoc_collection_destroy(coll);
    return rc;
}

/* Sets target i's counter to its expected value if it still holds the one read. */
static int
fix(mongoc_database_t *d, const struct counter *c, const struct page *p, size_t i, struct tally *t)
{
    mongoc_collection_t *coll = mongoc_database_get_collection(d, c->target);
    bson_t f = BSON_INITIALIZER, u = BSON_INITIALIZER, set, exists, reply;
    bson_error_t e;
    bson_iter_t it;
    int rc = 0;

    BSON_APPEND_OID(&f, "_id", &p->ids[i]);
    if (p->has[i]) {
        BSON_APPEND_INT64(&f, c->field, p->stored[i]);
    } else if (p->absent[i]) {
        BSON_APPEND_DOCUMENT_BEGIN(&f, c->field, &exists);
        BSON_APPEND_BOOL(&exists, "$exists", false);
        bson_append_document_end(&f, &exists);
    }
    BSON_APPEND_DOCUMENT_BEGIN(&u, "$set", &set);
    BSON_APPEND_INT64(&set, c->field, p->expected[i]);
    bson_append_document_end(&u, &set);
    if (!mongoc_collection_update_one(coll, &f, &u, NULL, &reply, &e)) {
        fprintf(stderr, "stremoractl: updating %s: %s\n", c->target, e.message);
        rc = -1;
    } else if (bson_iter_init_find(&it, &reply, "matchedCount") && bson_iter_as_int64(&it) == 1) {
        t->fixed++;
    } else {
        t->raced++; /* changed (or gone) since it was read */
    }
    bson_destroy(&reply);
    bson_destroy(&f);
    bson_destroy(&u);
    mongoc_collection_destroy(coll);
    return rc;
}

static int
recount_one(mongoc_database_t *d, const struct counter *c, bool dry_run, struct tally *t)
{
    static struct page p; /* one page at a time, whatever the collection's size */
    struct target *rows = NULL;
    bson_error_t e;
    bson_t *filter = bson_new_from_json((const uint8_t *)c->filter, -1, &e);
    size_t i, nrows = 0, at = 0;
    int rc = 0;

    if (filter == NULL) {
        fprintf(stderr, "stremoractl: recount %s.%s: bad filter: %s\n", c->target, c->field,
                e.message);
        return -1;
    }
    if (load_targets(d, c, &rows, &nrows) == -1) {
        free(rows);
        bson_destroy(filter);
        return -1;
    }
    do {
        for (p.n = 0; p.n < RECOUNT_PAGE && at < nrows; p.n++, at++) {
            bson_oid_copy(&rows[at].id, &p.ids[p.n]);
            p.stored[p.n] = rows[at].stored;
            p.has[p.n] = rows[at].has;
            p.absent[p.n] = rows[at].absent;
            p.expected[p.n] = 0;
        }
        if (p.n > 0 && count_page(d, c, filter, &p) == -1) {
            rc = -1;
            break;
        }
        for (i = 0; i < p.n && rc == 0; i++) {
            char hex[25];

            t->checked++;
            if ((p.has[i] && p.stored[i] == p.expected[i]) || (p.absent[i] && p.expected[i] == 0)) {
                continue; /* an absent counter reads as 0 (documents older than it) */
            }
            t->wrong++;
            bson_oid_to_string(&p.ids[i], hex);
            if (dry_run) {
                if (p.has[i]) {
                    printf("%s %s %s %lld %lld\n", c->target, hex, c->field, (long long)p.stored[i],
                           (long long)p.expected[i]);
                } else {
                    printf("%s %s %s missing %lld\n", c->target, hex, c->field,
                           (long long)p.expected[i]);
                }
            } else {
                rc = fix(d, c, &p, i, t);
            }
        }
    } while (rc == 0 && at < nrows);
    free(rows);
    bson_destroy(filter);
    return rc;
}

int
ctl_recount(struct db *db, bool dry_run)
{
    mongoc_database_t *d = db_database(db);
    bool wrong = false, raced = false;
    size_t i;

    if (db_ping(db) != DB_OK) {
        fprintf(stderr, "stremoractl: the database does not answer (MONGODB_URI)\n");
        return 2;
    }
    for (i = 0; i < sizeof(counters) / sizeof(counters[0]); i++) {
        struct tally t = {0, 0, 0, 0};

        if (recount_one(d, &counters[i], dry_run, &t) == -1) {
            return 2;
        }
        wrong = wrong || t.wrong > 0;
        raced = raced || t.raced > 0;
        if (!dry_run) {
            printf("%s.%s: %ld checked, %ld wrong, %ld fixed", counters[i].target,
                   counters[i].field, t.checked, t.wrong, t.fixed);
            if (t.raced > 0) {
                printf(", %ld changed meanwhile (run again)", t.raced);
            }
            printf("\n");
        }
    }
    if (dry_run) {
        return wrong ? 1 : 0;
    }
    return raced ? 1 : 0;
}
