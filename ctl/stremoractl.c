/*
 * stremoractl - the operator's command line.
 *   stremoractl migrate [--schemas DIR]      apply sql-free-schemas/: collections,
 *                                            validators, indexes (idempotent)
 *   stremoractl create-admin --username U --email E   password read from stdin
 *   stremoractl gen-keys FILE                write a new signing-key file (0600)
 *   stremoractl rotate-keys FILE             add a key and make it current
 *   stremoractl seed --users N --videos N [--comments N] [--subscriptions N] [--seed S]
 *                                                     a reproducible data set (seed.c)
 *   stremoractl recount [--dry-run]          rebuild every counter from its source
 *                                            documents (recount.c); --dry-run only lists
 *                                            the wrong ones, exit 1 if there are any
 * Settings come from the environment as for stremora-fcgi (MONGODB_URI, STREMORA_DB_NAME).
 * Where the server refuses a validator or a TTL index (the local server does, DESIGN.md
 * section 4), migrate says so once and goes on: expiry is then done by sweep jobs.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bson/bson.h>
#include <mongoc/mongoc.h>

#include "account.h"
#include "arena.h"
#include "bounds.h"
#include "config.h"
#include "ctl.h"
#include "db.h"
#include "db_users.h"
#include "db_videos.h"
#include "keys.h"
#include "log.h"
#include "pwhash.h"
#include "str.h"

#define SCHEMA_MAX            (256u * 1024) /* bytes of one schema file */
#define CTL_SOCKET_TIMEOUT_MS 600000        /* a command's longest wait for one reply */

static int
usage(void)
{
    fprintf(stderr, "usage: stremoractl migrate [--schemas DIR]\n"
                    "       stremoractl create-admin --username U --email E  (password on stdin)\n"
                    "       stremoractl gen-keys FILE\n"
                    "       stremoractl rotate-keys FILE\n"
                    "       stremoractl seed --users N --videos N [--comments N] "
                    "[--subscriptions N] [--seed S]\n"
                    "       stremoractl recount [--dry-run]\n");
    return 2;
}

