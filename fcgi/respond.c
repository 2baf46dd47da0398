/*
 * respond.c - answers every handler file gives the same way: a database failure is 503
 * db_unavailable when the server did not answer (db.c logged it) and 500 internal for
 * anything else (db.c logged it too).
 */
#include "handlers.h"

#include "db.h"

enum prob
db_prob(enum db_status st)
{
    return st == DB_UNAVAILABLE ? PROB_DB_UNAVAILABLE : PROB_INTERNAL;
}

int
respond_db_problem(struct request *r, enum db_status st)
{
    return respond_problem(r, db_prob(st), NULL);
}
