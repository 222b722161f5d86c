/*
 * Copyright (C) ngx_faas developers
 *
 * Queues, dispatch and the life of workers. A worker's life is one
 * state enum, changed only by fr_worker_set_state():
 *
 *   NEW -> STARTING --probe answered--> IDLE <--> BUSY
 *             \                           \        \
 *              `---------------------------`--------`--> STOPPING
 *                                                 --reaped--> freed
 *
 * (a CGI process goes from NEW to BUSY). Requests go to the most
 * recently used idle worker, so the others really go idle and are
 * stopped after idle_timeout. The pool reaches requests only through
 * the request ops the proxy registers, and the two worker modes only
 * through their fr_mode_t.
 */

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fr_func.h"
#include "fr_log.h"
#include "fr_meter.h"
#include "fr_pool.h"
#include "fr_proto.h"
#include "fr_runtime.h"
#include "fr_spawn.h"
#include "fr_stderr.h"
#include "fr_sweep.h"
#include "fr_tenant.h"


#define FR_STRAYS_WAIT     100        /* ms to wait for pipes, stderr */


static void fr_func_added(fr_func_t *f);
static void fr_func_changed(fr_func_t *f);
static void fr_func_removed(fr_func_t *f);
static void fr_func_stop_idle(fr_func_t *f);
static void fr_func_throttle_handler(fr_timer_t *t);
static void fr_func_maintain(fr_func_t *f);
static int fr_func_crowds(fr_func_t *f);
static void fr_req_timeout(fr_timer_t *t);
static fr_worker_t *fr_worker_spawn(fr_func_t *f, fr_req_t *r);
static void fr_worker_unopen(fr_worker_t *w, int fd[2], int perr[2]);
static void fr_worker_assign(fr_worker_t *w, fr_req_t *r);
static void fr_worker_timer(fr_timer_t *t);
static void fr_worker_signal(fr_worker_t *w, int sig);


static const fr_mode_t  *fr_modes[FR_MODE_CGI + 1];
int   (*fr_pool_can_spawn)(fr_func_t *f);
void  (*fr_pool_room)(fr_func_t *f);

static const fr_func_events_t  fr_pool_func_events = {
    fr_func_added,
    fr_func_changed,
    fr_func_removed
};


void
fr_pool_init(const fr_req_ops_t *ops)
{
    fr_req_ops = ops;
    fr_funcs_on(&fr_pool_func_events);
}


void
fr_pool_mode(int mode, const fr_mode_t *m)
{
    fr_modes[mode] = m;
}


static void
fr_func_added(fr_func_t *f)
{
    f->timer.handler = fr_func_throttle_handler;
    f->timer.data = f;

    fr_func_maintain(f);
}


/* new settings: idle workers of the old generation go now, busy ones
 * when done */

static void
fr_func_changed(fr_func_t *f)
{
    fr_func_stop_idle(f);
    fr_func_maintain(f);
    fr_func_dispatch(f);
}


/* its idle workers stop; what waits for it is answered (fr_func_dispatch) */

static void
fr_func_removed(fr_func_t *f)
{
    fr_func_stop_idle(f);
    fr_func_dispatch(f);
}


static void
fr_func_stop_idle(fr_func_t *f)
{
    while (!fr_list_empty(&f->idle)) {
        fr_worker_stop(fr_list_data(fr_list_first(&f->idle), fr_worker_t,
                                    idle),
                       FR_STOP_RELOAD, SIGTERM, FR_STOP_GRACE);
    }
}


/* keeps min_instances warm */

static void
fr_func_maintain(fr_func_t *f)
{
    if (fr_modes[f->conf.mode]->per_request || f->removed
        || fr_runner.draining)
    {
        return;
    }

    while (f->nworkers < f->conf.min_instances && fr_pool_can_spawn(f)
           && !fr_runtime_awaited(f))
    {
        if (fr_worker_spawn(f, NULL) == NULL) {
            break;
        }
    }

    if (f->nworkers < f->conf.min_instances
        && fr_current_msec < f->throttled_until)
    {
        fr_timer_add(&f->timer, f->throttled_until - fr_current_msec);
    }
}


