/*
 * Copyright (C) ngx_faas developers
 *
 * A batch of accepted invocations whose INSERT was sent and whose
 * answer was lost with the connection (a failover, a cut network, a
 * backend ended while its commit waited for a standby): the server may
 * have committed it. A 503 then would have its client send again what
 * runs already, twice; a 202 would acknowledge what may not be stored.
 * So the store is asked which of its ids it has, once it is back, and
 * each request is answered by what it says: after its lock (taken by
 * the INSERT, held to its commit's end) is free, the batch's backend
 * gone or done (one still waiting for a standby has committed what is
 * not yet seen: a reviewer's finding), in a statement of its own, whose
 * snapshot is of after that. The look is kept across
 * lost connections; the requests wait for it no longer than a client
 * waits for a commit's answer (FR_PG_ANSWER_MSEC from the sending),
 * then get 503 as before, the log saying they may have been stored.
 */

#include <stdlib.h>
#include <string.h>

#include "fr_pg.h"
#include "fr_store_pg.h"


static void fr_pgs_waited(PGresult *res, void *data);
static void fr_pgs_looked(PGresult *res, void *data);
static void fr_pgs_doubt_expired(fr_timer_t *t);


void
fr_pgs_doubt(fr_pgs_batch_t *b)
{
    int          lengths[1];
    const char  *values[1];

    b->answered = 0;
    b->timer.handler = fr_pgs_doubt_expired;
    b->timer.data = b;

    values[0] = b->key;
    lengths[0] = strlen(b->key);

    /* harmless twice: kept across lost connections, sent once the store
     * is back; refused only when the runner stops */
    if (fr_pg_send("SELECT pg_advisory_xact_lock(" FR_PGS_BATCH_LOCK
                   ", $1::int)::text", 1, values, lengths, NULL,
                   FR_PG_KEEP | FR_PG_FIRST, fr_pgs_waited, b) != FR_OK)
    {
        fr_pgs_looked(NULL, b);
        return;
    }

    /* the bound the client had for the commit's answer, not a new one */
    fr_timer_add(&b->timer, (b->sent + FR_PG_ANSWER_MSEC > fr_current_msec)
                            ? b->sent + FR_PG_ANSWER_MSEC - fr_current_msec
                            : 0);
}


/* the store is not back in time: each may be stored, or not */

static void
fr_pgs_doubt_expired(fr_timer_t *t)
{
    fr_pgs_batch_t  *b = t->data;

    /* the look, still queued, frees the batch when it is done */
    b->answered = 1;
    b->done(&b->reqs, FR_DECLINED, NULL);
}


/* the batch's transaction is over, committed or not: its ids looked at */

static void
fr_pgs_waited(PGresult *res, void *data)
{
    int              lengths[1];
    const char      *values[1];
    fr_pgs_batch_t  *b = data;

    values[0] = b->ids;
    lengths[0] = strlen(b->ids);

    if (!fr_pg_ok(res)
        || fr_pg_send("SELECT string_agg(id, ',') FROM faas.invocations "
                      "WHERE id = ANY($1::text[])", 1, values, lengths, NULL,
                      FR_PG_KEEP | FR_PG_FIRST, fr_pgs_looked, b) != FR_OK)
    {
        fr_pgs_looked(NULL, b);
    }
}


static void
fr_pgs_looked(PGresult *res, void *data)
{
    fr_pgs_batch_t  *b = data;

    if (!b->answered) {
        fr_timer_del(&b->timer);

        if (fr_pg_ok(res) && PQntuples(res) == 1) {
            b->done(&b->reqs, FR_AGAIN,
                    PQgetisnull(res, 0, 0) ? "" : PQgetvalue(res, 0, 0));

        } else {
            /* an error, or the runner stops: still not known */
            b->done(&b->reqs, FR_DECLINED, NULL);
        }
    }

    free(b->ids);
    free(b);
}
