/*
 * Copyright (C) ngx_faas developers
 *
 * The store of asynchronous invocations in PostgreSQL, in the schema
 * "faas": the same rows as the SQLite store's, shared by runners.
 * - Accepted: the round's invocations in one INSERT (one commit), which
 *   notifies the channel faas_invocations; the 202s after it.
 * - Claimed: a lease, row by row FOR UPDATE SKIP LOCKED, so two runners
 *   never take one row; claimed_by names the runner, claimed_until is
 *   the database's clock. A lease that ran out (its runner died, or its
 *   host) is claimed again by whoever looks next, and the attempt is
 *   counted. Outcomes are written only by the lease's holder.
 * - Schedules: a tick is a row of faas.ticks (function, tick); the
 *   runner whose insert made it runs the tick, the others see it there.
 * - Retention: one runner at a time (an advisory lock) purges.
 * Outcomes and the runner's own invocations are kept across a lost
 * connection (FR_PG_KEEP); every statement is written so that sent
 * twice it is sent once.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <sys/random.h>

#include "fr_buf.h"
#include "fr_func.h"
#include "fr_log.h"
#include "fr_pg.h"
#include "fr_pg_uri.h"
#include "fr_store_pg.h"
#include "fr_store_pg_sql.h"
#include "fr_tenant.h"


#define FR_PGS_BATCH_MAX  1000      /* rows of one INSERT */
/* its bytes, far below PostgreSQL's 1 GB a message */
#define FR_PGS_BATCH_BYTES  (32 * 1024 * 1024)
#define FR_PGS_CLAIM_MAX  64        /* of one function, in one look */


/* an accepted invocation waiting for the round's INSERT */
typedef struct {
    char                   id[FR_INV_ID_LEN + 1];
    char                   function[68];
    char                   trigger[16];
    char                   created[24];
    size_t                 params;          /* offsets in fr_pgs_data */
    size_t                 params_len;
    size_t                 body;
    size_t                 body_len;
} fr_pgs_row_t;


static void fr_pgs_up(void);
static void fr_pgs_committed(PGresult *res, void *data);
static void fr_pgs_invoked(PGresult *res, void *data);
static void fr_pgs_claimed(PGresult *res, void *data);
static void fr_pgs_tick_done(PGresult *res, void *data);
static void fr_pgs_purged(PGresult *res, void *data);
static int64_t fr_pgs_int(PGresult *res, int row, int col);


static void          (*fr_pgs_wake)(void);
char                   fr_pgs_me[96];       /* this runner, in claims */
static fr_pgs_row_t   *fr_pgs_rows;
static int             fr_pgs_nrows;
static fr_buf_t        fr_pgs_data;
static size_t          fr_pgs_sending;      /* of batches sent */
static int             fr_pgs_claiming;
static uint64_t        fr_pgs_reclaimed_at;     /* msec, monotonic */
static fr_pgs_claim_pt fr_pgs_each;
static uint64_t        fr_pgs_purge_before;     /* the purge going on */
static long            fr_pgs_purged_total;


/*
 * The runner key "store": "sqlite" (or unset), the embedded store in
 * state_dir, or a PostgreSQL URI (fr_store_pg.c). Anything else is
 * refused without its value: a connection string may hold a password.
 */

int
fr_store_is_pg(const char *store)
{
    return store && (strncmp(store, "postgresql://", 13) == 0
                     || strncmp(store, "postgres://", 11) == 0);
}


int
fr_store_kind(const char *store, int level)
{
    if (store == NULL || *store == '\0' || strcmp(store, "sqlite") == 0) {
        return FR_OK;
    }

    if (fr_store_is_pg(store)) {
        return (fr_pq_load(level) == FR_OK)
               ? fr_pg_uri_ok(store, fr_conf_at("store"), level) : FR_ERROR;
    }

    fr_log(level, 0, "%sstore: not a store this build knows: \"sqlite\" (in "
           "state_dir) or a URI postgresql://... (the value is not shown: "
           "it may hold a password)", fr_conf_at("store"));

    return FR_ERROR;
}


