/*
 * Copyright (C) ngx_faas developers
 *
 * The store of asynchronous invocations in PostgreSQL, shared by the
 * runners of many hosts (store = postgresql://...). The runner's side
 * never waits: each operation is sent and its outcome comes back to a
 * callback. The command-line side (invocations, store migrate) waits.
 */

#ifndef FR_STORE_PG_H
#define FR_STORE_PG_H


#include "fr_pq.h"

#include "fr_runner.h"
#include "fr_store.h"


int fr_store_kind(const char *store, int level);
int fr_store_is_pg(const char *store);


/* this runner, as its claims name it */
extern char  fr_pgs_me[96];


/* rc: FR_OK, all stored; FR_ERROR, none; FR_AGAIN, its answer was lost
 * and the store looked at since: found lists the ids it has (the others
 * it has not); FR_DECLINED, its answer was lost and the store not back
 * in time to look: each may be stored or not */
typedef void (*fr_pgs_batch_pt)(fr_link_t *reqs, int rc, const char *found);
/* lease: ms, the one the claim took (the settings of its sending) */
typedef void (*fr_pgs_claim_pt)(const fr_inv_t *inv, uint64_t lease);


int fr_pgs_start(const char *uri, void (*wake)(void));
void fr_pgs_stop(void);
size_t fr_pgs_waiting(void);
int fr_pgs_ready(void);
size_t fr_pgs_pending(void);

/* accepted bodies and parameters waiting for the store, at most (then
 * 503, as for async_max_queued): a slow database holds no more */
#define FR_PGS_PENDING_MAX  (64 * 1024 * 1024)

/* the round's accepted invocations: kept here, then one statement */
int fr_pgs_enqueue(const fr_inv_t *inv);
void fr_pgs_commit(fr_link_t *reqs, fr_pgs_batch_pt done);

/* a batch's advisory lock: (this, a number of its own), a key space
 * apart from the single-number one */
#define FR_PGS_BATCH_LOCK  "72689"

/* a batch sent: its requests wait for the outcome */
typedef struct {
    fr_link_t              reqs;
    fr_pgs_batch_pt        done;
    size_t                 bytes;
    uint64_t               sent;            /* msec, monotonic */
    char                  *ids;             /* '{id,...}', a text[] */
    char                   key[16];         /* its advisory lock's */
    fr_timer_t             timer;           /* fr_store_pg_doubt.c */
    int                    answered;
} fr_pgs_batch_t;

/* its answer lost: which of its ids are stored, asked when it is back */
void fr_pgs_doubt(fr_pgs_batch_t *b);

/* one the runner makes; tick > 0: a schedule's, once in the fleet */
int fr_pgs_invoke(const fr_inv_t *inv, int64_t tick);
int fr_pgs_last_tick(const char *function, void (*done)(const char *f,
    int64_t last));
void fr_pgs_set_last_tick(const char *function, int64_t tick);

/* the due invocations of the functions with room, claimed (leases) */
int fr_pgs_claim(uint64_t now, fr_pgs_claim_pt each);
void fr_pgs_ack(const char *id, int attempt, int status,
    const u_char *response, size_t len);
void fr_pgs_fail(const char *id, int attempt, int status, const char *error,
    uint64_t retry_at, const u_char *response, size_t len);
void fr_pgs_release(const char *id, int attempt, uint64_t retry_at);
void fr_pgs_not_mine(const char *id, int attempt, uint64_t at);
size_t fr_pgs_outcomes(void);

/* counts taken again from the store (each function's queued; the
 * finished, fr_store_pg_done.c, less often); results past retention
 * removed */
void fr_pgs_refresh(void (*each)(const char *function, int64_t n,
    void *data));
void fr_pgs_refresh_all(void);
const uint64_t *fr_pgs_counts(void);

/* the counts asked for (the status) since they were last counted */
extern int  fr_pgs_asked;
void fr_pgs_purge(uint64_t before);

/* a row of FR_PGS_COLUMNS, in binary results */
void fr_pgs_row(PGresult *res, int row, fr_inv_t *inv);
int fr_pgs_clock(int64_t *offset);


#endif /* FR_STORE_PG_H */