static void
fr_func_throttle_handler(fr_timer_t *t)
{
    fr_func_t  *f;

    f = t->data;

    if (f->removed) {
        fr_func_fail_queue(f);
        fr_func_check(f);
        return;
    }

    fr_func_maintain(f);
    fr_func_dispatch(f);
}


void
fr_func_enqueue(fr_func_t *f, fr_req_t *r)
{
    fr_link_t  *l;

    r->t_queued = fr_current_usec;

    /* a client's request goes ahead of the stored invocations' runs
     * that wait: those run behind waiting synchronous requests */
    for (l = fr_list_last(&f->queue);
         !r->stored && l != &f->queue
         && fr_list_data(l, fr_req_t, queue)->stored;
         l = l->prev)
    {
        /* void */
    }

    fr_list_insert_head(l, &r->queue);     /* after l */
    f->nqueued++;
    fr_func_waits(f, r);

    r->timer.handler = fr_req_queue_timeout;
    r->timer.data = r;
    fr_timer_add(&r->timer, (uint64_t) f->conf.queue_timeout);

    fr_func_dispatch(f);

    /* the workers on their way count as starting: a zygote's too */
    if (r->state == FR_REQ_QUEUED
        && f->nqueued > f->conf.queue + f->nstarting + fr_runtime_coming(f))
    {
        fr_log(FR_LOG_WARN, 0, "function \"%s\": queue of %d is full",
               f->name, f->conf.queue);

        /* a stored invocation's run gives its place up, not a client's
         * request: turned away, it is no attempt, and runs later */
        l = fr_list_last(&f->queue);

        if (!r->stored && fr_list_data(l, fr_req_t, queue)->stored) {
            r = fr_list_data(l, fr_req_t, queue);
        }

        fr_req_ops->fail(r, FR_OUTCOME_THROTTLED);
        return;
    }

    if (r->state == FR_REQ_QUEUED && !r->stored && fr_func_crowds(f)) {
        fr_req_ops->fail(r, FR_OUTCOME_THROTTLED);
    }
}


/*
 * A client's request waits on a connection of its own: when connections
 * run short (three quarters of max_connections taken), a tenant whose
 * requests wait on more than a quarter of them gets no more waiting, so
 * that one customer's queues never hold every connection the runner
 * takes from another's (503 at once, said at most once a second). A
 * host of one tenant, or no max_connections, waits as before: accepting
 * pauses, nothing is refused.
 */

static int
fr_func_crowds(fr_func_t *f)
{
    int              max, most, alone;
    fr_tenant_t     *t;
    static uint64_t  said;

    t = f->owner;
    max = fr_runner.conf.max_connections;
    most = max / 4 > 0 ? max / 4 : 1;
    alone = (fr_list_first(&fr_runner.tenants)
             == fr_list_last(&fr_runner.tenants));

    if (t == NULL || max == 0 || alone || t->nqueued <= most
        || fr_runner.nconns - fr_runner.nown < max - max / 4)
    {
        return 0;
    }

    if (fr_current_usec - said >= 1000000) {
        said = fr_current_usec;
        fr_log(FR_LOG_WARN, 0, "function \"%s\": its tenant \"%s\" has %d "
               "requests waiting, more than a quarter of max_connections "
               "%d, and connections run short: 503", f->name, t->name,
               t->nqueued, max);
    }

    return 1;
}


void
fr_func_dispatch(fr_func_t *f)
{
    fr_req_t     *r;
    fr_worker_t  *w;

    if (f->removed) {
        /* no worker of it starts again: what waits is answered from
         * its timer, where nothing else holds f (the last request's end
         * frees it) */
        if (!fr_list_empty(&f->queue)) {
            fr_timer_add(&f->timer, 0);
        }

        return;
    }

    while (!fr_list_empty(&f->queue)) {

        r = fr_list_data(fr_list_first(&f->queue), fr_req_t, queue);

        if (!fr_list_empty(&f->idle)) {
            w = fr_list_data(fr_list_first(&f->idle), fr_worker_t, idle);
            fr_func_unqueue(r);
            fr_worker_assign(w, r);
            continue;
        }

        if (!fr_modes[f->conf.mode]->per_request
            && f->nstarting >= f->nqueued)
        {
            return;
        }

        if (!fr_pool_can_spawn(f) || fr_runtime_awaited(f)) {
            break;
        }

        if (fr_modes[f->conf.mode]->per_request) {
            fr_func_unqueue(r);
            (void) fr_worker_spawn(f, r);
            continue;
        }

        if (fr_worker_spawn(f, NULL) == NULL) {
            break;
        }
    }

    fr_func_stalled(f);
}


