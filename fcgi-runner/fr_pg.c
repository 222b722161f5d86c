/*
 * Copyright (C) ngx_faas developers
 *
 * The runner's connection to PostgreSQL, in its event loop: connected
 * with PQconnectStart/PQconnectPoll, then non-blocking; commands wait in
 * a queue and go one at a time (PQsendQueryParams), their results come
 * back to a callback. Nothing here ever waits for the database: a slow
 * one delays only the commands queued behind it, a lost one fails the
 * commands that may fail (the caller answers 503) and keeps the others
 * (FR_PG_KEEP: outcomes, which are sent again once connected; they are
 * written so that twice is once). Reconnected with backoff, 100 ms
 * doubling to 5 s; each connection first sends the setup (the schema,
 * LISTEN), and only then what waits.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "fr_event.h"
#include "fr_log.h"
#include "fr_pg.h"


#define FR_PG_BACKOFF_MIN   100         /* ms */
#define FR_PG_BACKOFF_MAX   5000
#define FR_PG_CONNECT_MSEC  10000       /* to connect, at most */


typedef enum {
    FR_PG_DOWN = 0,
    FR_PG_CONNECTING,
    FR_PG_SETUP,
    FR_PG_READY
} fr_pg_state_e;


typedef struct fr_pg_cmd_s  fr_pg_cmd_t;

struct fr_pg_cmd_s {
    fr_pg_cmd_t           *next;
    int                    flags;
    int                    n;
    fr_pg_done_pt          done;
    void                  *data;
    char                  *sql;
    char                 **values;
    int                   *lengths;
    int                   *formats;
};


static void fr_pg_connect(fr_timer_t *t);
static void fr_pg_fail(const char *what);
static void fr_pg_failed(fr_timer_t *t);
static void fr_pg_silent(fr_timer_t *t);
static void fr_pg_notifies(void);
static void fr_pg_handler(fr_io_t *io, uint32_t events);
static void fr_pg_poll(void);
static void fr_pg_io(void);
static void fr_pg_results(void);
static void fr_pg_next(void);
static void fr_pg_watch(uint32_t mask);
static void fr_pg_lost(const char *what);
static void fr_pg_notice(void *arg, const char *msg);
static void fr_pg_close(void);
static void fr_pg_setup_done(PGresult *res, void *data);
static fr_pg_cmd_t *fr_pg_cmd(const char *sql, int n,
    const char *const *values, const int *lengths, const int *binary,
    int flags);


static char          *fr_pg_uri;
static fr_pg_conf_t   fr_pg_conf;
static PGconn        *fr_pg_conn;
static fr_pg_state_e  fr_pg_state;
static fr_io_t        fr_pg_ev;
static fr_timer_t     fr_pg_timer;
static fr_timer_t     fr_pg_fail_timer;
static fr_timer_t     fr_pg_watchdog;     /* connect, or an answer */
static const char    *fr_pg_broken;       /* lost, said at the next round */
static uint64_t       fr_pg_backoff;
static int            fr_pg_reported;     /* the outage is in the log */
static char           fr_pg_refused[256]; /* the setup's error said */

static fr_pg_cmd_t   *fr_pg_head;         /* the first may be in flight */
static fr_pg_cmd_t  **fr_pg_tail = &fr_pg_head;
static int            fr_pg_sent;         /* fr_pg_head is in flight */
static PGresult      *fr_pg_result;       /* its result so far */
static fr_pg_cmd_t   *fr_pg_setup_cmd;
static int            fr_pg_doubt;        /* the one told was sent */


int
fr_pg_start(const char *uri, const fr_pg_conf_t *conf)
{
    if (fr_pq_load(FR_LOG_EMERG) != FR_OK) {
        return FR_ERROR;
    }

    fr_pg_uri = strdup(uri);
    if (fr_pg_uri == NULL) {
        return FR_ERROR;
    }

    fr_pg_conf = *conf;
    fr_pg_ev.fd = -1;
    fr_pg_ev.handler = fr_pg_handler;
    fr_pg_timer.handler = fr_pg_connect;
    fr_pg_fail_timer.handler = fr_pg_failed;
    fr_pg_watchdog.handler = fr_pg_silent;
    fr_pg_backoff = FR_PG_BACKOFF_MIN;

    fr_pg_connect(NULL);

    return FR_OK;
}


