/*
 * Copyright (C) ngx_faas developers
 *
 * Schedules: a function's "schedule" makes each tick an asynchronous
 * invocation (FAAS_TRIGGER=schedule, a POST with no body), never while
 * the last tick's is queued or running. Ticks are computed in the
 * function's schedule_timezone. The last tick is kept in the store:
 * ticks missed while the runner was down (or the function not loaded)
 * run once at start with schedule_catchup on, not at all without; a
 * reload that keeps a schedule keeps its next tick. Ticks are of the
 * wall clock; the time between two looks is the monotonic clock's: a
 * wall clock set back (by more than a few seconds) has the next ticks
 * computed again from the new time, rather than waited for.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fr_async.h"
#include "fr_func.h"
#include "fr_log.h"
#include "fr_sched.h"
#include "fr_store.h"
#include "fr_store_pg.h"


static void fr_sched_tick(fr_timer_t *t);
static time_t fr_sched_next(fr_func_t *f, time_t t);
static void fr_sched_first(fr_func_t *f, time_t last, time_t now);
static time_t fr_sched_latest(fr_func_t *f, time_t last, time_t now);
static void fr_sched_last(const char *function, int64_t last);
static void fr_sched_fire(fr_func_t *f, time_t tick, const char *why);
static void fr_sched_clock(time_t now);


static fr_timer_t  fr_sched_timer;
static int         fr_sched_pg;         /* the store is shared */


#define FR_SCHED_ASKED  -2              /* sched_next: last tick asked */
#define FR_SCHED_AHEAD  60              /* s: a last tick further ahead is
                                           of a clock that was wrong */


int
fr_sched_init(void)
{
    fr_link_t  *l;
    fr_func_t  *f;

    fr_sched_timer.handler = fr_sched_tick;
    fr_sched_pg = fr_store_is_pg(fr_runner.conf.store);

    for (l = fr_list_first(&fr_runner.funcs); l != &fr_runner.funcs;
         l = l->next)
    {
        f = fr_list_data(l, fr_func_t, link);

        if (f->cron.set && !fr_sched_pg) {
            /* the store holds the last ticks: it is needed now */
            if (fr_store_open(fr_runner.conf.state_dir, 0) != FR_OK) {
                return FR_ERROR;
            }

            break;
        }
    }

    fr_timer_add(&fr_sched_timer, 0);

    return FR_OK;
}


/*
 * The next tick of f's schedule after t, in its schedule_timezone: TZ
 * is set for the computation and put back (the runner is one thread).
 */

static time_t
fr_sched_next(fr_func_t *f, time_t t)
{
    time_t       next;
    const char  *tz, *old;
    char         saved[256];

    tz = f->conf.schedule_timezone;

    if (tz == NULL || strcmp(tz, "UTC") == 0) {
        return fr_cron_next(&f->cron, t, 1);
    }

    old = getenv("TZ");
    snprintf(saved, sizeof(saved), "%s", old ? old : "");

    (void) setenv("TZ", tz, 1);
    tzset();

    next = fr_cron_next(&f->cron, t, 0);

    if (old) {
        (void) setenv("TZ", saved, 1);

    } else {
        (void) unsetenv("TZ");
    }

    tzset();

    return next;
}


/* once a second: each schedule whose tick has come */

static void
fr_sched_tick(fr_timer_t *t)
{
    time_t           now;
    fr_link_t       *l;
    fr_func_t       *f;
    struct timespec  ts;

    (void) t;

    clock_gettime(CLOCK_REALTIME, &ts);
    now = ts.tv_sec;

    fr_sched_clock(now);

    for (l = fr_list_first(&fr_runner.funcs);
         l != &fr_runner.funcs && !fr_runner.draining; l = l->next)
    {
        f = fr_list_data(l, fr_func_t, link);

        if (!f->cron.set || f->removed
            || (!fr_sched_pg
                && fr_store_open(fr_runner.conf.state_dir, 0) != FR_OK))
        {
            continue;
        }

        if (f->sched_next == 0 && fr_sched_pg) {
            /* the answer comes back to fr_sched_last(); the store down,
             * asked again at the next look */
            if (fr_pgs_last_tick(f->name, fr_sched_last) == FR_OK) {
                f->sched_next = FR_SCHED_ASKED;
            }

            continue;
        }

        if (f->sched_next == 0) {
            fr_sched_first(f, (time_t) fr_store_last_tick(f->name), now);
            continue;
        }

        if (f->sched_next >= 0 && now >= f->sched_next) {
            fr_sched_fire(f, (time_t) f->sched_next, "tick");
            f->sched_next = fr_sched_next(f, now);
        }
    }

    /* at the next whole second */
    fr_timer_add(&fr_sched_timer, 1000 - (uint64_t) ts.tv_nsec / 1000000);
}


/*
 * The first look at a schedule: the ticks missed since its last, and
 * the next, which may be this very second's (a look is once a second:
 * the first after a start or a reload may fall on a tick)
 */

