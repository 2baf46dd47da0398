/*
 * webhook.c - one delivery of one event to one webhook (a job of kind webhook): a signed
 * POST with libcurl (5 s, no redirects followed, http and https only) to an address that
 * was resolved here, checked (no loopback, private or link-local address unless
 * STREMORA_WEBHOOK_ALLOW_PRIVATE=1) and pinned for the request, so that DNS cannot hand
 * curl another one; the address curl connects to is checked again as its socket opens
 * (whatever curl did with the name), and no proxy from the environment is used. Every attempt is
 * recorded in webhook_deliveries; a 2xx ends the job, anything else is retried with backoff until
 * the job's deadline (24 h).
 */
#include <arpa/inet.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <curl/curl.h>

#include "arena.h"
#include "clock.h"
#include "db.h"
#include "db_webhooks.h"
#include "log.h"
#include "webhook.h"
#include "worker.h"

#define DELIVERY_TIMEOUT_MS 5000
#define DELIVERY_AGENT      "Stremora-Webhook/1"

/* The answer's body is not read: only its status counts. */
static size_t
discard(char *p, size_t size, size_t n, void *ctx)
{
    (void)p;
    (void)ctx;
    return size * n;
}

/* Resolves t's host to an address fit to call; writes it in out. Returns NULL, or why. */
static const char *
pick_address(const struct webhook_target *t, bool allow_private, char *out, size_t len)
{
    struct addrinfo hints = {0}, *res = NULL, *ai;
    char port[8];
    const char *why = NULL;
    int rc;

    hints.ai_socktype = SOCK_STREAM;
    snprintf(port, sizeof(port), "%u", t->port);
    if ((rc = getaddrinfo(t->host, port, &hints, &res)) != 0) {
        return "the host does not resolve";
    }
    out[0] = '\0';
    /* Every address must pass: a name that also points inside is refused as a whole. */
    for (ai = res; ai != NULL && why == NULL; ai = ai->ai_next) {
        if (!allow_private && !webhook_addr_is_public(ai->ai_addr)) {
            why = "the host resolves to a private, loopback or link-local address";
        } else if (out[0] == '\0') {
            const void *addr =
                ai->ai_family == AF_INET
                    ? (const void *)&((const struct sockaddr_in *)(const void *)ai->ai_addr)
                          ->sin_addr
                    : (const void *)&((const struct sockaddr_in6 *)(const void *)ai->ai_addr)
                          ->sin6_addr;

            inet_ntop(ai->ai_family, addr, out, (socklen_t)len);
        }
    }
    freeaddrinfo(res);
    return why != NULL ? why : out[0] == '\0' ? "the host has no address" : NULL;
}

struct attempt {
    long status;
    int64_t ms;
    char error[CURL_ERROR_SIZE];
    bool allow_private;
    bool refused; /* curl was about to connect to an address we refuse */
    struct job_run *r;
    int64_t beat_ms; /* the last heartbeat */
    bool stopped;    /* a shutdown or a lost lease ended the request */
};

/* curl's progress: the job's lease stays ours while a slow endpoint takes its time. */
static int
on_progress(void *ctx, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
    struct attempt *at = ctx;

    (void)dltotal;
    (void)dlnow;
    (void)ultotal;
    (void)ulnow;
    if (worker_stopping || !job_run_heartbeat_due(at->r, &at->beat_ms)) {
        at->stopped = true;
        return 1;
    }
    return 0;
}

/* curl's socket opener: the last word on where a delivery connects. */
static curl_socket_t
open_checked(void *ctx, curlsocktype purpose, struct curl_sockaddr *sa)
{
    struct attempt *at = ctx;

    if (purpose != CURLSOCKTYPE_IPCXN ||
        (!at->allow_private && !webhook_addr_is_public(&sa->addr))) {
        at->refused = true;
        return CURL_SOCKET_BAD;
    }
    return socket(sa->family, sa->socktype | SOCK_CLOEXEC, sa->protocol);
}

/* POSTs body to url through addr, signed with secret. */
static void
post(struct job_run *r, const struct hook *h, const struct webhook_target *t, const char *addr,
     bool allow_private, const char *type, const char *event_id, const char *body,
     struct attempt *at)
{
    char sig[WEBHOOK_SIG_MAX], *hdr_sig = NULL, *hdr_event = NULL, *hdr_id = NULL, *pin = NULL;
    struct curl_slist *hdrs = NULL, *resolve = NULL;
    int64_t t0 = clock_mono_ms();
    CURL *c = curl_easy_init();
    CURLcode rc;

