/*
 * Copyright (C) ngx_faas developers
 *
 * Room for a prototype about to start. An idle prototype (its workers
 * gone, kept prototype_idle_timeout for the next cold start) holds its
 * namespaces, its /tmp (up to its function's memory, whatever was left
 * in it) and two of the runner's descriptors; a tenant's functions
 * are as many as it makes. So idle ones are bounded: a tenant keeps
 * FR_PROTO_IDLE_TENANT, the host FR_PROTO_IDLE_HOST a max_workers (a
 * thousand by default: cheap ones, cold starts saved); the one idle the
 * longest
 * goes first. (Zygotes, a runtime's: by their own bounds, in
 * fr_runtime.c.)
 */

#include <string.h>

#include "fr_log.h"
#include "fr_proto.h"
#include "fr_proto_room.h"


void
fr_proto_room(fr_func_t *f)
{
    int          mine, all;
    fr_link_t   *l;
    fr_proto_t  *p, *oldest_mine, *oldest;

    mine = 0;
    all = 0;
    oldest_mine = NULL;
    oldest = NULL;

    for (l = fr_list_first(&fr_runner.protos); l != &fr_runner.protos;
         l = l->next)
    {
        p = fr_list_data(l, fr_proto_t, link);

        /* idle: no worker of its, its idle time running; a zygote's
         * room is its own (fr_runtime_room) */
        if (p->retired || p->zygote || p->refs || p->timer.index == 0) {
            continue;
        }

        all++;

        if (oldest == NULL || p->timer.when < oldest->timer.when) {
            oldest = p;
        }

        if (strcmp(p->tenant, f->tenant) == 0) {
            mine++;

            if (oldest_mine == NULL
                || p->timer.when < oldest_mine->timer.when)
            {
                oldest_mine = p;
            }
        }
    }

    p = mine >= FR_PROTO_IDLE_TENANT ? oldest_mine
        : (fr_runner.conf.max_workers
           && all >= FR_PROTO_IDLE_HOST * fr_runner.conf.max_workers)
          ? oldest : NULL;

    if (p == NULL) {
        return;
    }

    fr_log(FR_LOG_INFO, 0, "prototype %d of \"%s\" idle, stopped: room for "
           "one of \"%s\" (%d idle of tenant \"%s\", %d of the host)",
           (int) p->pid, p->name, f->name, mine, f->tenant, all);

    fr_proto_unfault(p);
    fr_proto_retire(p);
}
