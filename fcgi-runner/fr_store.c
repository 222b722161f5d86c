/*
 * Copyright (C) ngx_faas developers
 *
 * The store of asynchronous invocations in SQLite, under state_dir:
 * write-ahead logging, synchronous = FULL, so that a batch committed is
 * on disk; one table, an invocation per row.
 * A claim is a lease: a running row past claimed_until is claimed again.
 * An outcome (ack, retry, fail) never goes into an open batch, whose
 * failed commit would take it along; one not written (a full disk) is
 * kept and written again (fr_store_flush) before anything is claimed.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "fr_log.h"
#include "fr_store.h"
#include "fr_store_file.h"
#include "fr_store_sql.h"


typedef struct fr_store_later_s  fr_store_later_t;

/* an outcome not written yet */
struct fr_store_later_s {
    fr_store_later_t      *next;
    int                    sql;             /* FR_SQL_ACK, _RETRY, _FAIL */
    int                    status;
    uint64_t               at;              /* finished, or next_at */
    char                   id[FR_INV_ID_LEN + 1];
    char                   error[64];
    size_t                 len;
    u_char                 response[];
};


static int fr_store_open_db(int readonly);
static int fr_store_exec(const char *sql, int level);
static int fr_store_level(int level);
static int fr_store_step_done(sqlite3_stmt *st, const char *what);
static int64_t fr_store_one(sqlite3_stmt *st, int64_t none);
static void fr_store_row(sqlite3_stmt *st, fr_inv_t *inv);
static int fr_store_rows(sqlite3_stmt *st, fr_store_each_pt each,
    void *data);
static int fr_store_outcome(int sql, const char *id, int status,
    const char *error, uint64_t at, const u_char *response, size_t len);
static int fr_store_write(int sql, const char *id, int status,
    const char *error, uint64_t at, const u_char *response, size_t len);
static uint64_t fr_store_now(void);
static int fr_store_keep(fr_inv_t *inv);


static sqlite3       *fr_db;
static sqlite3_stmt  *fr_sql[FR_SQL_MAX];
static char           fr_db_path[4096];

static int                 fr_batch_open;
static u_char             *fr_claimed;
static const uint64_t     *fr_store_shared;       /* and when read: */
static int                *fr_store_shared_asked;
static int64_t             fr_store_version;   /* the counts' data_version */
static fr_store_later_t   *fr_later;
static fr_store_later_t  **fr_later_last = &fr_later;


/* dir/async.db, made if not there (unless readonly); one that cannot be
 * opened or checked stops the runner, rather than lose what it holds */

int
fr_store_open(const char *dir, int readonly)
{
    int  found;

    if (fr_db) {
        return FR_OK;
    }

    snprintf(fr_db_path, sizeof(fr_db_path), "%s/async.db", dir);

    found = fr_store_found(dir, fr_db_path, readonly);

    if (found == FR_ERROR || fr_store_open_db(readonly) != FR_OK) {
        if (found == FR_DECLINED) {
            /* made here, left as SQLite made it (a full disk): none */
            fr_store_unmade(fr_db_path);
        }

        return FR_ERROR;
    }

    return FR_OK;
}


