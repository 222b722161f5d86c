/*
 * Copyright (C) ngx_faas developers
 *
 * The store of asynchronous invocations in SQLite, under state_dir:
 * write-ahead logging, synchronous = FULL, so that a batch committed is
 * on disk; one table, an invocation per row.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "fr_log.h"
#include "fr_store.h"


enum {
    FR_SQL_ENQUEUE = 0,
    FR_SQL_DUE,
    FR_SQL_NEXT_DUE,
    FR_SQL_CLAIM,
    FR_SQL_ACK,
    FR_SQL_RETRY,
    FR_SQL_FAIL,
    FR_SQL_REQUEUE,
    FR_SQL_PURGE,
    FR_SQL_LIST,
    FR_SQL_GET,
    FR_SQL_COUNTS,
    FR_SQL_PENDING,
    FR_SQL_LAST_TICK,
    FR_SQL_SET_TICK,
    FR_SQL_RELEASE,
    FR_SQL_QUEUED,
    FR_SQL_UNDELAY,
    FR_SQL_MAX
};


static int fr_store_exec(const char *sql, int level);
static int fr_store_level(int level);
static int fr_store_step_done(sqlite3_stmt *st, const char *what);
static void fr_store_row(sqlite3_stmt *st, fr_inv_t *inv);
static int fr_store_rows(sqlite3_stmt *st, fr_store_each_pt each,
    void *data);


static sqlite3       *fr_db;
static sqlite3_stmt  *fr_sql[FR_SQL_MAX];
static char           fr_db_path[4096];


#define FR_STORE_COLUMNS                                                     \
    "id, function, trigger, state, attempts, status, created, started, "     \
    "finished, next_at, params, body, response, error"

static const char  *fr_sql_text[FR_SQL_MAX] = {
    [FR_SQL_ENQUEUE] =
        "INSERT INTO invocations (id, function, trigger, state, attempts, "
        "params, body, created, next_at) VALUES (?1, ?2, ?3, 0, 0, ?4, ?5, "
        "?6, ?6)",
    [FR_SQL_DUE] =
        "SELECT DISTINCT function FROM invocations "
        "WHERE state = 0 AND next_at <= ?1",
    [FR_SQL_NEXT_DUE] =
        "SELECT MIN(next_at) FROM invocations WHERE state = 0",
    [FR_SQL_CLAIM] =
        "UPDATE invocations SET state = 1, attempts = attempts + 1, "
        "started = ?3, claimed_until = ?4 WHERE id = (SELECT id FROM "
        "invocations WHERE state = 0 AND function = ?1 AND next_at <= ?2 "
        "ORDER BY next_at, rowid LIMIT 1) RETURNING " FR_STORE_COLUMNS,
    [FR_SQL_ACK] =
        "UPDATE invocations SET state = 2, status = ?2, response = ?3, "
        "finished = ?4, error = NULL, claimed_until = NULL WHERE id = ?1",
    [FR_SQL_RETRY] =
        "UPDATE invocations SET state = 0, status = ?2, error = ?3, "
        "next_at = ?4, claimed_until = NULL WHERE id = ?1",
    [FR_SQL_FAIL] =
        "UPDATE invocations SET state = 3, status = ?2, error = ?3, "
        "finished = ?4, claimed_until = NULL WHERE id = ?1",
    [FR_SQL_REQUEUE] =
        "UPDATE invocations SET state = 0, claimed_until = NULL "
        "WHERE state = 1",
    [FR_SQL_PURGE] =
        "DELETE FROM invocations WHERE state >= 2 AND finished < ?1",
    [FR_SQL_LIST] =
        "SELECT " FR_STORE_COLUMNS " FROM invocations "
        "WHERE (?1 IS NULL OR function = ?1) AND (?2 < 0 OR state = ?2) "
        "ORDER BY created, rowid",
    [FR_SQL_GET] =
        "SELECT " FR_STORE_COLUMNS " FROM invocations WHERE id = ?1",
    [FR_SQL_COUNTS] =
        "SELECT state, COUNT(*) FROM invocations GROUP BY state",
    [FR_SQL_PENDING] =
        "SELECT 1 FROM invocations WHERE function = ?1 AND trigger = ?2 "
        "AND state < 2 LIMIT 1",
    [FR_SQL_LAST_TICK] =
        "SELECT last_tick FROM schedules WHERE function = ?1",
    [FR_SQL_SET_TICK] =
        "INSERT INTO schedules (function, last_tick) VALUES (?1, ?2) "
        "ON CONFLICT (function) DO UPDATE SET last_tick = ?2",
    [FR_SQL_RELEASE] =
        "UPDATE invocations SET state = 0, attempts = attempts - 1, "
        "next_at = ?2, claimed_until = NULL WHERE id = ?1 AND state = 1",
    [FR_SQL_QUEUED] =
        "SELECT function, COUNT(*) FROM invocations WHERE state = 0 "
        "GROUP BY function",
    [FR_SQL_UNDELAY] =
        "UPDATE invocations SET next_at = ?1 WHERE state = 0 AND next_at > ?2"
};


static const char  *fr_inv_states[FR_INV_STATES] = {
    "queued", "running", "succeeded", "failed"
};


const char *
fr_inv_state_name(fr_inv_state_e state)
{
    return state < FR_INV_STATES ? fr_inv_states[state] : "unknown";
}


/*
 * dir/async.db, created if it is not there (unless readonly). A store
 * that cannot be opened or checked is an error: the runner does not
 * start rather than lose what it holds.
 */

