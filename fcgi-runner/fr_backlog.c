/*
 * Copyright (C) ngx_faas developers
 *
 * The backlog of stored asynchronous invocations, as the dispatcher
 * (fr_async.c) sees it: the clock their times are kept in, and what
 * becomes of one the runner turned away for want of room (throttled),
 * which is not an attempt.
 */

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "faas_protocol.h"
#include "fr_backlog.h"
#include "fr_fcgi.h"
#include "fr_log.h"
#include "fr_store.h"


#define FR_THROTTLE_MAX     30000       /* ms: the longest wait for room */


/* usec: the times of the store (created, next_at) */

uint64_t
fr_backlog_now(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_REALTIME, &ts);

    return (uint64_t) ts.tv_sec * 1000000 + (uint64_t) ts.tv_nsec / 1000;
}


/* the runner turned it away (queue, queue_timeout, limits): its meter
 * record says "throttled"; a function's own 503 is an answer */

int
fr_backlog_throttled(const u_char *record, size_t len)
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
            return vlen == 9 && memcmp(value, "throttled", 9) == 0;
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
fr_backlog_release(const char *id, const char *function, fr_func_t *f)
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

    (void) fr_store_release(id, fr_backlog_now() + wait * 1000);
}