int
fr_pgs_start(const char *uri, void (*wake)(void))
{
    char           host[64];
    unsigned char  rnd[4];
    fr_pg_conf_t   conf;

    if (gethostname(host, sizeof(host)) != 0) {
        strcpy(host, "localhost");
    }

    host[sizeof(host) - 1] = '\0';

    if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t) sizeof(rnd)) {
        memset(rnd, 0, sizeof(rnd));
    }

    /* a runner started again is another: its old claims are leases */
    snprintf(fr_pgs_me, sizeof(fr_pgs_me), "%s/%d/%02x%02x%02x%02x", host,
             (int) getpid(), rnd[0], rnd[1], rnd[2], rnd[3]);

    fr_pgs_wake = wake;
    fr_store_counts_from(fr_pgs_counts(), &fr_pgs_asked);

    /* outcomes and claims commit without waiting for the disk: one lost
     * with the database's crash runs again (at least once); what is
     * acknowledged (the 202s) commits synchronously, statement by
     * statement (FR_PGS_DURABLE) */
    conf.setup = FR_PGS_SETUP;
    conf.channel = "faas_invocations";
    conf.notified = wake;
    conf.up = fr_pgs_up;

    fr_log(FR_LOG_NOTICE, 0, "asynchronous invocations in PostgreSQL, as "
           "runner \"%s\"", fr_pgs_me);

    return fr_pg_start(uri, &conf);
}


static void
fr_pgs_up(void)
{
    /* what changed while it was away: all of it counted again */
    fr_pgs_refresh_all();
    fr_pgs_wake();
}


void
fr_pgs_stop(void)
{
    fr_pg_stop();
    fr_store_counts_from(NULL, NULL);
}


size_t
fr_pgs_waiting(void)
{
    return fr_pg_waiting() + fr_pgs_outcomes();
}


int
fr_pgs_ready(void)
{
    return fr_pg_ready();
}


/* the bytes of bodies and parameters accepted and not yet stored */

size_t
fr_pgs_pending(void)
{
    return fr_pgs_sending + fr_pgs_data.len;
}


int
fr_pgs_enqueue(const fr_inv_t *inv)
{
    fr_pgs_row_t  *row, *rows;

    if (fr_pgs_nrows == FR_PGS_BATCH_MAX
        || (fr_pgs_nrows && fr_pgs_data.len + inv->params_len + inv->body_len
                            > FR_PGS_BATCH_BYTES))
    {
        return FR_AGAIN;
    }

    if (fr_pgs_rows == NULL) {
        rows = malloc(FR_PGS_BATCH_MAX * sizeof(fr_pgs_row_t));
        if (rows == NULL) {
            return FR_ERROR;
        }

        fr_pgs_rows = rows;
    }

    row = &fr_pgs_rows[fr_pgs_nrows];

    memcpy(row->id, inv->id, sizeof(row->id));
    memcpy(row->function, inv->function, sizeof(row->function));
    memcpy(row->trigger, inv->trigger, sizeof(row->trigger));
    snprintf(row->created, sizeof(row->created), "%llu",
             (unsigned long long) inv->created);

    row->params = fr_pgs_data.len;
    row->params_len = inv->params_len;
    row->body = fr_pgs_data.len + inv->params_len;
    row->body_len = inv->body_len;

    if (fr_buf_append(&fr_pgs_data, inv->params, inv->params_len) != FR_OK
        || fr_buf_append(&fr_pgs_data, inv->body, inv->body_len) != FR_OK)
    {
        fr_pgs_data.len = row->params;
        return FR_ERROR;
    }

    fr_pgs_nrows++;

    return FR_OK;
}


/*
 * The round's rows in one INSERT: committed together, the 202s after;
 * the channel is notified at the commit. The requests move to the
 * batch: a request that goes away meanwhile leaves its list itself.
 */