static int
fr_store_open_db(int readonly)
{
    int            i, rc, flags;
    size_t         n;
    u_char         why[4 * 200 + 1];
    const char    *found;
    sqlite3_stmt  *check;

    flags = readonly ? SQLITE_OPEN_READONLY
                     : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;

    rc = sqlite3_open_v2(fr_db_path, &fr_db, flags | SQLITE_OPEN_NOMUTEX,
                         NULL);

    if (rc != SQLITE_OK) {
        fr_log(FR_LOG_EMERG, 0, "cannot open the store \"%s\": %s",
               fr_db_path, fr_db ? sqlite3_errmsg(fr_db)
                                 : sqlite3_errstr(rc));
        fr_store_close();
        return FR_ERROR;
    }

    (void) sqlite3_busy_timeout(fr_db, 2000);

    if (!readonly
        && (fr_store_exec("PRAGMA journal_mode = WAL", FR_LOG_EMERG) != FR_OK
            || fr_store_exec("PRAGMA synchronous = FULL", FR_LOG_EMERG) != FR_OK
            || fr_store_exec(FR_STORE_SCHEMA, FR_LOG_EMERG) != FR_OK))
    {
        fr_store_close();
        return FR_ERROR;
    }

    /* an old runner's writes (an upgrade) may hold them back: slower */
    (void) (readonly || fr_store_exec(FR_STORE_INDEXES, FR_LOG_WARN));

    /* a damaged store is found now, not by the first invocation: said by
     * what the check found, never by its step's "another row available" */
    rc = sqlite3_prepare_v2(fr_db, "PRAGMA quick_check", -1, &check, NULL);
    rc = (rc == SQLITE_OK) ? sqlite3_step(check) : rc;
    found = (rc == SQLITE_ROW) ? (const char *) sqlite3_column_text(check, 0)
                               : NULL;

    if (found == NULL || strcmp(found, "ok") != 0) {
        found = found ? found : sqlite3_errmsg(fr_db);
        n = strlen(found);
        why[fr_log_escape(why, (u_char *) found, n < 200 ? n : 200)] = '\0';
        fr_log(FR_LOG_EMERG, 0, "the store \"%s\" is damaged: %s",
               fr_db_path, why);
        sqlite3_finalize(check);
        fr_store_close();
        return FR_ERROR;
    }

    sqlite3_finalize(check);

    if (fr_store_exec(FR_STORE_COUNTS_SCHEMA, FR_LOG_EMERG) != FR_OK) {
        fr_store_close();
        return FR_ERROR;
    }

    for (i = 0; i < FR_SQL_MAX; i++) {
        if (sqlite3_prepare_v3(fr_db, fr_sql_text[i], -1,
                               SQLITE_PREPARE_PERSISTENT, &fr_sql[i], NULL)
            != SQLITE_OK)
        {
            fr_log(FR_LOG_EMERG, 0, "the store \"%s\": %s", fr_db_path,
                   sqlite3_errmsg(fr_db));
            fr_store_close();
            return FR_ERROR;
        }
    }

    /* counted once, then kept by its triggers */
    fr_store_version = fr_store_one(fr_sql[FR_SQL_VERSION], -1);

    if (fr_store_step_done(fr_sql[FR_SQL_RECOUNT], "count") != FR_OK) {
        fr_store_close();
        return FR_ERROR;
    }

    return FR_OK;
}


void
fr_store_close(void)
{
    int  i;

    for (i = 0; i < FR_SQL_MAX; i++) {
        sqlite3_finalize(fr_sql[i]);
        fr_sql[i] = NULL;
    }

    if (fr_db) {
        sqlite3_close(fr_db);
        fr_db = NULL;
    }

    free(fr_claimed);
    fr_claimed = NULL;
}


static int
fr_store_exec(const char *sql, int level)
{
    char  *err;

    if (sqlite3_exec(fr_db, sql, NULL, NULL, &err) != SQLITE_OK) {
        fr_log(fr_store_level(level), 0, "the store \"%s\" cannot be used: "
               "%s", fr_db_path, err ? err : sqlite3_errmsg(fr_db));
        sqlite3_free(err);
        return FR_ERROR;
    }

    return FR_OK;
}


/* a full disk is the host's trouble, an error; anything else an alert */

static int
fr_store_level(int level)
{
    int  rc;

    rc = sqlite3_errcode(fr_db) & 0xff;

    if ((rc == SQLITE_FULL || rc == SQLITE_IOERR) && level != FR_LOG_EMERG) {
        return FR_LOG_ERR;
    }

    return level;
}


int
fr_store_begin(void)
{
    if (fr_store_exec("BEGIN IMMEDIATE", FR_LOG_ALERT) != FR_OK) {
        return FR_ERROR;
    }

    fr_batch_open = 1;

    return FR_OK;
}


/* FR_ERROR on a commit that failed (a full disk): nothing of it is kept;
 * either way the outcomes that waited for the batch are written now */

int
fr_store_commit(void)
{
    int  rc;

    rc = FR_OK;

    if (fr_store_exec("COMMIT", FR_LOG_ALERT) != FR_OK) {
        fr_store_rollback();
        rc = FR_ERROR;
    }

    fr_batch_open = 0;
    (void) fr_store_flush();

    return rc;
}


