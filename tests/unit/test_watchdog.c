/*
 * test_watchdog.c - a request past its deadline ends the process with exit status 70 and
 * one JSON line naming the route; a request that keeps making progress (kicks) is never
 * cut; a disarmed deadline never fires. Each case runs in a child process.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "watchdog.h"

enum plan { STALL, KICK, DISARM };

static void
nap_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};

    while (nanosleep(&ts, &ts) == -1) {
    }
}

/* Runs plan in a child whose stderr is captured into out; returns its wait status. */
static int
run(enum plan plan, char *out, size_t cap)
{
    int fds[2], status, i;
    ssize_t n, got = 0;
    pid_t pid;

    assert_int_equal(pipe(fds), 0);
    if ((pid = fork()) == 0) {
        dup2(fds[1], STDERR_FILENO);
        close(fds[0]);
        if (watchdog_init(1) != 0) {
            _exit(3);
        }
        watchdog_arm("POST", "/api/v1/videos", "req-\"42\"");
        for (i = 0; i < 6; i++) { /* 1.8 s in all: past the deadline unless kicked */
            nap_ms(300);
            if (plan == KICK) {
                watchdog_kick();
            }
            if (plan == DISARM && i == 0) {
                watchdog_disarm();
            }
        }
        _exit(0);
    }
    close(fds[1]);
    while ((n = read(fds[0], out + got, cap - 1 - (size_t)got)) > 0) {
        got += n;
    }
    out[got] = '\0';
    close(fds[0]);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return status;
}

static void
test_watchdog_ends_a_stalled_request(void **state)
{
    char out[2048];
    int status = run(STALL, out, sizeof(out));

    (void)state;
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 70);
    assert_non_null(strstr(out, "\"event\":\"request_timeout\""));
    assert_non_null(strstr(out, "\"route\":\"/api/v1/videos\""));
    assert_non_null(strstr(out, "\"method\":\"POST\""));
    assert_non_null(strstr(out, "\"req\":\"req-\\\"42\\\"\"")); /* escaped */
    assert_non_null(strchr(out, '\n'));
    assert_ptr_equal(strchr(out, '\n'), out + strlen(out) - 1); /* exactly one line */
}

static void
test_watchdog_kicked_request_lives(void **state)
{
    char out[2048];
    int status = run(KICK, out, sizeof(out));

    (void)state;
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_string_equal(out, "");
}

static void
test_watchdog_disarmed_never_fires(void **state)
{
    char out[2048];
    int status = run(DISARM, out, sizeof(out));

    (void)state;
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_string_equal(out, "");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_watchdog_ends_a_stalled_request),
        cmocka_unit_test(test_watchdog_kicked_request_lives),
        cmocka_unit_test(test_watchdog_disarmed_never_fires),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