void
fr_pg_stop(void)
{
    fr_pg_cmd_t  *c, *sent;

    sent = fr_pg_sent ? fr_pg_head : NULL;

    fr_timer_del(&fr_pg_timer);
    fr_pg_close();
    free(fr_pg_uri);
    fr_pg_uri = NULL;

    /* what was not answered is told so: its callback frees its data */
    while (fr_pg_head) {
        c = fr_pg_head;
        fr_pg_head = c->next;

        if (c->done) {
            fr_pg_doubt = (c == sent);
            c->done(NULL, c->data);
            fr_pg_doubt = 0;
        }

        free(c);
    }

    fr_pg_tail = &fr_pg_head;
    fr_pg_sent = 0;
}


int
fr_pg_ready(void)
{
    return fr_pg_state == FR_PG_READY && fr_pg_broken == NULL;
}


/* commands not yet answered */

size_t
fr_pg_waiting(void)
{
    size_t        n;
    fr_pg_cmd_t  *c;

    n = 0;

    for (c = fr_pg_head; c; c = c->next) {
        n++;
    }

    return n;
}


/*
 * What the server says unasked (a NOTICE, the FATAL of its shutdown to
 * an idle connection): a line of the log, not libpq's own on stderr.
 */

static void
fr_pg_notice(void *arg, const char *msg)
{
    (void) arg;

    fr_log(FR_LOG_NOTICE, 0, "the PostgreSQL store says: %s",
           fr_pg_text(msg));
}


/* libpq's message on one line: its newlines and tabs as spaces, the
 * last ones gone; in a buffer of its own, valid until the next call */

const char *
fr_pg_text(const char *msg)
{
    char    *p;
    size_t   n;

    static char  buf[512];

    snprintf(buf, sizeof(buf), "%s", msg ? msg : "");

    for (p = buf; *p; p++) {
        if (*p == '\n' || *p == '\t' || *p == '\r') {
            *p = ' ';
        }
    }

    n = strlen(buf);

    while (n && buf[n - 1] == ' ') {
        buf[--n] = '\0';
    }

    return buf;
}


/* what the server said of a command, as fr_pg_text: its message alone,
 * without "ERROR:  " before it nor the CONTEXT of a RAISE after it */

const char *
fr_pg_said(const PGresult *res)
{
    const char  *m;

    m = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);

    return fr_pg_text(m ? m : PQresultErrorMessage(res));
}


/*
 * In a callback given NULL: the command had been sent, and the server
 * may have run it (committed) before the connection went; its answer
 * is what was lost. Otherwise it never reached the server.
 */

int
fr_pg_in_doubt(void)
{
    return fr_pg_doubt;
}


int
fr_pg_ok(PGresult *res)
{
    ExecStatusType  st;

    if (res == NULL) {
        return 0;
    }

    st = PQresultStatus(res);

    return st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
}


int
fr_pg_send(const char *sql, int n, const char *const *values,
    const int *lengths, const int *binary, int flags, fr_pg_done_pt done,
    void *data)
{
    fr_pg_cmd_t  *c, **last;

    if (fr_pg_uri == NULL || (!fr_pg_ready() && !(flags & FR_PG_KEEP))) {
        return FR_ERROR;
    }

    c = fr_pg_cmd(sql, n, values, lengths, binary, flags);
    if (c == NULL) {
        fr_log(FR_LOG_ALERT, 0, "no memory for a command to the store");
        return FR_ERROR;
    }

    c->done = done;
    c->data = data;

    if ((flags & FR_PG_FIRST) && fr_pg_head) {
        /* behind the one in flight (or the setup), before the rest */
        last = (fr_pg_sent || fr_pg_head == fr_pg_setup_cmd)
               ? &fr_pg_head->next : &fr_pg_head;

        while (*last && ((*last)->flags & FR_PG_FIRST)) {
            last = &(*last)->next;
        }

        c->next = *last;
        *last = c;

        if (c->next == NULL) {
            fr_pg_tail = &c->next;
        }

    } else {
        *fr_pg_tail = c;
        fr_pg_tail = &c->next;
    }

    fr_pg_next();

    return FR_OK;
}


/* the command and its parameters in one allocation */

