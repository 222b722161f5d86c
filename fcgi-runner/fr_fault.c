/*
 * Copyright (C) ngx_faas developers
 *
 * A worker that breaks the request it was given: the request fails (or,
 * when nothing of it was lost, goes to another worker) and the worker
 * is stopped. Called by the worker modes.
 */

#include <signal.h>
#include <sys/wait.h>

#include "fr_fault.h"
#include "fr_log.h"
#include "fr_meter.h"


static int fr_worker_resendable(fr_worker_t *w);


/*
 * How many times a request no worker read goes to another: each worker
 * it met was on its way out (libfcgi apps that retire themselves keep
 * their connection, so the runner learns of it only as it sends them
 * the next request). Each of them served others before, so this bounds
 * no cost but a loop's: workers that all retire after as many requests
 * hand a request sent again to the next of them one time in seven
 * (t/runner_retire_race.t, workers of one request each), and four
 * in a row failed a request in a CI run of 1,300 retirements.
 */
#define FR_RETRY_MAX  16


/*
 * The worker broke its request: closed, reset, garbage. The client gets
 * 502 (or a closed connection if the response had begun), the worker is
 * killed and replaced on demand.
 */

void
fr_worker_failed(fr_worker_t *w, const char *what)
{
    fr_req_t  *r;

    r = w->req;
    w->req = NULL;

    if (what) {
        fr_log(FR_LOG_ERR, 0, "worker %d of \"%s\" %s mid-request",
               (int) w->pid, w->func->name, what);
    }

    if (r && r->meter && (!w->reaped || !w->per_request)) {
        /* what it used, while it can be read (a CGI process that
         * answered garbage: its init, CPU and peak, from /proc), or as
         * its reap said (a FastCGI worker's answer read after its end,
         * fr_fastcgi_reaped) */
        fr_meter_stop(w, r);
    }

    if (w->init) {
        /*
         * Its function most likely died: faas-init follows it at once
         * and says how. A SIGKILL now would win that race and hide it;
         * one that lives on gets the SIGTERM init passes on, then this.
         */
        fr_worker_stop(w, FR_STOP_BROKEN, SIGTERM, FR_KILL_GRACE);

    } else {
        fr_worker_stop(w, FR_STOP_BROKEN, SIGKILL, 0);
    }

    if (r && r->meter && (r->cpu_us < 0 || r->max_memory_kb < 0)
        && r->cpu_start != (uint64_t) -1 && !w->reaped && !w->per_request)
    {
        /*
         * Gone, or going (its process could no longer be read, or has
         * no memory left to look at): what its reap's wait4() says is
         * the request's (fr_reap.c), which waits for it, FR_REAP_WAIT
         * at most (fr_req_timeout then fails it as crashed)
         */
        w->req = r;

        if (r->timer.when > fr_current_msec + FR_REAP_WAIT) {
            fr_timer_add(&r->timer, FR_REAP_WAIT);
        }

        return;
    }

    if (r) {
        r->worker = NULL;
        fr_req_ops->fail(r, FR_OUTCOME_CRASHED);
    }
}


/*
 * A worker may go away between requests: php-cgi retires itself, and it
 * closes its connection after every request, so the next one meets a
 * process on its way out. If it never read this request (unread: the
 * kernel reset the connection for what it left in its socket, or the
 * request could not be written), said nothing to it, had served others
 * before (one that dies on its first request is not retired but
 * broken), and the request is idempotent and can be sent again whole,
 * the request goes back to the head of the queue (FR_RETRY_MAX times at
 * most); as nginx's fastcgi_next_upstream does. One that read it and
 * then closed ran it: a crash, billed as one (fr_worker_failed), never
 * run twice.
 */

int
fr_worker_retryable(fr_worker_t *w)
{
    return fr_worker_resendable(w) && w->req->retried < FR_RETRY_MAX;
}