int
fr_store_open(const char *dir, int readonly)
{
    int           i, rc, flags;
    struct stat   st;
    sqlite3_stmt *check;

    if (fr_db) {
        return FR_OK;
    }

    snprintf(fr_db_path, sizeof(fr_db_path), "%s/async.db", dir);

    if (!readonly && mkdir(dir, 0755) == -1 && errno != EEXIST) {
        fr_log(FR_LOG_EMERG, errno, "cannot create \"%s\" for the store of "
               "asynchronous invocations", dir);
        return FR_ERROR;
    }

    if (stat(fr_db_path, &st) == -1) {
        char  wal[4200];

        snprintf(wal, sizeof(wal), "%s-wal", fr_db_path);

        if (readonly || access(wal, F_OK) == 0) {
            /* its log without it: what it held is gone, not replaced */
            fr_log(FR_LOG_EMERG, 0, "the store \"%s\" is missing%s",
                   fr_db_path, readonly ? ""
                   : " but its write-ahead log is there: move the log "
                     "away to start with an empty store");
            return FR_ERROR;
        }
    }

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
            || fr_store_exec(
                "CREATE TABLE IF NOT EXISTS invocations ("
                " id TEXT PRIMARY KEY, function TEXT NOT NULL,"
                " trigger TEXT NOT NULL, state INTEGER NOT NULL,"
                " attempts INTEGER NOT NULL, status INTEGER,"
                " created INTEGER NOT NULL, started INTEGER,"
                " finished INTEGER, next_at INTEGER NOT NULL,"
                " claimed_until INTEGER, params BLOB NOT NULL,"
                " body BLOB NOT NULL, response BLOB, error TEXT);"
                "CREATE INDEX IF NOT EXISTS invocations_due"
                " ON invocations (state, next_at);"
                "CREATE TABLE IF NOT EXISTS schedules ("
                " function TEXT PRIMARY KEY, last_tick INTEGER NOT NULL)",
                FR_LOG_EMERG) != FR_OK))
    {
        fr_store_close();
        return FR_ERROR;
    }

    /* a damaged store is found now, not by the first invocation */
    if (sqlite3_prepare_v2(fr_db, "PRAGMA quick_check", -1, &check, NULL)
        != SQLITE_OK
        || sqlite3_step(check) != SQLITE_ROW
        || strcmp((const char *) sqlite3_column_text(check, 0), "ok") != 0)
    {
        fr_log(FR_LOG_EMERG, 0, "the store \"%s\" is damaged: %s",
               fr_db_path, sqlite3_errmsg(fr_db));
        sqlite3_finalize(check);
        fr_store_close();
        return FR_ERROR;
    }

    sqlite3_finalize(check);

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
    return fr_store_exec("BEGIN IMMEDIATE", FR_LOG_ALERT);
}


/* FR_ERROR on a commit that failed (a full disk): nothing of it is kept */

int
fr_store_commit(void)
{
    if (fr_store_exec("COMMIT", FR_LOG_ALERT) != FR_OK) {
        fr_store_rollback();
        return FR_ERROR;
    }

    return FR_OK;
}


void
fr_store_rollback(void)
{
    if (!sqlite3_get_autocommit(fr_db)) {
        (void) sqlite3_exec(fr_db, "ROLLBACK", NULL, NULL, NULL);
    }
}


