/*
 * test_host.c - the host's shared file: generations seen by two maps of one file (as two
 * workers see it); upload slots and worker rows owned through locks that the kernel
 * drops when the owner dies (a SIGKILLed holder frees its slot, whatever pids come
 * next); and a file of another layout replaced whole, never read as ours.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "host.h"

struct tmp {
    char dir[64];
    char path[96];
};

static int
setup(void **state)
{
    struct tmp *t = calloc(1, sizeof(*t));

    assert_non_null(t);
    snprintf(t->dir, sizeof(t->dir), "/tmp/stremora-host-XXXXXX");
    assert_non_null(mkdtemp(t->dir));
    snprintf(t->path, sizeof(t->path), "%s/stremora.shm", t->dir);
    *state = t;
    return 0;
}

static int
teardown(void **state)
{
    struct tmp *t = *state;

    unlink(t->path);
    rmdir(t->dir);
    free(t);
    return 0;
}

static struct host *
open_ok(const char *path)
{
    char err[256] = "";
    struct host *h = host_open(path, err, sizeof(err));

    if (h == NULL) {
        fail_msg("host_open: %s", err);
    }
    return h;
}

static void
test_host_gen_shared(void **state)
{
    struct tmp *t = *state;
    struct host *a = open_ok(t->path), *b = open_ok(t->path);

    assert_int_equal(host_gen(a, "u:1"), 0);
    host_gen_bump(b, "u:1");
    assert_int_equal(host_gen(a, "u:1"), 1);
    assert_int_equal(host_gen(b, "u:1"), 1);
    assert_int_equal(host_gen(NULL, "u:1"), 0);
    host_close(a);
    host_close(b);
}

static void
test_host_upload_claim_and_release(void **state)
{
    struct tmp *t = *state;
    struct host *a = open_ok(t->path), *b = open_ok(t->path), *c = open_ok(t->path);
    int s1, s2;

    assert_true((s1 = host_upload_claim(a, 2)) >= 0);
    assert_true((s2 = host_upload_claim(b, 2)) >= 0);
    assert_int_not_equal(s1, s2);
    assert_int_equal(host_uploads_taken(a, 2), 2);
    assert_int_equal(host_uploads_taken(b, 2), 2);
    assert_int_equal(host_upload_claim(c, 2), -1); /* full */
    host_close(c);
    host_upload_release(a, s1);
    assert_int_equal(host_uploads_taken(b, 2), 1);
    assert_true((s1 = host_upload_claim(a, 2)) >= 0);
    assert_int_equal(host_upload_claim(NULL, 2), HOST_NO_SLOT);
    assert_int_equal(host_uploads_taken(NULL, 2), 0);
    host_close(a); /* closing drops the slot too */
    assert_int_equal(host_uploads_taken(b, 2), 1);
    host_close(b);
}

/* Forks a process that takes n upload slots (a handle each, as n workers would; or a
 * worker row when n is 0), reports on a pipe, and waits to be killed (or for this test
 * process to end: it never outlives a failed test). */
static pid_t
holder(const char *path, unsigned n)
{
    int fds[2];
    char c = 0;
    pid_t pid;

    assert_int_equal(pipe(fds), 0);
    if ((pid = fork()) == 0) {
        char err[256];
        struct host *h = host_open(path, err, sizeof(err));
        unsigned i;
        char ok = 1;

        prctl(PR_SET_PDEATHSIG, SIGKILL);
        for (i = 0; h != NULL && i < n; i++) {
            struct host *mine = host_open(path, err, sizeof(err));

            ok &= mine != NULL && host_upload_claim(mine, n) >= 0;
        }
        if (n == 0) {
            ok = h != NULL && host_worker_join(h) == 0;
            host_worker_busy(h, 1);
        }
        if (write(fds[1], &ok, 1) != 1) {
            _exit(1);
        }
        for (;;) {
            pause();
        }
    }
    close(fds[1]);
    assert_int_equal(read(fds[0], &c, 1), 1);
    close(fds[0]);
    assert_int_equal(c, 1);
    return pid;
}

static void
kill_and_reap(pid_t pid)
{
    int status;

    assert_int_equal(kill(pid, SIGKILL), 0);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
}