static int
fr_worker_resendable(fr_worker_t *w)
{
    fr_req_t  *r;

    r = w->req;

    /* what was never sent, of any method (as nginx); else idempotent */
    return r != NULL && !w->responded && !r->stdin_started
           && w->requests > 0 && (!w->flushed || fr_req_ops->retryable(r));
}


void
fr_worker_lost(fr_worker_t *w, const char *what, int unread)
{
    fr_req_t   *r;
    fr_func_t  *f;

    r = w->req;
    f = w->func;

    if (unread && fr_worker_resendable(w) && r->retried >= FR_RETRY_MAX) {
        fr_log(FR_LOG_ERR, 0, "worker %d of \"%s\" %s before answering: "
               "the request met %d workers on their way out, failed",
               (int) w->pid, f->name, what, r->retried + 1);
        fr_worker_failed(w, NULL);
        return;
    }

    if (!unread || !fr_worker_retryable(w)) {
        fr_worker_failed(w, what);
        return;
    }

    fr_log(FR_LOG_INFO, 0, "worker %d of \"%s\" %s before answering, "
           "retrying the request on another worker", (int) w->pid, f->name,
           what);

    r->retried++;

    /* most likely on its way out: a fresh worker takes the request */
    w->req = NULL;
    fr_worker_stop(w, FR_STOP_EXITED, SIGTERM, FR_STOP_GRACE);

    fr_func_requeue(f, r);
    fr_func_dispatch(f);
}


/*
 * Its connection ended with its request, unanswered. None of it written
 * (given it while a worker that retired after its last answer closed:
 * the write waits for the end of the round): sent again, whatever its
 * method, as nginx does what it never sent. Some of it written, and it
 * may be sent again: the worker's exit decides, FR_REAP_WAIT at most
 * (the mode's reap, fr_worker_await_expired). An exit of its own is a
 * worker retiring, which read none of it (exit code 0, what php-cgi
 * and libfcgi apps that retire give); a signal is one that died running
 * it (a segfault, an OOM kill), another code one that gave up on it (a
 * fatal error): a crash, never run again. A
 * reset says bytes were left unread, not that all were: php-cgi leaves
 * the empty end of STDIN in its socket while its script runs. A clean
 * end after a write is a worker that read it: a crash.
 */

void
fr_worker_lost_written(fr_worker_t *w, const char *what, int reset)
{
    if (!w->flushed) {
        fr_worker_lost(w, what, 1);
        return;
    }

    if (!reset || !fr_worker_retryable(w)) {
        fr_worker_lost(w, what, 0);
        return;
    }

    if (w->reaped) {
        fr_worker_lost(w, what, fr_worker_retired(w));
        return;
    }

    fr_io_close(&w->io);
    fr_buf_free(&w->out);
    w->connected = 0;
    w->awaited = 1;
    fr_timer_add(&w->timer, FR_REAP_WAIT);
}


/* its connection reset, and it lives on: what it did is unknown */

void
fr_worker_await_expired(fr_worker_t *w)
{
    fr_req_t  *r;

    r = w->req;

    if (!w->awaited || r == NULL) {
        return;
    }

    fr_log(FR_LOG_ERR, 0, "worker %d of \"%s\" reset its connection "
           "mid-request and did not exit within %d ms: stopped",
           (int) w->pid, w->func->name, FR_REAP_WAIT);

    w->awaited = 0;
    w->req = NULL;
    r->worker = NULL;

    if (r->meter) {
        fr_meter_stop(w, r);
    }

    fr_worker_stop(w, FR_STOP_BROKEN, SIGKILL, 0);
    fr_req_ops->fail(r, FR_OUTCOME_CRASHED);
}


/* a reaped worker that exited of its own, as one retiring does */

int
fr_worker_retired(fr_worker_t *w)
{
    return w->reaped && !w->killed && WIFEXITED(w->status)
           && WEXITSTATUS(w->status) == 0;
}