void
fr_pgs_commit(fr_link_t *reqs, fr_pgs_batch_pt done)
{
    int              i, k, n, rc, *lengths, *binary;
    char            *sql, *p, *end, *ids;
    size_t           size;
    const char     **values;
    const u_char    *data;
    fr_pgs_row_t    *row;
    fr_pgs_batch_t  *b;

    n = fr_pgs_nrows;
    rc = FR_ERROR;
    b = malloc(sizeof(fr_pgs_batch_t));
    /* a row: "($1, $2, $3, $4::bytea, $5::bytea, $6::bigint, $6::bigint)",
     * its numbers below 6,001 */
    size = 1024 + (size_t) n * 96;
    sql = malloc(size);
    values = malloc(((size_t) n * 6 + 1) * sizeof(char *));
    lengths = malloc(((size_t) n * 6 + 1) * sizeof(int));
    binary = malloc(((size_t) n * 6 + 1) * sizeof(int));
    /* the ids, for a look at them if the answer is lost */
    ids = malloc((size_t) n * (FR_INV_ID_LEN + 1) + 3);

    if (n == 0) {
        /* each was refused as it came */
        rc = FR_DECLINED;
        goto done;
    }

    if (b == NULL || sql == NULL || values == NULL || lengths == NULL
        || binary == NULL || ids == NULL)
    {
        goto done;
    }

    /*
     * Its lock, held to its commit's end (a standby's wait included): a
     * look at its ids after its answer was lost waits for it. Taken
     * before any row is inserted: the rows are selected from a join
     * with the lock's CTE, which is materialized (its function is
     * volatile), so no row reaches the INSERT before the lock is held;
     * taken after (in the SELECT at the end), a look between the rows
     * and the lock saw some of them uncommitted, not waited for.
     */
    end = sql + size;
    p = sql + snprintf(sql, size, "WITH " FR_PGS_DURABLE ", "
                      "l AS (SELECT pg_advisory_xact_lock("
                      FR_PGS_BATCH_LOCK ", $%d::int)::text AS held), "
                      "i AS (INSERT INTO faas.invocations (id, "
                      "function, trigger, params, body, created, next_at) "
                      "SELECT v.* FROM l, (VALUES ", n * 6 + 1);

    data = fr_buf_pos(&fr_pgs_data);

    for (i = 0; i < n; i++) {
        row = &fr_pgs_rows[i];
        k = i * 6;

        /* ids are FR_INV_ID_LEN hex digits: nothing to quote */
        ids[i * (FR_INV_ID_LEN + 1)] = i ? ',' : '{';
        memcpy(ids + i * (FR_INV_ID_LEN + 1) + 1, row->id, FR_INV_ID_LEN);

        /* the columns' types: a VALUES of a SELECT is not typed by
         * the INSERT's columns */
        p += snprintf(p, end - p, "%s($%d, $%d, $%d, $%d::bytea, "
                      "$%d::bytea, $%d::bigint, $%d::bigint)",
                      i ? ", " : "", k + 1, k + 2, k + 3, k + 4, k + 5,
                      k + 6, k + 6);

        values[k] = row->id;
        values[k + 1] = row->function;
        values[k + 2] = row->trigger;
        values[k + 3] = (const char *) data + row->params;
        values[k + 4] = (const char *) data + row->body;
        values[k + 5] = row->created;

        lengths[k] = strlen(row->id);
        lengths[k + 1] = strlen(row->function);
        lengths[k + 2] = strlen(row->trigger);
        lengths[k + 3] = (int) row->params_len;
        lengths[k + 4] = (int) row->body_len;
        lengths[k + 5] = strlen(row->created);

        binary[k] = binary[k + 1] = binary[k + 2] = binary[k + 5] = 0;
        binary[k + 3] = binary[k + 4] = 1;
    }

    (void) snprintf(p, end - p, ") AS v WHERE l.held IS NOT NULL "
                    "ON CONFLICT (id) DO NOTHING RETURNING 1) "
                    "SELECT pg_notify('faas_invocations', count(*)::text), "
                    "(SELECT on_disk FROM durable) FROM i");

    memcpy(ids + n * (FR_INV_ID_LEN + 1), "}", 2);

    memset(b, 0, sizeof(fr_pgs_batch_t));

    /* of its first id's random digits: another batch's alike is only a
     * wait of the look's */
    snprintf(b->key, sizeof(b->key), "%ld",
             strtol(fr_pgs_rows[0].id + FR_INV_ID_LEN - 7, NULL, 16));
    values[n * 6] = b->key;
    lengths[n * 6] = strlen(b->key);
    binary[n * 6] = 0;

    fr_list_init(&b->reqs);
    b->done = done;
    b->bytes = fr_pgs_data.len;
    b->sent = fr_current_msec;
    b->ids = ids;

    rc = fr_pg_send(sql, n * 6 + 1, values, lengths, binary, FR_PG_FIRST,
                    fr_pgs_committed, b);

    if (rc == FR_OK) {
        /* libpq holds a copy until the server has it */
        fr_pgs_sending += b->bytes;
    }

done:

    fr_pgs_nrows = 0;
    fr_pgs_data.len = 0;
    fr_buf_free(&fr_pgs_data);
    free(sql);
    free(values);
    free(lengths);
    free(binary);

    if (rc != FR_OK) {
        free(b);
        free(ids);
        done(reqs, rc == FR_DECLINED ? FR_OK : FR_ERROR, NULL);
        return;
    }

    /* the requests go with the batch */
    if (!fr_list_empty(reqs)) {
        b->reqs.next = reqs->next;
        b->reqs.prev = reqs->prev;
        b->reqs.next->prev = &b->reqs;
        b->reqs.prev->next = &b->reqs;
        fr_list_init(reqs);
    }
}


