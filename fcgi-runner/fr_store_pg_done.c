/*
 * Copyright (C) ngx_faas developers
 *
 * Outcomes to the PostgreSQL store (done, tried again, failed, given
 * back), many in one statement: those of a round of events wait for
 * the one before to be answered, then go together. One statement a
 * round rather than one an invocation is what keeps the single
 * connection free for the accepts. Kept across a lost connection;
 * written only of the rows this runner still holds, so that sent twice
 * is once; an outcome the store did not take (the lease ran out and
 * another runner has it) is said in the log.
 *
 * And the counts of each state, for the status. Each function's queued
 * (its backlog) and running are counted every time (fr_async.c: each
 * 2 s), in their partial indexes: a few rows. The finished are the rest
 * of the table, millions within async_retention: their count of 2M
 * rows took 0.9 s here, and every runner of a fleet sent it every 2 s.
 * They are counted when the connection is made and after a purge, then
 * at most each FR_PGS_FINISHED_EVERY and only when the status was asked
 * for since (fr_pgs_asked); in between, this runner's own are
 * added as the store takes them, the fleet's others at the next count.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fr_buf.h"
#include "fr_log.h"
#include "fr_pg.h"
#include "fr_store_pg.h"
#include "fr_store_pg_sql.h"


#define FR_PGS_OUT_MAX    512                 /* outcomes a statement */
#define FR_PGS_OUT_BYTES  (8 * 1024 * 1024)   /* of responses, hex */
/* a statement the database answered with an error: again a second
 * later, so many times, then its outcomes given up */
#define FR_PGS_OUT_TRIES  30

#define FR_PGS_FINISHED_EVERY  30000          /* ms between their counts */


enum {
    FR_PGS_DONE = 0,
    FR_PGS_RETRY,
    FR_PGS_FAILED,
    FR_PGS_GIVEN_BACK,
    FR_PGS_NOT_MINE
};


typedef struct fr_pgs_out_s  fr_pgs_out_t;

struct fr_pgs_out_s {
    fr_pgs_out_t          *next;
    int                    tries;           /* statements it failed in */
    int                    kind;
    int                    attempt;         /* its claim's: a token */
    int                    status;
    uint64_t               at;
    char                   id[FR_INV_ID_LEN + 1];
    char                   error[64];
    size_t                 len;
    u_char                 response[];
};


static void fr_pgs_out(int kind, const char *id, int attempt, int status,
    const char *error, uint64_t at, const u_char *response, size_t len);
static void fr_pgs_flush(fr_timer_t *t);
static void fr_pgs_flushed(PGresult *res, void *data);
static void fr_pgs_free(fr_pgs_out_t *o);
static int fr_pgs_count_outs(fr_pgs_out_t *o);
static void fr_pgs_refreshed(PGresult *res, void *data);
static void fr_pgs_clock_sample(int64_t store_now);
static uint64_t fr_pgs_mono(void);


static fr_pgs_out_t   *fr_pgs_outs;           /* waiting */
static fr_pgs_out_t  **fr_pgs_outs_last = &fr_pgs_outs;
static int             fr_pgs_sending;        /* a statement in flight */
static int             fr_pgs_refusing;       /* said, until one goes */
static int             fr_pgs_backoff;        /* waits to try it again */
static fr_timer_t      fr_pgs_timer = { .handler = fr_pgs_flush };

static uint64_t        fr_pgs_count[FR_INV_STATES];
static uint64_t        fr_pgs_finished_at;    /* msec, their last count */
static int             fr_pgs_finished_due = 1;
static int             fr_pgs_refreshing;
static uint64_t        fr_pgs_refresh_sent;   /* usec, monotonic */
static int64_t         fr_pgs_offset;         /* usec: the database's
                                                 clock less it */
static int             fr_pgs_offset_known;
int                    fr_pgs_asked;
static void          (*fr_pgs_recount)(const char *function, int64_t n,
                                       void *data);


void
fr_pgs_ack(const char *id, int attempt, int status, const u_char *response,
    size_t len)
{
    fr_pgs_out(FR_PGS_DONE, id, attempt, status, NULL, 0, response, len);
}


/* tried again at retry_at, or failed for good (0): what its last
 * attempt answered kept */

void
fr_pgs_fail(const char *id, int attempt, int status, const char *error,
    uint64_t retry_at, const u_char *response, size_t len)
{
    fr_pgs_out(retry_at ? FR_PGS_RETRY : FR_PGS_FAILED, id, attempt, status,
               error, retry_at, retry_at ? NULL : response,
               retry_at ? 0 : len);
}


