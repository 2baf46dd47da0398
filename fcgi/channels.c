/*
 * channels.c - not built yet: each route answers 404 until it is.
 */
#include "handlers.h"

#include "problem.h"

int
h_channels_get(struct request *r)
{
    return respond_problem(r, PROB_NOT_FOUND, NULL);
}

int
h_channels_videos(struct request *r)
{
    return respond_problem(r, PROB_NOT_FOUND, NULL);
}

int
h_channels_subscribe(struct request *r)
{
    return respond_problem(r, PROB_NOT_FOUND, NULL);
}

int
h_channels_unsubscribe(struct request *r)
{
    return respond_problem(r, PROB_NOT_FOUND, NULL);
}

int
h_channels_subscriptions(struct request *r)
{
    return respond_problem(r, PROB_NOT_FOUND, NULL);
}

int
h_channels_feed(struct request *r)
{
    return respond_problem(r, PROB_NOT_FOUND, NULL);
}