static void
fr_pgs_committed(PGresult *res, void *data)
{
    fr_pgs_batch_t  *b = data;

    fr_pgs_sending -= b->bytes;

    if (res == NULL && fr_pg_in_doubt()) {
        /* committed or not: the store is asked when it is back */
        fr_pgs_doubt(b);
        return;
    }

    b->done(&b->reqs, fr_pg_ok(res) ? FR_OK : FR_ERROR, NULL);
    free(b->ids);
    free(b);
}


/*
 * One the runner makes (a destination, a schedule's tick): kept across
 * a lost connection, its id making a second insert nothing. A tick is
 * inserted into faas.ticks first; only the runner that inserted it
 * makes its invocation, and not while the last tick's is not done.
 */

int
fr_pgs_invoke(const fr_inv_t *inv, int64_t tick)
{
    char         created[24], stick[24];
    const char  *values[8];
    int          lengths[8], binary[8] = { 0, 0, 0, 1, 1, 0, 0, 0 };
    int          i;
    char        *note;

    snprintf(created, sizeof(created), "%llu",
             (unsigned long long) inv->created);
    snprintf(stick, sizeof(stick), "%lld", (long long) tick);

    values[0] = inv->id;
    values[1] = inv->function;
    values[2] = inv->trigger;
    values[3] = (const char *) inv->params;
    values[4] = inv->body ? (const char *) inv->body : "";
    values[5] = created;
    values[6] = stick;
    values[7] = fr_pgs_me;

    for (i = 0; i < 8; i++) {
        lengths[i] = binary[i] ? 0 : (int) strlen(values[i]);
    }

    lengths[3] = (int) inv->params_len;
    lengths[4] = (int) inv->body_len;

    /* what to say of it when it is in: the function and the id */
    note = malloc(sizeof(inv->function) + sizeof(inv->id) + 32);
    if (note == NULL) {
        return FR_ERROR;
    }

    sprintf(note, "%s %s %lld", inv->id, inv->function, (long long) tick);

    if (fr_pg_send(fr_pgs_invoke_sql, 8, values, lengths, binary,
                   FR_PG_KEEP, fr_pgs_invoked, note) != FR_OK)
    {
        free(note);
        return FR_ERROR;
    }

    return FR_OK;
}