void
fr_store_rollback(void)
{
    if (!sqlite3_get_autocommit(fr_db)) {
        (void) sqlite3_exec(fr_db, "ROLLBACK", NULL, NULL, NULL);
    }

    fr_batch_open = 0;
}


int
fr_store_enqueue(fr_inv_t *inv)
{
    sqlite3_stmt  *st;

    if (fr_batch_open && sqlite3_get_autocommit(fr_db)) {
        /* SQLite rolled the batch back on an error (a full disk): what
         * follows may not be stored on its own, outside it */
        return FR_ERROR;
    }

    st = fr_sql[FR_SQL_ENQUEUE];

    sqlite3_bind_text(st, 1, inv->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, inv->function, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, inv->trigger, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 4, inv->params, (int) inv->params_len,
                      SQLITE_STATIC);
    sqlite3_bind_blob(st, 5, inv->body ? (const void *) inv->body : "",
                      (int) inv->body_len, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, (sqlite3_int64) inv->created);

    return fr_store_step_done(st, "enqueue");
}


static int
fr_store_step_done(sqlite3_stmt *st, const char *what)
{
    int  rc;

    rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);

    if (rc != SQLITE_DONE) {
        fr_log(fr_store_level(FR_LOG_ALERT), 0, "the store \"%s\": %s: %s",
               fr_db_path, what, sqlite3_errmsg(fr_db));
        return FR_ERROR;
    }

    return FR_OK;
}


/* the first column of the first row, or none */

static int64_t
fr_store_one(sqlite3_stmt *st, int64_t none)
{
    int64_t  v;

    v = (sqlite3_step(st) == SQLITE_ROW) ? sqlite3_column_int64(st, 0) : none;

    sqlite3_reset(st);
    sqlite3_clear_bindings(st);

    return v;
}


int
fr_store_due(fr_store_each_pt each, void *data)
{
    fr_inv_t       inv;
    sqlite3_stmt  *st;

    st = fr_sql[FR_SQL_DUE];
    memset(&inv, 0, sizeof(inv));

    while (!fr_batch_open && fr_later == NULL) {
        sqlite3_bind_text(st, 1, inv.function, -1, SQLITE_TRANSIENT);

        /* (a name longer than any the runner writes ends the list) */
        if (sqlite3_step(st) != SQLITE_ROW
            || sqlite3_column_bytes(st, 0) >= (int) sizeof(inv.function)
            || strcmp((const char *) sqlite3_column_text(st, 0),
                      inv.function) <= 0)
        {
            sqlite3_reset(st);
            return FR_OK;
        }

        snprintf(inv.function, sizeof(inv.function), "%s",
                 (const char *) sqlite3_column_text(st, 0));
        sqlite3_reset(st);

        if (each(&inv, data) != FR_OK) {
            return FR_AGAIN;
        }
    }

    return FR_AGAIN;
}


int64_t
fr_store_next_due(void)
{
    return fr_store_one(fr_sql[FR_SQL_NEXT_DUE], -1);
}


int
fr_store_claim(const char *function, uint64_t now, uint64_t visible_for,
    fr_inv_t *inv)
{
    int            rc;
    sqlite3_stmt  *st;

    st = fr_sql[FR_SQL_CLAIM];

    /* a statement left stepped by the last claim lets go of its row */
    sqlite3_reset(st);

    /* nothing is claimed into a batch, nor past an outcome not written */
    if (fr_batch_open || fr_store_flush() != FR_OK) {
        return FR_AGAIN;
    }

    sqlite3_bind_text(st, 1, function, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (sqlite3_int64) now);
    sqlite3_bind_int64(st, 3, (sqlite3_int64) now);
    sqlite3_bind_int64(st, 4, (sqlite3_int64) (now + visible_for));

    rc = sqlite3_step(st);

    if (rc != SQLITE_ROW) {
        sqlite3_reset(st);
        return rc == SQLITE_DONE ? FR_DECLINED : FR_ERROR;
    }

    fr_store_row(st, inv);

    /* the claim is made as the statement ends (its commit): one that
     * failed is none; the request is copied out first */
    if (fr_store_keep(inv) != FR_OK) {
        sqlite3_reset(st);
        return FR_ERROR;
    }

    rc = sqlite3_step(st);
    sqlite3_reset(st);

    if (rc != SQLITE_DONE) {
        fr_log(fr_store_level(FR_LOG_ALERT), 0, "the store \"%s\": claim: "
               "%s", fr_db_path, sqlite3_errmsg(fr_db));
        return FR_ERROR;
    }

    return FR_OK;
}


