/*
 * seed.c - stremoractl seed: a reproducible data set for benchmarks and trials. The same
 * --seed gives the same documents, ids included (users are the same for every seed) (an ObjectId is
 * the document's creation second and eight bytes of a splitmix64 stream), so a second run inserts
 * nothing new and reports the duplicates it skipped. Users are seed<N> (email seed<N>@example.com,
 * one shared password: "seed-password"); videos belong to them at random, spread over the year
 * before SEED_EPOCH_MS, mostly public and ready, with tags from a small vocabulary so that tag
 * filters and searches find something. Videos have no media files: they are for the lists and the
 * database, not for playback.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bson/bson.h>
#include <mongoc/mongoc.h>

#include "arena.h"
#include "bounds.h"
#include "ctl.h"
#include "db.h"
#include "db_videos.h"
#include "log.h"
#include "pwhash.h"
#include "str.h"

#define SEED_EPOCH_MS      1767225600000LL /* 2026-01-01T00:00:00Z: the newest seeded video */
#define SEED_SPAN_MS       (365LL * 24 * 3600 * 1000)
#define SEED_BATCH         1000 /* documents per bulk insert */
#define SEED_PASSWORD      "seed-password"
#define SEED_TAGS_EACH     3
#define SEED_FEED_CHANNELS 200 /* channels seed0 follows */

static const char *const words[] = {
    "music",  "travel", "cooking", "gaming", "science",  "nature", "sports",  "history",
    "art",    "tech",   "comedy",  "news",   "diy",      "cars",   "space",   "animals",
    "dance",  "film",   "fitness", "books",  "garden",   "coding", "physics", "ocean",
    "winter", "city",   "review",  "live",   "tutorial", "drone",  "retro",   "jazz",
};
#define NWORDS (sizeof(words) / sizeof(words[0]))

static uint64_t
next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* An ObjectId of the given creation time, its other bytes from the stream. */
static void
seeded_oid(uint64_t *s, int64_t at_ms, bson_oid_t *oid)
{
    uint32_t secs = (uint32_t)(at_ms / 1000);
    uint64_t r = next(s);
    size_t i;

    for (i = 0; i < 4; i++) {
        oid->bytes[i] = (uint8_t)(secs >> (24 - 8 * i));
    }
    for (i = 0; i < 8; i++) {
        oid->bytes[4 + i] = (uint8_t)(r >> (8 * i));
    }
}

/* Runs one bulk insert of docs[0..n); adds to inserted and skipped (already there). */
static int
flush(mongoc_collection_t *c, bson_t *docs, size_t n, long *inserted, long *skipped)
{
    bson_t opts = BSON_INITIALIZER, reply;
    mongoc_bulk_operation_t *bulk;
    bson_error_t e;
    bson_iter_t it;
    size_t i;
    int rc = 0;

    BSON_APPEND_BOOL(&opts, "ordered", false);
    bulk = mongoc_collection_create_bulk_operation_with_opts(c, &opts);
    for (i = 0; i < n; i++) {
        mongoc_bulk_operation_insert(bulk, &docs[i]);
    }
    if (!mongoc_bulk_operation_execute(bulk, &reply, &e)) {
        /* Duplicates (a second run of the same seed) are skipped, anything else fails. */
        if (bson_iter_init_find(&it, &reply, "writeErrors") && BSON_ITER_HOLDS_ARRAY(&it)) {
            bson_iter_t errs, one;

            bson_iter_recurse(&it, &errs);
            while (bson_iter_next(&errs)) {
                if (bson_iter_recurse(&errs, &one) && bson_iter_find(&one, "code") &&
                    bson_iter_as_int64(&one) != 11000) {
                    rc = -1;
                }
                (*skipped)++;
            }
        } else {
            rc = -1;
        }
        if (rc == -1) {
            fprintf(stderr, "stremoractl: insert failed: %s\n", e.message);
        }
    }
    if (bson_iter_init_find(&it, &reply, "nInserted")) {
        *inserted += (long)bson_iter_as_int64(&it);
    }
    bson_destroy(&reply);
    bson_destroy(&opts);
    mongoc_bulk_operation_destroy(bulk);
    for (i = 0; i < n; i++) {
        bson_destroy(&docs[i]);
    }
    return rc;
}