void
fr_funcs_dispatch(void)
{
    fr_link_t  *l, *next;

    for (l = fr_list_first(&fr_runner.funcs); l != &fr_runner.funcs;
         l = next)
    {
        next = l->next;
        fr_func_dispatch(fr_list_data(l, fr_func_t, link));
    }
}


/*
 * Starts a worker: a kept one (r == NULL), or the process of request r
 * in a mode with a process per request.
 */

static fr_worker_t *
fr_worker_spawn(fr_func_t *f, fr_req_t *r)
{
    int               fd[2], perr[2], child[3], exec_fd, tries;
    pid_t             pid;
    fr_worker_t      *w;
    const fr_mode_t  *m;

    m = fr_modes[f->conf.mode];
    fd[0] = fd[1] = perr[0] = perr[1] = -1;

    w = calloc(1, sizeof(fr_worker_t));
    if (w == NULL) {
        fr_log(FR_LOG_ALERT, errno, "calloc() failed");
        goto failed;
    }

    w->func = f;
    w->generation = f->generation;
    w->mode = f->conf.mode;
    w->ops = m;
    w->per_request = m->per_request;
    w->ends_early = f->ends_early;
    w->io.fd = w->in.fd = w->err.fd = w->exec.fd = -1;
    w->timer.handler = fr_worker_timer;
    w->timer.data = w;
    w->log_timer.handler = fr_stderr_resume;
    w->log_timer.data = w;
    fr_list_init(&w->idle);

    /*
     * stderr, in every mode, is a pipe the runner reads: nothing of a
     * function reaches the runner's own stderr unescaped. Its inode is
     * kept with the mode's: processes a worker leaves behind are found
     * by what they hold.
     */
    for (tries = 0; /* void */; tries++) {
        if (m->open(w, fd) != FR_OK
            || fr_spawn_pipe(perr, 0, &w->ino[2]) != FR_OK)
        {
            goto failed;
        }

        child[0] = fd[0];
        child[1] = fd[1];
        child[2] = perr[1];

        pid = fr_spawn(f, r ? &r->params : NULL, child, &exec_fd, &w->proto,
                       tries);

        if (pid != FR_PROTO_GIVEN || tries) {
            break;
        }

        /* what a failed prototype had may be used by what it made:
         * new ones, and the runner starts the worker itself */
        fr_worker_unopen(w, fd, perr);
    }

    if (pid < 0) {
        goto failed;
    }

    close(fd[0]);
    close(fd[1]);
    close(perr[1]);

    w->pid = pid;
    w->uid = f->set_user ? f->uid : geteuid();
    w->spawned = fr_current_usec;
    w->exec.fd = exec_fd;
    w->exec.handler = fr_spawn_exec_handler;
    w->exec.data = w;
    w->err.fd = perr[0];
    w->err.handler = fr_stderr_handler;
    w->err.data = w;

    fr_list_insert_tail(&f->workers, &w->link);
    fr_list_insert_tail(&fr_runner.workers, &w->all);
    f->nworkers++;
    fr_runner.nworkers++;

    w->memory = f->conf.memory;
    w->init = (w->proto == NULL && (f->conf.isolation & FR_ISOLATE_PID));

    if (f->owner) {
        f->owner->nworkers++;
        f->owner->memory += w->memory;
    }

    (void) fr_io_set(&w->exec, EPOLLIN);
    (void) fr_io_set(&w->err, EPOLLIN);

    fr_log(FR_LOG_DEBUG, 0, "spawned worker %d of \"%s\"", (int) pid,
           f->name);

    if (m->started(w, r) != FR_OK) {
        fr_worker_stop(w, FR_STOP_FAILED, SIGKILL, 0);

        if (r) {
            fr_req_ops->fail(r, FR_OUTCOME_ERROR);
        }

        return NULL;
    }

    if (r) {
        fr_worker_assign(w, r);
    }

    return w;

failed:

    if (w) {
        fr_worker_unopen(w, fd, perr);
        free(w);
    }


    fr_func_start_failed(f, 0);

    if (r) {
        fr_req_ops->fail(r, FR_OUTCOME_ERROR);
    }

    return NULL;
}


