/*
 * webhook.h - what the API (registering a webhook) and the worker (delivering to it) share:
 * the URL rules, the address rules that keep a user's webhook out of the server's own
 * network, and the signature (DESIGN.md section 7):
 *   Stremora-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>
 * URLs are parsed by libcurl's URL API, never by hand.
 */
#ifndef STREMORA_WEBHOOK_H
#define STREMORA_WEBHOOK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define WEBHOOK_SECRET_BYTES 32  /* random bytes of a signing secret (hex in the API) */
#define WEBHOOK_SIG_MAX      128 /* bytes of a Stremora-Signature value */
#define WEBHOOK_HOST_MAX     256 /* bytes of a URL's host */

struct webhook_target {
    char scheme[8]; /* "http" or "https" */
    char host[WEBHOOK_HOST_MAX];
    unsigned port;
};

/* Checks url: http or https, a host, no user name or password in it. Fills t. Returns 0,
 * or -1 with a reason for a person in why (static text). */
int webhook_url_parse(const char *url, struct webhook_target *t, const char **why);
/* True if sa (AF_INET or AF_INET6) is a public unicast address: not loopback, private,
 * shared (CGNAT), link-local, unique-local, multicast, unspecified, documentation, or an
 * IPv4 address in disguise (mapped, translated, 6to4, Teredo) that is one of those. */
bool webhook_addr_is_public(const struct sockaddr *sa);
struct arena;

/* Writes the header value for body signed with secret at time t (NUL-terminated).
 * Returns 0, or -1 if a is full. */
int webhook_signature(struct arena *a, const char *secret, int64_t t, const char *body, size_t len,
                      char out[WEBHOOK_SIG_MAX]);

#endif