/* a claimed row's request, copied out of the statement */

static int
fr_store_keep(fr_inv_t *inv)
{
    u_char  *p;

    p = realloc(fr_claimed, inv->params_len + inv->body_len + 1);
    if (p == NULL) {
        fr_log(FR_LOG_ALERT, errno, "cannot claim invocation %s", inv->id);
        return FR_ERROR;
    }

    fr_claimed = p;

    if (inv->params_len) {
        memcpy(p, inv->params, inv->params_len);
    }

    if (inv->body_len) {
        memcpy(p + inv->params_len, inv->body, inv->body_len);
    }

    inv->params = p;
    inv->body = p + inv->params_len;
    inv->response = NULL;
    inv->response_len = 0;
    inv->error = NULL;

    return FR_OK;
}


static void
fr_store_row(sqlite3_stmt *st, fr_inv_t *inv)
{
    memset(inv, 0, sizeof(fr_inv_t));

    snprintf(inv->id, sizeof(inv->id), "%s",
             (const char *) sqlite3_column_text(st, 0));
    snprintf(inv->function, sizeof(inv->function), "%s",
             (const char *) sqlite3_column_text(st, 1));
    snprintf(inv->trigger, sizeof(inv->trigger), "%s",
             (const char *) sqlite3_column_text(st, 2));

    inv->state = (fr_inv_state_e) sqlite3_column_int(st, 3);
    inv->attempts = sqlite3_column_int(st, 4);
    inv->status = sqlite3_column_int(st, 5);
    inv->created = (uint64_t) sqlite3_column_int64(st, 6);
    inv->started = (uint64_t) sqlite3_column_int64(st, 7);
    inv->finished = (uint64_t) sqlite3_column_int64(st, 8);
    inv->next_at = (uint64_t) sqlite3_column_int64(st, 9);
    inv->params = sqlite3_column_blob(st, 10);
    inv->params_len = (size_t) sqlite3_column_bytes(st, 10);
    inv->body = sqlite3_column_blob(st, 11);
    inv->body_len = (size_t) sqlite3_column_bytes(st, 11);
    inv->response = sqlite3_column_blob(st, 12);
    inv->response_len = (size_t) sqlite3_column_bytes(st, 12);
    inv->error = (const char *) sqlite3_column_text(st, 13);
}


/* the claimed row is copied: kept for the API, the claim has ended */

void
fr_store_claimed(void)
{
    sqlite3_reset(fr_sql[FR_SQL_CLAIM]);
}


int
fr_store_ack(const char *id, int status, const u_char *response, size_t len)
{
    return fr_store_outcome(FR_SQL_ACK, id, status, NULL, fr_store_now(),
                            response, len);
}


/* another try at retry_at (usec, wall clock), or failed for good (0) */

int
fr_store_fail(const char *id, int status, const char *error,
    uint64_t retry_at, const u_char *response, size_t len)
{
    return fr_store_outcome(retry_at ? FR_SQL_RETRY : FR_SQL_FAIL, id,
                            status, error, retry_at ? retry_at
                                                    : fr_store_now(),
                            retry_at ? NULL : response, retry_at ? 0 : len);
}


/* an outcome is written at once if it can be: no batch open, none
 * waiting before it; else it is kept (FR_AGAIN) for fr_store_flush() */

static int
fr_store_outcome(int sql, const char *id, int status, const char *error,
    uint64_t at, const u_char *response, size_t len)
{
    fr_store_later_t  *l;

    sqlite3_reset(fr_sql[FR_SQL_CLAIM]);

    if (!fr_batch_open && fr_later == NULL
        && fr_store_write(sql, id, status, error, at, response, len)
           == FR_OK)
    {
        return FR_OK;
    }

    l = calloc(1, sizeof(fr_store_later_t) + len);
    if (l == NULL) {
        fr_log(FR_LOG_ALERT, errno, "the outcome of invocation %s is lost",
               id);
        return FR_ERROR;
    }

    l->sql = sql;
    l->status = status;
    l->at = at;
    l->len = len;
    snprintf(l->id, sizeof(l->id), "%s", id);
    snprintf(l->error, sizeof(l->error), "%s", error ? error : "");

    if (len) {
        memcpy(l->response, response, len);
    }

    *fr_later_last = l;
    fr_later_last = &l->next;

    fr_log(fr_batch_open ? FR_LOG_DEBUG : FR_LOG_ERR, 0, "the outcome of "
           "invocation %s is kept to be written later", id);

    return FR_AGAIN;
}


