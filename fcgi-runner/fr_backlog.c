/*
 * Copyright (C) ngx_faas developers
 *
 * The backlog of stored asynchronous invocations, as the dispatcher
 * (fr_async.c) sees it: the clock their times are kept in; what
 * becomes of one the runner turned away for want of room (throttled),
 * which is not an attempt; how many of each function and tenant are
 * queued, within async_max_queued. The counts follow what the
 * dispatcher does to the store, and are taken again from it at start,
 * after a failed commit and at each purge. Those of a function not
 * loaded wait for it. One's FastCGI request, to run it.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "faas_protocol.h"
#include "fr_backlog.h"
#include "fr_fcgi.h"
#include "fr_func.h"
#include "fr_log.h"
#include "fr_store.h"
#include "fr_store_pg.h"


#define FR_THROTTLE_MAX     30000       /* ms: the longest wait for room */
#define FR_UNLOADED_MAX     64          /* names not loaded, remembered */
#define FR_UNLOADED_LOOK    60000000    /* usec between looks at one */


/* a function with invocations stored and none of its name loaded */
typedef struct {
    char                   name[68];
    uint64_t               next;            /* usec: looked at again */
    unsigned               reloads;         /* said in this one */
} fr_unloaded_t;


/* more names than places: they take turns, in the order they are
 * listed, from the one after the last given a place */
typedef struct {
    uint64_t               refused;         /* usec: a name waited */
    char                   last[68];        /* the last given a place */
    char                   prev[68];        /* the last asked: a pass */
    unsigned               held:1;          /* this pass: one before it */
    unsigned               after:1;         /* this pass: one after it */
    unsigned               reloads;         /* said in this one: */
    unsigned               said;            /* names said */
} fr_unloaded_turns_t;


static fr_unloaded_t        fr_unloaded[FR_UNLOADED_MAX];
static fr_unloaded_turns_t  fr_turns;


static void fr_backlog_add(const char *function, int64_t n, void *data);
static int fr_backlog_turn(const char *function, uint64_t now,
    fr_unloaded_t *oldest);
static void fr_backlog_unloaded_say(const char *function);


/*
 * usec: the clock of the dispatcher's times in the store (created,
 * claims, next_at of a retry or a wait): the wall clock when the runner
 * started, advanced by the monotonic clock since; a shared store's
 * runners all keep the database's, once its refresh has told it
 * (fr_pgs_clock). Intervals (backoff, the wait of a throttled one) are
 * so measured monotonically: a wall clock set back or forward neither
 * delays nor hurries them.
 */

uint64_t
fr_backlog_now(void)
{
    int64_t          offset;
    uint64_t         mono;
    struct timespec  ts;

    static uint64_t  base;
    static int64_t   said;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    mono = (uint64_t) ts.tv_sec * 1000000 + (uint64_t) ts.tv_nsec / 1000;

    if (base == 0) {
        base = fr_backlog_wall() - mono;
    }

    if (!fr_pgs_clock(&offset)) {
        return base + mono;
    }

    if (offset != said) {
        said = offset;

        if (offset - (int64_t) base >= 1000000
            || (int64_t) base - offset >= 1000000)
        {
            fr_log(FR_LOG_WARN, 0, "the clock of the PostgreSQL store is "
                   "%+lld ms from this runner's (its wall clock at its "
                   "start): the times it keeps in the store are the "
                   "store's", (long long) (offset - (int64_t) base) / 1000);
        }
    }

    return (uint64_t) offset + mono;
}


/*
 * At start: an invocation due later than the longest wait there is (a
 * retry's backoff, a throttled one's) was stored before the wall clock
 * went back; it is due now rather than when the clock catches up.
 */

void
fr_backlog_undelay(void)
{
    int       n, shift;
    uint64_t  now, most;

    shift = fr_runner.conf.async_retries < 16 ? fr_runner.conf.async_retries
                                              : 16;
    most = (uint64_t) fr_runner.conf.async_backoff << shift;
    most = most > FR_THROTTLE_MAX ? most : FR_THROTTLE_MAX;

    now = fr_backlog_now();
    n = fr_store_undelay(now, now + most * 1000);

    if (n > 0) {
        fr_log(FR_LOG_WARN, 0, "%d asynchronous invocation%s due later "
               "than any wait allows (the clock went back): due now", n,
               n == 1 ? " was" : "s were");
    }
}


/* usec: the wall clock, for what is a date (a result's age) */

