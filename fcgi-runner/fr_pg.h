/*
 * Copyright (C) ngx_faas developers
 *
 * One connection to PostgreSQL inside the event loop: libpq in
 * non-blocking mode, commands sent one after the other from a queue.
 */

#ifndef FR_PG_H
#define FR_PG_H


#include "fr_pq.h"

#include "fr_core.h"


/* res: the command's result (its last), NULL when the connection was lost
 * before it; the callee checks PQresultStatus, never PQclear()s */
typedef void (*fr_pg_done_pt)(PGresult *res, void *data);


#define FR_PG_KEEP    0x1   /* kept across a lost connection, sent again */
#define FR_PG_SIMPLE  0x2   /* statements without parameters */
#define FR_PG_BINARY  0x4   /* results in binary */
#define FR_PG_FIRST   0x8   /* before what waits: a client waits for it */

/* for an answer, at most (statement_timeout in the setup is less): also
 * how long a client waits for the store to say whether it has its
 * invocation, when the answer was lost (fr_store_pg_doubt.c) */
#define FR_PG_ANSWER_MSEC  30000


typedef struct {
    const char            *setup;       /* sent first on every connection */
    const char            *channel;     /* LISTENed to */
    void                 (*notified)(void);
    void                 (*up)(void);
} fr_pg_conf_t;


int fr_pg_start(const char *uri, const fr_pg_conf_t *conf);
void fr_pg_stop(void);
int fr_pg_ready(void);
size_t fr_pg_waiting(void);

/* n parameters: values[i] of lengths[i] bytes, text unless binary[i];
 * FR_ERROR (and no callback) if it cannot be queued: the store is down
 * and the command not FR_PG_KEEP, or no memory */
int fr_pg_send(const char *sql, int n, const char *const *values,
    const int *lengths, const int *binary, int flags, fr_pg_done_pt done,
    void *data);

/* in a callback given NULL: sent, its outcome unknown */
int fr_pg_in_doubt(void);

int fr_pg_ok(PGresult *res);
const char *fr_pg_text(const char *msg);
const char *fr_pg_said(const PGresult *res);


#endif /* FR_PG_H */
