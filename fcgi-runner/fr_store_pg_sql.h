/*
 * Copyright (C) ngx_faas developers
 *
 * The PostgreSQL store's schema and statements (fr_store_pg.c), one
 * place to read what the store does to its rows. Every statement that
 * the runner may send again after a lost connection is written so that
 * twice is once: inserts by id (ON CONFLICT DO NOTHING), outcomes only
 * of a row still claimed by this runner.
 */

#ifndef FR_STORE_PG_SQL_H
#define FR_STORE_PG_SQL_H


/* a CTE that makes its statement's commit wait for the disk, whatever
 * the session's synchronous_commit: referenced as (SELECT on_disk FROM
 * durable) */
#define FR_PGS_DURABLE                                                       \
    "durable AS (SELECT set_config('synchronous_commit', 'on', true)"        \
    " AS on_disk)"

/* the advisory lock of migrations and of the purge */
#define FR_PGS_LOCK       "7268917301"


/* the schema, made if it is not there (version 1) */
#define FR_PGS_DDL                                                           \
    "CREATE SCHEMA IF NOT EXISTS faas;"                                      \
    "CREATE TABLE IF NOT EXISTS faas.invocations ("                          \
    " id text PRIMARY KEY, function text NOT NULL, trigger text NOT NULL,"   \
    " state smallint NOT NULL DEFAULT 0,"                                    \
    " attempts integer NOT NULL DEFAULT 0, status integer,"                  \
    " created bigint NOT NULL, started bigint, finished bigint,"             \
    " next_at bigint NOT NULL, claimed_by text,"                             \
    " claimed_until timestamptz, params bytea NOT NULL,"                     \
    " body bytea NOT NULL, response bytea, error text);"                     \
    "CREATE INDEX IF NOT EXISTS invocations_queued"                          \
    " ON faas.invocations (function, next_at) WHERE state = 0;"              \
    "CREATE INDEX IF NOT EXISTS invocations_running"                         \
    " ON faas.invocations (function, claimed_until) WHERE state = 1;"        \
    "CREATE INDEX IF NOT EXISTS invocations_done"                            \
    " ON faas.invocations (finished) WHERE state >= 2;"                      \
    "CREATE TABLE IF NOT EXISTS faas.schedules ("                            \
    " function text PRIMARY KEY, last_tick bigint NOT NULL);"                \
    "CREATE TABLE IF NOT EXISTS faas.ticks (function text NOT NULL,"         \
    " tick bigint NOT NULL, runner text NOT NULL,"                           \
    " PRIMARY KEY (function, tick));"                                        \
    "CREATE TABLE IF NOT EXISTS faas.version (version integer NOT NULL);"    \
    "INSERT INTO faas.version SELECT 1"                                      \
    " WHERE NOT EXISTS (SELECT 1 FROM faas.version);"

/* a schema another version made (a newer runner's migration): this
 * runner neither reads nor writes it, nor adds its own to it, and says
 * why */
#define FR_PGS_VERSION                                                       \
    "DO $$DECLARE v integer; BEGIN"                                          \
    " IF to_regclass('faas.version') IS NOT NULL THEN"                       \
    " SELECT max(version) INTO v FROM faas.version;"                         \
    " IF v IS DISTINCT FROM 1 THEN RAISE EXCEPTION 'the schema faas is"      \
    " version %, this runner knows version 1 (upgrade the runner)', v;"      \
    " END IF; END IF; END$$;"

/* fcgi-runner store migrate: under the lock, whatever is there */
#define FR_PGS_SCHEMA                                                        \
    "SET client_min_messages TO warning;"                                    \
    "BEGIN;"                                                                 \
    "SELECT pg_advisory_xact_lock(" FR_PGS_LOCK ");"                         \
    FR_PGS_VERSION                                                           \
    FR_PGS_DDL                                                               \
    "COMMIT;"

/* each connection of a runner: the schema only if it is missing (a role
 * with no right to make it runs on one made by store migrate); outcomes
 * and claims commit without waiting for the disk, see FR_PGS_DURABLE;
 * no statement runs longer than the runner waits for an answer */