uint64_t
fr_backlog_wall(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_REALTIME, &ts);

    return (uint64_t) ts.tv_sec * 1000000 + (uint64_t) ts.tv_nsec / 1000;
}


/*
 * The outcome a run's meter record says is this one: "throttled", the
 * runner turned it away (queue, queue_timeout, limits; a function's own
 * 503 is an answer); "not_found", no function of its name and tenant
 * (a function's own 404 is an answer)
 */

int
fr_backlog_outcome(const u_char *record, size_t len, const char *outcome)
{
    size_t         nlen, vlen;
    const u_char  *pos, *last, *name, *value;

    pos = record;
    last = record + len;

    while (fr_fcgi_nv_next(&pos, last, &name, &nlen, &value, &vlen) == FR_OK)
    {
        if (nlen == sizeof(FAAS_METER_OUTCOME) - 1
            && memcmp(name, FAAS_METER_OUTCOME, nlen) == 0)
        {
            return vlen == strlen(outcome) && memcmp(value, outcome, vlen)
                                              == 0;
        }
    }

    return 0;
}


/*
 * Throttled is not an attempt: nothing ran, nothing is billed. The
 * invocation is queued again, its claim not counted, and waits
 * async_backoff, doubling while its function stays throttled (up to
 * 30 s, or async_backoff if longer), then goes again, as often as it
 * takes.
 */

void
fr_backlog_release(const char *id, int attempt, const char *function,
    fr_func_t *f)
{
    unsigned  n;
    uint64_t  wait, most;

    n = f ? f->async_throttled++ : 0;

    most = (uint64_t) fr_runner.conf.async_backoff;
    most = most > FR_THROTTLE_MAX ? most : FR_THROTTLE_MAX;

    wait = (uint64_t) fr_runner.conf.async_backoff << (n < 16 ? n : 16);
    wait = wait < most ? wait : most;

    fr_log(FR_LOG_INFO, 0, "invocation %s of \"%s\": throttled, not an "
           "attempt, again in %llu ms", id, function,
           (unsigned long long) wait);

    fr_backlog_requeue(id, attempt, fr_backlog_now() + wait * 1000);
    fr_backlog_count(function, 1);
}


/*
 * Room for one more stored invocation of f: below its async_max_queued
 * and its tenant's (tenant.NAME.async_max_queued); 0 is no bound.
 */

int
fr_backlog_room(fr_func_t *f)
{
    fr_tenant_t       *t;
    const fr_tconf_t  *tc;

    if (f->conf.async_max_queued > 0
        && f->async_queued >= f->conf.async_max_queued)
    {
        fr_log(FR_LOG_WARN, 0, "function \"%s\": %lld asynchronous "
               "invocations queued, async_max_queued %d", f->name,
               (long long) f->async_queued, f->conf.async_max_queued);
        return FR_DECLINED;
    }

    t = f->owner;
    tc = t ? fr_conf_tenant(&fr_runner.conf, t->name) : NULL;

    if (tc && tc->async_max_queued > 0
        && t->async_queued >= tc->async_max_queued)
    {
        fr_log(FR_LOG_WARN, 0, "tenant \"%s\": %lld asynchronous "
               "invocations queued, async_max_queued %d (function \"%s\")",
               t->name, (long long) t->async_queued, tc->async_max_queued,
               f->name);
        return FR_DECLINED;
    }

    return FR_OK;
}


/* n more (or fewer) of function queued: its count and its tenant's */

void
fr_backlog_count(const char *function, int n)
{
    fr_backlog_add(function, n, NULL);
}


/* function NULL: every count to zero, to be made again */

static void
fr_backlog_add(const char *function, int64_t n, void *data)
{
    fr_link_t  *l;
    fr_func_t  *f;

    (void) data;

    if (function == NULL) {
        for (l = fr_list_first(&fr_runner.funcs); l != &fr_runner.funcs;
             l = l->next)
        {
            fr_list_data(l, fr_func_t, link)->async_queued = 0;
        }

        for (l = fr_runner.tenants.next; l && l != &fr_runner.tenants;
             l = l->next)
        {
            fr_list_data(l, fr_tenant_t, link)->async_queued = 0;
        }

        return;
    }

    f = fr_func_find((const u_char *) function, strlen(function));

    if (f == NULL) {
        return;
    }

    /* never below none: a lease that ran out was not counted */
    f->async_queued += n;

    if (f->async_queued < 0) {
        f->async_queued = 0;
    }

    if (f->owner) {
        f->owner->async_queued += n;

        if (f->owner->async_queued < 0) {
            f->owner->async_queued = 0;
        }
    }
}


