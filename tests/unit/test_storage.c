/*
 * test_storage.c - the local backend in a temp media root: an upload appears only on
 * commit, abort leaves nothing, delete removes the folder, work folders publish in one step
 * and the sweep's listing sees every temp entry; and container signatures.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "arena.h"
#include "config.h"
#include "container.h"
#include "storage.h"

#define VID "6b0826ac7b8200fee7080111"

static char root[64];

static int
setup(void **state)
{
    struct config c = {0};
    char err[256];

    strcpy(root, "/tmp/stremora-media-XXXXXX");
    assert_non_null(mkdtemp(root));
    snprintf(c.media_root, sizeof(c.media_root), "%s", root);
    *state = storage_new(&c, err, sizeof(err));
    return *state == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
    char cmd[128];

    storage_free(*state);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
    return system(cmd) == 0 ? 0 : -1;
}

static size_t
count_files(const char *sub)
{
    char path[128];
    struct dirent *de;
    size_t n = 0;
    DIR *d;

    snprintf(path, sizeof(path), "%s/%s", root, sub);
    if ((d = opendir(path)) == NULL) {
        return 0;
    }
    while ((de = readdir(d)) != NULL) {
        n += de->d_name[0] != '.';
    }
    closedir(d);
    return n;
}

static void
test_storage_upload_commit(void **state)
{
    struct storage *s = *state;
    struct storage_upload u;

    assert_int_equal(storage_upload_begin(s, VID, &u), STORAGE_OK);
    assert_int_equal(storage_upload_write(&u, "hello ", 6), STORAGE_OK);
    assert_int_equal(storage_upload_write(&u, "world", 5), STORAGE_OK);
    assert_false(storage_has(s, VID, "source.mp4")); /* not before commit */
    assert_int_equal(count_files("tmp"), 1);
    assert_int_equal(storage_upload_commit(&u, "source.mp4"), STORAGE_OK);
    assert_true(storage_has(s, VID, "source.mp4"));
    assert_int_equal(u.size, 11);
    assert_int_equal(count_files("tmp"), 0);
    storage_upload_abort(&u); /* after commit: nothing happens */
    assert_true(storage_has(s, VID, "source.mp4"));
    assert_int_equal(storage_delete_video(s, VID), STORAGE_OK);
    assert_false(storage_has(s, VID, "source.mp4"));
    assert_int_equal(count_files("videos"), 0);
    assert_int_equal(storage_delete_video(s, VID), STORAGE_OK); /* already gone */
}

/* A resumable upload's part: one writer at a time, cut back to the counted offset, then
 * linked in as the video's source. */
static void
test_storage_part(void **state)
{
    struct storage *s = *state;
    struct storage_part p, q;
    char buf[16];

    assert_int_equal(storage_part_open(s, VID, false, &p), STORAGE_NOT_FOUND);
    assert_int_equal(storage_part_open(s, VID, true, &p), STORAGE_OK);
    assert_int_equal(storage_part_open(s, VID, false, &q), STORAGE_BUSY); /* locked */
    assert_int_equal(storage_part_write(&p, 0, "hello ", 6), STORAGE_OK);
    assert_int_equal(storage_part_write(&p, 6, "worldXXX", 8), STORAGE_OK); /* cut short */
    assert_int_equal(storage_part_truncate(&p, 11), STORAGE_OK);
    assert_int_equal(storage_part_sync(&p), STORAGE_OK);
    storage_part_close(&p);
    /* The lock went with the close: the next writer gets it. */
    assert_int_equal(storage_part_open(s, VID, false, &q), STORAGE_OK);
    assert_int_equal(storage_part_read(&q, 0, buf, sizeof(buf)), 11);
    assert_memory_equal(buf, "hello world", 11);
    assert_false(storage_has(s, VID, "source.mp4"));
    assert_int_equal(storage_part_publish(&q, VID, "source.mp4"), STORAGE_OK);
    assert_int_equal(storage_part_publish(&q, VID, "source.mp4"), STORAGE_OK); /* again: same */
    assert_true(storage_has(s, VID, "source.mp4"));
    assert_int_equal(count_files("videos/" VID), 1);
    storage_part_close(&q);
    storage_part_close(&q); /* twice: nothing */
    assert_int_equal(count_files("uploads"), 1);
    storage_part_remove(s, VID);
    storage_part_remove(s, VID); /* absent: nothing */
    assert_int_equal(count_files("uploads"), 0);
    assert_true(storage_has(s, VID, "source.mp4")); /* the video keeps its bytes */
    assert_int_equal(storage_delete_video(s, VID), STORAGE_OK);
}

static void
test_storage_upload_abort(void **state)
{
    struct storage *s = *state;
    struct storage_upload u;

    assert_int_equal(storage_upload_begin(s, VID, &u), STORAGE_OK);
    assert_int_equal(storage_upload_write(&u, "x", 1), STORAGE_OK);
    storage_upload_abort(&u);
    assert_int_equal(count_files("tmp"), 0);
    assert_int_equal(count_files("videos"), 0);
}