static char *
read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "re");
    char *buf;
    size_t n;

    if (f == NULL || (buf = malloc(SCHEMA_MAX + 1)) == NULL) {
        if (f != NULL) {
            fclose(f);
        }
        return NULL;
    }
    n = fread(buf, 1, SCHEMA_MAX + 1, f);
    fclose(f);
    if (n > SCHEMA_MAX) {
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

static bool
command(mongoc_database_t *d, const bson_t *cmd, bson_error_t *e)
{
    return mongoc_database_command_simple(d, cmd, NULL, NULL, e);
}

static int
apply_collection(mongoc_database_t *d, const char *name, const bson_t *validator)
{
    bson_t cmd = BSON_INITIALIZER;
    bson_error_t e;
    bool ok;

    BSON_APPEND_UTF8(&cmd, "create", name);
    if (validator != NULL) {
        BSON_APPEND_DOCUMENT(&cmd, "validator", validator);
    }
    ok = command(d, &cmd, &e);
    bson_destroy(&cmd);
    if (ok) {
        printf("  %s: created%s\n", name, validator != NULL ? " with validator" : "");
        return 0;
    }
    if (e.code == 48) { /* NamespaceExists: bring the validator up to date */
        if (validator == NULL) {
            return 0;
        }
        bson_init(&cmd);
        BSON_APPEND_UTF8(&cmd, "collMod", name);
        BSON_APPEND_DOCUMENT(&cmd, "validator", validator);
        ok = command(d, &cmd, &e);
        bson_destroy(&cmd);
        if (!ok) {
            printf("  %s: validator skipped (the server refused collMod: %s)\n", name, e.message);
        }
        return 0;
    }
    if (validator != NULL) {
        printf("  %s: validator skipped (the server refused it: %s)\n", name, e.message);
        return apply_collection(d, name, NULL);
    }
    fprintf(stderr, "stremoractl: create %s: %s\n", name, e.message);
    return -1;
}

/* Copies index spec idx without expireAfterSeconds into out. */
static void
without_ttl(const bson_t *idx, bson_t *out)
{
    bson_init(out);
    bson_copy_to_excluding_noinit(idx, out, "expireAfterSeconds", NULL);
}

static int
apply_index(mongoc_database_t *d, const char *coll, const bson_t *idx)
{
    bson_t cmd = BSON_INITIALIZER, arr, plain;
    bson_error_t e;
    bool ok, has_ttl = bson_has_field(idx, "expireAfterSeconds");

    BSON_APPEND_UTF8(&cmd, "createIndexes", coll);
    BSON_APPEND_ARRAY_BEGIN(&cmd, "indexes", &arr);
    BSON_APPEND_DOCUMENT(&arr, "0", idx);
    bson_append_array_end(&cmd, &arr);
    ok = command(d, &cmd, &e);
    bson_destroy(&cmd);
    if (ok) {
        return 0;
    }
    if (has_ttl) {
        printf("  %s: TTL skipped (the server refused it: %s); sweeps expire instead\n", coll,
               e.message);
        without_ttl(idx, &plain);
        ok = apply_index(d, coll, &plain) == 0;
        bson_destroy(&plain);
        return ok ? 0 : -1;
    }
    fprintf(stderr, "stremoractl: createIndexes on %s: %s\n", coll, e.message);
    return -1;
}

static int
apply_schema(mongoc_database_t *d, const char *path)
{
    bson_iter_t it, arr;
    bson_error_t e;
    bson_t *doc, validator, idx;
    const uint8_t *data;
    uint32_t len;
    const char *name;
    size_t n;
    char *json = read_file(path, &n);
    int rc = -1;

    if (json == NULL || (doc = bson_new_from_json((const uint8_t *)json, (ssize_t)n, &e)) == NULL) {
        fprintf(stderr, "stremoractl: %s: not a readable JSON schema file\n", path);
        free(json);
        return -1;
    }
    free(json);
    if (!bson_iter_init_find(&it, doc, "collection") || !BSON_ITER_HOLDS_UTF8(&it)) {
        fprintf(stderr, "stremoractl: %s: no \"collection\"\n", path);
        goto out;
    }
    name = bson_iter_utf8(&it, NULL);
    if (bson_iter_init_find(&it, doc, "validator") && BSON_ITER_HOLDS_DOCUMENT(&it)) {
        bson_iter_document(&it, &len, &data);
        bson_init_static(&validator, data, len);
        rc = apply_collection(d, name, &validator);
    } else {
        rc = apply_collection(d, name, NULL);
    }
    if (rc == 0 && bson_iter_init_find(&it, doc, "indexes") && BSON_ITER_HOLDS_ARRAY(&it) &&
        bson_iter_recurse(&it, &arr)) {
        while (rc == 0 && bson_iter_next(&arr)) {
            bson_iter_document(&arr, &len, &data);
            bson_init_static(&idx, data, len);
            rc = apply_index(d, name, &idx);
        }
    }
out:
    bson_destroy(doc);
    return rc;
}

static int
filter_json(const struct dirent *de)
{
    size_t n = strlen(de->d_name);

    return n > 5 && strcmp(de->d_name + n - 5, ".json") == 0;
}

/* The tag lists' index (video_tags) of a database written before it existed: built from
 * the videos; afterwards every write keeps it (common/db_videos.c). */
static int
tags_index(struct db *db, struct arena *a, long *done)
{
    return db_videos_tags_rebuild(a, db, done) == DB_OK ? 0 : -1;
}

/* The community's fields on documents written before them (videos' counters and comment
 * switch, users' bio and subscriber count): set where absent, so that every keyset on a
 * counter (the popular sort) sees them. */
static int
community_fields(struct db *db, struct arena *a, long *done)
{
    static const struct {
        const char *coll, *field;
        int kind; /* 0: int64 0, 1: true, 2: "" */
    } fields[] = {
        {"videos", "viewCount", 0},       {"videos", "likeCount", 0},
        {"videos", "dislikeCount", 0},    {"videos", "commentCount", 0},
        {"videos", "commentsEnabled", 1}, {"users", "bio", 2},
        {"users", "subscriberCount", 0},
    };
    size_t i;

    for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        bson_t f = BSON_INITIALIZER, u = BSON_INITIALIZER, ex, set;
        int64_t n = 0;
        enum db_status st;

        BSON_APPEND_DOCUMENT_BEGIN(&f, fields[i].field, &ex);
        BSON_APPEND_BOOL(&ex, "$exists", false);
        bson_append_document_end(&f, &ex);
        BSON_APPEND_DOCUMENT_BEGIN(&u, "$set", &set);
        if (fields[i].kind == 0) {
            BSON_APPEND_INT64(&set, fields[i].field, 0);
        } else if (fields[i].kind == 1) {
            BSON_APPEND_BOOL(&set, fields[i].field, true);
        } else {
            BSON_APPEND_UTF8(&set, fields[i].field, "");
        }
        bson_append_document_end(&u, &set);
        st = db_write(a, db, fields[i].coll, DB_UPDATE_MANY, &f, &u, &n);
        bson_destroy(&f);
        bson_destroy(&u);
        if (st != DB_OK) {
            return -1;
        }
        *done += (long)n;
    }
    return 0;
}

