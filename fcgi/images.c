/*
 * images.c - not built yet: each route answers 404 until it is.
 */
#include "handlers.h"

#include "problem.h"

int
h_images_avatar_put(struct request *r)
{
    return respond_problem(r, PROB_NOT_FOUND, NULL);
}

int
h_images_avatar_delete(struct request *r)
{
    return respond_problem(r, PROB_NOT_FOUND, NULL);
}

int
h_images_banner_put(struct request *r)
{
    return respond_problem(r, PROB_NOT_FOUND, NULL);
}

int
h_images_banner_delete(struct request *r)
{
    return respond_problem(r, PROB_NOT_FOUND, NULL);
}