/* queued again at retry_at, not an attempt: the runner's trouble, or
 * throttled (attempt: the claim's, the shared store's token) */

void
fr_backlog_requeue(const char *id, int attempt, uint64_t retry_at)
{
    if (fr_store_is_pg(fr_runner.conf.store)) {
        fr_pgs_release(id, attempt, retry_at);

    } else {
        (void) fr_store_release(id, retry_at);
    }
}


/* from the store: the shared one answers later, the fleet's counts */

void
fr_backlog_recount(void)
{
    if (fr_store_is_pg(fr_runner.conf.store)) {
        fr_pgs_refresh(fr_backlog_add);
        return;
    }

    fr_backlog_add(NULL, 0, NULL);
    (void) fr_store_queued(fr_backlog_add, NULL);
}


/*
 * The invocations of a function not loaded (a folder not mounted yet at
 * boot, a function.conf with a typo, a user not known yet) wait for it:
 * failed (404) only async_retention after their making, as a shared
 * store keeps them (one such start failed a backlog of 202s for good:
 * a hostile review). Each name is looked at once a minute, said once a
 * reload; past FR_UNLOADED_MAX names they take turns (fr_backlog_turn).
 * 1: not now (looked at within the minute); with "wait", the one
 * claimed was not due to fail: not again for a minute.
 */

int
fr_backlog_unloaded(const char *function, uint64_t now, int wait)
{
    size_t          i;
    fr_unloaded_t  *u, *oldest;

    oldest = &fr_unloaded[0];

    for (i = 0; i < FR_UNLOADED_MAX; i++) {
        u = &fr_unloaded[i];

        if (strcmp(u->name, function) == 0) {
            break;
        }

        oldest = (u->next < oldest->next) ? u : oldest;
    }

    if (!wait) {
        if (i == FR_UNLOADED_MAX) {
            return fr_backlog_turn(function, now, oldest);
        }

        if (now < u->next) {
            return 1;
        }

        if (fr_turns.refused && now - fr_turns.refused < FR_UNLOADED_LOOK) {
            /* names wait: its minute over, it gives its place up */
            u->name[0] = '\0';
            u->next = 0;
            return 1;
        }

        return 0;
    }

    if (i == FR_UNLOADED_MAX) {
        u = oldest;
        snprintf(u->name, sizeof(u->name), "%s", function);
        snprintf(fr_turns.last, sizeof(fr_turns.last), "%s", function);
        u->reloads = (unsigned) fr_runner.reloads - 1;
    }

    u->next = now + FR_UNLOADED_LOOK;

    if (u->reloads != (unsigned) fr_runner.reloads) {
        u->reloads = (unsigned) fr_runner.reloads;
        fr_backlog_unloaded_say(function);
    }

    return 1;
}


/*
 * A name not remembered: looked at (0) while there is a place for it,
 * a look (a claim and a release) not each time. While names wait for
 * places, those before the last one given a place (in the order they
 * are listed) wait for the names after it: the ones listed first took
 * every place that came free, and one made async_retention ago behind
 * 128 of them was never failed (a review). A pass with names held back
 * and none after: from the first again.
 */

static int
fr_backlog_turn(const char *function, uint64_t now, fr_unloaded_t *oldest)
{
    int  after;

    if (strcmp(function, fr_turns.prev) <= 0) {
        /* the names listed again from the first: a new pass */
        if (fr_turns.held && !fr_turns.after) {
            fr_turns.last[0] = '\0';
        }

        fr_turns.held = 0;
        fr_turns.after = 0;
    }

    snprintf(fr_turns.prev, sizeof(fr_turns.prev), "%s", function);
    after = strcmp(function, fr_turns.last) > 0;

    if (now < oldest->next) {
        /* no place */
        fr_turns.refused = now;
        fr_turns.after |= after;
        return 1;
    }

    if (!after && fr_turns.refused
        && now - fr_turns.refused < FR_UNLOADED_LOOK)
    {
        /* its turn came in this round */
        fr_turns.refused = now;
        fr_turns.held = 1;
        return 1;
    }

    return 0;
}


/* each name once a reload, FR_UNLOADED_MAX of them: then they are
 * counted, said once (a name taking turns was said at each, a line a
 * second with 65) */

