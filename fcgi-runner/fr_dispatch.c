/*
 * Copyright (C) ngx_faas developers
 *
 * Asynchronous invocations, dispatched: a stored invocation goes to
 * its function as a FastCGI request of the runner's own, through a
 * socket pair into the ordinary connection code, so it waits in the
 * same queue, under the same limits, as any request, and is metered
 * alike; never while a synchronous request of its function waits.
 * A crash, timeout or 5xx is tried again (async_retries, backoff
 * doubling from async_backoff), then kept as failed; on_success and
 * on_failure name functions invoked with the outcome. The store is
 * looked at each second, when a run ends, and (PostgreSQL) when
 * another runner notifies that it stored one.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "faas_protocol.h"
#include "fr_async.h"
#include "fr_backlog.h"
#include "fr_conn.h"
#include "fr_dispatch.h"
#include "fr_fcgi.h"
#include "fr_func.h"
#include "fr_log.h"
#include "fr_meter.h"
#include "fr_request.h"
#include "fr_stderr.h"
#include "fr_store.h"
#include "fr_store_pg.h"
#include "fr_tenant.h"


#define FR_ASYNC_TICK       1000        /* ms between looks when idle */
#define FR_ASYNC_PURGE      60000       /* ms between purges */
#define FR_ASYNC_COUNT      2000        /* ms between counts (shared) */
#define FR_ASYNC_QUIT       5000        /* ms for the last outcomes */
#define FR_RESPONSE_MAX     (64 * 1024) /* of a response, kept */
#define FR_ASYNC_UNRUN      64          /* not run, a look at most */
#define FR_ASYNC_UNRUN_MS   20          /* ms of them, a look at most;
                                           then as long before the next */


/* a stored invocation on its way through the runner */
typedef struct {
    fr_io_t                io;
    char                   id[FR_INV_ID_LEN + 1];
    char                   function[68];
    char                   tenant[68];      /* its function's, at start */
    fr_tenant_t           *owner;           /* whose ncalls it counts */
    char                   trigger[16];
    int                    attempts;
    fr_buf_t               out;             /* the request, to send */
    fr_buf_t               in;              /* the response's STDOUT */
    fr_buf_t               meter;           /* its measurements */
    size_t                 in_total;
    char                   lease[24];       /* ms: half its claim's */
    fr_stderr_run_t        err;             /* its stderr, logged */
    fr_fcgi_parser_t       parser;
    fr_link_t              link;
} fr_call_t;


static void fr_dispatch_expired(fr_timer_t *t);
static void fr_dispatch_tick(fr_timer_t *t);
static void fr_dispatch_look(uint64_t now);
static void fr_dispatch_wake(void);
static int fr_dispatch_listed(const fr_inv_t *inv, void *data);
static int fr_dispatch_busy(fr_func_t *f);
static int fr_dispatch_due(const char *function, uint64_t now);
static void fr_dispatch_claimed(const fr_inv_t *inv, uint64_t lease);
static int fr_dispatch_run(fr_func_t *f, const fr_inv_t *inv, uint64_t now,
    uint64_t lease);
static void fr_dispatch_fail(const char *id, int attempt, int status,
    const char *error, uint64_t retry_at, const u_char *response,
    size_t len);
static fr_call_t *fr_dispatch_in_flight(const char *id);
static int fr_dispatch_start(fr_func_t *f, const fr_inv_t *inv,
    uint64_t lease);
static int fr_dispatch_request(fr_call_t *call, const fr_inv_t *inv);
static void fr_dispatch_handler(fr_io_t *io, uint32_t events);
static void fr_dispatch_done(fr_call_t *call, int ended);
static void fr_dispatch_destination(fr_call_t *call, fr_func_t *f,
    const char *to, int status, int ok);


