/*
 * watchdog.h - the safety net for what no test foresees: a request that runs past its
 * deadline (STREMORA_REQUEST_TIMEOUT) ends its process with one log line naming the route,
 * and multiwatch starts a fresh worker in its place. A worker blocked for good (a library
 * deadlock, a hung peer) so costs one request, never the pool. The deadline moves on while
 * a request's body keeps arriving (http.c kicks it on every read), so a long upload that
 * makes progress is never cut. One timer per process (SIGALRM); nothing here allocates.
 */
#ifndef STREMORA_WATCHDOG_H
#define STREMORA_WATCHDOG_H

/* Installs the SIGALRM handler; seconds is the deadline of each request (0 disables).
 * Returns 0, or -1 if the handler could not be installed. */
int watchdog_init(unsigned seconds);
/* Starts the deadline of a request of method and route (a route pattern, never a raw
 * path) with request id req (may be NULL). */
void watchdog_arm(const char *method, const char *route, const char *req);
/* Moves an armed deadline to a full timeout from now (the request made progress). */
void watchdog_kick(void);
/* Stops the deadline: the request is over. */
void watchdog_disarm(void);

#endif
