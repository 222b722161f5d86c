/*
 * Copyright (C) ngx_faas developers
 *
 * Asynchronous invocations, accepted: a request asked to be async has
 * its body read whole, is stored, and is answered 202 with its id once
 * the store has it (on disk, or committed in PostgreSQL); the stores
 * of one round of events commit together (one fsync, one statement,
 * for many). The runner's own (a schedule's tick, a destination) are
 * stored here too. What is stored runs by fr_dispatch.c.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fr_async.h"
#include "fr_backlog.h"
#include "fr_fcgi.h"
#include "fr_func.h"
#include "fr_log.h"
#include "fr_meter.h"
#include "fr_request.h"
#include "fr_store.h"
#include "fr_store_pg.h"


static void fr_async_accept(fr_req_t *r);
static void fr_async_commit(fr_timer_t *t);
static void fr_async_committed(fr_link_t *reqs, int rc, const char *found);
static void fr_async_id(char *id);


static fr_timer_t  fr_commit_timer;
static fr_link_t   fr_pending;              /* requests awaiting commit */
static int         fr_batch;                /* a transaction is open */
static int         fr_pg;                   /* the store is PostgreSQL */
static void      (*fr_async_wake)(void);    /* the dispatcher: look now */


int
fr_async_init(void (*wake)(void))
{
    char  path[4200];
    int   n;

    fr_list_init(&fr_pending);
    fr_async_wake = wake;

    fr_commit_timer.handler = fr_async_commit;

    fr_req_async_accept = fr_async_accept;

    if (fr_meter_log_open() != FR_OK) {
        fr_log(FR_LOG_EMERG, errno, "cannot open meter_log \"%s\"",
               fr_runner.conf.meter_log);
        return FR_ERROR;
    }

    if (fr_store_is_pg(fr_runner.conf.store)) {
        /* shared: what it holds runs when connected; claims of a runner
         * gone come back when their leases run out */
        fr_pg = 1;
        return fr_pgs_start(fr_runner.conf.store, wake);
    }

    /* a store left by an earlier run: what it holds runs now */
    snprintf(path, sizeof(path), "%s/async.db", fr_runner.conf.state_dir);

    if (access(path, F_OK) != 0) {
        snprintf(path, sizeof(path), "%s/async.db-wal",
                 fr_runner.conf.state_dir);

        if (access(path, F_OK) != 0) {
            return FR_OK;
        }
    }

    if (fr_store_open(fr_runner.conf.state_dir, 0) != FR_OK) {
        return FR_ERROR;
    }

    /* at a binary upgrade (fr_upgrade.c) the old runner still runs what
     * it claimed, and acknowledges it; a claim it loses with a crash
     * comes back when its lease runs out */
    n = getenv("FAAS_UPGRADE_FD") ? 0 : fr_store_requeue_running();

    if (n > 0) {
        fr_log(FR_LOG_WARN, 0, "%d asynchronous invocation%s running "
               "when the runner stopped: %s again", n,
               n == 1 ? " was" : "s were", n == 1 ? "it runs" : "they run");
    }

    fr_backlog_undelay();
    fr_backlog_recount();

    fr_async_wake();

    return FR_OK;
}


/* the request's body is in: stored with the round's others, then 202 */