/* Runs a data migration once: recorded in `migrations` (id) only once it completed, so an
 * interrupted one is redone in full at the next migrate. */
static int
migrate_once(struct db *db, const char *id, int (*run)(struct db *, struct arena *, long *),
             const char *what)
{
    mongoc_collection_t *m = mongoc_database_get_collection(db_database(db), "migrations");
    struct arena *a = arena_new(MAX_REQ_ARENA);
    bson_t mark = BSON_INITIALIZER, doc = BSON_INITIALIZER;
    bson_error_t e;
    int64_t done;
    long made = 0;
    int rc = 0;

    BSON_APPEND_UTF8(&mark, "_id", id);
    done = mongoc_collection_count_documents(m, &mark, NULL, NULL, NULL, &e);
    if (a == NULL || done < 0) {
        fprintf(stderr, "stremoractl: cannot read migrations: %s\n", e.message);
        rc = 1;
    } else if (done == 0) {
        if (run(db, a, &made) != 0) {
            fprintf(stderr, "stremoractl: the %s migration failed (run migrate again)\n", id);
            rc = 1;
        } else {
            BSON_APPEND_UTF8(&doc, "_id", id);
            BSON_APPEND_DATE_TIME(&doc, "at", db_now_ms());
            if (!mongoc_collection_insert_one(m, &doc, NULL, NULL, &e) && !db_is_duplicate(&e)) {
                fprintf(stderr, "stremoractl: recording the %s migration: %s\n", id, e.message);
                rc = 1;
            } else {
                printf("%s: %ld %s\n", id, made, what);
            }
        }
    }
    bson_destroy(&mark);
    bson_destroy(&doc);
    mongoc_collection_destroy(m);
    arena_free(a);
    return rc;
}

static int
cmd_migrate(struct db *db, const char *dir)
{
    struct dirent **names;
    char path[4096];
    int i, n, rc = 0;

    if ((n = scandir(dir, &names, filter_json, alphasort)) < 0) {
        fprintf(stderr, "stremoractl: %s: %s\n", dir, strerror(errno));
        return 1;
    }
    if (db_ping(db) != DB_OK) {
        fprintf(stderr, "stremoractl: the database does not answer (MONGODB_URI)\n");
        rc = 1;
    }
    for (i = 0; i < n; i++) {
        if (rc == 0) {
            snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
            printf("%s\n", names[i]->d_name);
            rc = apply_schema(db_database(db), path) == 0 ? 0 : 1;
        }
        free(names[i]);
    }
    free(names);
    if (rc == 0) {
        rc = migrate_once(db, "video_tags", tags_index, "mirrors made from the videos");
    }
    if (rc == 0) {
        rc = migrate_once(db, "community_fields", community_fields, "fields set where absent");
    }
    return rc;
}

static int
cmd_create_admin(struct db *db, const char *username, const char *email)
{
    struct arena *a = arena_new(MAX_REQ_ARENA);
    char pw[MAX_PASSWORD_BYTES + 2];
    struct user u = {0};
    const char *taken = "username";
    size_t n, cp;
    enum db_status st;
    int rc = 1;

    if (a == NULL || fgets(pw, sizeof(pw), stdin) == NULL) {
        fprintf(stderr, "stremoractl: give the password on stdin\n");
        goto out;
    }
    n = strcspn(pw, "\r\n");
    pw[n] = '\0';
    cp = str_utf8_len((struct str){pw, n});
    if (!account_valid_username(str_from(username)) || !account_valid_email(str_from(email))) {
        fprintf(stderr, "stremoractl: username must be 3-30 of [a-z0-9_.-] and email valid\n");
        goto out;
    }
    if (!str_is_utf8((struct str){pw, n}) || cp < MIN_PASSWORD || cp > MAX_PASSWORD) {
        fprintf(stderr, "stremoractl: the password must be 8-128 characters\n");
        goto out;
    }
    u.username = arena_strdup(a, username);
    u.email = arena_strdup(a, email);
    for (n = 0; u.email[n] != '\0'; n++) {
        u.email[n] = (char)(u.email[n] >= 'A' && u.email[n] <= 'Z' ? u.email[n] + 32 : u.email[n]);
    }
    u.display_name = u.username;
    u.role = "admin";
    if ((u.password_hash = pwhash_hash(a, str_from(pw))) == NULL) {
        goto out;
    }
    st = db_users_insert(a, db, &u, &taken);
    if (st == DB_DUPLICATE) {
        fprintf(stderr, "stremoractl: that %s is taken\n", taken);
    } else if (st != DB_OK) {
        fprintf(stderr, "stremoractl: the database refused the insert\n");
    } else {
        printf("admin %s created (id %s)\n", u.username, u.id_hex);
        rc = 0;
    }
out:
    memset(pw, 0, sizeof(pw));
    arena_free(a);
    return rc;
}