#define FR_PGS_SETUP                                                         \
    "SET client_min_messages TO warning;"                                    \
    "DO $$BEGIN IF to_regclass('faas.version') IS NULL THEN"                 \
    " PERFORM pg_advisory_xact_lock(" FR_PGS_LOCK ");"                       \
    FR_PGS_DDL                                                               \
    " END IF; END$$;"                                                        \
    FR_PGS_VERSION                                                           \
    "SET synchronous_commit TO off;"                                         \
    "SET statement_timeout TO '20s';"                                        \
    "LISTEN faas_invocations"

#define FR_PGS_COLUMNS                                                       \
    "id, function, trigger, state, attempts, status, created, started, "     \
    "finished, next_at, params, body, response, error"


/* a claim of what is due (queued, its time come), or (every second) of
 * what another runner's lease no longer covers; each in its index. $6,
 * the rooms' sum, bounds c for the planner: unbounded, it guessed
 * thousands of rows and joined by a scan of the whole table. Each row
 * returns the lease it was claimed with (ms), the run's bound */
#define FR_PGS_CLAIM(due, order)                                             \
    "WITH c AS (SELECT i.id, i.state AS was, i.claimed_by AS was_by,"        \
    " r.lease FROM unnest($1::text[], $2::int[], $3::bigint[])"              \
    " AS r(fn, room, lease), LATERAL (SELECT id, state, claimed_by"          \
    " FROM faas.invocations WHERE function = r.fn AND " due                  \
    " ORDER BY " order " LIMIT r.room FOR UPDATE SKIP LOCKED) i"             \
    " LIMIT $6::int)"                                                        \
    " UPDATE faas.invocations v SET state = 1, attempts = v.attempts + 1,"   \
    " started = $4::bigint, claimed_by = $5::text,"                          \
    " claimed_until = now() + c.lease * interval '1 millisecond'"            \
    " FROM c WHERE v.id = c.id RETURNING v.id, v.function, v.trigger,"       \
    " v.state, v.attempts, v.status, v.created, v.started, v.finished,"      \
    " v.next_at, v.params, v.body, NULL::bytea, NULL::text, c.was,"          \
    " c.was_by, c.lease"

static const char  fr_pgs_claim_sql[] =
    FR_PGS_CLAIM("state = 0 AND next_at <= $4::bigint"
                 " AND (claimed_by IS DISTINCT FROM 'not ' || $5::text"
                 " OR next_at <= $4::bigint - 60000000)", "next_at");

static const char  fr_pgs_reclaim_sql[] =
    FR_PGS_CLAIM("state = 1 AND claimed_until <= now()", "claimed_until");

/* outcomes, many at once: kind 0 done, 1 tried again at "at", 2 failed,
 * 3 given back (not an attempt), 4 given back as another tenant's than
 * this runner's function (queued rows' claimed_by "not RUNNER": it
 * claims it again only a minute later); only of rows this runner ($8)
 * holds by the claim each was of (its attempt: a later claim's is
 * another). A finished one keeps its answer, not its request (params,
 * body) */
static const char  fr_pgs_outcomes_sql[] =
    "WITH u AS (SELECT * FROM unnest($1::text[], $2::int[], $3::int[],"
    " $4::bigint[], $5::text[], $6::text[], $7::int[])"
    " AS u(id, kind, status, at, error, response, attempt))"
    " UPDATE faas.invocations v SET"
    " state = CASE u.kind WHEN 0 THEN 2 WHEN 2 THEN 3 ELSE 0 END,"
    " status = CASE WHEN u.kind >= 3 THEN v.status ELSE u.status END,"
    " response = CASE WHEN u.kind IN (0, 2) THEN decode(u.response, 'hex')"
    " ELSE v.response END,"
    " error = CASE WHEN u.kind = 0 THEN NULL WHEN u.kind >= 3 THEN v.error"
    " ELSE u.error END,"
    " finished = CASE WHEN u.kind IN (0, 2) THEN u.at ELSE v.finished END,"
    " params = CASE WHEN u.kind IN (0, 2) THEN ''::bytea ELSE v.params END,"
    " body = CASE WHEN u.kind IN (0, 2) THEN ''::bytea ELSE v.body END,"
    " next_at = CASE WHEN u.kind IN (1, 3, 4) THEN u.at ELSE v.next_at END,"
    " attempts = CASE WHEN u.kind >= 3 THEN v.attempts - 1"
    " ELSE v.attempts END,"
    " claimed_by = CASE WHEN u.kind = 4 THEN 'not ' || $8 END,"
    " claimed_until = NULL"
    " FROM u WHERE v.id = u.id AND v.state = 1 AND v.claimed_by = $8"
    " AND v.attempts = u.attempt"
    " RETURNING v.id";