static void
fr_async_accept(fr_req_t *r)
{
    int            rc;
    u_char        *params, *q;
    size_t         nlen, vlen;
    fr_inv_t       inv;
    const u_char  *pos, *last, *name, *value;

    if (fr_async_store() != FR_OK) {
        /* nothing acknowledged that is not stored: 503, Retry-After */
        r->outcome = FR_OUTCOME_ERROR;
        fr_req_answer(r, 503);
        return;
    }

    if (fr_backlog_room(r->func) != FR_OK
        || (fr_pg && fr_pgs_pending()
            && fr_pgs_pending() + r->body.len > FR_PGS_PENDING_MAX))
    {
        /* async_max_queued, or what waits for a slow shared store at
         * its bound: 503 with Retry-After */
        r->outcome = FR_OUTCOME_THROTTLED;
        fr_req_answer(r, 503);
        return;
    }

    if (!fr_batch) {
        if (!fr_pg && fr_store_begin() != FR_OK) {
            r->outcome = FR_OUTCOME_ERROR;
            fr_req_answer(r, 503);
            return;
        }

        fr_batch = 1;
        fr_timer_add(&fr_commit_timer, 0);
    }

    /* its parameters, and the tenant of the function it is for (any
     * FAAS_TENANT of the request's own dropped): whoever has the name
     * when it runs, it runs only for that tenant (fr_dispatch.c) */
    params = malloc(r->params.len + strlen(r->func->tenant) + 32);
    if (params == NULL) {
        r->outcome = FR_OUTCOME_ERROR;
        fr_req_answer(r, 503);
        return;
    }

    q = params;
    pos = fr_buf_pos(&r->params);
    last = pos + r->params.len;

    while (fr_fcgi_nv_next(&pos, last, &name, &nlen, &value, &vlen) == FR_OK)
    {
        if (nlen != sizeof(FR_ASYNC_TENANT) - 1
            || memcmp(name, FR_ASYNC_TENANT, nlen) != 0)
        {
            q = fr_fcgi_nv_write(q, name, nlen, value, vlen);
        }
    }

    q = fr_fcgi_nv_write(q, (const u_char *) FR_ASYNC_TENANT,
                         sizeof(FR_ASYNC_TENANT) - 1,
                         (const u_char *) r->func->tenant,
                         strlen(r->func->tenant));

    memset(&inv, 0, sizeof(inv));
    fr_async_id(inv.id);
    snprintf(inv.function, sizeof(inv.function), "%s", r->func->name);
    strcpy(inv.trigger, "async");
    inv.params = params;
    inv.params_len = q - params;
    inv.body = fr_buf_pos(&r->body);
    inv.body_len = r->body.len;
    inv.created = fr_backlog_now();

    rc = fr_pg ? fr_pgs_enqueue(&inv) : fr_store_enqueue(&inv);

    if (rc == FR_AGAIN && fr_pg) {
        /* a batch is full: it goes, the next begins with this one */
        fr_async_commit(NULL);
        fr_batch = 1;
        fr_timer_add(&fr_commit_timer, 0);
        rc = fr_pgs_enqueue(&inv);
    }

    free(params);

    if (rc != FR_OK) {
        r->outcome = FR_OUTCOME_ERROR;
        fr_req_answer(r, 503);
        return;
    }

    fr_backlog_count(inv.function, 1);

    /* its own outcome, not a run (even if its client leaves before the
     * 202): the run is counted and metered when it ends */
    r->outcome = FR_OUTCOME_ACCEPTED;

    memcpy(r->inv_id, inv.id, sizeof(inv.id));
    fr_buf_free(&r->body);
    r->state = FR_REQ_QUEUED;
    fr_list_insert_tail(&fr_pending, &r->pending);
}


/*
 * The round's batch goes to disk: each of its requests is answered 202,
 * or, if the commit failed (a full disk), 503 with nothing kept.
 */

static void
fr_async_commit(fr_timer_t *t)
{
    (void) t;

    fr_batch = 0;

    if (fr_pg) {
        /* answered when the database has it */
        fr_pgs_commit(&fr_pending, fr_async_committed);
        return;
    }

    fr_async_committed(&fr_pending, fr_store_commit(), NULL);
}


/*
 * rc FR_AGAIN: the PostgreSQL store lost the answer to the batch, and
 * said since which of its ids it has (found): those are acknowledged,
 * the others refused. FR_DECLINED: it could not say in time; refused,
 * though each may run (fr_store_pg_doubt.c).
 */

