/*
 * Copyright (C) ngx_faas developers
 *
 * The SQLite store's schema and statements (fr_store.c), one place to
 * read what the store does to its rows.
 */

#ifndef FR_STORE_SQL_H
#define FR_STORE_SQL_H


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
    FR_SQL_RECOUNT,
    FR_SQL_VERSION,
    FR_SQL_PENDING,
    FR_SQL_LAST_TICK,
    FR_SQL_SET_TICK,
    FR_SQL_RELEASE,
    FR_SQL_QUEUED,
    FR_SQL_UNDELAY,
    FR_SQL_MAX
};


/*
 * Every look is an index seek, whatever waits: the functions with
 * something queued or running (a skip over invocations_pending), a claim
 * of one function's oldest (invocations_function), a schedule's "is my
 * last tick done" (invocations_pending), the next lease to run out
 * (invocations_lease).
 * A tenant's 200,000 queued behind busy functions were scanned by each
 * look and each tick: a second of the runner's CPU a second.
 */

#define FR_STORE_SCHEMA                                                      \
    "CREATE TABLE IF NOT EXISTS invocations ("                               \
    " id TEXT PRIMARY KEY, function TEXT NOT NULL,"                          \
    " trigger TEXT NOT NULL, state INTEGER NOT NULL,"                        \
    " attempts INTEGER NOT NULL, status INTEGER,"                            \
    " created INTEGER NOT NULL, started INTEGER,"                            \
    " finished INTEGER, next_at INTEGER NOT NULL,"                           \
    " claimed_until INTEGER, params BLOB NOT NULL,"                          \
    " body BLOB NOT NULL, response BLOB, error TEXT);"                       \
    "CREATE INDEX IF NOT EXISTS invocations_due"                             \
    " ON invocations (state, next_at);"                                      \
    "CREATE TABLE IF NOT EXISTS schedules ("                                 \
    " function TEXT PRIMARY KEY, last_tick INTEGER NOT NULL)"

#define FR_STORE_INDEXES                                                     \
    "CREATE INDEX IF NOT EXISTS invocations_function"                        \
    " ON invocations (function, state, next_at);"                            \
    "CREATE INDEX IF NOT EXISTS invocations_pending"                         \
    " ON invocations (function, trigger, state) WHERE state < 2;"            \
    "CREATE INDEX IF NOT EXISTS invocations_lease"                           \
    " ON invocations (claimed_until) WHERE state = 1"


/* the rows of each state, kept by this connection's own writes: a status
 * answer scans nothing (GROUP BY state took 75 ms of the event loop with a
 * million rows retained); another connection's writes (an old runner's at
 * an upgrade) change data_version, and the rows are counted again */
#define FR_STORE_COUNTS_SCHEMA                                               \
    "CREATE TEMP TABLE counts (state INTEGER PRIMARY KEY,"                   \
    " n INTEGER NOT NULL);"                                                  \
    "INSERT INTO temp.counts VALUES (0, 0), (1, 0), (2, 0), (3, 0);"         \
    "CREATE TEMP TRIGGER counts_insert AFTER INSERT ON main.invocations"     \
    " BEGIN UPDATE counts SET n = n + 1 WHERE state = NEW.state; END;"       \
    "CREATE TEMP TRIGGER counts_update AFTER UPDATE OF state"                \
    " ON main.invocations WHEN OLD.state <> NEW.state"                       \
    " BEGIN UPDATE counts SET n = n - 1 WHERE state = OLD.state;"            \
    " UPDATE counts SET n = n + 1 WHERE state = NEW.state; END;"             \
    "CREATE TEMP TRIGGER counts_delete AFTER DELETE ON main.invocations"     \
    " BEGIN UPDATE counts SET n = n - 1 WHERE state = OLD.state; END"


#define FR_STORE_COLUMNS                                                     \
    "id, function, trigger, state, attempts, status, created, started, "     \
    "finished, next_at, params, body, response, error"

static const char  *fr_sql_text[FR_SQL_MAX] = {
    [FR_SQL_ENQUEUE] =
        "INSERT INTO invocations (id, function, trigger, state, attempts, "
        "params, body, created, next_at) VALUES (?1, ?2, ?3, 0, 0, ?4, ?5, "
        "?6, ?6)",
    [FR_SQL_DUE] =
        "SELECT function FROM invocations WHERE function > ?1 "
        "AND state < 2 ORDER BY function LIMIT 1",
    [FR_SQL_NEXT_DUE] =
        "SELECT IFNULL(MIN(t), -1) FROM (SELECT MIN(next_at) AS t FROM "
        "invocations "
        "WHERE state = 0 UNION ALL SELECT MIN(claimed_until) FROM "
        "invocations WHERE state = 1)",
    [FR_SQL_CLAIM] =
        "UPDATE invocations SET state = 1, attempts = attempts + 1, "
        "started = ?3, claimed_until = ?4 WHERE id = IFNULL((SELECT id "
        "FROM invocations WHERE function = ?1 AND state = 1 "
        "AND claimed_until <= ?2 LIMIT 1), (SELECT id FROM invocations "
        "WHERE function = ?1 AND state = 0 AND next_at <= ?2 "
        "ORDER BY next_at, rowid LIMIT 1)) RETURNING " FR_STORE_COLUMNS,
    [FR_SQL_ACK] =
        "UPDATE invocations SET state = 2, status = ?2, response = ?3, "
        "finished = ?4, error = NULL, claimed_until = NULL, params = X'', "
        "body = X'' WHERE id = ?1",
    [FR_SQL_RETRY] =
        "UPDATE invocations SET state = 0, status = ?2, error = ?3, "
        "next_at = ?4, claimed_until = NULL WHERE id = ?1",
    [FR_SQL_FAIL] =
        "UPDATE invocations SET state = 3, status = ?2, error = ?3, "
        "finished = ?4, response = ?5, claimed_until = NULL, params = X'', "
        "body = X'' WHERE id = ?1",
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
        "SELECT state, n FROM temp.counts",
    [FR_SQL_RECOUNT] =
        "UPDATE temp.counts SET n = (SELECT COUNT(*) FROM main.invocations "
        "AS i WHERE i.state = counts.state)",
    [FR_SQL_VERSION] =
        "PRAGMA data_version",
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


#endif /* FR_STORE_SQL_H */
