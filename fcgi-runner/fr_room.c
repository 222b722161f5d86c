/*
 * Copyright (C) ngx_faas developers
 *
 * Room for a worker at its tenant's limits (max_instances, max_memory)
 * and at the host's max_workers: an idle worker of another function
 * (the tenant's own, or any) is stopped to make it, once a request
 * waits for it; and a worker that goes idle while requests of other
 * functions wait for room is that room. The pool asks through
 * fr_pool_can_spawn and fr_pool_room, set by fr_room_init.
 */

#include <signal.h>

#include "fr_log.h"
#include "fr_pool.h"
#include "fr_room.h"


static int fr_room_can_spawn(fr_func_t *f);
static void fr_room_idle(fr_func_t *f);
static int fr_room_evict(fr_func_t *f, fr_tenant_t *t);


void
fr_room_init(void)
{
    fr_pool_can_spawn = fr_room_can_spawn;
    fr_pool_room = fr_room_idle;
}


static int
fr_room_can_spawn(fr_func_t *f)
{
    fr_tenant_t  *t;

    if (f->nworkers >= f->conf.max_instances) {
        return 0;
    }

    if (fr_current_msec < f->throttled_until) {
        return 0;
    }

    /*
     * At its tenant's limits the request waits like any other; an idle
     * worker of the tenant's other functions makes room (once reaped).
     */
    t = f->owner;

    if (t && t->max_memory && f->conf.memory > t->max_memory) {
        /* never room for it (said at its load): nobody's stopped */
        return 0;
    }

    if (t && ((t->max_instances && t->nworkers >= t->max_instances)
              || (t->max_memory
                  && t->memory + f->conf.memory > t->max_memory)))
    {
        t->waiting = 1;

        if (t->nevicting == 0) {
            (void) fr_room_evict(f, t);
        }

        return 0;
    }

    if (fr_runner.conf.max_workers
        && fr_runner.nworkers >= fr_runner.conf.max_workers)
    {
        fr_runner.waiting = 1;
        (void) fr_room_evict(f, NULL);
        return 0;
    }

    return 1;
}


/*
 * A worker of f's became idle with nothing of f's to do: room for what
 * waits at its tenant's limits or the host's max_workers, in another
 * function's queue. Those queues look again (one stops it for theirs);
 * before, they looked only when a request came or a worker was reaped.
 */

static void
fr_room_idle(fr_func_t *f)
{
    int           host;
    fr_link_t    *l, *next;
    fr_func_t    *of;
    fr_tenant_t  *t;

    t = (f->owner && f->owner->waiting) ? f->owner : NULL;
    host = fr_runner.waiting;

    if (t == NULL && !host) {
        return;
    }

    /* set again by each queue that still waits */
    if (t) {
        t->waiting = 0;
    }

    fr_runner.waiting = 0;

    for (l = fr_list_first(&fr_runner.funcs); l != &fr_runner.funcs;
         l = next)
    {
        next = l->next;
        of = fr_list_data(l, fr_func_t, link);

        if (of != f && of->nqueued && (host || of->owner == t)) {
            fr_func_dispatch(of);
        }
    }
}


/*
 * At the host-wide max_workers, the least recently used idle worker of
 * another function makes room; at a tenant's limits, one of the
 * tenant's other functions (t). It counts until it is reaped; the reap
 * dispatches every queue again.
 */

static int
fr_room_evict(fr_func_t *f, fr_tenant_t *t)
{
    fr_link_t    *l;
    fr_func_t    *of;
    fr_worker_t  *w, *lru;

    lru = NULL;

    for (l = fr_list_first(&fr_runner.funcs); l != &fr_runner.funcs;
         l = l->next)
    {
        of = fr_list_data(l, fr_func_t, link);

        if (of == f || fr_list_empty(&of->idle) || (t && of->owner != t)) {
            continue;
        }

        w = fr_list_data(fr_list_last(&of->idle), fr_worker_t, idle);

        if (lru == NULL || w->timer.when < lru->timer.when) {
            lru = w;
        }
    }

    /* at the host's bound, no more than its requests wait for: a
     * worker stopped makes room for one, once reaped (a flood of
     * requests refused stops one at a time, not one each) */
    if (lru && t == NULL
        && fr_runner.nevicting >= f->nqueued - f->nstarting)
    {
        lru = NULL;
    }

    if (lru) {
        fr_log(FR_LOG_INFO, 0, "%s%s reached: stopping idle worker %d of "
               "\"%s\" for \"%s\"", t ? "the limits of tenant " : "",
               t ? t->name : "max_workers", (int) lru->pid,
               lru->func->name, f->name);

        if (t) {
            lru->evicted = 1;
            t->nevicting++;

        } else {
            lru->evicted_host = 1;
            fr_runner.nevicting++;
        }

        fr_worker_stop(lru, FR_STOP_EVICTED, SIGTERM, FR_STOP_GRACE);
    }

    return FR_DECLINED;
}