static void
user_doc(bson_t *d, uint64_t *s, long i, const char *hash, bson_oid_t *id)
{
    char name[32], email[64], display[48];
    int64_t at = SEED_EPOCH_MS - SEED_SPAN_MS - (int64_t)i * 1000;

    seeded_oid(s, at, id);
    snprintf(name, sizeof(name), "seed%ld", i);
    snprintf(email, sizeof(email), "seed%ld@example.com", i);
    snprintf(display, sizeof(display), "Seed user %ld", i);
    bson_init(d);
    BSON_APPEND_OID(d, "_id", id);
    BSON_APPEND_UTF8(d, "username", name);
    BSON_APPEND_UTF8(d, "email", email);
    BSON_APPEND_UTF8(d, "displayName", display);
    BSON_APPEND_UTF8(d, "passwordHash", hash);
    BSON_APPEND_UTF8(d, "role", "user");
    BSON_APPEND_DATE_TIME(d, "createdAt", at);
    BSON_APPEND_DATE_TIME(d, "updatedAt", at);
    BSON_APPEND_INT32(d, "guessCount", 0);
    BSON_APPEND_DATE_TIME(d, "guessSince", 0);
    BSON_APPEND_UTF8(d, "bio", "");
    BSON_APPEND_INT64(d, "subscriberCount", 0);
}

static void
video_doc(bson_t *d, uint64_t *s, long i, const bson_oid_t *owner, bson_oid_t *out)
{
    char title[96], key[16];
    const char *k, *visibility, *status;
    uint64_t r = next(s);
    int64_t at = SEED_EPOCH_MS - (int64_t)(next(s) % (uint64_t)SEED_SPAN_MS);
    bson_oid_t id;
    bson_t tags;
    unsigned ntags = (unsigned)(r % (SEED_TAGS_EACH + 1)), t;

    seeded_oid(s, at, &id);
    bson_oid_copy(&id, out);
    visibility = r % 10 < 8 ? "public" : r % 10 == 8 ? "unlisted" : "private";
    status = (r >> 8) % 100 < 95 ? "ready" : (r >> 8) % 100 < 98 ? "processing" : "failed";
    snprintf(title, sizeof(title), "Seed video %ld: %s and %s", i, words[(r >> 16) % NWORDS],
             words[(r >> 24) % NWORDS]);
    bson_init(d);
    BSON_APPEND_OID(d, "_id", &id);
    BSON_APPEND_OID(d, "ownerId", owner);
    BSON_APPEND_UTF8(d, "title", title);
    BSON_APPEND_UTF8(d, "description", "A seeded video for benchmarks; it has no media files.");
    BSON_APPEND_ARRAY_BEGIN(d, "tags", &tags);
    for (t = 0; t < ntags; t++) {
        bson_uint32_to_string(t, &k, key, sizeof(key));
        BSON_APPEND_UTF8(&tags, k, words[(r >> (32 + 5 * t)) % NWORDS]);
    }
    bson_append_array_end(d, &tags);
    BSON_APPEND_UTF8(d, "visibility", visibility);
    BSON_APPEND_UTF8(d, "status", status);
    BSON_APPEND_INT64(d, "size", (int64_t)(1000000 + next(s) % 500000000));
    BSON_APPEND_UTF8(d, "source", "source.mp4");
    BSON_APPEND_UTF8(d, "mimeType", "video/mp4");
    BSON_APPEND_BOOL(d, "hls", false);
    BSON_APPEND_BOOL(d, "thumbnail", false);
    BSON_APPEND_INT64(d, "viewCount", (int64_t)(next(s) % 100000));
    BSON_APPEND_INT64(d, "likeCount", 0);
    BSON_APPEND_INT64(d, "dislikeCount", 0);
    BSON_APPEND_INT64(d, "commentCount", 0);
    BSON_APPEND_BOOL(d, "commentsEnabled", true);
    if (strcmp(status, "failed") == 0) {
        BSON_APPEND_UTF8(d, "failureReason", "not a playable video");
    }
    BSON_APPEND_DATE_TIME(d, "createdAt", at);
    BSON_APPEND_DATE_TIME(d, "updatedAt", at);
}

/* A bulk insert into one collection, SEED_BATCH documents at a time. */
struct batch {
    mongoc_collection_t *c;
    bson_t *docs;
    size_t n;
    long inserted, skipped;
};

/* The next document to fill, or NULL after a failed flush. */
static bson_t *
batch_next(struct batch *b)
{
    if (b->n == SEED_BATCH) {
        int rc = flush(b->c, b->docs, b->n, &b->inserted, &b->skipped);

        b->n = 0;
        if (rc == -1) {
            return NULL;
        }
    }
    bson_init(&b->docs[b->n]);
    return &b->docs[b->n++];
}