static fr_timer_t  fr_dispatch_timer;
static fr_link_t   fr_calls;                /* running */
static uint64_t    fr_purged_at;            /* msec, monotonic */
static uint64_t    fr_counted_at;           /* msec, monotonic */
static int         fr_pg;                   /* the store is PostgreSQL */
static int         fr_quit_expired;
static uint64_t    fr_due_at;               /* msec, the store's list */
static int         fr_unrun_more;           /* more not run: soon again */
static uint64_t    fr_unrun_until;          /* msec: the look's budget */


int
fr_dispatch_init(void)
{
    fr_list_init(&fr_calls);
    fr_dispatch_timer.handler = fr_dispatch_tick;
    fr_pg = fr_store_is_pg(fr_runner.conf.store);

    /* it wakes the dispatcher when there is something to look at */
    return fr_async_init(fr_dispatch_wake);
}


/*
 * At exit: outcomes the shared store has not been sent yet go now, for
 * a few seconds at most (the database may be down); one not sent runs
 * again when its lease runs out.
 */

void
fr_dispatch_quit(void)
{
    size_t      n;
    fr_timer_t  deadline;

    if (!fr_pg) {
        return;
    }

    memset(&deadline, 0, sizeof(deadline));
    deadline.handler = fr_dispatch_expired;
    fr_quit_expired = 0;
    fr_timer_add(&deadline, FR_ASYNC_QUIT);

    while (fr_pgs_waiting() && !fr_quit_expired) {
        if (fr_event_process() != FR_OK) {
            break;
        }
    }

    fr_timer_del(&deadline);

    n = fr_pgs_waiting();

    if (n) {
        fr_log(FR_LOG_ERR, 0, "%zu command(s) to the PostgreSQL store not "
               "sent at exit: their invocations run again when their "
               "leases run out", n);
    }

    fr_pgs_stop();
}


static void
fr_dispatch_expired(fr_timer_t *t)
{
    (void) t;

    fr_quit_expired = 1;
}


/* the store is looked at: what is due goes to its function, if it may */

static void
fr_dispatch_tick(fr_timer_t *t)
{
    int64_t   next;
    uint64_t  now, wait;

    (void) t;

    /* PostgreSQL down: looked at again when it is back */
    if (fr_runner.draining || fr_async_store() != FR_OK) {
        return;
    }

    now = fr_backlog_now();

    fr_dispatch_look(now);

    /* every minute by the monotonic clock; the age of a result by the
     * wall clock its end was written in */
    if (fr_purged_at == 0
        || fr_current_msec - fr_purged_at >= FR_ASYNC_PURGE)
    {
        fr_purged_at = fr_current_msec;
        fr_counted_at = fr_current_msec;
        wait = fr_backlog_wall()
               - (uint64_t) fr_runner.conf.async_retention * 1000;

        if (fr_pg) {
            fr_pgs_purge(wait);

        } else {
            (void) fr_store_purge(wait);
        }

        fr_backlog_recount();
    }

    if (fr_pg) {
        /* the fleet's counts, taken again every few seconds; new ones
         * are notified, the look is for retries and lost leases */
        if (fr_current_msec - fr_counted_at >= FR_ASYNC_COUNT) {
            fr_counted_at = fr_current_msec;
            fr_backlog_recount();
        }

        fr_timer_add(&fr_dispatch_timer, FR_ASYNC_TICK);
        return;
    }

    next = fr_store_next_due();
    wait = FR_ASYNC_TICK;

    if (next >= 0) {
        wait = (uint64_t) next > now ? ((uint64_t) next - now) / 1000 + 1
                                     : FR_ASYNC_TICK;
        wait = wait < FR_ASYNC_TICK ? wait : FR_ASYNC_TICK;
    }

    wait = fr_unrun_more ? FR_ASYNC_UNRUN_MS : wait;

    fr_timer_add(&fr_dispatch_timer, wait);
}