struct seen {
    char names[8][160];
    int n;
};

static void
collect(void *ctx, const char *video_id, const char *name, int64_t age_s)
{
    struct seen *e = ctx;

    assert_string_equal(video_id, VID);
    assert_true(age_s >= 0 && age_s < 60);
    if (e->n < 8) {
        snprintf(e->names[e->n++], sizeof(e->names[0]), "%s", name);
    }
}

/* The worker's sweep sees temp uploads and work folders with their video id, removes one by
 * the name it was given, and a published rendition replaces what was there in one step. */
static void
test_storage_work_and_tmp(void **state)
{
    struct storage *s = *state;
    struct storage_upload u;
    struct seen e = {0};
    char work[256], path[512];
    FILE *f;

    assert_int_equal(storage_upload_begin(s, VID, &u), STORAGE_OK);
    assert_int_equal(storage_upload_write(&u, "x", 1), STORAGE_OK);
    assert_int_equal(storage_work_begin(s, VID, work, sizeof(work)), STORAGE_OK);
    storage_each_tmp(s, collect, &e);
    assert_int_equal(e.n, 2);
    assert_true((strstr(e.names[0], ".work.") != NULL) != (strstr(e.names[1], ".work.") != NULL));

    /* Publishing needs the video's folder: a deleted video takes nothing. */
    snprintf(path, sizeof(path), "%s/thumb.jpg", work);
    assert_non_null(f = fopen(path, "w"));
    fclose(f);
    assert_int_equal(storage_publish(s, VID, work, "thumb.jpg"), STORAGE_NOT_FOUND);
    assert_int_equal(storage_upload_commit(&u, "source.mp4"), STORAGE_OK);
    assert_int_equal(storage_publish(s, VID, work, "thumb.jpg"), STORAGE_OK);
    assert_true(storage_has(s, VID, "thumb.jpg"));
    assert_int_equal(access(path, F_OK), -1);

    /* A second publish replaces the first. */
    assert_non_null(f = fopen(path, "w"));
    fputs("new", f);
    fclose(f);
    assert_int_equal(storage_publish(s, VID, work, "thumb.jpg"), STORAGE_OK);
    snprintf(path, sizeof(path), "%s/videos/%s/thumb.jpg", root, VID);
    assert_non_null(f = fopen(path, "r"));
    assert_int_equal(fgetc(f), 'n');
    fclose(f);

    /* The sweep removes by the name it was given; delete_tmp removes all of a video's. */
    e.n = 0;
    storage_each_tmp(s, collect, &e);
    assert_int_equal(e.n, 1);
    storage_remove_tmp(s, e.names[0]);
    assert_int_equal(count_files("tmp"), 0);
    assert_int_equal(storage_work_begin(s, VID, work, sizeof(work)), STORAGE_OK);
    storage_delete_tmp(s, VID);
    assert_int_equal(count_files("tmp"), 0);
    storage_work_end(""); /* no-op */

    e.n = 0;
    storage_each_video(s, collect, &e);
    assert_int_equal(e.n, 1);
    assert_string_equal(e.names[0], VID);
    assert_int_equal(storage_delete_video(s, VID), STORAGE_OK);
}

/* In a child process: the media root becomes a private tmpfs mounted with opts, and *out a
 * storage on it. Returns 0, 77 when mounting is not allowed here (the test is skipped), or
 * 1 if the storage cannot be made. */
static int
storage_on_tmpfs(const char *opts, struct storage **out)
{
    struct config c = {0};
    char err[256];

    if (unshare(CLONE_NEWNS) == -1 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == -1 ||
        mount("tmpfs", root, "tmpfs", 0, opts) == -1) {
        return 77;
    }
    snprintf(c.media_root, sizeof(c.media_root), "%s", root);
    return (*out = storage_new(&c, err, sizeof(err))) == NULL ? 1 : 0;
}

/* Aborts u and checks it left nothing: 0, or 3. */
static int
abort_leaves_nothing(struct storage *s, struct storage_upload *u)
{
    storage_upload_abort(u);
    if (count_files("tmp") != 0 || count_files("videos") != 0) {
        return 3;
    }
    storage_free(s);
    return 0;
}

/* A full disk: in a child with its own mount namespace, the media root becomes a 256 KiB
 * tmpfs. Writing past it must say STORAGE_FULL, and aborting must leave nothing. Skipped
 * where mounting is not allowed. */