static int
batch_end(struct batch *b)
{
    int rc = b->n > 0 ? flush(b->c, b->docs, b->n, &b->inserted, &b->skipped) : 0;

    b->n = 0;
    return rc;
}

static void
rating_doc(bson_t *d, uint64_t *s, const bson_oid_t *user, const char *kind,
           const bson_oid_t *target, const char *value, int64_t at)
{
    bson_oid_t id;

    seeded_oid(s, at, &id);
    BSON_APPEND_OID(d, "_id", &id);
    BSON_APPEND_OID(d, "userId", user);
    BSON_APPEND_OID(d, "targetId", target);
    BSON_APPEND_UTF8(d, "kind", kind);
    BSON_APPEND_UTF8(d, "value", value);
    BSON_APPEND_DATE_TIME(d, "at", at);
}

/* The hot video: seed1's (seed0's when alone), public and ready, made for the comments. */
static void
hot_video_doc(bson_t *d, uint64_t *s, const bson_oid_t *owner, bson_oid_t *id)
{
    bson_t tags;

    seeded_oid(s, SEED_EPOCH_MS, id);
    BSON_APPEND_OID(d, "_id", id);
    BSON_APPEND_OID(d, "ownerId", owner);
    BSON_APPEND_UTF8(d, "title", "Seed hot video");
    BSON_APPEND_UTF8(d, "description", "The seeded video everyone comments on.");
    BSON_APPEND_ARRAY_BEGIN(d, "tags", &tags);
    bson_append_array_end(d, &tags);
    BSON_APPEND_UTF8(d, "visibility", "public");
    BSON_APPEND_UTF8(d, "status", "ready");
    BSON_APPEND_INT64(d, "size", 1000000);
    BSON_APPEND_UTF8(d, "source", "source.mp4");
    BSON_APPEND_UTF8(d, "mimeType", "video/mp4");
    BSON_APPEND_BOOL(d, "hls", false);
    BSON_APPEND_BOOL(d, "thumbnail", false);
    BSON_APPEND_INT64(d, "viewCount", 0);
    BSON_APPEND_INT64(d, "likeCount", 0);
    BSON_APPEND_INT64(d, "dislikeCount", 0);
    BSON_APPEND_INT64(d, "commentCount", 0);
    BSON_APPEND_BOOL(d, "commentsEnabled", true);
    BSON_APPEND_DATE_TIME(d, "createdAt", SEED_EPOCH_MS);
    BSON_APPEND_DATE_TIME(d, "updatedAt", SEED_EPOCH_MS);
}

/* Comments on the hot video and their likes. tops holds the top-level ones made so far. */
static int
seed_comments(struct db *db, uint64_t *s, const bson_oid_t *hot, const bson_oid_t *owners,
              long users, long comments, long *made, long *liked)
{
    struct batch cb = {mongoc_database_get_collection(db_database(db), "comments"), NULL, 0, 0, 0};
    struct batch rb = {mongoc_database_get_collection(db_database(db), "ratings"), NULL, 0, 0, 0};
    bson_oid_t *tops = calloc((size_t)comments + 1, sizeof(*tops));
    long i, ntops = 0;
    int rc = -1;

    cb.docs = calloc(SEED_BATCH, sizeof(bson_t));
    rb.docs = calloc(SEED_BATCH, sizeof(bson_t));
    if (tops == NULL || cb.docs == NULL || rb.docs == NULL) {
        fprintf(stderr, "stremoractl: out of memory\n");
        goto out;
    }
    for (i = 0; i < comments; i++) {
        uint64_t r = next(s);
        int64_t at = SEED_EPOCH_MS + 60000 + (i + 1) * 1000; /* after the video, in order */
        bool reply = ntops > 0 && r % 10 == 0;
        long author = (long)((r >> 8) % (uint64_t)users), k, nlikes = (long)((r >> 40) % 4);
        char body[64];
        bson_oid_t id;
        bson_t *d;

        if ((d = batch_next(&cb)) == NULL) {
            goto out;
        }
        seeded_oid(s, at, &id);
        snprintf(body, sizeof(body), "Seed comment %ld about %s", i, words[(r >> 16) % NWORDS]);
        BSON_APPEND_OID(d, "_id", &id);
        BSON_APPEND_UTF8(d, "kind", "video");
        BSON_APPEND_OID(d, "targetId", hot);
        BSON_APPEND_BOOL(d, "reply", reply);
        if (reply) {
            BSON_APPEND_OID(d, "parentId", &tops[(r >> 24) % (uint64_t)ntops]);
        } else {
            BSON_APPEND_NULL(d, "parentId");
            bson_oid_copy(&id, &tops[ntops++]);
        }
        BSON_APPEND_OID(d, "authorId", &owners[author]);
        BSON_APPEND_UTF8(d, "body", body);
        BSON_APPEND_BOOL(d, "deleted", false);
        BSON_APPEND_DATE_TIME(d, "createdAt", at);
        BSON_APPEND_NULL(d, "editedAt");
        BSON_APPEND_INT64(d, "likeCount", 0);
        BSON_APPEND_INT64(d, "replyCount", 0);
        /* Up to three likes, by distinct users. */
        for (k = 0; k < nlikes && k < users; k++) {
            bson_t *rd = batch_next(&rb);

            if (rd == NULL) {
                goto out;
            }
            rating_doc(rd, s, &owners[(author + 1 + k) % users], "comment", &id, "like", at + 1);
        }
        if (isatty(fileno(stderr)) && (i + 1) % SEED_BATCH == 0) {
            fprintf(stderr, "\r%ld/%ld comments", i + 1, comments);
        }
    }
    if (batch_end(&cb) == -1 || batch_end(&rb) == -1) {
        goto out;
    }
    *made = cb.inserted;
    *liked = rb.inserted;
    rc = 0;
out:
    free(tops);
    free(cb.docs);
    free(rb.docs);
    mongoc_collection_destroy(cb.c);
    mongoc_collection_destroy(rb.c);
    return rc;
}

