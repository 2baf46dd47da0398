/*
 * test_db.c - db_drop_pages: the paging loop the drops share (no server needed: the page
 * functions here never touch db).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "arena.h"
#include "db.h"

struct pages {
    int *calls;  /* page calls so far (ctx is const: the count lives outside) */
    int last;    /* the call that says no more */
    int fail_at; /* the call that fails (0: none) */
    size_t take; /* bytes each page allocates */
};

static enum db_status
page(struct arena *a, struct db *db, const void *ctx, bool *more)
{
    const struct pages *p = ctx;
    int call = ++*p->calls;

    (void)db;
    if (p->take > 0 && arena_alloc(a, p->take) == NULL) {
        return DB_ERROR;
    }
    if (call == p->fail_at) {
        *more = true; /* an error ends the loop whatever the page says */
        return DB_UNAVAILABLE;
    }
    *more = call < p->last;
    return DB_OK;
}

static void
test_db_drop_pages_until_no_more(void **state)
{
    int calls = 0;
    struct pages p = {&calls, 5, 0, 0};

    (void)state;
    assert_int_equal(db_drop_pages(NULL, page, &p), DB_OK);
    assert_int_equal(calls, 5);
}

static void
test_db_drop_pages_stops_at_an_error(void **state)
{
    int calls = 0;
    struct pages p = {&calls, 5, 3, 0};

    (void)state;
    assert_int_equal(db_drop_pages(NULL, page, &p), DB_UNAVAILABLE);
    assert_int_equal(calls, 3);
}

static void
test_db_drop_pages_empties_the_arena(void **state)
{
    /* Over half a megabyte a page: a second page fits only if the first one's is gone. */
    int calls = 0;
    struct pages p = {&calls, 50, 0, 600u * 1024};

    (void)state;
    assert_int_equal(db_drop_pages(NULL, page, &p), DB_OK);
    assert_int_equal(calls, 50);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_db_drop_pages_until_no_more),
        cmocka_unit_test(test_db_drop_pages_stops_at_an_error),
        cmocka_unit_test(test_db_drop_pages_empties_the_arena),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