static void
fr_pgs_invoked(PGresult *res, void *data)
{
    char       *note = data;
    char        id[FR_INV_ID_LEN + 1], function[68];
    long long   tick;

    if (sscanf(note, "%32s %67s %lld", id, function, &tick) != 3
        || !fr_pg_ok(res) || PQntuples(res) != 1)
    {
        free(note);
        return;
    }

    if (tick == 0) {
        /* void */

    } else if (PQgetvalue(res, 0, 0)[0] != 't') {
        fr_log(FR_LOG_INFO, 0, "schedule of \"%s\": tick %lld is another "
               "runner's", function, tick);

    } else if (PQgetvalue(res, 0, 1)[0] == 't') {
        fr_log(FR_LOG_WARN, 0, "schedule of \"%s\": tick %lld skipped, the "
               "last one is not done", function, tick);

    } else {
        fr_log(FR_LOG_INFO, 0, "schedule of \"%s\": tick %lld, invocation "
               "%s", function, tick, id);
    }

    free(note);
}


/* the last tick of a schedule, for what was missed while down */

int
fr_pgs_last_tick(const char *function, void (*done)(const char *f,
    int64_t last))
{
    const char  *values[1];
    int          lengths[1];
    char        *name;

    name = malloc(sizeof(done) + strlen(function) + 1);
    if (name == NULL) {
        return FR_ERROR;
    }

    memcpy(name, &done, sizeof(done));
    strcpy(name + sizeof(done), function);

    values[0] = function;
    lengths[0] = strlen(function);

    if (fr_pg_send("SELECT max(last_tick) FROM faas.schedules "
                   "WHERE function = $1", 1, values, lengths, NULL, 0,
                   fr_pgs_tick_done, name) != FR_OK)
    {
        free(name);
        return FR_ERROR;
    }

    return FR_OK;
}


static void
fr_pgs_tick_done(PGresult *res, void *data)
{
    char   *name = data;
    void  (*done)(const char *f, int64_t last);

    memcpy(&done, name, sizeof(done));

    /* lost: asked again at the next look */
    done(name + sizeof(done),
         !fr_pg_ok(res) ? -1
         : PQntuples(res) && !PQgetisnull(res, 0, 0)
           ? strtoll(PQgetvalue(res, 0, 0), NULL, 10) : 0);

    free(name);
}


void
fr_pgs_set_last_tick(const char *function, int64_t tick)
{
    char         t[24];
    const char  *values[2];
    int          lengths[2];

    snprintf(t, sizeof(t), "%lld", (long long) tick);

    values[0] = function;
    values[1] = t;
    lengths[0] = strlen(function);
    lengths[1] = strlen(t);

    (void) fr_pg_send("INSERT INTO faas.schedules (function, last_tick) "
                      "VALUES ($1, $2::bigint) ON CONFLICT (function) DO "
                      "UPDATE SET last_tick = GREATEST("
                      "faas.schedules.last_tick, EXCLUDED.last_tick)",
                      2, values, lengths, NULL, FR_PG_KEEP, NULL, NULL);
}


/*
 * One look: the due invocations of each function with room here (no
 * synchronous request of its own waiting, below max_instances) are
 * claimed in one statement, each with its function's lease (twice its
 * longest wait and run). One look at a time.
 */