static int
fr_store_write(int sql, const char *id, int status, const char *error,
    uint64_t at, const u_char *response, size_t len)
{
    sqlite3_stmt  *st;

    st = fr_sql[sql];
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, status);

    if (sql == FR_SQL_ACK) {
        sqlite3_bind_blob(st, 3, response ? (const void *) response : "",
                          (int) len, SQLITE_STATIC);

    } else {
        sqlite3_bind_text(st, 3, error, -1, SQLITE_STATIC);
    }

    if (sql == FR_SQL_FAIL) {
        /* what its last attempt answered, if it answered */
        sqlite3_bind_blob(st, 5, response ? (const void *) response : "",
                          (int) len, SQLITE_STATIC);
    }

    sqlite3_bind_int64(st, 4, (sqlite3_int64) at);

    return fr_store_step_done(st, sql == FR_SQL_ACK ? "ack"
                                  : sql == FR_SQL_RETRY ? "retry" : "fail");
}


/* the outcomes kept, written in one transaction, in order; FR_OK when
 * none is left; not while a batch is open: its commit calls this */

int
fr_store_flush(void)
{
    fr_store_later_t  *l;

    if (fr_later == NULL) {
        return FR_OK;
    }

    if (fr_db == NULL || fr_batch_open
        || fr_store_exec("BEGIN IMMEDIATE", FR_LOG_ALERT) != FR_OK)
    {
        return FR_AGAIN;
    }

    for (l = fr_later; l; l = l->next) {
        if (fr_store_write(l->sql, l->id, l->status, l->error, l->at,
                           l->response, l->len) != FR_OK)
        {
            fr_store_rollback();
            return FR_ERROR;
        }
    }

    if (fr_store_exec("COMMIT", FR_LOG_ALERT) != FR_OK) {
        fr_store_rollback();
        return FR_ERROR;
    }

    while (fr_later) {
        l = fr_later;
        fr_later = l->next;

        fr_log(FR_LOG_INFO, 0, "the outcome of invocation %s is written",
               l->id);
        free(l);
    }

    fr_later_last = &fr_later;

    return FR_OK;
}


static uint64_t
fr_store_now(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_REALTIME, &ts);

    return (uint64_t) ts.tv_sec * 1000000 + (uint64_t) ts.tv_nsec / 1000;
}


/* a claim given back untried (throttled: no room for it yet): queued
 * again for retry_at, and the claim is not counted as an attempt */

int
fr_store_release(const char *id, uint64_t retry_at)
{
    sqlite3_stmt  *st;

    sqlite3_reset(fr_sql[FR_SQL_CLAIM]);

    st = fr_sql[FR_SQL_RELEASE];
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (sqlite3_int64) retry_at);

    return fr_store_step_done(st, "release");
}


/* queued ones due after latest are due at now; how many */

int
fr_store_undelay(uint64_t now, uint64_t latest)
{
    sqlite3_stmt  *st;

    st = fr_sql[FR_SQL_UNDELAY];
    sqlite3_bind_int64(st, 1, (sqlite3_int64) now);
    sqlite3_bind_int64(st, 2, (sqlite3_int64) latest);

    return (fr_store_step_done(st, "undelay") == FR_OK)
           ? sqlite3_changes(fr_db) : -1;
}


/* how many of each function are queued: each(function, n, data) */

int
fr_store_queued(fr_store_count_pt each, void *data)
{
    int            rc;
    sqlite3_stmt  *st;

    st = fr_sql[FR_SQL_QUEUED];

    if (st == NULL) {
        return FR_DECLINED;
    }

    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        each((const char *) sqlite3_column_text(st, 0),
             sqlite3_column_int64(st, 1), data);
    }

    sqlite3_reset(st);

    return rc == SQLITE_DONE ? FR_OK : FR_ERROR;
}