static void
fr_dispatch_look(uint64_t now)
{
    size_t      i, n;
    fr_link_t  *l;
    fr_func_t  *f;

    fr_time_update();
    fr_unrun_more = 0;
    fr_unrun_until = fr_current_msec + FR_ASYNC_UNRUN_MS;

    if (fr_pg) {
        /* one statement for every function with room */
        (void) fr_pgs_claim(now, fr_dispatch_claimed);
        return;
    }

    /* outcomes a full disk kept back go first */
    (void) fr_store_flush();

    /* a run's end, a 202: the functions the counts say have some */
    for (l = fr_tenant_funcs_turn(&n), i = 0; i < n;
         l = fr_tenant_func_next(l), i++)
    {
        f = fr_list_data(l, fr_func_t, link);

        if (f->async_queued > 0 && !fr_dispatch_busy(f)) {
            (void) fr_dispatch_due(f->name, now);
        }
    }

    /* every function in the store (leases run out, functions gone,
     * counts behind), once a second */
    if (fr_due_at && fr_current_msec - fr_due_at < FR_ASYNC_TICK) {
        return;
    }

    fr_due_at = fr_current_msec;

    if (fr_store_due(fr_dispatch_listed, &now) == FR_AGAIN) {
        /* a batch of 202s open: the next look lists them */
        fr_due_at = 0;
    }
}


/* a new invocation in the shared store, or the store is back */

static void
fr_dispatch_wake(void)
{
    fr_timer_add(&fr_dispatch_timer, 0);
}


/* a busy one is passed over (a tenant's 256 busy ones, the first 256
 * listed, kept every other function out) */

static int
fr_dispatch_listed(const fr_inv_t *inv, void *data)
{
    int         n;
    fr_func_t  *f;

    f = fr_func_find((const u_char *) inv->function, strlen(inv->function));

    if (fr_dispatch_busy(f)) {
        return FR_OK;
    }

    n = fr_dispatch_due(inv->function, *(uint64_t *) data);

    if (n > 0 && f && f->async_queued <= 0) {
        /* the count behind (an expired lease, a function added with
         * invocations stored): the next looks claim for it too */
        f->async_queued = 1;
    }

    return n == FR_AGAIN ? FR_AGAIN : FR_OK;
}


/* never ahead of a synchronous request of the same function, nor past
 * fr_tenant_call_room() */

static int
fr_dispatch_busy(fr_func_t *f)
{
    return f && (f->nqueued > 0 || f->nasync >= f->conf.max_instances
                 || fr_tenant_call_room(f->owner) <= 0);
}


/* how many were claimed; FR_AGAIN: the store said not now */

static int
fr_dispatch_due(const char *function, uint64_t now)
{
    int         rc, n, unrun;
    uint64_t    lease;
    fr_inv_t    inv;
    fr_func_t  *f;

    f = fr_func_find((const u_char *) function, strlen(function));

    if (f == NULL && fr_backlog_unloaded(function, now, 0)) {
        return 0;
    }

    /* until it is busy; what does not run (its function gone, another
     * tenant's: failed, handed back) 64 a look, not every one at once,
     * a commit each (20,000 froze the runner 34 s: a hostile review) */
    for (n = 0, unrun = 0; unrun < FR_ASYNC_UNRUN; n++) {
        if (fr_dispatch_busy(f)) {
            return n;
        }

        /* the lease (ms): twice its longest wait and run, then
         * claimable */
        lease = (uint64_t) (f ? f->conf.timeout + f->conf.queue_timeout
                              : 0) * 2;
        rc = fr_store_claim(function, now, lease * 1000, &inv);

        if (rc != FR_OK) {
            return rc == FR_AGAIN ? FR_AGAIN : n;
        }

        if (f == NULL
            && now < inv.created
                     + (uint64_t) fr_runner.conf.async_retention * 1000)
        {
            /* its function may be loaded yet: it waits, as it was */
            fr_backlog_requeue(inv.id, inv.attempts, inv.next_at);
            fr_store_claimed();
            (void) fr_backlog_unloaded(function, now, 1);
            return n;
        }

        rc = fr_dispatch_run(f, &inv, now, lease);
        fr_store_claimed();

        if (rc == FR_DECLINED) {
            /* a commit each: FR_ASYNC_UNRUN_MS of them a look, as long
             * again before the next, the store listed again: not 64 a
             * second (a tenant's new ones waited behind another's), nor
             * a loop that others wait for */
            fr_time_update();

            if (++unrun == FR_ASYNC_UNRUN
                || fr_current_msec >= fr_unrun_until)
            {
                fr_unrun_more = 1;
                fr_due_at = 0;
                return n + 1;
            }

        } else if (rc != FR_OK) {
            return n + 1;
        }
    }

    return n;
}