int
fr_store_enqueue(fr_inv_t *inv)
{
    sqlite3_stmt  *st;

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


int
fr_store_due(uint64_t now, fr_store_each_pt each, void *data)
{
    int            rc;
    fr_inv_t       inv;
    sqlite3_stmt  *st;

    st = fr_sql[FR_SQL_DUE];
    sqlite3_bind_int64(st, 1, (sqlite3_int64) now);

    memset(&inv, 0, sizeof(inv));

    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        snprintf(inv.function, sizeof(inv.function), "%s",
                 (const char *) sqlite3_column_text(st, 0));

        if (each(&inv, data) != FR_OK) {
            break;
        }
    }

    sqlite3_reset(st);

    return rc == SQLITE_ERROR ? FR_ERROR : FR_OK;
}


int64_t
fr_store_next_due(void)
{
    int64_t        next;
    sqlite3_stmt  *st;

    st = fr_sql[FR_SQL_NEXT_DUE];
    next = -1;

    if (sqlite3_step(st) == SQLITE_ROW
        && sqlite3_column_type(st, 0) != SQLITE_NULL)
    {
        next = sqlite3_column_int64(st, 0);
    }

    sqlite3_reset(st);

    return next;
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

    /* the row's blobs live while the statement is not reset: the caller
     * copies them before the next call into the store */
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


/* the claimed row is copied: the statement lets go of it */

void
fr_store_claimed(void)
{
    sqlite3_reset(fr_sql[FR_SQL_CLAIM]);
}


int
fr_store_ack(const char *id, int status, const u_char *response, size_t len)
{
    sqlite3_stmt    *st;
    struct timespec  ts;

    sqlite3_reset(fr_sql[FR_SQL_CLAIM]);
    clock_gettime(CLOCK_REALTIME, &ts);

    st = fr_sql[FR_SQL_ACK];
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, status);
    sqlite3_bind_blob(st, 3, response ? (const void *) response : "",
                      (int) len, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, (sqlite3_int64) ts.tv_sec * 1000000
                              + ts.tv_nsec / 1000);

    return fr_store_step_done(st, "ack");
}


/* another try at retry_at (usec, wall clock), or failed for good (0) */

int
fr_store_fail(const char *id, int status, const char *error,
    uint64_t retry_at)
{
    sqlite3_stmt    *st;
    struct timespec  ts;

    sqlite3_reset(fr_sql[FR_SQL_CLAIM]);
    clock_gettime(CLOCK_REALTIME, &ts);

    st = fr_sql[retry_at ? FR_SQL_RETRY : FR_SQL_FAIL];
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, status);
    sqlite3_bind_text(st, 3, error, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, retry_at ? (sqlite3_int64) retry_at
                              : (sqlite3_int64) ts.tv_sec * 1000000
                                + ts.tv_nsec / 1000);

    return fr_store_step_done(st, retry_at ? "retry" : "fail");
}


/*
 * A claim given back untried (throttled: no room for it yet): queued
 * again for retry_at, and the claim is not counted as an attempt.
 */

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

    if (fr_store_step_done(st, "undelay") != FR_OK) {
        return -1;
    }

    return sqlite3_changes(fr_db);
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
    if (fr_store_step_done(fr_sql[FR_SQL_REQUEUE], "requeue") != FR_OK) {
        return -1;
    }

    return sqlite3_changes(fr_db);
}


/* results older than async_retention go */

int
fr_store_purge(uint64_t before)
{
    sqlite3_bind_int64(fr_sql[FR_SQL_PURGE], 1, (sqlite3_int64) before);

    if (fr_store_step_done(fr_sql[FR_SQL_PURGE], "purge") != FR_OK) {
        return -1;
    }

    return sqlite3_changes(fr_db);
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


int
fr_store_counts(uint64_t counts[FR_INV_STATES])
{
    int            state;
    sqlite3_stmt  *st;

    memset(counts, 0, FR_INV_STATES * sizeof(uint64_t));

    if (fr_db == NULL) {
        return FR_DECLINED;
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
    int            rc;
    sqlite3_stmt  *st;

    st = fr_sql[FR_SQL_PENDING];
    sqlite3_bind_text(st, 1, function, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, trigger, -1, SQLITE_STATIC);

    rc = sqlite3_step(st);

    sqlite3_reset(st);
    sqlite3_clear_bindings(st);

    return rc == SQLITE_ROW;
}


/* a schedule's last tick (seconds since the epoch), or 0 */

int64_t
fr_store_last_tick(const char *function)
{
    int64_t        t;
    sqlite3_stmt  *st;

    st = fr_sql[FR_SQL_LAST_TICK];
    sqlite3_bind_text(st, 1, function, -1, SQLITE_STATIC);

    t = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;

    sqlite3_reset(st);
    sqlite3_clear_bindings(st);

    return t;
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
