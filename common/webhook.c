/*
 * webhook.c - webhook URLs, addresses and signatures (webhook.h). The address ranges are
 * IANA's special-purpose registries (RFC 6890 and its updates) for IPv4 and IPv6: anything
 * that is not plain public unicast is refused, and IPv6 forms that carry an IPv4 address
 * are judged by that address.
 */
#include "webhook.h"

#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>

#include "arena.h"
#include "crypto.h"
#include "str.h"

struct v4_range {
    uint32_t net, mask;
};

/* Not public: this network, private, shared (CGNAT), loopback, link-local, IETF protocol
 * assignments, documentation, 6to4 relay anycast, benchmarking, multicast, reserved and
 * broadcast. */
static const struct v4_range v4_special[] = {
    {0x00000000, 0xff000000}, {0x0a000000, 0xff000000}, {0x64400000, 0xffc00000},
    {0x7f000000, 0xff000000}, {0xa9fe0000, 0xffff0000}, {0xac100000, 0xfff00000},
    {0xc0000000, 0xffffff00}, {0xc0000200, 0xffffff00}, {0xc0586300, 0xffffff00},
    {0xc0a80000, 0xffff0000}, {0xc6120000, 0xfffe0000}, {0xc6336400, 0xffffff00},
    {0xcb007100, 0xffffff00}, {0xe0000000, 0xf0000000}, {0xf0000000, 0xf0000000},
};

static bool
v4_is_public(uint32_t a)
{
    size_t i;

    for (i = 0; i < sizeof(v4_special) / sizeof(v4_special[0]); i++) {
        if ((a & v4_special[i].mask) == v4_special[i].net) {
            return false;
        }
    }
    return true;
}

static uint32_t
v4_at(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static bool
v6_is_public(const unsigned char *a)
{
    static const unsigned char zero[10] = {0};

    if (memcmp(a, zero, 10) == 0) {
        /* ::, ::1, IPv4-compatible (::a.b.c.d) and IPv4-mapped (::ffff:a.b.c.d) */
        if (a[10] == 0xff && a[11] == 0xff) {
            return v4_is_public(v4_at(a + 12));
        }
        return false;
    }
    if (a[0] == 0x00 && a[1] == 0x64 && a[2] == 0xff && a[3] == 0x9b) { /* 64:ff9b::/96 */
        return false;
    }
    if (a[0] == 0x01 && a[1] == 0x00) { /* 100::/64 discard-only (and the rest of 100::/16) */
        return false;
    }
    if (a[0] == 0x20 && a[1] == 0x01 && a[2] < 0x02) { /* 2001::/23 (Teredo, ORCHID...) */
        return false;
    }
    if (a[0] == 0x20 && a[1] == 0x01 && a[2] == 0x0d && a[3] == 0xb8) { /* 2001:db8::/32 */
        return false;
    }
    if (a[0] == 0x20 && a[1] == 0x02) { /* 6to4: 2002:a.b.c.d::/48 */
        return v4_is_public(v4_at(a + 2));
    }
    if ((a[0] & 0xfe) == 0xfc) { /* fc00::/7 unique local */
        return false;
    }
    if (a[0] == 0xfe && (a[1] & 0xc0) >= 0x80) { /* fe80::/10 link-local, fec0::/10 site */
        return false;
    }
    return a[0] != 0xff; /* ff00::/8 multicast */
}

bool
webhook_addr_is_public(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;

        return v4_is_public(ntohl(in->sin_addr.s_addr));
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;

        return v6_is_public(in6->sin6_addr.s6_addr);
    }
    return false;
}

int
webhook_url_parse(const char *url, struct webhook_target *t, const char **why)
{
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL, *port = NULL, *user = NULL, *password = NULL;
    uint64_t pnum;
    int rc = -1;

    memset(t, 0, sizeof(*t));
    *why = "not a URL";
    if (u == NULL || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK) {
        goto out;
    }
    if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0) {
        *why = "only http and https URLs";
        goto out;
    }
    if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK ||
        curl_url_get(u, CURLUPART_PASSWORD, &password, 0) == CURLUE_OK) {
        *why = "no user name or password in the URL";
        goto out;
    }
    if (host[0] == '\0' || strlen(host) >= sizeof(t->host)) {
        *why = "a host is needed";
        goto out;
    }
    snprintf(t->scheme, sizeof(t->scheme), "%s", scheme);
    /* An IPv6 literal comes back as "[...]": keep it bare for the resolver. */
    if (host[0] == '[' && host[strlen(host) - 1] == ']') {
        snprintf(t->host, sizeof(t->host), "%.*s", (int)strlen(host) - 2, host + 1);
    } else {
        snprintf(t->host, sizeof(t->host), "%s", host);
    }
    if (str_to_u64(str_from(port), 1, 65535, &pnum) == -1) {
        *why = "a bad port";
        goto out;
    }
    t->port = (unsigned)pnum;
    *why = NULL;
    rc = 0;
out:
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_free(user);
    curl_free(password);
    curl_url_cleanup(u);
    return rc;
}

int
webhook_signature(struct arena *a, const char *secret, int64_t t, const char *body, size_t len,
                  char out[WEBHOOK_SIG_MAX])
{
    unsigned char mac[CRYPTO_SHA256_LEN];
    char hex[2 * CRYPTO_SHA256_LEN + 1], stamp[24];
    size_t n = (size_t)snprintf(stamp, sizeof(stamp), "%lld.", (long long)t);
    char *msg;

    if (len > SIZE_MAX - n || (msg = arena_alloc(a, n + len)) == NULL) {
        return -1;
    }
    memcpy(msg, stamp, n);
    memcpy(msg + n, body, len);
    crypto_hmac_sha256(secret, strlen(secret), msg, n + len, mac);
    crypto_hex(mac, sizeof(mac), hex);
    snprintf(out, WEBHOOK_SIG_MAX, "t=%lld,v1=%s", (long long)t, hex);
    return 0;
}