/* claimed from PostgreSQL: room was counted before the claim, the lease
 * taken of the settings then (a reload since may have changed them) */

static void
fr_dispatch_claimed(const fr_inv_t *inv, uint64_t lease)
{
    fr_func_t  *f;

    if (fr_runner.draining) {
        /* claimed as the runner stops: another one runs it */
        fr_backlog_requeue(inv->id, inv->attempts, fr_backlog_now());
        return;
    }

    f = fr_func_find((const u_char *) inv->function, strlen(inv->function));

    (void) fr_dispatch_run(f, inv, fr_backlog_now(), lease);
}


/* a claimed invocation goes to its function; FR_DECLINED: it did not
 * (failed, handed back, its lease renewed); FR_AGAIN: look no more */

static int
fr_dispatch_run(fr_func_t *f, const fr_inv_t *inv, uint64_t now,
    uint64_t lease)
{
    int         rc;
    fr_call_t  *call;

    call = fr_dispatch_in_flight(inv->id);

    if (call) {
        /* its lease ran out here, where it still waits: renewed, its
         * outcome now of this claim */
        call->attempts = inv->attempts;
        return FR_DECLINED;
    }

    /* one queued less (a lease that ran out elsewhere was not queued:
     * the count is made again from the store at each purge) */
    fr_backlog_count(inv->function, -1);

    rc = fr_async_tenant(f, inv, now);

    if (rc != FR_OK) {
        if (rc == FR_ERROR) {
            fr_dispatch_fail(inv->id, inv->attempts, 404,
                             f ? "its function is another tenant's"
                               : "no such function", 0, NULL, 0);
        }

        return FR_DECLINED;
    }

    if (fr_dispatch_start(f, inv, lease) != FR_OK) {
        /* the runner's trouble, not the function's: no attempt */
        fr_backlog_requeue(inv->id, inv->attempts, now + 1000000);
        fr_backlog_count(inv->function, 1);
        return FR_AGAIN;
    }

    return FR_OK;
}


static fr_call_t *
fr_dispatch_in_flight(const char *id)
{
    fr_link_t  *l;
    fr_call_t  *call;

    for (l = fr_list_first(&fr_calls); l != &fr_calls; l = l->next) {
        call = fr_list_data(l, fr_call_t, link);

        if (strcmp(call->id, id) == 0) {
            return call;
        }
    }

    return NULL;
}


static int
fr_dispatch_start(fr_func_t *f, const fr_inv_t *inv, uint64_t lease)
{
    int         sv[2];
    fr_call_t  *call;

    call = calloc(1, sizeof(fr_call_t));
    if (call == NULL) {
        return FR_ERROR;
    }

    memcpy(call->id, inv->id, sizeof(call->id));
    memcpy(call->function, inv->function, sizeof(call->function));
    snprintf(call->tenant, sizeof(call->tenant), "%s",
             f->tenant ? f->tenant : "");
    memcpy(call->trigger, inv->trigger, sizeof(call->trigger));
    call->attempts = inv->attempts;
    fr_fcgi_parser_init(&call->parser);
    /* half the lease claimed, not of the settings now: a reload since a
     * claim was sent to PostgreSQL could give more than it took */
    snprintf(call->lease, sizeof(call->lease), "%llu",
             (unsigned long long) lease / 2);

    if (fr_dispatch_request(call, inv) != FR_OK
        || socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
                      0, sv) == -1)
    {
        fr_log(FR_LOG_ALERT, errno, "cannot dispatch invocation %s",
               inv->id);
        fr_buf_free(&call->out);
        free(call);
        return FR_ERROR;
    }

    call->io.fd = sv[1];
    call->io.handler = fr_dispatch_handler;
    call->io.data = call;

    fr_list_insert_tail(&fr_calls, &call->link);
    f->nasync++;
    call->owner = f->owner;
    fr_tenant_call(call->owner, 1);

    fr_log(FR_LOG_INFO, 0, "invocation %s of \"%s\": attempt %d", call->id,
           call->function, call->attempts);

    /* the runner's own connection: as if nginx had sent it */
    fr_conn_accept_own(sv[0]);

    if (fr_io_set(&call->io, EPOLLIN | EPOLLOUT | EPOLLRDHUP) != FR_OK) {
        fr_dispatch_done(call, 0);
    }

    return FR_OK;
}