int
fr_pgs_claim(uint64_t now, fr_pgs_claim_pt each)
{
    int           n, room, rooms_sum, rc, host, lengths[6];
    size_t        i, nf;
    char          snow[24], ssum[16];
    fr_buf_t      names, rooms, leases;
    fr_link_t    *l, *start;
    fr_func_t    *f;
    fr_tenant_t  *t;
    const char   *values[6];
    const char   *sql;
    char          num[32];

    if (fr_pgs_claiming || !fr_pg_ready()) {
        return FR_AGAIN;
    }

    fr_pgs_each = each;

    /* every second: leases that ran out, then (woken) what is due */
    sql = fr_pgs_claim_sql;

    if (fr_current_msec - fr_pgs_reclaimed_at >= 1000) {
        fr_pgs_reclaimed_at = fr_current_msec;
        sql = fr_pgs_reclaim_sql;
    }

    memset(&names, 0, sizeof(fr_buf_t));
    memset(&rooms, 0, sizeof(fr_buf_t));
    memset(&leases, 0, sizeof(fr_buf_t));

    rc = FR_OK;
    n = 0;
    rooms_sum = 0;

    (void) fr_buf_append(&names, "{", 1);
    (void) fr_buf_append(&rooms, "{", 1);
    (void) fr_buf_append(&leases, "{", 1);

    /* what the host and each tenant may still have on its way */
    host = fr_tenant_call_room(NULL);

    for (l = fr_list_first(&fr_runner.tenants); l != &fr_runner.tenants;
         l = l->next)
    {
        t = fr_list_data(l, fr_tenant_t, link);
        t->claim_room = fr_tenant_call_room(t);
    }

    /* the room first for those with some queued (as far as the fleet's
     * counts, taken every 2 s, know), then what is left for the others */
    start = fr_tenant_funcs_turn(&nf);

    for (i = 0, l = start; i < 2 * nf; i++, l = fr_tenant_func_next(l)) {
        f = fr_list_data(l, fr_func_t, link);

        if ((f->async_queued > 0) != (i < nf)) {
            continue;
        }

        t = f->owner;
        room = f->conf.max_instances - f->nasync;
        room = room < FR_PGS_CLAIM_MAX ? room : FR_PGS_CLAIM_MAX;
        room = room < host ? room : host;
        room = (t == NULL || room < t->claim_room) ? room : t->claim_room;

        if (f->removed || f->nqueued > 0 || room <= 0) {
            continue;
        }

        host -= room;

        if (t != NULL) {
            t->claim_room -= room;
        }

        /* names are [a-z0-9_-], quoted all the same: "null" is one */
        rc |= fr_buf_append(&names, n ? ",\"" : "\"", n ? 2 : 1);
        rc |= fr_buf_append(&names, f->name, strlen(f->name));
        rc |= fr_buf_append(&names, "\"", 1);

        snprintf(num, sizeof(num), "%s%d", n ? "," : "", room);
        rc |= fr_buf_append(&rooms, num, strlen(num));
        rooms_sum += room;

        snprintf(num, sizeof(num), "%s%lld", n ? "," : "",
                 (long long) (f->conf.timeout + f->conf.queue_timeout) * 2);
        rc |= fr_buf_append(&leases, num, strlen(num));

        n++;
    }

    rc |= fr_buf_append(&names, "}", 1);
    rc |= fr_buf_append(&rooms, "}", 1);
    rc |= fr_buf_append(&leases, "}", 1);

    snprintf(snow, sizeof(snow), "%llu", (unsigned long long) now);

    values[0] = (const char *) fr_buf_pos(&names);
    values[1] = (const char *) fr_buf_pos(&rooms);
    values[2] = (const char *) fr_buf_pos(&leases);
    values[3] = snow;
    values[4] = fr_pgs_me;
    snprintf(ssum, sizeof(ssum), "%d", rooms_sum);
    values[5] = ssum;

    lengths[0] = (int) names.len;
    lengths[1] = (int) rooms.len;
    lengths[2] = (int) leases.len;
    lengths[3] = strlen(snow);
    lengths[4] = strlen(fr_pgs_me);
    lengths[5] = strlen(ssum);

    if (n == 0) {
        rc = FR_DECLINED;

    } else if (rc == FR_OK) {
        rc = fr_pg_send(sql, 6, values, lengths, NULL, FR_PG_BINARY,
                        fr_pgs_claimed, (void *) sql);
        fr_pgs_claiming = (rc == FR_OK);
    }

    fr_buf_free(&names);
    fr_buf_free(&rooms);
    fr_buf_free(&leases);

    return rc;
}


static void
fr_pgs_claimed(PGresult *res, void *data)
{
    int       i, n;
    fr_inv_t  inv;

    fr_pgs_claiming = 0;

    if (!fr_pg_ok(res)) {
        return;
    }

    n = PQntuples(res);

    for (i = 0; i < n; i++) {
        fr_pgs_row(res, i, &inv);

        if (fr_pgs_int(res, i, 14) == FR_INV_RUNNING
            && strcmp(PQgetvalue(res, i, 15), fr_pgs_me) != 0)
        {
            fr_log(FR_LOG_WARN, 0, "invocation %s of \"%s\": the lease of "
                   "runner \"%s\" ran out, claimed again (attempt %d)",
                   inv.id, inv.function, PQgetvalue(res, i, 15),
                   inv.attempts);
        }

        fr_pgs_each(&inv, (uint64_t) fr_pgs_int(res, i, 16));
    }

    if (n || data == fr_pgs_reclaim_sql) {
        /* more may be due than one look took */
        fr_pgs_wake();
    }
}