static int
full_disk_child(void)
{
    struct storage *s;
    struct storage_upload u;
    static char chunk[64 * 1024];
    enum storage_status st = STORAGE_OK;
    int i, rc;

    if ((rc = storage_on_tmpfs("size=256k", &s)) != 0) {
        return rc;
    }
    if (storage_upload_begin(s, VID, &u) != STORAGE_OK) {
        return 1;
    }
    for (i = 0; i < 16 && st == STORAGE_OK; i++) {
        st = storage_upload_write(&u, chunk, sizeof(chunk));
    }
    if (st != STORAGE_FULL) {
        return 2;
    }
    return abort_leaves_nothing(s, &u);
}

/* Runs fn in a child process (its own mount namespace may change); fn's exit status 77
 * means "not allowed here": the test is skipped. */
static void
run_in_child(int (*fn)(void))
{
    int status;
    pid_t pid;

    if ((pid = fork()) == 0) {
        _exit(fn());
    }
    assert_true(pid > 0);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    if (WEXITSTATUS(status) == 77) {
        skip();
    }
    assert_int_equal(WEXITSTATUS(status), 0);
}

static void
test_storage_upload_write_full_disk(void **state)
{
    (void)state;
    run_in_child(full_disk_child);
}

/* A disk without room for one more folder (a tmpfs with five inodes: the root, tmp/,
 * videos/, uploads/ and the temp file): the commit's mkdir meets ENOSPC and must say STORAGE_FULL
 * (507 storage_full for the client), not a bare error (500). */
static int
full_inodes_child(void)
{
    struct storage *s;
    struct storage_upload u;
    int rc;

    if ((rc = storage_on_tmpfs("size=1m,nr_inodes=5", &s)) != 0) {
        return rc;
    }
    if (storage_upload_begin(s, VID, &u) != STORAGE_OK ||
        storage_upload_write(&u, "0123456789", 10) != STORAGE_OK) {
        return 1;
    }
    if (storage_upload_commit(&u, "source.mp4") != STORAGE_FULL) {
        return 2;
    }
    return abort_leaves_nothing(s, &u);
}

static void
test_storage_upload_commit_full_disk(void **state)
{
    (void)state;
    run_in_child(full_inodes_child);
}

static void
test_container_sniff(void **state)
{
    unsigned char ts[400] = {0};

    (void)state;
    assert_int_equal(container_sniff((const unsigned char *)"\0\0\0\x20"
                                                            "ftypisom",
                                     12),
                     CONTAINER_MP4);
    assert_int_equal(container_sniff((const unsigned char *)"\0\0\0\x14"
                                                            "ftypqt  ",
                                     12),
                     CONTAINER_MOV);
    assert_int_equal(
        container_sniff((const unsigned char *)"\x1a\x45\xdf\xa3\x9f\x42\x82\x84webm", 12),
        CONTAINER_WEBM);
    assert_int_equal(
        container_sniff((const unsigned char *)"\x1a\x45\xdf\xa3\x9f\x42\x82\x88matroska", 16),
        CONTAINER_MKV);
    assert_int_equal(container_sniff((const unsigned char *)"RIFF\0\0\0\0AVI LIST", 16),
                     CONTAINER_AVI);
    assert_int_equal(container_sniff((const unsigned char *)"FLV\x01\x05", 5), CONTAINER_FLV);
    assert_int_equal(container_sniff((const unsigned char *)"OggS\0\x02", 6), CONTAINER_OGG);
    ts[0] = ts[188] = ts[376] = 0x47;
    assert_int_equal(container_sniff(ts, sizeof(ts)), CONTAINER_TS);
    ts[188] = 0;
    assert_int_equal(container_sniff(ts, sizeof(ts)), CONTAINER_UNKNOWN);
    assert_int_equal(container_sniff((const unsigned char *)"\x89PNG\r\n\x1a\n", 8),
                     CONTAINER_UNKNOWN);
    assert_int_equal(container_sniff((const unsigned char *)"RIFF\0\0\0\0WAVE", 12),
                     CONTAINER_UNKNOWN);
    assert_int_equal(container_sniff((const unsigned char *)"\x1a\x45\xdf\xa3", 4),
                     CONTAINER_UNKNOWN);
    assert_int_equal(container_sniff((const unsigned char *)"", 0), CONTAINER_UNKNOWN);
    assert_string_equal(container_ext(CONTAINER_WEBM), "webm");
    assert_string_equal(container_mime(CONTAINER_MP4), "video/mp4");
    assert_null(container_ext(CONTAINER_UNKNOWN));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_storage_upload_commit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_storage_upload_abort, setup, teardown),
        cmocka_unit_test_setup_teardown(test_storage_part, setup, teardown),
        cmocka_unit_test_setup_teardown(test_storage_work_and_tmp, setup, teardown),
        cmocka_unit_test_setup_teardown(test_storage_upload_write_full_disk, setup, teardown),
        cmocka_unit_test_setup_teardown(test_storage_upload_commit_full_disk, setup, teardown),
        cmocka_unit_test(test_container_sniff),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