/*
 * Its request: the stored one (fr_backlog_request) with FAAS_FUNCTION
 * the row's (what runs is what is billed, whatever its stored
 * parameters say), FAAS_INVOCATION_ID, _ATTEMPT, _TRIGGER, _ONLY_TENANT
 * (checked again at its start: a reload between gave the name to
 * another tenant), _LEASE_MS (it ends within half its claim's lease,
 * whatever a reload does: another runner could claim it past it).
 */

static int
fr_dispatch_request(fr_call_t *call, const fr_inv_t *inv)
{
    char  attempt[16];

    const char  *add[14] = {
        "FAAS_FUNCTION", inv->function,
        "FAAS_INVOCATION_ID", call->id,
        "FAAS_ATTEMPT", attempt,
        "FAAS_TRIGGER", call->trigger,
        FAAS_METER_PARAM, "1",
        "FAAS_LEASE_MS", call->lease,
        "FAAS_ONLY_TENANT", call->tenant
    };

    snprintf(attempt, sizeof(attempt), "%d", inv->attempts);

    return fr_backlog_request(&call->out, inv, add,
                              call->tenant[0] ? 14 : 12);
}


/* the runner's answer to its own request: STDOUT kept, END_REQUEST */

static void
fr_dispatch_handler(fr_io_t *io, uint32_t events)
{
    ssize_t            n;
    u_char             buf[16384];
    fr_call_t         *call;
    const u_char      *pos;
    fr_fcgi_event_e    ev;

    call = io->data;

    if ((events & EPOLLOUT) && call->out.len) {
        if (fr_buf_flush(&call->out, io->fd) == FR_ERROR) {
            fr_dispatch_done(call, 0);
            return;
        }

        if (call->out.len == 0) {
            fr_buf_free(&call->out);
            (void) fr_io_set(io, EPOLLIN | EPOLLRDHUP);
        }
    }

    for ( ;; ) {
        n = read(io->fd, buf, sizeof(buf));

        if (n == -1 && errno == EAGAIN) {
            return;
        }

        if (n <= 0) {
            /* closed before END_REQUEST: a response cut short */
            fr_dispatch_done(call, 0);
            return;
        }

        pos = buf;

        while ((ev = fr_fcgi_parse(&call->parser, &pos, buf + n))
               != FR_FCGI_EV_AGAIN)
        {
            if (ev == FR_FCGI_EV_ERROR) {
                fr_dispatch_done(call, 0);
                return;
            }

            if (ev == FR_FCGI_EV_CONTENT
                && call->parser.type == FR_FCGI_STDOUT)
            {
                call->in_total += call->parser.size;

                /* its first FR_RESPONSE_MAX bytes, however they came */
                (void) fr_buf_append_max(&call->in, call->parser.data,
                                         call->parser.size, FR_RESPONSE_MAX);
            }

            if (ev == FR_FCGI_EV_CONTENT
                && call->parser.type == FR_FCGI_STDERR)
            {
                fr_stderr_invocation(call->id, call->function, &call->err,
                                     call->parser.data, call->parser.size);
            }

            if (ev == FR_FCGI_EV_CONTENT
                && call->parser.type == FAAS_METER_RECORD)
            {
                (void) fr_buf_append(&call->meter, call->parser.data,
                                     call->parser.size);
            }

            if (ev == FR_FCGI_EV_END
                && call->parser.type == FR_FCGI_END_REQUEST)
            {
                fr_dispatch_done(call, 1);
                return;
            }
        }
    }
}


