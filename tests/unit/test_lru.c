/*
 * test_lru.c - the worker cache: hits, TTL, generation mismatch, entry and byte bounds
 * with least-recently-used eviction. The generation table the workers share is host.h's
 * (test_host.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lru.h"

static void
test_lru_get_hit_ttl_gen(void **state)
{
    struct lru *c = lru_new(10, 1000, 100);
    const char *v;
    size_t len = 0;

    (void)state;
    lru_put(c, "u:1", "alice", 5, 1000, 7);
    assert_non_null(v = lru_get(c, "u:1", 1050, 7, &len));
    assert_int_equal(len, 5);
    assert_memory_equal(v, "alice", 5);
    assert_null(lru_get(c, "u:1", 1050, 8, &len)); /* another generation: stale */
    assert_null(lru_get(c, "u:1", 1050, 7, &len)); /* and dropped */
    lru_put(c, "u:1", "alice", 5, 1000, 7);
    assert_null(lru_get(c, "u:1", 1100, 7, &len)); /* TTL over */
    assert_int_equal(lru_count(c), 0);
    assert_int_equal(lru_hits(c), 1);
    lru_free(c);
}

/* Lifetimes spread over the TTL's last quarter: never past it, never before 3/4 of it. */
static void
test_lru_ttl_spread(void **state)
{
    struct lru *c = lru_new(200, 100000, 1000);
    char key[16];
    size_t len, i, alive_late = 0;

    (void)state;
    for (i = 0; i < 100; i++) {
        snprintf(key, sizeof(key), "k:%zu", i);
        lru_put(c, key, "x", 1, 0, 0);
    }
    for (i = 0; i < 100; i++) {
        snprintf(key, sizeof(key), "k:%zu", i);
        assert_non_null(lru_get(c, key, 749, 0, &len));
        alive_late += lru_get(c, key, 875, 0, &len) != NULL;
    }
    assert_true(alive_late > 10 && alive_late < 90); /* apart, not all at once */
    for (i = 0; i < 100; i++) {
        snprintf(key, sizeof(key), "k:%zu", i);
        assert_null(lru_get(c, key, 1000, 0, &len));
    }
    lru_free(c);
}

static void
test_lru_put_evicts_least_recent(void **state)
{
    struct lru *c = lru_new(3, 1000, 1000);
    size_t len;

    (void)state;
    lru_put(c, "a", "1", 1, 0, 0);
    lru_put(c, "b", "2", 1, 0, 0);
    lru_put(c, "c", "3", 1, 0, 0);
    assert_non_null(lru_get(c, "a", 1, 0, &len)); /* a is now the newest */
    lru_put(c, "d", "4", 1, 0, 0);                /* evicts b */
    assert_null(lru_get(c, "b", 1, 0, &len));
    assert_non_null(lru_get(c, "a", 1, 0, &len));
    assert_non_null(lru_get(c, "c", 1, 0, &len));
    assert_non_null(lru_get(c, "d", 1, 0, &len));
    assert_int_equal(lru_count(c), 3);
    lru_free(c);
}

static void
test_lru_put_byte_bound(void **state)
{
    struct lru *c = lru_new(100, 10, 1000);
    size_t len;

    (void)state;
    lru_put(c, "big", "0123456789x", 11, 0, 0); /* over the bound alone: not stored */
    assert_null(lru_get(c, "big", 1, 0, &len));
    lru_put(c, "a", "012345", 6, 0, 0);
    lru_put(c, "b", "012345", 6, 0, 0); /* 12 > 10: a goes */
    assert_null(lru_get(c, "a", 1, 0, &len));
    assert_non_null(lru_get(c, "b", 1, 0, &len));
    lru_put(c, "b", "01", 2, 0, 0); /* replace */
    assert_non_null(lru_get(c, "b", 1, 0, &len));
    assert_int_equal(len, 2);
    lru_del(c, "b");
    assert_null(lru_get(c, "b", 1, 0, &len));
    assert_null(lru_get(NULL, "b", 1, 0, &len));
    lru_free(c);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lru_get_hit_ttl_gen),
        cmocka_unit_test(test_lru_ttl_spread),
        cmocka_unit_test(test_lru_put_evicts_least_recent),
        cmocka_unit_test(test_lru_put_byte_bound),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