/* what m->open() and the stderr pipe made for w, undone */

static void
fr_worker_unopen(fr_worker_t *w, int fd[2], int perr[2])
{
    fr_spawn_close(fd, 2);
    fr_spawn_close(perr, 2);
    fr_io_close(&w->io);
    fr_io_close(&w->in);

    if (w->sock[0]) {
        (void) unlink(w->sock);
        w->sock[0] = '\0';
    }
}


static void
fr_worker_assign(fr_worker_t *w, fr_req_t *r)
{
    uint64_t    timeout;
    fr_func_t  *f;

    f = w->func;

    fr_worker_set_state(w, FR_WORKER_BUSY);

    w->req = r;
    w->responded = 0;
    r->worker = w;

    r->timer.handler = fr_req_timeout;
    r->timer.data = r;
    timeout = (uint64_t) f->conf.timeout;

    if (r->lease_end && r->lease_end < fr_current_msec + timeout) {
        /* a stored one's: another runner may claim it past its lease */
        timeout = r->lease_end > fr_current_msec
                  ? r->lease_end - fr_current_msec : 1;
    }

    fr_timer_add(&r->timer, timeout);

    fr_meter_start(w, r);

    if (w->ops->assign(w, r) == FR_DECLINED) {
        /* it went away between requests: the request goes elsewhere */
        w->req = NULL;
        fr_func_requeue(f, r);
        fr_worker_stop(w, FR_STOP_EXITED, SIGKILL, 0);

        if (w->requests == 0) {
            /* ready, then gone before its first request (how: its
             * reap will say) */
            fr_func_start_failed(f, 0);
        }

        fr_func_dispatch(f);
        return;
    }

    if (w->req != r) {
        /* failed as it was sent (fr_worker_lost): failed or queued again */
        return;
    }

    fr_req_ops->assigned(r);
}

/* a slice of the request body; n == 0: the body ended */

void
fr_worker_stdin(fr_worker_t *w, const u_char *p, size_t n)
{
    /* one whose request waits for its reap or exit (fr_fault.c) */
    if (w->state != FR_WORKER_STOPPING && !w->awaited) {
        w->ops->stdin(w, p, n);
    }
}

int
fr_worker_stdin_ready(fr_worker_t *w)
{
    return !fr_buf_full(&w->out);
}


/* the client took the response so far: read more from the worker */

void
fr_worker_stdout_ready(fr_worker_t *w)
{
    fr_io_t  *io;

    io = &w->io;

    if (io->fd != -1 && !(io->mask & EPOLLIN)) {
        (void) fr_io_set(io, io->mask | EPOLLIN);
    }

    io = &w->err;

    if (io->fd != -1 && !(io->mask & EPOLLIN)) {
        (void) fr_io_set(io, EPOLLIN);
    }
}


/* a kept worker answered the probe */

void
fr_worker_ready(fr_worker_t *w)
{
    fr_func_t  *f;

    f = w->func;

    w->ready_at = fr_current_usec;
    f->failures = 0;
    f->stats.starts++;
    f->stats.start_us += w->ready_at - w->spawned;

    fr_log(FR_LOG_DEBUG, 0, "worker %d of \"%s\" ready in %llu us",
           (int) w->pid, f->name,
           (unsigned long long) (w->ready_at - w->spawned));

    fr_worker_set_state(w, FR_WORKER_IDLE);

    fr_func_dispatch(f);

    if (w->state == FR_WORKER_IDLE) {
        /* started for a request that went elsewhere: room for others */
        fr_pool_room(f);
    }
}

/* a kept worker ended its request: retired, or idle for the next */

