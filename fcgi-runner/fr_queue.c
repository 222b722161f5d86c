/*
 * Copyright (C) ngx_faas developers
 *
 * A function's queue of requests waiting for a worker, and the throttle
 * of a function that cannot start. Below the pool: it reaches requests
 * through the request ops the proxy registers.
 */

#include "fr_log.h"
#include "fr_queue.h"


#define FR_THROTTLE_MIN    250
#define FR_THROTTLE_MAX    30000
#define FR_FAIL_FAST       2         /* failed starts in a row */


const fr_req_ops_t  *fr_req_ops;


void
fr_func_start_failed(fr_func_t *f, int crashed)
{
    uint64_t  delay;

    f->failures++;
    f->start_crashed = crashed ? 1 : 0;
    f->stats.start_failures++;
    fr_runner.start_failures++;

    delay = FR_THROTTLE_MIN;
    while (delay < FR_THROTTLE_MAX && f->failures > 1
           && delay < ((uint64_t) FR_THROTTLE_MIN << (f->failures - 1)))
    {
        delay *= 2;
    }

    if (delay > FR_THROTTLE_MAX) {
        delay = FR_THROTTLE_MAX;
    }

    f->throttled_until = fr_current_msec + delay;

    fr_log(FR_LOG_ERR, 0, "function \"%s\" cannot start: next try in %d ms",
           f->name, (int) delay);
}


/*
 * No worker can take these requests: 502 now, not at queue_timeout. Of
 * a function removed while they waited, 404: its folder may be another
 * tenant's by now (a name reused, an inode too), so no worker of it
 * starts again; a stored invocation is tried again, for its tenant.
 */

void
fr_func_fail_queue(fr_func_t *f)
{
    fr_req_t  *r;

    if (f->removed && !fr_list_empty(&f->queue)) {
        fr_log(FR_LOG_NOTICE, 0, "function \"%s\" removed: %d request(s) "
               "that waited for it answered 404", f->name, f->nqueued);
    }

    /* held: the last request's end frees a removed f (fr_func_check),
     * which the caller does after */
    f->nreqs++;

    while (!fr_list_empty(&f->queue)) {
        r = fr_list_data(fr_list_first(&f->queue), fr_req_t, queue);
        /* a worker that died by a signal as it started: what waited
         * for it is answered as its crash, not as a function that
         * cannot start */
        fr_req_ops->fail(r, f->removed ? FR_OUTCOME_NOT_FOUND
                            : f->start_crashed ? FR_OUTCOME_CRASHED
                            : FR_OUTCOME_ERROR);
    }

    f->nreqs--;
}


/*
 * Requests wait and no worker of f lives, nor may start (throttled):
 * answered 502 now, not at queue_timeout, when it cannot start (a
 * missing program, one that exits at once) or its starts die again and
 * again. One worker killed by a signal as it started (SIGKILL, the OOM
 * killer) fails nothing: what waits gets the worker the throttle's end
 * starts.
 */

void
fr_func_stalled(fr_func_t *f)
{
    if (fr_list_empty(&f->queue) || f->nworkers != 0
        || fr_current_msec >= f->throttled_until)
    {
        return;
    }

    if (!f->start_crashed || f->failures >= FR_FAIL_FAST || f->removed) {
        fr_func_fail_queue(f);
        return;
    }

    /* fr_func_throttle_handler(): dispatched again, a worker spawned */
    if (f->timer.handler) {
        fr_timer_add(&f->timer, f->throttled_until - fr_current_msec);
    }
}


void
fr_func_unqueue(fr_req_t *r)
{
    if (fr_list_empty(&r->queue)) {
        return;
    }

    fr_list_remove(&r->queue);
    r->func->nqueued--;

    if (r->waits_for) {
        r->waits_for->nqueued--;
        r->waits_for = NULL;
    }
    fr_timer_del(&r->timer);
}


/* back to the head of its queue: its worker was lost before it began */

void
fr_func_requeue(fr_func_t *f, fr_req_t *r)
{
    r->worker = NULL;
    r->state = FR_REQ_QUEUED;

    fr_timer_del(&r->timer);
    r->timer.handler = fr_req_queue_timeout;
    fr_timer_add(&r->timer, (uint64_t) f->conf.queue_timeout);

    fr_list_insert_head(&f->queue, &r->queue);
    f->nqueued++;
    fr_func_waits(f, r);
}


void
fr_req_queue_timeout(fr_timer_t *t)
{
    char          why[160];
    fr_req_t     *r;
    fr_func_t    *f;
    fr_tenant_t  *o;

    r = t->data;
    f = r->func;
    o = f->owner;

    /* which bound held it, as it is now: the function's, its tenant's,
     * the host's (a tenant's limit was said nowhere) */
    why[0] = '\0';

    if (f->conf.max_instances && f->nworkers >= f->conf.max_instances) {
        snprintf(why, sizeof(why), " (its max_instances, %d, busy)",
                 f->conf.max_instances);

    } else if (o && o->max_instances && o->nworkers >= o->max_instances) {
        snprintf(why, sizeof(why), " (its tenant \"%s\" at its "
                 "max_instances, %d)", o->name, o->max_instances);

    } else if (o && o->max_memory && o->memory + f->conf.memory
                                     > o->max_memory)
    {
        snprintf(why, sizeof(why), " (its tenant \"%s\" at its "
                 "max_memory)", o->name);

    } else if (fr_runner.conf.max_workers
               && fr_runner.nworkers >= fr_runner.conf.max_workers)
    {
        snprintf(why, sizeof(why), " (the runner at max_workers, %d)",
                 fr_runner.conf.max_workers);
    }

    fr_log(FR_LOG_WARN, 0, "function \"%s\": no worker within "
           "queue_timeout%s", f->name, why);

    fr_req_ops->fail(r, FR_OUTCOME_THROTTLED);
}


/* a client's request waiting: counted in its tenant's (fr_func_crowds) */

void
fr_func_waits(fr_func_t *f, fr_req_t *r)
{
    if (!r->stored && f->owner && r->waits_for == NULL) {
        r->waits_for = f->owner;
        r->waits_for->nqueued++;
    }
}
