/*
 * posts.c - not built yet: each route answers 404 until it is.
 */
#include "handlers.h"

#include "problem.h"

int
h_posts_create(struct request *r)
{
    return respond_problem(r, PROB_NOT_FOUND, NULL);
}

int
h_posts_get(struct request *r)
{
    return respond_problem(r, PROB_NOT_FOUND, NULL);
}

int
h_posts_update(struct request *r)
{
    return respond_problem(r, PROB_NOT_FOUND, NULL);
}

int
h_posts_delete(struct request *r)
{
    return respond_problem(r, PROB_NOT_FOUND, NULL);
}

int
h_posts_like_put(struct request *r)
{
    return respond_problem(r, PROB_NOT_FOUND, NULL);
}

int
h_posts_like_delete(struct request *r)
{
    return respond_problem(r, PROB_NOT_FOUND, NULL);
}

int
h_posts_list_channel(struct request *r)
{
    return respond_problem(r, PROB_NOT_FOUND, NULL);
}