void
fr_worker_release(fr_worker_t *w)
{
    fr_func_t  *f;

    f = w->func;
    w->requests++;

    if (f->conf.max_requests && w->requests >= (unsigned) f->conf.max_requests)
    {
        fr_log(FR_LOG_INFO, 0, "worker %d of \"%s\" retires after %u "
               "requests", (int) w->pid, f->name, w->requests);
        fr_worker_stop(w, FR_STOP_RETIRED, SIGTERM, FR_STOP_GRACE);

    } else if (w->generation != f->generation || f->removed) {
        fr_worker_stop(w, FR_STOP_RELOAD, SIGTERM, FR_STOP_GRACE);

    } else if (w->reaped) {
        fr_worker_stop(w, FR_STOP_EXITED, SIGTERM, 0);

    } else {
        fr_worker_set_state(w, FR_WORKER_IDLE);
    }

    fr_func_dispatch(f);

    if (w->state == FR_WORKER_IDLE) {
        fr_pool_room(f);
    }
}


/* the client left mid-invocation */

void
fr_worker_abandon(fr_worker_t *w)
{
    w->req = NULL;

    fr_log(FR_LOG_INFO, 0, "stopping worker %d of \"%s\": its client went "
           "away", (int) w->pid, w->func->name);

    fr_worker_stop(w, FR_STOP_CLIENT, SIGTERM, FR_KILL_GRACE);
}


static void
fr_req_timeout(fr_timer_t *t)
{
    fr_req_t     *r;
    fr_worker_t  *w;

    r = t->data;
    w = r->worker;

    if (w && w->state == FR_WORKER_STOPPING) {
        /* it died with the request, and its reap is late (fr_fault.c) */
        fr_log(FR_LOG_WARN, 0, "worker %d of \"%s\" not reaped within "
               "%d ms of its end", (int) w->pid, r->func->name,
               FR_REAP_WAIT);
        w->req = NULL;
        r->worker = NULL;
        fr_req_ops->fail(r, FR_OUTCOME_CRASHED);
        return;
    }

    fr_log(FR_LOG_ERR, 0, "function \"%s\" timed out after %lld ms, "
           "killing worker %d", r->func->name,
           (long long) r->func->conf.timeout, w ? (int) w->pid : 0);

    if (w) {
        if (r->meter) {
            fr_meter_stop(w, r);
        }

        w->req = NULL;

        /* what left its process group goes too: the slot is freed */
        fr_spawn_kill_strays(w);
        fr_worker_stop(w, FR_STOP_TIMEOUT, SIGTERM, FR_KILL_GRACE);
    }

    fr_req_ops->fail(r, FR_OUTCOME_TIMEOUT);
}


/*
 * Signals the worker's process group; SIGKILL follows after grace. The
 * worker counts against the limits until it is reaped.
 */

void
fr_worker_stop(fr_worker_t *w, fr_stop_e why, int sig, uint64_t grace)
{
    /* the first reason is the one counted */
    w->why = w->why ? w->why : why;

    /* signalled before its pipes close: a pipe closed first woke what
     * it runs (SIGPIPE to a CGI's "head", then its shell's next line)
     * before the signal came */
    fr_worker_signal(w, sig == SIGKILL || grace == 0 ? SIGKILL : sig);
    fr_worker_set_state(w, FR_WORKER_STOPPING);

    w->killed = 1;

    if (w->reaped) {
        /* gone already, its pipes held by others: nothing to wait for;
         * its reap frees one whose last answer it reads (no next one) */
        if (!w->draining) {
            fr_worker_free(w);
        }
        return;
    }

    if (sig != SIGKILL && grace) {
        fr_timer_add(&w->timer, grace);

    } else {
        fr_timer_del(&w->timer);
    }
}


/*
 * The one place a worker's state changes: what leaving the old state
 * and entering the new one mean for the counters, the idle list, the
 * timer and the connection.
 */