static void
fr_async_committed(fr_link_t *reqs, int rc, const char *found)
{
    int        stored, refused;
    char       hdr[80], body[64];
    fr_req_t  *r;

    stored = 0;
    refused = 0;

    if (rc == FR_ERROR) {
        fr_log(FR_LOG_ERR, 0, "asynchronous invocations not stored: their "
               "clients get 503");

    } else if (rc == FR_DECLINED) {
        fr_log(FR_LOG_ERR, 0, "asynchronous invocations may have been "
               "stored (the PostgreSQL store's answer was lost, and it was "
               "not back in time to say): their clients get 503");
    }

    while (!fr_list_empty(reqs)) {
        r = fr_list_data(fr_list_first(reqs), fr_req_t, pending);
        fr_list_remove(&r->pending);

        /* ids are fixed-length hex, found comma-separated: no id is
         * part of another's match */
        if (rc == FR_ERROR || rc == FR_DECLINED
            || (rc == FR_AGAIN && strstr(found, r->inv_id) == NULL))
        {
            refused++;
            r->outcome = FR_OUTCOME_ERROR;
            fr_req_answer(r, 503);
            continue;
        }

        stored++;

        snprintf(hdr, sizeof(hdr), "Faas-Invocation-Id: %s\r\n", r->inv_id);
        snprintf(body, sizeof(body), "{\"id\": \"%s\"}\n", r->inv_id);

        fr_req_reply(r, 202, hdr, "application/json", (u_char *) body,
                     strlen(body));
    }

    if (rc == FR_AGAIN) {
        fr_log(FR_LOG_WARN, 0, "the PostgreSQL store's answer to a batch of "
               "asynchronous invocations was lost; asked again, it has %d of "
               "those still waiting (202), not %d (503)", stored, refused);
    }

    if (rc != FR_OK) {
        /* counted as accepted: some may not be stored */
        fr_backlog_recount();
    }

    fr_async_wake();
}


int
fr_async_store(void)
{
    if (fr_pg) {
        return fr_pgs_ready() ? FR_OK : FR_DECLINED;
    }

    return fr_store_open(fr_runner.conf.state_dir, 0);
}


/*
 * A stored invocation made by the runner (a destination, a schedule's
 * tick): a POST of body to the function, run like any other. In the
 * shared store a schedule's tick (tick > 0) is made by one runner of
 * all: it says so in the log, and id is the one it would have. It
 * carries the tenant of the function it is made for (FAAS_TENANT): a
 * name another tenant has by the time it runs does not run it (a
 * destination's body is another function's response).
 */

int
fr_async_invoke(const char *function, const char *trigger,
    const char *content_type, const u_char *body, size_t len, int64_t tick,
    char *id)
{
    int          rc;
    char         clen[24];
    u_char      *params, *q;
    fr_inv_t     inv;
    fr_func_t   *f;
    const char  *tenant;

    f = fr_func_find((const u_char *) function, strlen(function));

    /* the shared store keeps it while it is down, sends it when back */
    if ((!fr_pg && fr_store_open(fr_runner.conf.state_dir, 0) != FR_OK)
        || (f && fr_backlog_room(f) != FR_OK))
    {
        return FR_ERROR;
    }

    tenant = (f && f->tenant) ? f->tenant : NULL;

    params = malloc(512 + strlen(function) + (tenant ? strlen(tenant) : 0));
    if (params == NULL) {
        return FR_ERROR;
    }

    snprintf(clen, sizeof(clen), "%zu", len);

    q = params;
    q = fr_fcgi_nv_write(q, (const u_char *) "FAAS_FUNCTION", 13,
                         (const u_char *) function, strlen(function));
    q = fr_fcgi_nv_write(q, (const u_char *) "REQUEST_METHOD", 14,
                         (const u_char *) "POST", 4);
    q = fr_fcgi_nv_write(q, (const u_char *) "CONTENT_TYPE", 12,
                         (const u_char *) content_type,
                         strlen(content_type));
    q = fr_fcgi_nv_write(q, (const u_char *) "CONTENT_LENGTH", 14,
                         (const u_char *) clen, strlen(clen));

    if (tenant) {
        q = fr_fcgi_nv_write(q, (const u_char *) FR_ASYNC_TENANT,
                             sizeof(FR_ASYNC_TENANT) - 1,
                             (const u_char *) tenant, strlen(tenant));
    }

    memset(&inv, 0, sizeof(inv));
    fr_async_id(inv.id);
    snprintf(inv.function, sizeof(inv.function), "%s", function);
    snprintf(inv.trigger, sizeof(inv.trigger), "%s", trigger);
    inv.params = params;
    inv.params_len = q - params;
    inv.body = body;
    inv.body_len = len;
    inv.created = fr_backlog_now();

    rc = fr_pg ? fr_pgs_invoke(&inv, tick) : fr_store_enqueue(&inv);

    free(params);

    if (rc == FR_OK) {
        fr_backlog_count(function, 1);
        memcpy(id, inv.id, sizeof(inv.id));
        fr_async_wake();
    }

    return rc;
}


