/*
 * Copyright (C) ngx_faas developers
 *
 * The store of asynchronous invocations: what is accepted is kept until
 * it has run (or failed for good), across crashes. The interface is
 * small on purpose (enqueue, claim, ack, fail, list): a store shared by
 * runners on many hosts replaces this file, not the dispatcher.
 */

#ifndef FR_STORE_H
#define FR_STORE_H


#include "fr_buf.h"
#include "fr_core.h"


#define FR_INV_ID_LEN  32


typedef enum {
    FR_INV_QUEUED = 0,
    FR_INV_RUNNING,
    FR_INV_SUCCEEDED,
    FR_INV_FAILED,
    FR_INV_STATES
} fr_inv_state_e;


typedef struct {
    char                   id[FR_INV_ID_LEN + 1];
    char                   function[68];
    char                   trigger[16];     /* async, schedule, destination */
    fr_inv_state_e         state;
    int                    attempts;
    int                    status;          /* HTTP status of the last */
    uint64_t               created;         /* usec, wall clock */
    uint64_t               started;
    uint64_t               finished;
    uint64_t               next_at;
    const u_char          *params;          /* FastCGI name-value pairs */
    size_t                 params_len;
    const u_char          *body;
    size_t                 body_len;
    const u_char          *response;
    size_t                 response_len;
    const char            *error;
} fr_inv_t;


typedef int (*fr_store_each_pt)(const fr_inv_t *inv, void *data);
typedef void (*fr_store_count_pt)(const char *function, int64_t n,
    void *data);


int fr_store_open(const char *dir, int readonly);
void fr_store_close(void);


static inline const char *
fr_inv_state_name(fr_inv_state_e state)
{
    static const char *const  names[FR_INV_STATES] = {
        "queued", "running", "succeeded", "failed"
    };

    return state < FR_INV_STATES ? names[state] : "unknown";
}


/* a batch: enqueues between begin and commit are durable together */
int fr_store_begin(void);
int fr_store_enqueue(fr_inv_t *inv);
int fr_store_commit(void);
void fr_store_rollback(void);

/* every function with an invocation queued or running, once, each a seek
 * past the last one's rows: a backlog costs nothing there (a claim says
 * whether any is due); FR_AGAIN: stopped, not now (a batch open, an
 * outcome not written, each said so); the earliest next_at */
int fr_store_due(fr_store_each_pt each, void *data);
int64_t fr_store_next_due(void);

/* claims the oldest due invocation of a function (or one whose lease,
 * visible_for, ran out); FR_DECLINED: none; FR_AGAIN: not now (a batch
 * is open, an outcome waits to be written). inv's params and body stay
 * valid until the next claim; its response and error are not given */
int fr_store_claim(const char *function, uint64_t now, uint64_t visible_for,
    fr_inv_t *inv);
void fr_store_claimed(void);
int fr_store_ack(const char *id, int status, const u_char *response,
    size_t len);
int fr_store_fail(const char *id, int status, const char *error,
    uint64_t retry_at, const u_char *response, size_t len);
/* ack and fail keep what they cannot write (FR_AGAIN): written here */
int fr_store_flush(void);
int fr_store_release(const char *id, uint64_t retry_at);
int fr_store_queued(fr_store_count_pt each, void *data);
int fr_store_undelay(uint64_t now, uint64_t latest);
int fr_store_requeue_running(void);
int fr_store_purge(uint64_t before);

int fr_store_list(const char *function, int state, fr_store_each_pt each,
    void *data);
int fr_store_get(const char *id, fr_store_each_pt each, void *data);
int fr_store_counts(uint64_t counts[FR_INV_STATES]);
void fr_store_counts_from(const uint64_t *counts, int *asked);

/* schedules: a run not yet done; the last tick, kept */
int fr_store_pending(const char *function, const char *trigger);
int64_t fr_store_last_tick(const char *function);
int fr_store_set_last_tick(const char *function, int64_t t);


#endif /* FR_STORE_H */