void
fr_pgs_purge(uint64_t before)
{
    char         b[24], t[24];
    const char  *values[2];
    int          lengths[2];

    fr_pgs_purge_before = before;

    snprintf(b, sizeof(b), "%llu", (unsigned long long) before);
    /* ticks are seconds */
    snprintf(t, sizeof(t), "%llu", (unsigned long long) before / 1000000);

    values[0] = b;
    values[1] = t;
    lengths[0] = strlen(b);
    lengths[1] = strlen(t);

    (void) fr_pg_send(fr_pgs_purge_sql, 2, values, lengths, NULL, 0,
                      fr_pgs_purged, NULL);
}


/* a whole batch went: the next at once, until fewer go */

static void
fr_pgs_purged(PGresult *res, void *data)
{
    long  n;

    (void) data;

    if (!fr_pg_ok(res) || PQntuples(res) != 1) {
        return;
    }

    n = strtol(PQgetvalue(res, 0, 0), NULL, 10);
    fr_pgs_purged_total += n;

    if (n >= FR_PGS_PURGE_MAX) {
        fr_pgs_purge(fr_pgs_purge_before);
        return;
    }

    if (fr_pgs_purged_total) {
        fr_log(FR_LOG_INFO, 0, "purged %ld finished invocation(s) past "
               "async_retention", fr_pgs_purged_total);
        fr_pgs_purged_total = 0;

        /* once, after the last batch: a count is a read of them all */
        fr_pgs_refresh_all();
    }
}


/* a row of FR_PGS_COLUMNS, in binary: valid while res is */

void
fr_pgs_row(PGresult *res, int row, fr_inv_t *inv)
{
    memset(inv, 0, sizeof(fr_inv_t));

    snprintf(inv->id, sizeof(inv->id), "%s", PQgetvalue(res, row, 0));
    snprintf(inv->function, sizeof(inv->function), "%s",
             PQgetvalue(res, row, 1));
    snprintf(inv->trigger, sizeof(inv->trigger), "%s",
             PQgetvalue(res, row, 2));

    inv->state = (fr_inv_state_e) fr_pgs_int(res, row, 3);
    inv->attempts = (int) fr_pgs_int(res, row, 4);
    inv->status = (int) fr_pgs_int(res, row, 5);
    inv->created = (uint64_t) fr_pgs_int(res, row, 6);
    inv->started = (uint64_t) fr_pgs_int(res, row, 7);
    inv->finished = (uint64_t) fr_pgs_int(res, row, 8);
    inv->next_at = (uint64_t) fr_pgs_int(res, row, 9);

    inv->params = (const u_char *) PQgetvalue(res, row, 10);
    inv->params_len = PQgetlength(res, row, 10);
    inv->body = (const u_char *) PQgetvalue(res, row, 11);
    inv->body_len = PQgetlength(res, row, 11);

    if (!PQgetisnull(res, row, 12)) {
        inv->response = (const u_char *) PQgetvalue(res, row, 12);
        inv->response_len = PQgetlength(res, row, 12);
    }

    if (!PQgetisnull(res, row, 13)) {
        inv->error = PQgetvalue(res, row, 13);
    }
}


/* an integer column in binary: network order, 2, 4 or 8 bytes */

static int64_t
fr_pgs_int(PGresult *res, int row, int col)
{
    int                   i, len;
    uint64_t              v;
    const unsigned char  *p;

    if (PQgetisnull(res, row, col)) {
        return 0;
    }

    len = PQgetlength(res, row, col);
    p = (const unsigned char *) PQgetvalue(res, row, col);

    if (len != 2 && len != 4 && len != 8) {
        return 0;
    }

    v = (p[0] & 0x80) ? UINT64_MAX : 0;

    for (i = 0; i < len; i++) {
        v = (v << 8) | p[i];
    }

    return (int64_t) v;
}