/* turned away for room here, or claimed as the runner stops: not an
 * attempt */

void
fr_pgs_release(const char *id, int attempt, uint64_t retry_at)
{
    fr_pgs_out(FR_PGS_GIVEN_BACK, id, attempt, 0, NULL, retry_at, NULL, 0);
}


/* another tenant's than this runner's function of its name: not an
 * attempt, due at "at", and not claimed by this runner again for a
 * minute unless another gives it back (fr_pgs_claim_sql) */

void
fr_pgs_not_mine(const char *id, int attempt, uint64_t at)
{
    fr_pgs_out(FR_PGS_NOT_MINE, id, attempt, 0, NULL, at, NULL, 0);
}


/* outcomes not yet sent to the store */

size_t
fr_pgs_outcomes(void)
{
    size_t         n;
    fr_pgs_out_t  *o;

    n = 0;

    for (o = fr_pgs_outs; o; o = o->next) {
        n++;
    }

    return n;
}


static void
fr_pgs_out(int kind, const char *id, int attempt, int status,
    const char *error, uint64_t at, const u_char *response, size_t len)
{
    fr_pgs_out_t     *o;
    struct timespec   ts;

    o = calloc(1, sizeof(fr_pgs_out_t) + len);
    if (o == NULL) {
        fr_log(FR_LOG_ALERT, 0, "invocation %s: no memory for its outcome, "
               "it runs again when its lease runs out", id);
        return;
    }

    if (kind == FR_PGS_DONE || kind == FR_PGS_FAILED) {
        /* when it ended is a date */
        clock_gettime(CLOCK_REALTIME, &ts);
        at = (uint64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
    }

    o->kind = kind;
    o->attempt = attempt;
    o->status = status;
    o->at = at;
    o->len = len;
    snprintf(o->id, sizeof(o->id), "%s", id);
    snprintf(o->error, sizeof(o->error), "%s", error ? error : "");

    if (len) {
        memcpy(o->response, response, len);
    }

    *fr_pgs_outs_last = o;
    fr_pgs_outs_last = &o->next;

    if (!fr_pgs_sending && !fr_pgs_backoff) {
        fr_timer_add(&fr_pgs_timer, 0);
    }
}


/* the waiting ones as arrays, one statement; the next when it is in */

static void
fr_pgs_flush(fr_timer_t *t)
{
    int            i, n, rc, lengths[8];
    char           num[48];
    size_t         bytes, k;
    fr_buf_t       a[7];
    const char    *values[8];
    fr_pgs_out_t  *o, *batch, **last;

    static const char  hex[] = "0123456789abcdef";

    (void) t;

    fr_pgs_backoff = 0;

    if (fr_pgs_sending || fr_pgs_outs == NULL) {
        return;
    }

    /* the batch: the first ones, within bounds */
    batch = fr_pgs_outs;
    last = &fr_pgs_outs;
    bytes = 0;

    for (n = 0; *last && n < FR_PGS_OUT_MAX
                && (n == 0 || bytes + (*last)->len < FR_PGS_OUT_BYTES / 2);
         n++)
    {
        bytes += (*last)->len;
        last = &(*last)->next;
    }

    fr_pgs_outs = *last;
    *last = NULL;

    if (fr_pgs_outs == NULL) {
        fr_pgs_outs_last = &fr_pgs_outs;
    }

    memset(a, 0, sizeof(a));
    rc = FR_OK;

    for (i = 0; i < 7; i++) {
        rc |= fr_buf_append(&a[i], "{", 1);
    }

    for (o = batch, i = 0; o; o = o->next, i++) {
        if (i) {
            for (k = 0; k < 7; k++) {
                rc |= fr_buf_append(&a[k], ",", 1);
            }
        }

        /* ids are hex, errors ours (no quote, no backslash) */
        rc |= fr_buf_append(&a[0], "\"", 1);
        rc |= fr_buf_append(&a[0], o->id, strlen(o->id));
        rc |= fr_buf_append(&a[0], "\"", 1);

        snprintf(num, sizeof(num), "%d", o->kind);
        rc |= fr_buf_append(&a[1], num, strlen(num));
        snprintf(num, sizeof(num), "%d", o->status);
        rc |= fr_buf_append(&a[2], num, strlen(num));
        snprintf(num, sizeof(num), "%llu", (unsigned long long) o->at);
        rc |= fr_buf_append(&a[3], num, strlen(num));

        rc |= fr_buf_append(&a[4], "\"", 1);
        rc |= fr_buf_append(&a[4], o->error, strcspn(o->error, "\"\\"));
        rc |= fr_buf_append(&a[4], "\"", 1);

        rc |= fr_buf_append(&a[5], "\"", 1);

        for (k = 0; k < o->len; k++) {
            num[0] = hex[o->response[k] >> 4];
            num[1] = hex[o->response[k] & 0xf];
            rc |= fr_buf_append(&a[5], num, 2);
        }

        rc |= fr_buf_append(&a[5], "\"", 1);

        snprintf(num, sizeof(num), "%d", o->attempt);
        rc |= fr_buf_append(&a[6], num, strlen(num));
    }

    for (i = 0; i < 7; i++) {
        rc |= fr_buf_append(&a[i], "}", 1);
        values[i] = (const char *) fr_buf_pos(&a[i]);
        lengths[i] = (int) a[i].len;
    }

    values[7] = fr_pgs_me;
    lengths[7] = strlen(fr_pgs_me);

    if (rc == FR_OK) {
        rc = fr_pg_send(fr_pgs_outcomes_sql, 8, values, lengths, NULL,
                        FR_PG_KEEP, fr_pgs_flushed, batch);
    }

    for (i = 0; i < 7; i++) {
        fr_buf_free(&a[i]);
    }

    if (rc != FR_OK) {
        for (o = batch; o; o = o->next) {
            fr_log(FR_LOG_ALERT, 0, "invocation %s: its outcome is lost, it "
                   "runs again when its lease runs out", o->id);
        }

        fr_pgs_free(batch);
        return;
    }

    fr_pgs_sending = n;
}


static void
fr_pgs_flushed(PGresult *res, void *data)
{
    int            i, n;
    fr_pgs_out_t  *o, *next, *batch, *kept, **tail;

    batch = data;
    fr_pgs_sending = 0;

    if (res && !fr_pg_ok(res)) {
        /*
         * An error, not a lost connection (which FR_PG_KEEP sends
         * again): a statement timeout, a failover's read-only phase, a
         * full disk. The outcomes are kept, first, and sent again a
         * second later; each one given up after its own tries.
         */
        if (!fr_pgs_refusing) {
            fr_pgs_refusing = 1;
            fr_log(FR_LOG_ERR, 0, "the PostgreSQL store did not take %d "
                   "outcome(s), trying again each second: %s",
                   fr_pgs_count_outs(batch),
                   fr_pg_text(PQresultErrorMessage(res)));
        }

        kept = NULL;
        tail = &kept;

        for (o = batch; o; o = next) {
            next = o->next;

            if (++o->tries > FR_PGS_OUT_TRIES) {
                fr_log(FR_LOG_ALERT, 0, "invocation %s: its outcome is lost "
                       "(the store refused it %d times), it runs again when "
                       "its lease runs out", o->id, FR_PGS_OUT_TRIES);
                free(o);
                continue;
            }

            *tail = o;
            tail = &o->next;
        }

        if (kept) {
            /* before the ones that came meanwhile */
            *tail = fr_pgs_outs;

            if (fr_pgs_outs == NULL) {
                fr_pgs_outs_last = tail;
            }

            fr_pgs_outs = kept;
        }

        fr_pgs_backoff = 1;
        fr_timer_add(&fr_pgs_timer, 1000);
        return;
    }

    if (res) {
        fr_pgs_refusing = 0;
    }

    if (fr_pg_ok(res)) {
        n = PQntuples(res);

        for (o = batch; o; o = o->next) {
            for (i = 0; i < n; i++) {
                if (strcmp(PQgetvalue(res, i, 0), o->id) == 0) {
                    break;
                }
            }

            if (i == n) {
                /* its lease ran out and another runner has it, or this
                 * was written already before a lost connection */
                fr_log(FR_LOG_WARN, 0, "invocation %s: its outcome is not "
                       "kept, this runner's lease on it had run out",
                       o->id);

            } else if (o->kind == FR_PGS_DONE || o->kind == FR_PGS_FAILED) {
                fr_pgs_count[o->kind == FR_PGS_DONE ? FR_INV_SUCCEEDED
                                                    : FR_INV_FAILED]++;
            }
        }
    }

    fr_pgs_free(batch);

    if (fr_pgs_outs) {
        fr_timer_add(&fr_pgs_timer, 0);
    }
}


static int
fr_pgs_count_outs(fr_pgs_out_t *o)
{
    int  n;

    for (n = 0; o; o = o->next) {
        n++;
    }

    return n;
}


static void
fr_pgs_free(fr_pgs_out_t *o)
{
    fr_pgs_out_t  *next;

    for ( /* void */ ; o; o = next) {
        next = o->next;
        free(o);
    }
}


const uint64_t *
fr_pgs_counts(void)
{
    return fr_pgs_count;
}


/* the finished counted again at the next refresh, which is now */

void
fr_pgs_refresh_all(void)
{
    fr_pgs_finished_due = 1;

    if (fr_pgs_recount) {
        fr_pgs_refresh(fr_pgs_recount);
    }
}


void
fr_pgs_refresh(void (*each)(const char *function, int64_t n, void *data))
{
    int          finished, length;
    const char  *value;

    fr_pgs_recount = each;

    if (fr_pgs_refreshing || !fr_pg_ready()) {
        return;
    }

    finished = fr_pgs_finished_due
               || (fr_pgs_asked
                   && fr_current_msec - fr_pgs_finished_at
                          >= FR_PGS_FINISHED_EVERY);

    value = finished ? "t" : "f";
    length = 1;
    fr_pgs_refresh_sent = fr_pgs_mono();

    fr_pgs_refreshing = (fr_pg_send(fr_pgs_refresh_sql, 1, &value, &length,
                                    NULL, 0, fr_pgs_refreshed,
                                    finished ? fr_pgs_count : NULL)
                         == FR_OK);

    if (fr_pgs_refreshing && finished) {
        fr_pgs_finished_due = 0;
        fr_pgs_asked = 0;
        fr_pgs_finished_at = fr_current_msec;
    }
}


/* data: the counts, when the finished were counted too */

static void
fr_pgs_refreshed(PGresult *res, void *data)
{
    int       i, n, state;
    int64_t   count;

    fr_pgs_refreshing = 0;

    if (!fr_pg_ok(res)) {
        /* the finished not before their time again: a count that
         * outlasts statement_timeout is not sent every 2 s */
        return;
    }

    for (i = 0; i < FR_INV_STATES; i++) {
        if (i < FR_INV_SUCCEEDED || data) {
            fr_pgs_count[i] = 0;
        }
    }

    fr_pgs_recount(NULL, 0, NULL);

    n = PQntuples(res);

    for (i = 0; i < n; i++) {
        state = atoi(PQgetvalue(res, i, 1));
        count = strtoll(PQgetvalue(res, i, 2), NULL, 10);

        if (state == -1) {
            fr_pgs_clock_sample(count);
            continue;
        }

        if (state >= 0 && state < FR_INV_STATES) {
            fr_pgs_count[state] += count;
        }

        if (state == FR_INV_QUEUED) {
            fr_pgs_recount(PQgetvalue(res, i, 0), count, NULL);
        }
    }
}


/*
 * The database's clock against the monotonic one at the middle of the
 * refresh's round trip: the times a fleet's runners write and compare
 * (created, next_at, leases) are of one clock, the database's (a runner
 * started with its clock an hour ahead, set right since, stamped what it
 * accepted an hour late for every other runner: a hostile review). A
 * round trip over a second (queued behind other commands) says too
 * little; one within a second of the clock kept changes nothing.
 */

static void
fr_pgs_clock_sample(int64_t store_now)
{
    int64_t   offset;
    uint64_t  rtt;

    rtt = fr_pgs_mono() - fr_pgs_refresh_sent;

    if (store_now <= 0 || rtt > 1000000) {
        return;
    }

    offset = store_now - (int64_t) (fr_pgs_refresh_sent + rtt / 2);

    if (fr_pgs_offset_known && offset > fr_pgs_offset - 1000000
        && offset < fr_pgs_offset + 1000000)
    {
        return;
    }

    fr_pgs_offset = offset;
    fr_pgs_offset_known = 1;
}


/* 1: the database's clock is known, *offset from the monotonic one */

int
fr_pgs_clock(int64_t *offset)
{
    *offset = fr_pgs_offset;

    return fr_pgs_offset_known;
}


static uint64_t
fr_pgs_mono(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);

    return (uint64_t) ts.tv_sec * 1000000 + (uint64_t) ts.tv_nsec / 1000;
}