void
fr_worker_set_state(fr_worker_t *w, fr_worker_state_e state)
{
    fr_func_t  *f;

    f = w->func;

    if (w->state == state || w->state == FR_WORKER_STOPPING) {
        return;
    }

    switch (w->state) {

    case FR_WORKER_STARTING:
        f->nstarting--;
        fr_timer_del(&w->timer);
        break;

    case FR_WORKER_IDLE:
        fr_list_remove(&w->idle);
        fr_timer_del(&w->timer);
        break;

    default:
        break;
    }

    w->state = state;

    switch (state) {

    case FR_WORKER_STARTING:
        /* ready within the function's timeout, or a failed start */
        f->nstarting++;
        fr_timer_add(&w->timer, (uint64_t) f->conf.timeout);
        break;

    case FR_WORKER_IDLE:
        fr_list_insert_head(&f->idle, &w->idle);
        fr_timer_add(&w->timer, (uint64_t) f->conf.idle_timeout);
        break;

    case FR_WORKER_STOPPING:
        /* no requests, no connection */
        fr_io_close(&w->io);
        fr_io_close(&w->in);
        fr_buf_free(&w->out);
        w->connected = 0;
        break;

    default:
        break;
    }
}

/*
 * Only a worker not yet reaped is signalled: until then its pid, and so
 * its process group's id, cannot belong to anybody else.
 */

static void
fr_worker_signal(fr_worker_t *w, int sig)
{
    if (!w->reaped && kill(-w->pid, sig) == -1 && errno == ESRCH) {
        /* forked by a prototype, not yet in a group of its own */
        (void) kill(w->pid, sig);
    }
}


static void
fr_worker_timer(fr_timer_t *t)
{
    fr_worker_t  *w;
    fr_func_t    *f;

    w = t->data;
    f = w->func;

    switch (w->state) {

    case FR_WORKER_STARTING:
        fr_log(FR_LOG_ERR, 0, "worker %d of \"%s\" was not ready within "
               "%lld ms", (int) w->pid, f->name, (long long) f->conf.timeout);
        fr_worker_stop(w, FR_STOP_FAILED, SIGKILL, 0);
        fr_func_start_failed(f, 0);
        fr_func_dispatch(f);
        return;

    case FR_WORKER_IDLE:
        if (f->nworkers > f->conf.min_instances) {
            fr_log(FR_LOG_DEBUG, 0, "worker %d of \"%s\" idle, stopping",
                   (int) w->pid, f->name);
            fr_worker_stop(w, FR_STOP_IDLE, SIGTERM, FR_STOP_GRACE);
        }
        return;

    case FR_WORKER_STOPPING:
        fr_worker_signal(w, SIGKILL);
        return;

    default:
        w->ops->timer(w);
        return;
    }
}


void
fr_worker_free(fr_worker_t *w)
{
    fr_func_t   *f;
    fr_proto_t  *root;

    f = w->func;

    fr_meter_worker_end(w);
    fr_stderr_done(w);
    fr_timer_del(&w->timer);
    fr_io_close(&w->io);
    fr_io_close(&w->in);
    fr_io_close(&w->err);
    fr_io_close(&w->exec);
    fr_buf_free(&w->out);
    fr_buf_free(&w->hdr);
    fr_meter_proc_close(w);

    /* outside a pid namespace, what its user left holding nothing of it
     * came to the runner: it goes with it */
    root = (w->proto && w->proto->parent) ? w->proto->parent : w->proto;

    if (w->reaped && !w->init && (root == NULL || root->init == 0)) {
        fr_sweep_host(w);
    }

    fr_proto_release(w->proto, !w->swept);

    if (w->sock[0]) {
        (void) unlink(w->sock);
    }

    fr_list_remove(&w->idle);
    fr_list_remove(&w->link);
    fr_list_remove(&w->all);

    f->nworkers--;
    fr_runner.nworkers--;

    /* a CGI process that ended with its request is no stop to count */
    f->stats.stops[w->why] += (w->why || !w->per_request);

    if (f->owner) {
        f->owner->nworkers--;
        f->owner->memory -= w->memory;
        f->owner->nevicting -= w->evicted;
    }

    fr_runner.nevicting -= w->evicted_host;

    fr_free_later(w);

    fr_func_stalled(f);

    fr_func_maintain(f);
    fr_func_check(f);
}