static void
fr_backlog_unloaded_say(const char *function)
{
    if (fr_turns.reloads != (unsigned) fr_runner.reloads) {
        fr_turns.reloads = (unsigned) fr_runner.reloads;
        fr_turns.said = 0;
    }

    if (fr_turns.said++ < FR_UNLOADED_MAX) {
        fr_log(FR_LOG_WARN, 0, "asynchronous invocations of \"%s\" are "
               "stored and no function of its name is loaded: they wait "
               "for it, failed %u s after their making (async_retention)",
               function, (unsigned) (fr_runner.conf.async_retention / 1000));

    } else if (fr_turns.said == FR_UNLOADED_MAX + 1) {
        fr_log(FR_LOG_WARN, 0, "asynchronous invocations of more than %d "
               "functions not loaded are stored: they take turns, a look "
               "at each every few minutes; not each said (\"fcgi-runner "
               "invocations\" lists them)", FR_UNLOADED_MAX);
    }
}


/*
 * A stored invocation as a FastCGI request of the runner's own, into
 * out: BEGIN_REQUEST; its stored parameters less what made it async,
 * what the runner says itself and nginx's header size (no nginx takes
 * this answer); then add's nadd strings, name and value in turn (at
 * most 512 bytes); its body.
 */

int
fr_backlog_request(fr_buf_t *out, const fr_inv_t *inv, const char **add,
    int nadd)
{
    int            i;
    u_char        *p, *start, *q, *params;
    size_t         nlen, vlen, chunk, size;
    const u_char  *pos, *last, *name, *value;

    /* the parameters as one stream, then cut into records */
    params = malloc(inv->params_len + 512);
    if (params == NULL) {
        return FR_ERROR;
    }

    q = params;
    pos = inv->params;
    last = pos + inv->params_len;

    while (fr_fcgi_nv_next(&pos, last, &name, &nlen, &value, &vlen) == FR_OK)
    {
        if ((nlen >= 15 && memcmp(name, "FAAS_INVOCATION", 15) == 0)
            || (nlen == 20 && memcmp(name, "HTTP_FAAS_INVOCATION", 20) == 0)
            || (nlen == 12 && memcmp(name, "FAAS_ATTEMPT", 12) == 0)
            || (nlen == 12 && memcmp(name, "FAAS_TRIGGER", 12) == 0)
            || (nlen == 15 && memcmp(name, "FAAS_HEADER_MAX", 15) == 0)
            || (nlen == 16 && memcmp(name, "FAAS_ONLY_TENANT", 16) == 0)
            || (nlen == 13 && memcmp(name, "FAAS_LEASE_MS", 13) == 0)
            || (nlen == 13 && memcmp(name, "FAAS_FUNCTION", 13) == 0)
            || (nlen == 10 && memcmp(name, FAAS_METER_PARAM, 10) == 0))
        {
            continue;
        }

        q = fr_fcgi_nv_write(q, name, nlen, value, vlen);
    }

    for (i = 0; i + 1 < nadd; i += 2) {
        q = fr_fcgi_nv_write(q, (const u_char *) add[i], strlen(add[i]),
                             (const u_char *) add[i + 1], strlen(add[i + 1]));
    }

    size = (q - params) + inv->body_len;
    size += FR_FCGI_HEADER_LEN * (size / 32768 + 8) + 16;

    start = fr_buf_reserve(out, size);
    if (start == NULL) {
        free(params);
        return FR_ERROR;
    }

    p = fr_fcgi_write_begin_request(start, 1, FR_FCGI_RESPONDER, 0);

    for (pos = params, size = q - params; size; pos += chunk, size -= chunk)
    {
        chunk = size > 32768 ? 32768 : size;
        p = fr_fcgi_write_header(p, FR_FCGI_PARAMS, 1, (uint16_t) chunk, 0);
        memcpy(p, pos, chunk);
        p += chunk;
    }

    free(params);

    p = fr_fcgi_write_header(p, FR_FCGI_PARAMS, 1, 0, 0);

    for (pos = inv->body, size = inv->body_len; size;
         pos += chunk, size -= chunk)
    {
        chunk = size > 32768 ? 32768 : size;
        p = fr_fcgi_write_header(p, FR_FCGI_STDIN, 1, (uint16_t) chunk, 0);
        memcpy(p, pos, chunk);
        p += chunk;
    }

    p = fr_fcgi_write_header(p, FR_FCGI_STDIN, 1, 0, 0);

    out->len = p - start;

    return FR_OK;
}
