/*
 * ratings.c - not built yet: each route answers 404 until it is.
 */
#include "handlers.h"

#include "problem.h"

int
h_ratings_video_put(struct request *r)
{
    return respond_problem(r, PROB_NOT_FOUND, NULL);
}

int
h_ratings_video_delete(struct request *r)
{
    return respond_problem(r, PROB_NOT_FOUND, NULL);
}

int
h_ratings_likes(struct request *r)
{
    return respond_problem(r, PROB_NOT_FOUND, NULL);
}