/* at start: what was running when the runner stopped runs again */

int
fr_store_requeue_running(void)
{
    return (fr_store_step_done(fr_sql[FR_SQL_REQUEUE], "requeue") == FR_OK)
           ? sqlite3_changes(fr_db) : -1;
}


/* results older than async_retention go */

int
fr_store_purge(uint64_t before)
{
    sqlite3_bind_int64(fr_sql[FR_SQL_PURGE], 1, (sqlite3_int64) before);

    return (fr_store_step_done(fr_sql[FR_SQL_PURGE], "purge") == FR_OK)
           ? sqlite3_changes(fr_db) : -1;
}


int
fr_store_list(const char *function, int state, fr_store_each_pt each,
    void *data)
{
    sqlite3_stmt  *st;

    st = fr_sql[FR_SQL_LIST];

    if (function) {
        sqlite3_bind_text(st, 1, function, -1, SQLITE_STATIC);
    }

    sqlite3_bind_int(st, 2, state);

    return fr_store_rows(st, each, data);
}


int
fr_store_get(const char *id, fr_store_each_pt each, void *data)
{
    sqlite3_stmt  *st;

    st = fr_sql[FR_SQL_GET];
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);

    return fr_store_rows(st, each, data);
}


static int
fr_store_rows(sqlite3_stmt *st, fr_store_each_pt each, void *data)
{
    int       rc, n;
    fr_inv_t  inv;

    n = 0;

    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        fr_store_row(st, &inv);
        n++;

        if (each(&inv, data) != FR_OK) {
            break;
        }
    }

    sqlite3_reset(st);
    sqlite3_clear_bindings(st);

    return rc == SQLITE_ERROR ? -1 : n;
}


/* the shared store's counts, kept by it, told when they are read */

void
fr_store_counts_from(const uint64_t *counts, int *asked)
{
    fr_store_shared = counts;
    fr_store_shared_asked = asked;
}


int
fr_store_counts(uint64_t counts[FR_INV_STATES])
{
    int            state;
    int64_t        version;
    sqlite3_stmt  *st;

    if (fr_store_shared) {
        /* PostgreSQL's, as last counted (fr_store_pg_done.c) */
        memcpy(counts, fr_store_shared, FR_INV_STATES * sizeof(uint64_t));
        *fr_store_shared_asked = 1;
        return FR_OK;
    }

    memset(counts, 0, FR_INV_STATES * sizeof(uint64_t));

    if (fr_db == NULL) {
        return FR_DECLINED;
    }

    version = fr_store_one(fr_sql[FR_SQL_VERSION], -1);

    /* not in a batch: its rollback would take the count back */
    if ((version != fr_store_version || version == -1)
        && sqlite3_get_autocommit(fr_db)
        && fr_store_step_done(fr_sql[FR_SQL_RECOUNT], "count") == FR_OK)
    {
        fr_store_version = version;
    }

    st = fr_sql[FR_SQL_COUNTS];

    while (sqlite3_step(st) == SQLITE_ROW) {
        state = sqlite3_column_int(st, 0);

        if (state >= 0 && state < FR_INV_STATES) {
            counts[state] = (uint64_t) sqlite3_column_int64(st, 1);
        }
    }

    sqlite3_reset(st);

    return FR_OK;
}


/* an invocation of function by trigger not yet done */

int
fr_store_pending(const char *function, const char *trigger)
{
    sqlite3_stmt  *st;

    st = fr_sql[FR_SQL_PENDING];
    sqlite3_bind_text(st, 1, function, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, trigger, -1, SQLITE_STATIC);

    return fr_store_one(st, 0) != 0;
}


/* a schedule's last tick (seconds since the epoch), or 0 */

int64_t
fr_store_last_tick(const char *function)
{
    sqlite3_stmt  *st;

    st = fr_sql[FR_SQL_LAST_TICK];
    sqlite3_bind_text(st, 1, function, -1, SQLITE_STATIC);

    return fr_store_one(st, 0);
}


int
fr_store_set_last_tick(const char *function, int64_t t)
{
    sqlite3_stmt  *st;

    st = fr_sql[FR_SQL_SET_TICK];
    sqlite3_bind_text(st, 1, function, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, t);

    return fr_store_step_done(st, "schedule");
}