/* Each user rates five videos and follows subs channels; seed0 follows the 200 after it. */
static int
seed_people(struct db *db, uint64_t *s, const bson_oid_t *owners, long users,
            const bson_oid_t *vids, long nvids, long subs, long *rated, long *followed)
{
    struct batch sb = {mongoc_database_get_collection(db_database(db), "subscriptions"), NULL, 0, 0,
                       0};
    struct batch rb = {mongoc_database_get_collection(db_database(db), "ratings"), NULL, 0, 0, 0};
    long u, k;
    int rc = -1;

    sb.docs = calloc(SEED_BATCH, sizeof(bson_t));
    rb.docs = calloc(SEED_BATCH, sizeof(bson_t));
    if (sb.docs == NULL || rb.docs == NULL) {
        fprintf(stderr, "stremoractl: out of memory\n");
        goto out;
    }
    for (u = 0; u < users; u++) {
        long nsubs = u == 0 ? SEED_FEED_CHANNELS : subs;
        uint64_t r = next(s);
        long first = nvids > 0 ? (long)(r % (uint64_t)nvids) : 0;

        for (k = 0; k < 5 && k < nvids; k++) {
            bson_t *d = batch_next(&rb);

            if (d == NULL) {
                goto out;
            }
            rating_doc(d, s, &owners[u], "video", &vids[(first + k) % nvids],
                       (r >> (8 + k)) % 5 == 0 ? "dislike" : "like", SEED_EPOCH_MS - k * 1000);
        }
        for (k = 0; k < nsubs && k < users - 1; k++) {
            long ch = (u + 1 + k) % users; /* distinct, never u itself */
            int64_t at = SEED_EPOCH_MS - (int64_t)(next(s) % (uint64_t)SEED_SPAN_MS);
            bson_t *d = batch_next(&sb);
            bson_oid_t id;

            if (d == NULL) {
                goto out;
            }
            seeded_oid(s, at, &id);
            BSON_APPEND_OID(d, "_id", &id);
            BSON_APPEND_OID(d, "subscriberId", &owners[u]);
            BSON_APPEND_OID(d, "channelId", &owners[ch]);
            BSON_APPEND_DATE_TIME(d, "createdAt", at);
        }
    }
    if (batch_end(&sb) == -1 || batch_end(&rb) == -1) {
        goto out;
    }
    *rated = rb.inserted;
    *followed = sb.inserted;
    rc = 0;
out:
    free(sb.docs);
    free(rb.docs);
    mongoc_collection_destroy(sb.c);
    mongoc_collection_destroy(rb.c);
    return rc;
}