static void
test_host_upload_slots_of_a_killed_holder_are_free(void **state)
{
    struct tmp *t = *state;
    struct host *h = open_ok(t->path);
    pid_t p1 = holder(t->path, 3), p2;
    int s;

    /* The holder took every slot: nobody else may read an upload. */
    assert_int_equal(host_uploads_taken(h, 3), 3);
    assert_int_equal(host_upload_claim(h, 3), -1);
    kill_and_reap(p1);
    /* The kernel dropped its locks: every slot is free, whatever pid comes next. */
    assert_int_equal(host_uploads_taken(h, 3), 0);
    p2 = holder(t->path, 3);
    assert_int_equal(host_upload_claim(h, 3), -1);
    kill_and_reap(p2);
    assert_true((s = host_upload_claim(h, 3)) >= 0);
    host_upload_release(h, s);
    host_close(h);
}

static void
test_host_worker_rows(void **state)
{
    struct tmp *t = *state;
    struct host *me = open_ok(t->path);
    struct host_workers w;
    pid_t p;

    host_workers_count(me, 1000, 100, &w);
    assert_int_equal(w.alive, 0);
    assert_int_equal(host_worker_join(me), 0);
    host_worker_busy(me, 0);
    host_workers_count(me, 1000, 100, &w);
    assert_int_equal(w.alive, 1);
    assert_int_equal(w.busy, 0);
    assert_int_equal(w.answering, 1);
    p = holder(t->path, 0); /* busy since 1 ms */
    host_workers_count(me, 50, 100, &w);
    assert_int_equal(w.alive, 2);
    assert_int_equal(w.busy, 1);
    assert_int_equal(w.answering, 2);
    host_workers_count(me, 5000, 100, &w); /* busy for far longer than 100 ms */
    assert_int_equal(w.answering, 1);
    kill_and_reap(p);
    host_workers_count(me, 5000, 100, &w);
    assert_int_equal(w.alive, 1);
    host_close(me);
}

/* A file written by an older build: the first layout had no version, and its upload slots
 * held pids, here the pid of a live process (as after a restart that reused it). */
static void
test_host_replaces_another_layout(void **state)
{
    struct tmp *t = *state;
    struct {
        uint64_t magic;
        uint64_t gen[4096];
        int32_t uploads[64];
    } old;
    struct host *h;
    struct stat st;
    FILE *f;
    int i, s;

    memset(&old, 0, sizeof(old));
    old.magic = 0x53544d5231ull;
    for (i = 0; i < 64; i++) {
        old.uploads[i] = (int32_t)getpid();
    }
    old.gen[7] = 42;
    assert_non_null(f = fopen(t->path, "w"));
    assert_int_equal(fwrite(&old, sizeof(old), 1, f), 1);
    fclose(f);
    h = open_ok(t->path);
    assert_int_equal(host_uploads_taken(h, 3), 0);
    assert_true((s = host_upload_claim(h, 3)) >= 0);
    host_upload_release(h, s);
    assert_int_equal(stat(t->path, &st), 0);
    assert_int_not_equal((size_t)st.st_size, sizeof(old));
    host_close(h);
    /* The replacement is ours: a second open keeps it, and its generations start at 0. */
    h = open_ok(t->path);
    for (i = 0; i < 100; i++) {
        char key[16];

        snprintf(key, sizeof(key), "v:%d", i);
        assert_int_equal(host_gen(h, key), 0);
    }
    host_close(h);
}

static void
test_host_garbage_and_empty_files(void **state)
{
    struct tmp *t = *state;
    struct host *a, *b;
    FILE *f;

    assert_non_null(f = fopen(t->path, "w"));
    fputs("not ours", f);
    fclose(f);
    a = open_ok(t->path);
    host_gen_bump(a, "u:9");
    b = open_ok(t->path); /* sees a's file, not yet another replacement */
    assert_int_equal(host_gen(b, "u:9"), 1);
    host_close(a);
    host_close(b);
    assert_int_equal(truncate(t->path, 0), 0); /* an empty file is filled in, not refused */
    a = open_ok(t->path);
    assert_int_equal(host_gen(a, "u:9"), 0);
    host_close(a);
}

static void
test_host_open_refuses_an_unwritable_place(void **state)
{
    char err[256] = "";

    (void)state;
    assert_null(host_open("/nonexistent-dir/stremora.shm", err, sizeof(err)));
    assert_non_null(strstr(err, "STREMORA_SHM_FILE"));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_host_gen_shared, setup, teardown),
        cmocka_unit_test_setup_teardown(test_host_upload_claim_and_release, setup, teardown),
        cmocka_unit_test_setup_teardown(test_host_upload_slots_of_a_killed_holder_are_free, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_host_worker_rows, setup, teardown),
        cmocka_unit_test_setup_teardown(test_host_replaces_another_layout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_host_garbage_and_empty_files, setup, teardown),
        cmocka_unit_test(test_host_open_refuses_an_unwritable_place),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