static const char  fr_pgs_invoke_sql[] =
    "WITH " FR_PGS_DURABLE ","
    " t AS (INSERT INTO faas.ticks (function, tick, runner)"
    " SELECT $2, $7::bigint, $8 WHERE $7::bigint > 0"
    " ON CONFLICT DO NOTHING RETURNING 1),"
    " busy AS (SELECT 1 FROM faas.invocations WHERE $7::bigint > 0"
    " AND function = $2 AND trigger = $3 AND state < 2 LIMIT 1),"
    " i AS (INSERT INTO faas.invocations (id, function, trigger, params,"
    " body, created, next_at) SELECT $1, $2, $3, $4::bytea, $5::bytea,"
    " $6::bigint, $6::bigint WHERE $7::bigint = 0"
    " OR (EXISTS (SELECT 1 FROM t) AND NOT EXISTS (SELECT 1 FROM busy))"
    " ON CONFLICT (id) DO NOTHING RETURNING 1),"
    " s AS (INSERT INTO faas.schedules (function, last_tick)"
    " SELECT $2, $7::bigint WHERE $7::bigint > 0 ON CONFLICT (function)"
    " DO UPDATE SET last_tick = GREATEST(faas.schedules.last_tick,"
    " EXCLUDED.last_tick))"
    " SELECT EXISTS (SELECT 1 FROM t), EXISTS (SELECT 1 FROM busy),"
    " (SELECT count(*) FROM i), pg_notify('faas_invocations', $1),"
    " (SELECT on_disk FROM durable)";

/* each function's queued and running, in their partial indexes; and,
 * when $1, the finished of all functions, all the rest of the table;
 * and, as state -1, the database's clock in usec */
static const char  fr_pgs_refresh_sql[] =
    "SELECT function, 0, count(*) FROM faas.invocations WHERE state = 0"
    " GROUP BY function"
    " UNION ALL SELECT function, 1, count(*) FROM faas.invocations"
    " WHERE state = 1 GROUP BY function"
    " UNION ALL SELECT NULL, state, count(*) FROM faas.invocations"
    " WHERE $1::boolean AND state >= 2 GROUP BY state"
    " UNION ALL SELECT NULL, -1,"
    " (extract(epoch FROM clock_timestamp()) * 1000000)::bigint";

/* at most FR_PGS_PURGE_MAX finished ones a statement, the oldest, in
 * their index: one DELETE of millions would outlast the statement
 * timeout and never be done; how many went, to go on */
#define FR_PGS_PURGE_MAX  10000
#define FR_PGS_STR(n)     FR_PGS_STR2(n)
#define FR_PGS_STR2(n)    #n

static const char  fr_pgs_purge_sql[] =
    "WITH l AS (SELECT pg_try_advisory_xact_lock(" FR_PGS_LOCK ") AS got),"
    " t AS (DELETE FROM faas.ticks WHERE (SELECT got FROM l)"
    " AND tick < $2::bigint),"
    " d AS (DELETE FROM faas.invocations WHERE id IN (SELECT id"
    " FROM faas.invocations WHERE (SELECT got FROM l) AND state >= 2"
    " AND finished < $1::bigint ORDER BY finished LIMIT "
    FR_PGS_STR(FR_PGS_PURGE_MAX) ")"
    " RETURNING 1)"
    " SELECT count(*) FROM d";


#endif /* FR_STORE_PG_SQL_H */