    memset(at, 0, sizeof(*at));
    at->allow_private = allow_private;
    at->r = r;
    at->beat_ms = t0;
    if (c == NULL ||
        webhook_signature(r->a, h->secret, db_now_ms() / 1000, body, strlen(body), sig) == -1 ||
        (hdr_sig = arena_sprintf(r->a, "Stremora-Signature: %s", sig)) == NULL ||
        (hdr_event = arena_sprintf(r->a, "Stremora-Event: %s", type)) == NULL ||
        (hdr_id = arena_sprintf(r->a, "Stremora-Delivery: %s", event_id)) == NULL ||
        (pin = arena_sprintf(r->a, strchr(addr, ':') != NULL ? "%s:%u:[%s]" : "%s:%u:%s", t->host,
                             t->port, addr)) == NULL ||
        (hdrs = curl_slist_append(hdrs, "Content-Type: application/json")) == NULL ||
        (hdrs = curl_slist_append(hdrs, hdr_sig)) == NULL ||
        (hdrs = curl_slist_append(hdrs, hdr_event)) == NULL ||
        (hdrs = curl_slist_append(hdrs, hdr_id)) == NULL ||
        (hdrs = curl_slist_append(hdrs, "Expect:")) == NULL ||
        (resolve = curl_slist_append(resolve, pin)) == NULL) {
        /* Nothing goes out unsigned or unpinned. */
        snprintf(at->error, sizeof(at->error), "out of memory");
        curl_slist_free_all(hdrs);
        curl_easy_cleanup(c);
        return;
    }
    curl_easy_setopt(c, CURLOPT_URL, h->url);
    curl_easy_setopt(c, CURLOPT_PROXY, "");
    curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, open_checked);
    curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, at);
    curl_easy_setopt(c, CURLOPT_RESOLVE, resolve);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)DELIVERY_TIMEOUT_MS);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_USERAGENT, DELIVERY_AGENT);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, at->error);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, at);
    if ((rc = curl_easy_perform(c)) == CURLE_OK) {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &at->status);
    } else if (at->refused) {
        snprintf(at->error, sizeof(at->error),
                 "the host resolves to a private, loopback or link-local address");
    } else if (at->error[0] == '\0') {
        snprintf(at->error, sizeof(at->error), "%s", curl_easy_strerror(rc));
    }
    at->ms = clock_mono_ms() - t0;
    curl_slist_free_all(hdrs);
    curl_slist_free_all(resolve);
    curl_easy_cleanup(c);
}

/* Records the attempt (best effort: a delivery is not retried for want of its record). */
static void
record(struct job_run *r, const struct hook *h, const char *event_id, const char *type,
       const struct attempt *at, const char *error)
{
    struct hook_delivery d = {0};

    d.webhook_id = h->id;
    d.event_id = (char *)event_id;
    d.event = (char *)type;
    d.attempt = r->job->attempts;
    d.at = db_now_ms();
    d.status_code = (int32_t)at->status;
    d.duration_ms = (int32_t)at->ms;
    d.error = (char *)error;
    db_webhooks_delivery_insert(r->a, r->w->db, &d);
}

enum job_outcome
webhook_run(struct job_run *r)
{
    const bson_t *p = r->job->payload;
    char *event_id = db_get_str(r->a, p, "eventId"), *type = db_get_str(r->a, p, "type");
    char *body = db_get_str(r->a, p, "body"), addr[INET6_ADDRSTRLEN];
    struct webhook_target t;
    struct attempt at = {0};
    const char *why;
    bson_oid_t id;
    struct hook h;
    enum db_status st;

    if (event_id == NULL || type == NULL || body == NULL || db_get_oid(p, "webhookId", &id) == -1) {
        return job_run_fail(r, JOB_OUTCOME_FAILED, "malformed delivery job");
    }
    if ((st = db_webhooks_get(r->a, r->w->db, &id, &h)) == DB_NOT_FOUND) {
        return JOB_OUTCOME_DONE; /* deleted since: nobody to tell */
    }
    if (st != DB_OK) {
        return job_run_fail(r, JOB_OUTCOME_RETRY, "reading the webhook: database unavailable");
    }
    if (webhook_url_parse(h.url, &t, &why) == -1 ||
        (why = pick_address(&t, r->w->cfg.webhook_allow_private != 0, addr, sizeof(addr))) !=
            NULL) {
        record(r, &h, event_id, type, &at, why);
        /* The address may be fixed by the owner's DNS: tried again until the deadline. */
        return job_run_fail(r, JOB_OUTCOME_RETRY, "%s", why);
    }
    post(r, &h, &t, addr, r->w->cfg.webhook_allow_private != 0, type, event_id, body, &at);
    if (at.stopped) { /* not the endpoint's doing: no attempt to record */
        return worker_stopping ? JOB_OUTCOME_RELEASE : JOB_OUTCOME_LOST;
    }
    record(r, &h, event_id, type, &at, at.error);
    log_ev(LOG_INFO, "webhook_delivered", "%s to webhook %s: HTTP %ld in %lld ms", event_id,
           h.id_hex, at.status, (long long)at.ms);
    if (at.status >= 200 && at.status < 300) {
        return JOB_OUTCOME_DONE;
    }
    return job_run_fail(r, JOB_OUTCOME_RETRY, "%s",
                        at.status > 0 ? "the endpoint did not answer 2xx" : at.error);
}