int
main(int argc, char **argv)
{
    struct config cfg;
    struct db *db;
    char err[512];
    const char *schemas = "sql-free-schemas", *username = NULL, *email = NULL;
    uint64_t users = 0, videos = 0, comments = 0, subs = 0, seed = 1;
    bool seeding = false, recount = false, dry_run = false;
    int i, rc;

    if (argc < 2) {
        return usage();
    }
    if (strcmp(argv[1], "gen-keys") == 0 || strcmp(argv[1], "rotate-keys") == 0) {
        if (argc != 3) {
            return usage();
        }
        rc = argv[1][0] == 'g' ? keys_generate(argv[2]) : keys_rotate(argv[2]);
        if (rc != 0) {
            fprintf(stderr, "stremoractl: %s %s failed\n", argv[1], argv[2]);
        }
        return rc == 0 ? 0 : 1;
    }
    if (strcmp(argv[1], "recount") == 0) { /* its one flag takes no value */
        recount = true;
        if (argc > 3 || (argc == 3 && strcmp(argv[2], "--dry-run") != 0)) {
            return usage();
        }
        dry_run = argc == 3;
        argc = 2;
    }
    for (i = 2; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--schemas") == 0) {
            schemas = argv[i + 1];
        } else if (strcmp(argv[i], "--username") == 0) {
            username = argv[i + 1];
        } else if (strcmp(argv[i], "--email") == 0) {
            email = argv[i + 1];
        } else if (strcmp(argv[i], "--users") == 0 &&
                   str_to_u64(str_from(argv[i + 1]), 1, 10000000, &users) == 0) {
            seeding = true;
        } else if (strcmp(argv[i], "--videos") == 0 &&
                   str_to_u64(str_from(argv[i + 1]), 0, 100000000, &videos) == 0) {
            seeding = true;
        } else if (strcmp(argv[i], "--comments") == 0 &&
                   str_to_u64(str_from(argv[i + 1]), 0, 100000000, &comments) == 0) {
            seeding = true;
        } else if (strcmp(argv[i], "--subscriptions") == 0 &&
                   str_to_u64(str_from(argv[i + 1]), 0, 1000, &subs) == 0) {
            seeding = true;
        } else if (strcmp(argv[i], "--seed") == 0 &&
                   str_to_u64(str_from(argv[i + 1]), 0, UINT64_MAX, &seed) == 0) {
        } else {
            return usage();
        }
    }
    if (i != argc) {
        return usage();
    }
    if (cfg_load(&cfg, err, sizeof(err)) == -1) {
        fprintf(stderr, "stremoractl: %s\n", err);
        return 1;
    }
    log_init("stremoractl", LOG_WARN);
    /* Our commands read whole collections (migrate, seed, recount): one reply may take the
     * local server longer than the API's 5 s socket timeout (111k videos did), so unless the
     * URI says otherwise they wait up to CTL_SOCKET_TIMEOUT_MS. */
    if (strstr(cfg.mongodb_uri, "socketTimeoutMS=") == NULL &&
        strlen(cfg.mongodb_uri) + 40 < sizeof(cfg.mongodb_uri)) {
        const char *hosts = strstr(cfg.mongodb_uri, "://");
        size_t len = strlen(cfg.mongodb_uri);

        snprintf(cfg.mongodb_uri + len, sizeof(cfg.mongodb_uri) - len, "%ssocketTimeoutMS=%d",
                 strchr(cfg.mongodb_uri, '?') != NULL              ? "&"
                 : hosts != NULL && strchr(hosts + 3, '/') != NULL ? "?"
                                                                   : "/?",
                 CTL_SOCKET_TIMEOUT_MS);
    }
    if ((db = db_new(&cfg, err, sizeof(err))) == NULL) {
        fprintf(stderr, "stremoractl: %s\n", err);
        return 1;
    }
    if (strcmp(argv[1], "migrate") == 0) {
        rc = cmd_migrate(db, schemas);
    } else if (strcmp(argv[1], "create-admin") == 0 && username != NULL && email != NULL) {
        rc = cmd_create_admin(db, username, email);
    } else if (strcmp(argv[1], "seed") == 0 && seeding && users > 0) {
        struct seed_sizes z = {(long)users, (long)videos, (long)comments, (long)subs};

        rc = ctl_seed(db, &z, seed);
    } else if (recount) {
        rc = ctl_recount(db, dry_run);
    } else {
        rc = usage();
    }
    db_free(db);
    mongoc_cleanup();
    return rc;
}