/* 32 hex digits: the time in ms (sortable), then random bits */

static void
fr_async_id(char *id)
{
    int            i;
    uint64_t       ms;
    unsigned char  rnd[10];

    static const char  hex[] = "0123456789abcdef";

    ms = fr_backlog_now() / 1000;

    if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t) sizeof(rnd)) {
        memset(rnd, 0, sizeof(rnd));
        memcpy(rnd, &fr_runner.spawn_seq, sizeof(fr_runner.spawn_seq));
        fr_runner.spawn_seq++;
    }

    for (i = 11; i >= 0; i--) {
        id[i] = hex[ms & 0xf];
        ms >>= 4;
    }

    for (i = 0; i < 10; i++) {
        id[12 + 2 * i] = hex[rnd[i] >> 4];
        id[13 + 2 * i] = hex[rnd[i] & 0xf];
    }

    id[FR_INV_ID_LEN] = '\0';
}


/*
 * A runner-made invocation (a destination, a schedule's tick) runs only
 * for the tenant it was made for: the name may be another tenant's by
 * now (its function removed, another's loaded), and a destination's
 * body is the response of a function of the first. FR_ERROR: it fails
 * (f NULL: no function of its name here).
 * FR_DECLINED: handed back to a shared store (PostgreSQL), where the
 * runner whose function of that name is its tenant's takes it (a fleet
 * whose hosts serve other customers under one name: one host failed
 * the other's invocations for good, hostile pass), for async_retention
 * from its making (a host down for hours gets its own); then it fails.
 */

int
fr_async_tenant(fr_func_t *f, const fr_inv_t *inv, uint64_t now)
{
    size_t         nlen, vlen;
    const u_char  *pos, *last, *name, *value;

    if (f == NULL) {
        fr_log(FR_LOG_ERR, 0, "asynchronous invocation %s: no function "
               "\"%s\"", inv->id, inv->function);
        return FR_ERROR;
    }

    pos = inv->params;
    last = pos + inv->params_len;

    while (fr_fcgi_nv_next(&pos, last, &name, &nlen, &value, &vlen) == FR_OK)
    {
        if (nlen != sizeof(FR_ASYNC_TENANT) - 1
            || memcmp(name, FR_ASYNC_TENANT, nlen) != 0)
        {
            continue;
        }

        if (f->tenant && strlen(f->tenant) == vlen
            && memcmp(f->tenant, value, vlen) == 0)
        {
            return FR_OK;
        }

        if (fr_store_is_pg(fr_runner.conf.store)
            && now < inv->created
                     + (uint64_t) fr_runner.conf.async_retention * 1000)
        {
            fr_log(FR_LOG_INFO, 0, "invocation %s of \"%s\" is tenant "
                   "\"%.*s\"'s, not of this runner's function: handed "
                   "back", inv->id, inv->function, (int) vlen, value);
            fr_pgs_not_mine(inv->id, inv->attempts, now + 1000000);
            fr_backlog_count(inv->function, 1);
            return FR_DECLINED;
        }

        fr_log(FR_LOG_ERR, 0, "invocation %s of \"%s\" (%s) was made for "
               "tenant \"%.*s\", the function is now tenant \"%s\"'s: "
               "not run", inv->id, inv->function, inv->trigger, (int) vlen,
               value, f->tenant ? f->tenant : "");
        return FR_ERROR;
    }

    /* a client's: to whichever function has the name, as any request */
    return FR_OK;
}