static fr_pg_cmd_t *
fr_pg_cmd(const char *sql, int n, const char *const *values,
    const int *lengths, const int *binary, int flags)
{
    int           i;
    char         *p;
    size_t        size, slen;
    fr_pg_cmd_t  *c;

    slen = strlen(sql) + 1;
    size = sizeof(fr_pg_cmd_t) + n * (sizeof(char *) + 2 * sizeof(int))
           + slen;

    for (i = 0; i < n; i++) {
        size += values[i] ? (size_t) lengths[i] + 1 : 0;
    }

    c = calloc(1, size);
    if (c == NULL) {
        return NULL;
    }

    c->flags = flags;
    c->n = n;
    c->values = (char **) (c + 1);
    c->lengths = (int *) (c->values + n);
    c->formats = c->lengths + n;
    p = (char *) (c->formats + n);

    c->sql = p;
    memcpy(p, sql, slen);
    p += slen;

    for (i = 0; i < n; i++) {
        c->formats[i] = binary ? binary[i] : 0;

        if (values[i] == NULL) {
            continue;                   /* NULL */
        }

        c->values[i] = p;
        c->lengths[i] = lengths[i];
        memcpy(p, values[i], lengths[i]);
        p[lengths[i]] = '\0';
        p += lengths[i] + 1;
    }

    return c;
}


static void
fr_pg_connect(fr_timer_t *t)
{
    /* the URI's own settings override these (expand_dbname) */
    static const char  *keys[] = {
        "application_name", "keepalives_idle", "keepalives_interval",
        "keepalives_count", "tcp_user_timeout", "dbname", NULL
    };

    const char  *values[] = {
        "fcgi-runner", "10", "5", "3", "20000", fr_pg_uri, NULL
    };

    (void) t;

    fr_pg_conn = PQconnectStartParams(keys, values, 1);

    if (fr_pg_conn == NULL) {
        fr_pg_lost("no memory for a connection");
        return;
    }

    if (PQstatus(fr_pg_conn) == CONNECTION_BAD) {
        fr_pg_lost("cannot connect");
        return;
    }

    (void) PQsetNoticeProcessor(fr_pg_conn, fr_pg_notice, NULL);

    fr_pg_state = FR_PG_CONNECTING;
    fr_pg_ev.fd = PQsocket(fr_pg_conn);
    fr_timer_add(&fr_pg_watchdog, FR_PG_CONNECT_MSEC);
    fr_pg_watch(EPOLLOUT);
}


static void
fr_pg_handler(fr_io_t *io, uint32_t events)
{
    (void) io;
    (void) events;

    if (fr_pg_state == FR_PG_CONNECTING) {
        fr_pg_poll();
        return;
    }

    fr_pg_io();
}


/* one step of the connection: libpq may change its socket meanwhile */

static void
fr_pg_poll(void)
{
    PostgresPollingStatusType  st;

    fr_io_forget(&fr_pg_ev);

    st = PQconnectPoll(fr_pg_conn);

    switch (st) {

    case PGRES_POLLING_READING:
        fr_pg_ev.fd = PQsocket(fr_pg_conn);
        fr_pg_watch(EPOLLIN);
        return;

    case PGRES_POLLING_WRITING:
        fr_pg_ev.fd = PQsocket(fr_pg_conn);
        fr_pg_watch(EPOLLOUT);
        return;

    case PGRES_POLLING_OK:
        break;

    default:
        fr_pg_lost("cannot connect");
        return;
    }

    if (PQsetnonblocking(fr_pg_conn, 1) != 0) {
        fr_pg_lost("cannot make the connection non-blocking");
        return;
    }

    fr_pg_ev.fd = PQsocket(fr_pg_conn);
    fr_pg_state = FR_PG_SETUP;
    fr_timer_del(&fr_pg_watchdog);
    fr_pg_watch(EPOLLIN);

    /* the setup goes before anything that waits */
    fr_pg_setup_cmd = fr_pg_cmd(fr_pg_conf.setup, 0, NULL, NULL, NULL,
                                FR_PG_SIMPLE);
    if (fr_pg_setup_cmd == NULL) {
        fr_pg_lost("no memory");
        return;
    }

    fr_pg_setup_cmd->done = fr_pg_setup_done;
    fr_pg_setup_cmd->next = fr_pg_head;
    fr_pg_head = fr_pg_setup_cmd;

    if (fr_pg_tail == &fr_pg_head) {
        fr_pg_tail = &fr_pg_setup_cmd->next;
    }

    fr_pg_next();
}


/* a refusal is said once an outage, and again only if it changes */