/* its outcome into the store: done, tried again later, or failed */

static void
fr_dispatch_done(fr_call_t *call, int ended)
{
    int         status, ok, last;
    uint64_t    now, delay;
    fr_func_t  *f;

    fr_io_close(&call->io);
    fr_list_remove(&call->link);
    fr_stderr_invocation_end(call->id, call->function, &call->err);

    f = fr_func_find((const u_char *) call->function, strlen(call->function));

    /* another tenant's function by now (a reload while it ran, a new
     * one): its count, throttling and destinations are none of this
     * run's business (its count lowered let it past max_instances) */
    if (f && (f->tenant == NULL || strcmp(f->tenant, call->tenant) != 0)) {
        fr_log(FR_LOG_INFO, 0, "invocation %s of \"%s\": the function is "
               "another tenant's now, its outcome sent nowhere", call->id,
               call->function);
        f = NULL;
    }

    if (f && f->nasync > 0) {
        f->nasync--;
    }

    if (ended && fr_backlog_outcome(fr_buf_pos(&call->meter),
                                    call->meter.len, "throttled"))
    {
        /* turned away for room: not an attempt, nothing metered */
        fr_backlog_release(call->id, call->attempts, call->function, f);
        goto done;
    }

    if (ended && f == NULL && fr_backlog_outcome(fr_buf_pos(&call->meter),
                                                 call->meter.len, "not_found"))
    {
        /* none of its tenant where it started (a reload since its
         * dispatch): failed as fr_async_tenant fails it, nothing ran */
        fr_dispatch_fail(call->id, call->attempts, 404, "no function of "
                         "its tenant", 0, NULL, 0);
        goto done;
    }

    if (f) {
        f->async_throttled = 0;
    }

    status = ended ? fr_cgi_block_status(fr_buf_pos(&call->in), call->in.len)
                   : 502;
    ok = (status < 500);

    fr_meter_log_write(call->function, call->trigger, call->id, status,
                       fr_buf_pos(&call->meter), call->meter.len);
    last = (call->attempts > fr_runner.conf.async_retries);
    now = fr_backlog_now();

    if (ok) {
        fr_log(FR_LOG_INFO, 0, "invocation %s of \"%s\": %d", call->id,
               call->function, status);
        if (fr_pg) {
            fr_pgs_ack(call->id, call->attempts, status,
                       fr_buf_pos(&call->in), fr_tenant_kept(f, call->in.len));

        } else {
            (void) fr_store_ack(call->id, status, fr_buf_pos(&call->in),
                                fr_tenant_kept(f, call->in.len));
        }

    } else if (!last) {
        delay = (uint64_t) fr_runner.conf.async_backoff * 1000
                << (call->attempts - 1);
        fr_log(FR_LOG_WARN, 0, "invocation %s of \"%s\": %d on attempt %d, "
               "again in %llu ms", call->id, call->function, status,
               call->attempts, (unsigned long long) (delay / 1000));
        fr_dispatch_fail(call->id, call->attempts, status, "failed attempt",
                         now + delay, NULL, 0);
        fr_backlog_count(call->function, 1);

    } else {
        fr_log(FR_LOG_ERR, 0, "invocation %s of \"%s\": %d on attempt %d, "
               "failed", call->id, call->function, status, call->attempts);
        fr_dispatch_fail(call->id, call->attempts, status, "failed", 0,
                         fr_buf_pos(&call->in),
                         fr_tenant_kept(f, call->in.len));
    }

    /* a destination's own run sends its outcome nowhere: no loops */
    if (f == NULL || strcmp(call->trigger, "destination") == 0) {
        /* void */

    } else if (ok && f->conf.on_success) {
        fr_dispatch_destination(call, f, f->conf.on_success, status, 1);

    } else if (!ok && last && f->conf.on_failure) {
        fr_dispatch_destination(call, f, f->conf.on_failure, status, 0);
    }

done:

    /* a runner draining waits for the outcomes of its own */
    fr_tenant_call(call->owner, -1);
    fr_buf_free(&call->out);
    fr_buf_free(&call->in);
    fr_buf_free(&call->meter);
    free(call);

    if (fr_runner.draining && fr_runner_drained()) {
        fr_runner.quitting = 1;
    }

    fr_timer_add(&fr_dispatch_timer, 0);
}


