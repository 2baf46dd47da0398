/*
 * playlists.c - not built yet: each route answers 404 until it is.
 */
#include "handlers.h"

#include "problem.h"

int
h_playlists_create(struct request *r)
{
    return respond_problem(r, PROB_NOT_FOUND, NULL);
}

int
h_playlists_get(struct request *r)
{
    return respond_problem(r, PROB_NOT_FOUND, NULL);
}

int
h_playlists_update(struct request *r)
{
    return respond_problem(r, PROB_NOT_FOUND, NULL);
}

int
h_playlists_delete(struct request *r)
{
    return respond_problem(r, PROB_NOT_FOUND, NULL);
}

int
h_playlists_items(struct request *r)
{
    return respond_problem(r, PROB_NOT_FOUND, NULL);
}

int
h_playlists_item_add(struct request *r)
{
    return respond_problem(r, PROB_NOT_FOUND, NULL);
}

int
h_playlists_item_move(struct request *r)
{
    return respond_problem(r, PROB_NOT_FOUND, NULL);
}

int
h_playlists_item_remove(struct request *r)
{
    return respond_problem(r, PROB_NOT_FOUND, NULL);
}

int
h_playlists_list_channel(struct request *r)
{
    return respond_problem(r, PROB_NOT_FOUND, NULL);
}

int
h_playlists_list_mine(struct request *r)
{
    return respond_problem(r, PROB_NOT_FOUND, NULL);
}