static void
fr_pg_setup_done(PGresult *res, void *data)
{
    const char  *err;

    (void) data;

    fr_pg_setup_cmd = NULL;

    if (res == NULL) {
        return;                         /* lost meanwhile: counted there */
    }

    if (!fr_pg_ok(res)) {
        err = fr_pg_said(res);

        if (!fr_pg_reported
            || strncmp(err, fr_pg_refused, sizeof(fr_pg_refused) - 1) != 0)
        {
            fr_log(FR_LOG_ERR, 0, "the PostgreSQL store refused its "
                   "schema: %s", err);
            snprintf(fr_pg_refused, sizeof(fr_pg_refused), "%s", err);
        }

        fr_pg_reported = 1;
        /* not now: after the backoff, from the failed command's return */
        fr_pg_state = FR_PG_SETUP;
        return;
    }

    if (fr_pg_reported) {
        fr_log(FR_LOG_NOTICE, 0, "the PostgreSQL store is back");
    }

    fr_log(FR_LOG_INFO, 0, "connected to the PostgreSQL store, database "
           "\"%s\"", PQdb(fr_pg_conn));

    fr_pg_reported = 0;
    fr_pg_refused[0] = '\0';
    fr_pg_backoff = FR_PG_BACKOFF_MIN;
    fr_pg_state = FR_PG_READY;

    if (fr_pg_conf.up) {
        fr_pg_conf.up();
    }
}


/* the connection is up: send, read what came, answer the commands */

static void
fr_pg_io(void)
{
    int  rc;

    if (fr_pg_broken) {
        return;
    }

    if (PQconsumeInput(fr_pg_conn) == 0) {
        fr_pg_lost("lost the connection");
        return;
    }

    rc = PQflush(fr_pg_conn);

    if (rc == -1) {
        fr_pg_lost("cannot send");
        return;
    }

    fr_pg_watch(rc == 1 ? EPOLLIN | EPOLLOUT : EPOLLIN);

    fr_pg_results();
    fr_pg_notifies();
}


/* parsed with the input, or with a result after it: said once */

static void
fr_pg_notifies(void)
{
    int        notified;
    PGnotify  *note;

    notified = 0;

    while (fr_pg_conn && (note = PQnotifies(fr_pg_conn)) != NULL) {
        PQfreemem(note);
        notified = 1;
    }

    if (notified && fr_pg_ready() && fr_pg_conf.notified) {
        fr_pg_conf.notified();
    }
}


static void
fr_pg_results(void)
{
    int            setup_failed;
    PGresult      *res;
    fr_pg_cmd_t   *c;

    while (fr_pg_conn && fr_pg_sent && !fr_pg_broken
           && !PQisBusy(fr_pg_conn))
    {
        res = PQgetResult(fr_pg_conn);

        if (res) {
            /* of several statements, the first error or the last */
            if (fr_pg_result && !fr_pg_ok(fr_pg_result)) {
                PQclear(res);

            } else {
                if (fr_pg_result) {
                    PQclear(fr_pg_result);
                }

                fr_pg_result = res;
            }

            continue;
        }

        /* the command is done */
        c = fr_pg_head;
        fr_pg_head = c->next;

        if (fr_pg_head == NULL) {
            fr_pg_tail = &fr_pg_head;
        }

        fr_pg_sent = 0;
        fr_timer_del(&fr_pg_watchdog);
        res = fr_pg_result;
        fr_pg_result = NULL;

        setup_failed = (c == fr_pg_setup_cmd && !fr_pg_ok(res));

        if (res && !fr_pg_ok(res) && c != fr_pg_setup_cmd) {
            fr_log(FR_LOG_ERR, 0, "the PostgreSQL store: %s",
                   fr_pg_text(PQresultErrorMessage(res)));
        }

        if (c->done) {
            c->done(res, c->data);
        }

        if (res) {
            PQclear(res);
        }

        free(c);

        if (setup_failed) {
            fr_pg_lost(NULL);
            return;
        }

        fr_pg_next();
    }
}


