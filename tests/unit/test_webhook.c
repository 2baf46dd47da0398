/*
 * test_webhook.c - webhook URLs (schemes, credentials, hosts, ports, IPv6 literals), the
 * address rules (every special-purpose IPv4 and IPv6 range refused, IPv4 carried in IPv6
 * judged by the IPv4 address, public addresses taken) and the signature, checked against
 * an HMAC-SHA256 computed elsewhere.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "arena.h"
#include "bounds.h"
#include "webhook.h"

static void
test_webhook_url_parse_takes_http_and_https(void **state)
{
    struct webhook_target t;
    const char *why;

    (void)state;
    assert_int_equal(webhook_url_parse("https://hooks.example.com/stremora?x=1", &t, &why), 0);
    assert_null(why);
    assert_string_equal(t.scheme, "https");
    assert_string_equal(t.host, "hooks.example.com");
    assert_int_equal(t.port, 443);
    assert_int_equal(webhook_url_parse("http://example.com:8081/h", &t, &why), 0);
    assert_string_equal(t.scheme, "http");
    assert_int_equal(t.port, 8081);
    assert_int_equal(webhook_url_parse("https://[2606:4700::1111]/h", &t, &why), 0);
    assert_string_equal(t.host, "2606:4700::1111"); /* bare, for the resolver */
    assert_int_equal(webhook_url_parse("HTTPS://Example.COM/", &t, &why), 0);
    assert_string_equal(t.scheme, "https");
}

static void
test_webhook_url_parse_refuses(void **state)
{
    static const char *const bad[] = {
        "",
        "example.com/hook",
        "ftp://example.com/",
        "file:///etc/passwd",
        "gopher://example.com/",
        "javascript:alert(1)",
        "https://user:pw@example.com/",
        "https://user@example.com/",
        "https://example.com:0/",
        "https://example.com:65536/",
        "https://exa mple.com/",
        "http://[::1/",
    };
    struct webhook_target t;
    const char *why;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        why = NULL;
        if (webhook_url_parse(bad[i], &t, &why) != -1 || why == NULL) {
            fail_msg("took %s", bad[i]);
        }
    }
}

static bool
v4_public(const char *s)
{
    struct sockaddr_in in = {.sin_family = AF_INET};

    assert_int_equal(inet_pton(AF_INET, s, &in.sin_addr), 1);
    return webhook_addr_is_public((const struct sockaddr *)&in);
}

static bool
v6_public(const char *s)
{
    struct sockaddr_in6 in6 = {.sin6_family = AF_INET6};

    assert_int_equal(inet_pton(AF_INET6, s, &in6.sin6_addr), 1);
    return webhook_addr_is_public((const struct sockaddr *)&in6);
}

static void
test_webhook_addr_v4(void **state)
{
    static const char *const special[] = {
        "0.0.0.0",         "0.1.2.3",        "10.0.0.1",        "10.255.255.255",  "100.64.0.1",
        "100.127.255.254", "127.0.0.1",      "127.255.255.255", "169.254.169.254", "172.16.0.1",
        "172.31.255.255",  "192.0.0.8",      "192.0.2.1",       "192.88.99.1",     "192.168.1.1",
        "198.18.0.1",      "198.19.255.255", "198.51.100.7",    "203.0.113.9",     "224.0.0.1",
        "239.255.255.250", "240.0.0.1",      "255.255.255.255",
    };
    static const char *const public[] = {
        "1.1.1.1",     "8.8.8.8",        "9.255.255.255", "11.0.0.0",        "100.63.255.255",
        "100.128.0.0", "172.15.255.255", "172.32.0.0",    "192.0.1.1",       "192.167.255.255",
        "192.169.0.0", "198.17.255.255", "198.20.0.0",    "223.255.255.255",
    };

    (void)state;
    for (size_t i = 0; i < sizeof(special) / sizeof(special[0]); i++) {
        if (v4_public(special[i])) {
            fail_msg("%s taken as public", special[i]);
        }
    }
    for (size_t i = 0; i < sizeof(public) / sizeof(public[0]); i++) {
        if (!v4_public(public[i])) {
            fail_msg("%s refused", public[i]);
        }
    }
}

static void
test_webhook_addr_v6(void **state)
{
    static const char *const special[] = {
        "::",
        "::1",
        "::ffff:127.0.0.1",
        "::ffff:10.1.2.3",
        "::ffff:169.254.169.254",
        "::10.0.0.1",
        "64:ff9b::8.8.8.8",
        "100::1",
        "2001::1",
        "2001:0:4136:e378::1",
        "2001:db8::1",
        "2001:10::1",
        "2002:7f00:1::1",
        "2002:c0a8:101::1",
        "fc00::1",
        "fd12:3456::1",
        "fe80::1",
        "febf::1",
        "fec0::1",
        "ff02::1",
        "ff05::2",
    };
    static const char *const public[] = {
        "2606:4700:4700::1111", "2001:4860:4860::8888", "2a00:1450:4001::1",
        "::ffff:8.8.8.8",       "2002:808:808::1",      "2001:200::1",
    };

    (void)state;
    for (size_t i = 0; i < sizeof(special) / sizeof(special[0]); i++) {
        if (v6_public(special[i])) {
            fail_msg("%s taken as public", special[i]);
        }
    }
    for (size_t i = 0; i < sizeof(public) / sizeof(public[0]); i++) {
        if (!v6_public(public[i])) {
            fail_msg("%s refused", public[i]);
        }
    }
}

static void
test_webhook_addr_other_families(void **state)
{
    struct sockaddr sa = {.sa_family = AF_UNIX};

    (void)state;
    assert_false(webhook_addr_is_public(&sa));
}

static void
test_webhook_signature(void **state)
{
    static const char body[] = "{\"event\":\"video.ready\"}";
    struct arena *a = arena_new(MAX_REQ_ARENA);
    char sig[WEBHOOK_SIG_MAX];

    (void)state;
    assert_non_null(a);
    assert_int_equal(webhook_signature(a, "0123456789abcdef0123456789abcdef", 1700000000, body,
                                       sizeof(body) - 1, sig),
                     0);
    /* HMAC-SHA256(secret, "1700000000." + body), computed with another implementation. */
    assert_string_equal(sig, "t=1700000000,v1=f65b111746c83255a1d95a6ba84bf4419eaa460c30ab5d84"
                             "d545c3b9645cca94");
    /* One byte of the body changed: another signature. */
    assert_int_equal(webhook_signature(a, "0123456789abcdef0123456789abcdef", 1700000000,
                                       "{\"event\":\"video.readz\"}", sizeof(body) - 1, sig),
                     0);
    assert_string_not_equal(sig, "t=1700000000,v1=f65b111746c83255a1d95a6ba84bf4419eaa460c30ab"
                                 "5d84d545c3b9645cca94");
    arena_free(a);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_webhook_url_parse_takes_http_and_https),
        cmocka_unit_test(test_webhook_url_parse_refuses),
        cmocka_unit_test(test_webhook_addr_v4),
        cmocka_unit_test(test_webhook_addr_v6),
        cmocka_unit_test(test_webhook_addr_other_families),
        cmocka_unit_test(test_webhook_signature),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
