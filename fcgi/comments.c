/*
 * comments.c - not built yet: each route answers 404 until it is.
 */
#include "handlers.h"

#include "problem.h"

int
h_comments_video_create(struct request *r)
{
    return respond_problem(r, PROB_NOT_FOUND, NULL);
}

int
h_comments_video_list(struct request *r)
{
    return respond_problem(r, PROB_NOT_FOUND, NULL);
}

int
h_comments_post_create(struct request *r)
{
    return respond_problem(r, PROB_NOT_FOUND, NULL);
}

int
h_comments_post_list(struct request *r)
{
    return respond_problem(r, PROB_NOT_FOUND, NULL);
}

int
h_comments_replies(struct request *r)
{
    return respond_problem(r, PROB_NOT_FOUND, NULL);
}

int
h_comments_update(struct request *r)
{
    return respond_problem(r, PROB_NOT_FOUND, NULL);
}

int
h_comments_delete(struct request *r)
{
    return respond_problem(r, PROB_NOT_FOUND, NULL);
}

int
h_comments_like_put(struct request *r)
{
    return respond_problem(r, PROB_NOT_FOUND, NULL);
}

int
h_comments_like_delete(struct request *r)
{
    return respond_problem(r, PROB_NOT_FOUND, NULL);
}