static void
fr_dispatch_fail(const char *id, int attempt, int status, const char *error,
    uint64_t retry_at, const u_char *response, size_t len)
{
    if (fr_pg) {
        fr_pgs_fail(id, attempt, status, error, retry_at, response, len);

    } else {
        (void) fr_store_fail(id, status, error, retry_at, response, len);
    }
}


/*
 * on_success, on_failure: the destination function is invoked
 * asynchronously (trigger "destination") with the outcome as JSON.
 */

static void
fr_dispatch_destination(fr_call_t *call, fr_func_t *f, const char *to,
    int status, int ok)
{
    char           head[512], id[FR_INV_ID_LEN + 1];
    size_t         hlen, len;
    fr_buf_t       doc;
    fr_func_t     *d;
    const u_char  *p, *end, *line, *body;

    /* the load refused it; checked again as the functions may change */
    d = fr_func_find((const u_char *) to, strlen(to));

    if (d == NULL) {
        /* stored for a name nobody has yet, another tenant could take
         * it first and read the outcome: not sent */
        fr_log(FR_LOG_ERR, 0, "invocation %s of \"%s\": destination \"%s\" "
               "is no function loaded, its outcome not sent", call->id,
               call->function, to);
        return;
    }

    if (d->tenant == NULL || f->tenant == NULL
        || strcmp(d->tenant, f->tenant) != 0)
    {
        fr_log(FR_LOG_ERR, 0, "invocation %s of \"%s\": destination \"%s\" "
               "is a function of another tenant, not invoked", call->id,
               call->function, to);
        return;
    }

    memset(&doc, 0, sizeof(doc));

    snprintf(head, sizeof(head), "{\"id\": \"%s\", \"function\": \"%s\", "
             "\"outcome\": \"%s\", \"status\": %d, \"attempts\": %d, "
             "\"headers\": ", call->id, call->function,
             ok ? "succeeded" : "failed", status, call->attempts);

    (void) fr_buf_append(&doc, head, strlen(head));

    /* the response as the function wrote it: its header block, its body
     * (what is kept of it: 64 KiB); a CGI's lines may end in LF alone */
    p = fr_buf_pos(&call->in);
    len = call->in.len;
    hlen = len;
    body = p + len;

    for (line = p;
         line < p + len && (end = memchr(line, '\n', p + len - line));
         line = end + 1)
    {
        if (end == line || (end == line + 1 && *line == '\r')) {
            hlen = (size_t) (line - p);
            body = end + 1;
            break;
        }
    }

    fr_buf_json_str(&doc, p, hlen);
    (void) fr_buf_append(&doc, ", \"body\": ", 10);
    fr_buf_json_str(&doc, body, (size_t) (p + len - body));
    (void) fr_buf_append(&doc, "}\n", 2);

    if (fr_async_invoke(to, "destination", "application/json",
                        fr_buf_pos(&doc), doc.len, 0, id) == FR_OK)
    {
        fr_log(FR_LOG_INFO, 0, "invocation %s of \"%s\": its outcome goes "
               "to \"%s\" as invocation %s", call->id, call->function, to,
               id);
    }

    fr_buf_free(&doc);
}