int
ctl_seed(struct db *db, const struct seed_sizes *z, uint64_t seed)
{
    long users = z->users, videos = z->videos;
    struct arena *a = arena_new(MAX_REQ_ARENA);
    mongoc_collection_t *uc = mongoc_database_get_collection(db_database(db), "users");
    mongoc_collection_t *vc = mongoc_database_get_collection(db_database(db), "videos");
    bson_oid_t *owners = NULL, *vids = NULL, hot;
    bson_t *docs = NULL;
    long i, uins = 0, uskip = 0, vins = 0, vskip = 0, tagged = 0, ncomments = 0, nlikes = 0;
    long nrated = 0, nfollowed = 0;
    /* Users are the same whatever the seed (their names are), so that another seed's videos
     * belong to users that exist. */
    uint64_t us = 0x5eed5eed5eed5eedULL, vs = seed ^ 0x5eed5eed5eed5eedULL;
    const char *hash;
    size_t n = 0;
    int rc = 1;

    if (users < 1 || videos < 0) {
        fprintf(stderr, "stremoractl: seed needs --users of at least 1\n");
        goto out;
    }
    if (a == NULL || (docs = calloc(SEED_BATCH, sizeof(*docs))) == NULL ||
        (owners = calloc((size_t)users, sizeof(*owners))) == NULL ||
        (vids = calloc((size_t)videos + 1, sizeof(*vids))) == NULL) {
        fprintf(stderr, "stremoractl: out of memory\n");
        goto out;
    }
    if ((hash = pwhash_hash(a, str_from(SEED_PASSWORD))) == NULL) {
        fprintf(stderr, "stremoractl: cannot hash the seed password\n");
        goto out;
    }
    for (i = 0; i < users; i++) {
        user_doc(&docs[n++], &us, i, hash, &owners[i]);
        if (n == SEED_BATCH) {
            if (flush(uc, docs, n, &uins, &uskip) == -1) {
                goto out;
            }
            n = 0;
        }
    }
    if (n > 0 && flush(uc, docs, n, &uins, &uskip) == -1) {
        goto out;
    }
    n = 0;
    for (i = 0; i < videos; i++) {
        video_doc(&docs[n], &vs, i, &owners[next(&vs) % (uint64_t)users], &vids[i]);
        n++;
        if (n == SEED_BATCH) {
            if (flush(vc, docs, n, &vins, &vskip) == -1) {
                goto out;
            }
            n = 0;
            if (isatty(fileno(stderr))) {
                fprintf(stderr, "\r%ld/%ld videos", i + 1, videos);
            }
        }
    }
    if (z->comments > 0) {
        bson_init(&docs[n]);
        hot_video_doc(&docs[n++], &vs, &owners[users > 1 ? 1 : 0], &hot);
    }
    if (n > 0 && flush(vc, docs, n, &vins, &vskip) == -1) {
        goto out;
    }
    n = 0;
    if (z->comments > 0 &&
        seed_comments(db, &vs, &hot, owners, users, z->comments, &ncomments, &nlikes) == -1) {
        goto out;
    }
    if ((z->comments > 0 || z->subscriptions > 0) &&
        seed_people(db, &vs, owners, users, vids, videos, z->subscriptions, &nrated, &nfollowed) ==
            -1) {
        goto out;
    }
    /* The tag lists' index, made anew from all the videos (seeded ones go in without it). */
    if (vins > 0 && db_videos_tags_rebuild(a, db, &tagged) != DB_OK) {
        fprintf(stderr, "stremoractl: building video_tags failed\n");
        goto out;
    }
    printf("seed %llu: users %ld inserted, %ld already there; videos %ld inserted, %ld already "
           "there, %ld tag mirrors (password of every seeded user: %s)\n",
           (unsigned long long)seed, uins, uskip, vins, vskip, tagged, SEED_PASSWORD);
    /* The counters of what was just inserted, from the documents (as recount does). */
    if ((z->comments > 0 || z->subscriptions > 0) && ctl_recount(db, false) == 2) {
        fprintf(stderr, "stremoractl: counting the seeded community failed\n");
        goto out;
    }
    if (z->comments > 0 || z->subscriptions > 0) {
        char hex[25];

        bson_oid_to_string(&hot, hex);
        printf("community: %ld comments on the hot video %s, %ld comment likes, %ld video "
               "ratings, %ld subscriptions\n",
               ncomments, z->comments > 0 ? hex : "(none)", nlikes, nrated, nfollowed);
    }
    rc = 0;
out:
    free(owners);
    free(vids);
    free(docs);
    mongoc_collection_destroy(uc);
    mongoc_collection_destroy(vc);
    arena_free(a);
    return rc;
}