static void
fr_pg_next(void)
{
    int           rc;
    fr_pg_cmd_t  *c;

    c = fr_pg_head;

    if (fr_pg_sent || c == NULL || fr_pg_conn == NULL || fr_pg_broken
        || (fr_pg_state != FR_PG_READY
            && !(fr_pg_state == FR_PG_SETUP && c == fr_pg_setup_cmd)))
    {
        return;
    }

    if (c->flags & FR_PG_SIMPLE) {
        rc = PQsendQuery(fr_pg_conn, c->sql);

    } else {
        rc = PQsendQueryParams(fr_pg_conn, c->sql, c->n, NULL,
                               (const char *const *) c->values, c->lengths,
                               c->formats, (c->flags & FR_PG_BINARY) != 0);
    }

    /* never lost here: the caller may be a command's sender, which
     * is told by its callback, after fr_pg_send() has returned */
    if (rc == 0) {
        fr_pg_fail("cannot send");
        return;
    }

    fr_pg_sent = 1;
    fr_timer_add(&fr_pg_watchdog, FR_PG_ANSWER_MSEC);

    rc = PQflush(fr_pg_conn);

    if (rc == -1) {
        fr_pg_fail("cannot send");
        return;
    }

    fr_pg_watch(rc == 1 ? EPOLLIN | EPOLLOUT : EPOLLIN);
}


static void
fr_pg_watch(uint32_t mask)
{
    if (fr_pg_ev.fd == -1 || fr_io_set(&fr_pg_ev, mask) != FR_OK) {
        fr_pg_fail("cannot watch the connection");
    }
}


/* the connection is broken: lost at the next round, not in the caller's */

static void
fr_pg_fail(const char *what)
{
    if (fr_pg_broken == NULL) {
        fr_pg_broken = what;
        fr_timer_add(&fr_pg_fail_timer, 0);
    }
}


static void
fr_pg_failed(fr_timer_t *t)
{
    (void) t;

    fr_pg_lost(fr_pg_broken);
}


/* no connection, or no answer, in time: a database that hangs without
 * closing (a partition, a paused host) is a lost one */

static void
fr_pg_silent(fr_timer_t *t)
{
    (void) t;

    fr_pg_lost(fr_pg_state == FR_PG_CONNECTING ? "no connection in time"
                                               : "no answer in time");
}


/*
 * The connection is gone (or never came): what may fail fails now (its
 * caller answers for it), what is kept waits for the next connection,
 * which is tried after the backoff. what: NULL when already logged.
 */

static void
fr_pg_lost(const char *what)
{
    fr_pg_cmd_t   *c, *keep, *sent, **last;

    /* the one in flight: its outcome is unknown, not a failure */
    sent = fr_pg_sent ? fr_pg_head : NULL;

    if (what && !fr_pg_reported) {
        fr_log(FR_LOG_ERR, 0, "the PostgreSQL store: %s: %s; asynchronous "
               "invocations are refused (503) until it is back", what,
               fr_pg_conn ? fr_pg_text(PQerrorMessage(fr_pg_conn)) : "");
        fr_pg_reported = 1;
    }

    fr_pg_close();

    /* the queue, less what may fail (and the setup: made again) */
    c = fr_pg_head;
    keep = NULL;
    last = &keep;
    fr_pg_head = NULL;
    fr_pg_tail = &fr_pg_head;

    while (c) {
        fr_pg_cmd_t  *next = c->next;

        if ((c->flags & FR_PG_KEEP) && c != fr_pg_setup_cmd) {
            c->next = NULL;
            *last = c;
            last = &c->next;

        } else {
            if (c->done) {
                fr_pg_doubt = (c == sent);
                c->done(NULL, c->data);
                fr_pg_doubt = 0;
            }

            free(c);
        }

        c = next;
    }

    fr_pg_setup_cmd = NULL;

    /* what the callbacks queued meanwhile (kept ones) goes after */
    *last = fr_pg_head;
    fr_pg_head = keep;

    for (last = &fr_pg_head; *last; last = &(*last)->next) { /* void */ }

    fr_pg_tail = last;

    fr_timer_add(&fr_pg_timer, fr_pg_backoff);
    fr_pg_backoff = fr_pg_backoff * 2 < FR_PG_BACKOFF_MAX
                    ? fr_pg_backoff * 2 : FR_PG_BACKOFF_MAX;
}


/* the connection, and what waits on it, gone; the queue stays */

static void
fr_pg_close(void)
{
    fr_io_forget(&fr_pg_ev);
    fr_timer_del(&fr_pg_fail_timer);
    fr_timer_del(&fr_pg_watchdog);
    fr_pg_broken = NULL;

    if (fr_pg_conn) {
        PQfinish(fr_pg_conn);
        fr_pg_conn = NULL;
    }

    if (fr_pg_result) {
        PQclear(fr_pg_result);
        fr_pg_result = NULL;
    }

    fr_pg_state = FR_PG_DOWN;
    fr_pg_sent = 0;
}