static void
fr_sched_first(fr_func_t *f, time_t last, time_t now)
{
    time_t  next;

    if (last > now + FR_SCHED_AHEAD) {
        /* kept by a clock that was ahead (this host's before it was set
         * right, or another's of a shared store): waited for, the
         * schedule was silent that long, fleet-wide (a hostile review).
         * A little ahead is waited for: a restart in the second of its
         * last tick, a clock slewed back, run no tick twice */
        fr_log(FR_LOG_WARN, 0, "schedule of \"%s\": its last tick is "
               "%lld s ahead of the clock (kept by a clock that was "
               "ahead): its ticks go on from now", f->name,
               (long long) (last - now));
        last = now - 1;
    }

    next = fr_sched_next(f, last ? last : now);

    if (last && next >= 0 && next < now) {
        if (f->conf.schedule_catchup
            && strcmp(f->conf.schedule_catchup, "on") == 0)
        {
            /*
             * shared: the latest tick missed, the same in every runner
             * starting before the next one, which the store runs once
             * (the first missed would leave the later ones missed for
             * the next runner to start: a run each)
             */
            fr_sched_fire(f, fr_sched_pg ? fr_sched_latest(f, last, now)
                                         : now,
                          "ticks missed while the runner was down or the "
                          "function not loaded");

            /* that run stands for this second's tick too; the store's
             * latest missed one does not */
            f->sched_next = fr_sched_next(f, fr_sched_pg ? now - 1 : now);
            return;

        } else {
            fr_log(FR_LOG_NOTICE, 0, "schedule of \"%s\": ticks missed "
                   "while the runner was down or the function not loaded "
                   "are not run (schedule_catchup is off)", f->name);

            if (fr_sched_pg) {
                fr_pgs_set_last_tick(f->name, (int64_t) now);

            } else {
                (void) fr_store_set_last_tick(f->name, (int64_t) now);
            }
        }
    }

    /* a tick at now is due, not missed: the next look runs it; unless
     * it is the last one run (a restart in the second of its tick) */
    f->sched_next = fr_sched_next(f, last > now - 1 ? last : now - 1);
}


/*
 * The last tick after last and before now, looked for in the hour before
 * now, else the day, the year, since last: as many steps as ticks there
 * (@every 1s: 3,600; a schedule with none in a day has few in a year).
 */

static time_t
fr_sched_latest(fr_func_t *f, time_t last, time_t now)
{
    int            i;
    time_t         t, next, found;
    static time_t  back[] = { 3600, 86400, 366 * 86400, 0 };

    found = -1;

    for (i = 0; found < 0 && i < 4; i++) {
        t = (back[i] && now - back[i] > last) ? now - back[i] : last;

        /* forward only: a step back (a clock's fold) ends the look */
        while ((next = fr_sched_next(f, t)) > t && next < now) {
            found = t = next;
        }

        if (t == last && found < 0) {
            break;
        }
    }

    return found;
}


/* the shared store's answer: -1, lost, asked again at the next look */

static void
fr_sched_last(const char *function, int64_t last)
{
    fr_func_t        *f;
    struct timespec   ts;

    f = fr_func_find((const u_char *) function, strlen(function));

    if (f == NULL || f->sched_next != FR_SCHED_ASKED) {
        return;
    }

    if (last < 0) {
        f->sched_next = 0;
        return;
    }

    clock_gettime(CLOCK_REALTIME, &ts);
    fr_sched_first(f, (time_t) last, ts.tv_sec);
}


/* the wall clock went back: each schedule's next tick from now */

static void
fr_sched_clock(time_t now)
{
    int         first;
    int64_t     wall, mono;
    fr_link_t  *l;
    fr_func_t  *f;

    static time_t    wall_then;
    static uint64_t  mono_then;         /* msec */

    fr_time_update();

    first = (wall_then == 0);
    wall = (int64_t) (now - wall_then);
    mono = (int64_t) (fr_current_msec - mono_then) / 1000;

    wall_then = now;
    mono_then = fr_current_msec;

    /* a second of the wall clock is a second of the monotonic one */
    if (first || wall >= mono - 2) {
        return;
    }

    fr_log(FR_LOG_NOTICE, 0, "the wall clock went back %lld s: the next "
           "ticks of the schedules are computed again",
           (long long) (mono - wall));

    for (l = fr_list_first(&fr_runner.funcs); l != &fr_runner.funcs;
         l = l->next)
    {
        f = fr_list_data(l, fr_func_t, link);

        if (f->cron.set && f->sched_next > 0) {
            f->sched_next = fr_sched_next(f, now);
        }
    }
}


static void
fr_sched_fire(fr_func_t *f, time_t tick, const char *why)
{
    char  id[FR_INV_ID_LEN + 1];

    if (fr_sched_pg) {
        /* one runner of all makes it, and logs it */
        (void) fr_async_invoke(f->name, "schedule", "text/plain", NULL, 0,
                               (int64_t) tick, id);
        return;
    }

    (void) fr_store_set_last_tick(f->name, (int64_t) tick);

    if (fr_store_pending(f->name, "schedule")) {
        fr_log(FR_LOG_WARN, 0, "schedule of \"%s\": %s skipped, the last "
               "one is not done", f->name, why);
        return;
    }

    if (fr_async_invoke(f->name, "schedule", "text/plain", NULL, 0, 0, id)
        == FR_OK)
    {
        fr_log(FR_LOG_INFO, 0, "schedule of \"%s\": %s, invocation %s",
               f->name, why, id);
    }
}

