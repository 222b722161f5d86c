/*
 * Copyright (C) ngx_faas developers
 *
 * A request from its parameters to its END_REQUEST: found its function,
 * queued, given a worker; its response passed on (held in the spool
 * while its body is still coming); the runner's own short answers when
 * no worker answers. The pool reaches requests only through the ops
 * registered here.
 */

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "faas_protocol.h"
#include "fr_cgi.h"
#include "fr_conn.h"
#include "fr_docroot.h"
#include "fr_func.h"
#include "fr_listen.h"
#include "fr_log.h"
#include "fr_meter.h"
#include "fr_params.h"
#include "fr_pool.h"
#include "fr_request.h"
#include "fr_spawn.h"
#include "fr_status.h"
#include "fr_stderr.h"


#define FR_ORPHAN_OUT_MAX  (1024 * 1024)   /* dropped, then killed */


static int fr_req_script(fr_req_t *r);
static void fr_req_cut(fr_req_t *r);
static void fr_req_spool_full(fr_req_t *r);
static void fr_req_assigned(fr_req_t *r);
static int fr_req_stdout(fr_req_t *r, u_char type, const u_char *p,
    size_t n);
static int fr_req_output_full(fr_req_t *r);
static void fr_req_end(fr_req_t *r, uint32_t app_status);
static void fr_req_respond(fr_req_t *r);
static void fr_req_finish(fr_req_t *r, uint32_t app_status);
static void fr_req_downstream_ready(fr_req_t *r);
static int fr_req_idempotent(fr_req_t *r);
static void fr_req_status(fr_req_t *r);
static int fr_req_orphan_output(fr_req_t *r, u_char type, const u_char *p,
    size_t n);
static void fr_req_orphan_end(fr_req_t *r);


static const fr_req_ops_t  fr_request_ops = {
    fr_req_assigned,
    fr_req_stdout,
    fr_req_output_full,
    fr_req_end,
    fr_req_respond,
    fr_req_fail,
    fr_req_downstream_ready,
    fr_req_idempotent
};


void
fr_request_init(void)
{
    fr_pool_init(&fr_request_ops);
}


int
fr_req_stdin_ready(fr_req_t *r)
{
    switch (r->state) {

    case FR_REQ_ANSWERED:
    case FR_REQ_ACCEPTING:
        return 1;

    case FR_REQ_RUNNING:
        return fr_worker_stdin_ready(r->worker);

    default:
        return 0;
    }
}


/* the worker took some of the body: the client may send more */

static void
fr_req_downstream_ready(fr_req_t *r)
{
    fr_conn_t  *c;

    c = r->conn;

    if (c == NULL || !c->paused) {
        return;
    }

    c->paused = 0;
    fr_io_post(&c->io, EPOLLIN);
}


void
fr_req_start(fr_req_t *r)
{
    size_t         len;
    u_char         esc[4 * FR_NAME_MAX];
    fr_func_t     *f;
    const u_char  *name;

    r->state = FR_REQ_QUEUED;
    r->outcome = FR_OUTCOME_NOT_FOUND;

    fr_timer_del(&r->conn->timer);

    if (fr_params_scan(r) != FR_OK) {
        /* nothing of it may reach a worker */
        fr_log(FR_LOG_ERR, 0, "client sent malformed parameters");
        r->outcome = FR_OUTCOME_ERROR;
        fr_req_answer(r, 400);
        return;
    }

    name = r->function;
    len = r->function_len;

    if (!r->has_function && r->status) {
        fr_req_status(r);
        return;
    }

    if (!r->has_function || !fr_name_valid(name, len)) {
        /* a client's bytes (a NUL, a newline), escaped */
        len = fr_log_escape(esc, name, len > FR_NAME_MAX ? FR_NAME_MAX : len);
        fr_log(r->has_function ? FR_LOG_INFO : FR_LOG_ERR, 0,
               r->has_function ? "invalid function name \"%.*s\""
                               : "request without FAAS_FUNCTION%.*s",
               (int) len, esc);
        fr_req_answer(r, 404);
        return;
    }

    f = fr_func_find(name, len);

    if (f && r->has_only_tenant
        && (strlen(f->tenant) != r->only_tenant_len
            || memcmp(f->tenant, r->only_tenant, r->only_tenant_len) != 0))
    {
        /* another tenant's: as if there were none (faas_tenant) */
        fr_log(FR_LOG_INFO, 0, "function \"%.*s\" is tenant \"%s\"'s, not "
               "the one faas_tenant names", (int) len, name, f->tenant);
        f = NULL;
    }

    if (f == NULL) {
        fr_log(FR_LOG_INFO, 0, "unknown function \"%.*s\"", (int) len, name);
        fr_req_answer(r, 404);
        return;
    }

    r->outcome = FR_OUTCOME_OK;
    r->func = f;
    f->nreqs++;

    if (fr_runner.draining && !r->drain_fresh) {
        r->outcome = FR_OUTCOME_THROTTLED;
        fr_req_answer(r, 503);
        return;
    }

    if (r->async) {
        /* its body is read whole, then it is stored and answered 202 */
        r->state = FR_REQ_ACCEPTING;

        if (r->stdin_done) {
            fr_req_async_end(r);
        }

        return;
    }

    if (f->conf.document_root && fr_req_script(r) != FR_OK) {
        return;
    }

    fr_func_enqueue(f, r);
}


/*
 * document_root: the script the request's path names, found now; none
 * is a 404 of the runner's, and no worker wakes for it.
 */

static int
fr_req_script(fr_req_t *r)
{
    int       rc;
    fr_buf_t  loc;

    memset(&loc, 0, sizeof(fr_buf_t));

    rc = fr_docroot_resolve(r->func, &r->params, &loc);

    if (rc == FR_OK) {
        /* the parameters were written anew: where they are moved */
        rc = fr_params_scan(r);

        if (rc == FR_OK) {
            return FR_OK;
        }
    }

    if (rc == FR_DONE) {
        /* a folder without its slash: redirected, as nginx does */
        r->outcome = FR_OUTCOME_OK;

        if (fr_req_stdout(r, FR_FCGI_STDOUT, fr_buf_pos(&loc), loc.len)
            != FR_ERROR)
        {
            fr_req_end(r, 0);
        }

        fr_buf_free(&loc);

        return FR_DECLINED;
    }

    r->outcome = (rc == FR_DECLINED) ? FR_OUTCOME_NOT_FOUND
                                     : FR_OUTCOME_ERROR;
    fr_req_answer(r, (rc == FR_DECLINED) ? 404 : 500);

    return FR_DECLINED;
}


/* as nginx: all but POST, LOCK and PATCH may be sent twice */

static int
fr_req_idempotent(fr_req_t *r)
{
    size_t         len;
    const u_char  *m;

    m = r->method;
    len = r->method_len;

    return m == NULL
           || !((len == 4 && memcmp(m, "POST", 4) == 0)
                || (len == 4 && memcmp(m, "LOCK", 4) == 0)
                || (len == 5 && memcmp(m, "PATCH", 5) == 0));
}


static void
fr_req_assigned(fr_req_t *r)
{
    r->state = FR_REQ_RUNNING;

    /* the body parked in the connection may flow now */
    fr_req_downstream_ready(r);
}


/* a worker's STDOUT or STDERR for the client; FR_AGAIN: client is full */

static int
fr_req_stdout(fr_req_t *r, u_char type, const u_char *p, size_t n)
{
    int         rc;
    size_t      chunk;
    u_char      h[FR_FCGI_HEADER_LEN];
    fr_conn_t  *c;

    c = r->conn;

    if (c == NULL) {
        return fr_req_orphan_output(r, type, p, n);
    }

    if (type == FR_FCGI_STDOUT) {
        r->response_started = 1;

        if (!r->hdr_done) {
            fr_cgi_scan_header(r, p, n);
        }

    } else {
        n = fr_stderr_client(r, &p, n);
    }

    while (n) {
        chunk = fr_stderr_chunk(r, type, p, n);

        fr_fcgi_write_header(h, type, r->id, (uint16_t) chunk, 0);

        rc = fr_conn_record(c, h, p, chunk,
                            (type == FR_FCGI_STDERR ? FR_CONN_PAST : 0)
                            | (r->answering ? FR_CONN_OURS : 0));

        if (rc == FR_DECLINED) {
            fr_req_spool_full(r);
            return FR_ERROR;
        }

        if (rc != FR_OK) {
            fr_conn_close(c);
            return FR_ERROR;
        }

        p += chunk;
        n -= chunk;
    }

    if (fr_conn_holding(c) && c->out.len == 0) {
        return FR_OK;
    }

    if (!fr_buf_full(&c->out)) {
        /* one write per batch: STDOUT and END_REQUEST leave together */
        fr_io_post(&c->io, EPOLLOUT);
        return FR_OK;
    }

    fr_conn_flush(c);

    if (c->io.fd == -1) {
        return FR_ERROR;
    }

    return fr_buf_full(&c->out) ? FR_AGAIN : FR_OK;
}


/*
 * The response spooled went over spool_max or spool_max_total: the
 * worker stops; held, none of it left: a 502 (our own answer always
 * fits: fr_conn_record), else it is cut.
 */

static void
fr_req_spool_full(fr_req_t *r)
{
    fr_conn_t  *c;

    c = r->conn;

    fr_log(FR_LOG_ERR, 0, "function \"%s\": the response held while its "
           "request body arrives (%zu bytes) would pass spool_max %lld or "
           "spool_max_total %lld", r->func ? r->func->name : "-",
           fr_spool_size(&c->spool), (long long) fr_runner.conf.spool_max,
           (long long) fr_runner.conf.spool_max_total);

    if (fr_conn_holding(c)) {
        fr_conn_unhold(c);
    }

    if (r->worker) {
        fr_worker_abandon(r->worker);
        r->worker = NULL;
    }

    fr_req_fail(r, FR_OUTCOME_ERROR);
}


/* the client cannot take more now: the worker waits */

static int
fr_req_output_full(fr_req_t *r)
{
    return r->conn && fr_buf_full(&r->conn->out);
}


/* the worker's END_REQUEST: the invocation is over */

static void
fr_req_end(fr_req_t *r, uint32_t app_status)
{
    fr_conn_t  *c;

    c = r->conn;

    r->worker = NULL;
    r->state = FR_REQ_ANSWERED;
    fr_timer_del(&r->timer);

    if (r->t_assigned && r->duration_us < 0) {
        r->duration_us = (int64_t) (fr_current_usec - r->t_assigned);
    }

    if (c == NULL) {
        fr_req_orphan_end(r);
        return;
    }

    fr_timer_del(&c->timer);

    if (!r->keep_conn) {
        c->closing = 1;
    }

    fr_req_finish(r, app_status);

    if (c->req == r && r->stdin_done) {
        fr_req_done(r);
        return;
    }

    /* answered before its body was read: the rest is read and dropped,
     * then the connection takes the client's next request */
    fr_req_downstream_ready(r);
}


/* the end of STDOUT, the measurements if asked, END_REQUEST */

static void
fr_req_finish(fr_req_t *r, uint32_t app_status)
{
    u_char      rec[FR_FCGI_END_LEN + FR_METER_RECORD_MAX], *p;
    size_t      n;
    fr_conn_t  *c;

    c = r->conn;

    if (fr_cgi_header_ended(r) != FR_OK) {
        r->outcome = FR_OUTCOME_ERROR;
    }

    p = rec;

    fr_stderr_client_end(r);
    if (r->stderr_tail.len) {
        /* its stderr's last bytes (fr_stderr_client), then its end */
        p = fr_fcgi_write_header(p, FR_FCGI_STDERR, r->id,
                                 (uint16_t) r->stderr_tail.len, 0);
        (void) fr_conn_control(c, rec, p - rec);
        (void) fr_conn_control(c, r->stderr_tail.buf, r->stderr_tail.len);
        r->stderr_tail.len = 0;
        p = rec;
    }

    p = fr_fcgi_write_stdout_end(p, r->id);

    if (r->meter && fr_meter_log_instead(r) == FR_DECLINED) {
        n = fr_meter_record(r, p);
        /* until nginx is known to have read it */
        fr_meter_log_keep(r, &c->unread, p, n);
        p += n;
    }

    p = fr_fcgi_write_end_request(p, r->id, app_status,
                                  FR_FCGI_REQUEST_COMPLETE);

    (void) fr_conn_control(c, rec, p - rec);
    fr_io_post(&c->io, EPOLLOUT);
}


/*
 * The worker ended its response but not its invocation (PHP's
 * fastcgi_finish_request()): the client has the response and the
 * measurements so far, and its connection takes the next request. The
 * invocation runs on, within its timeout, as one whose client left;
 * what it uses from here is metered into meter_log (after_response).
 * Only a request whose body the worker has whole.
 */

static void
fr_req_respond(fr_req_t *r)
{
    fr_conn_t  *c;

    c = r->conn;

    if (c == NULL || r->state != FR_REQ_RUNNING || !r->stdin_done) {
        return;
    }

    fr_timer_del(&c->timer);

    if (!r->keep_conn) {
        c->closing = 1;
    }

    fr_req_finish(r, 0);

    c->req = NULL;
    c->paused = 0;
    r->conn = NULL;
    r->after_response = 1;

    if (c->closing) {
        fr_conn_flush(c);
    }
}


/*
 * A status request (FAAS_STATUS, no function): the runner's counters in
 * the format QUERY_STRING asks for.
 */

static void
fr_req_status(fr_req_t *r)
{
    uint64_t           t0;
    fr_status_reply_t  reply;

    memset(&reply, 0, sizeof(reply));

    fr_time_update();
    t0 = fr_current_usec;

    fr_status_render(r->query, r->query_len, r->accept, r->accept_len,
                     r->has_only_tenant ? r->only_tenant : NULL,
                     r->only_tenant_len, &reply);

    fr_time_update();
    fr_log(FR_LOG_DEBUG, 0, "status rendered in %llu us, %zu bytes",
           (unsigned long long) (fr_current_usec - t0), reply.body.len);

    /* on the access log's line: a status asked of no such function is
     * not_found, a bad format an error, as an invocation's would be */
    r->outcome = (reply.status == 200) ? FR_OUTCOME_OK
                 : (reply.status == 404) ? FR_OUTCOME_NOT_FOUND
                 : FR_OUTCOME_ERROR;

    if (reply.status == 500) {
        fr_log(FR_LOG_ALERT, errno, "cannot render the status");
        r->outcome = FR_OUTCOME_ERROR;
        fr_req_answer(r, 500);
        return;
    }

    fr_req_reply(r, reply.status, reply.headers ? reply.headers
                                                : "Cache-Control: no-store\r\n",
                 reply.content_type, fr_buf_pos(&reply.body), reply.body.len);

    fr_buf_free(&reply.body);
}


/*
 * The runner's own answer, whole: its header block and body at once.
 * FR_AGAIN from the output (a slow client) is no error: it is all
 * queued and goes as the client reads.
 */

void
fr_req_reply(fr_req_t *r, int status, const char *headers,
    const char *content_type, const u_char *body, size_t len)
{
    int   n;
    char  head[512];

    n = snprintf(head, sizeof(head), "Status: %s\r\n"
                 "Content-Type: %s\r\n"
                 "Content-Length: %zu\r\n"
                 "%s\r\n",
                 fr_fcgi_status_line(status), content_type, len,
                 headers ? headers : "");

    if (fr_req_stdout(r, FR_FCGI_STDOUT, (u_char *) head, (size_t) n)
        != FR_ERROR
        && (len == 0 || fr_req_stdout(r, FR_FCGI_STDOUT, body, len)
                        != FR_ERROR))
    {
        fr_req_end(r, 0);
    }
}


void (*fr_req_async_accept)(fr_req_t *r);


void
fr_req_async_end(fr_req_t *r)
{
    if (fr_req_async_accept == NULL) {
        r->outcome = FR_OUTCOME_ERROR;
        fr_req_answer(r, 503);
        return;
    }

    fr_req_async_accept(r);
}


/* an answer of the runner's own: short, fixed, no detail */

void
fr_req_answer(fr_req_t *r, int status)
{
    int          n;
    char         buf[512];
    const char  *line;

    line = fr_fcgi_status_line(status);
    fr_cgi_header_reset(r);

    n = snprintf(buf, sizeof(buf),
                 "Status: %s\r\n"
                 "Content-Type: text/plain\r\n"
                 "Content-Length: %d\r\n"
                 "%s"
                 "\r\n"
                 "%s\n",
                 line, (int) strlen(line) + 1,
                 status == 503 ? "Retry-After: 1\r\n" : "",
                 line);

    r->answering = 1;

    if (fr_req_stdout(r, FR_FCGI_STDOUT, (u_char *) buf, (size_t) n)
        == FR_ERROR)
    {
        return;
    }

    r->answering = 0;
    fr_req_end(r, 0);
}


/*
 * The client broke the protocol mid-request: its worker is stopped and
 * it gets status, or, with a response begun, FR_ERROR: close.
 */

int
fr_req_reject(fr_req_t *r, int status)
{
    if (r->state == FR_REQ_ANSWERED) {
        return FR_OK;
    }

    if (r->worker) {
        fr_worker_abandon(r->worker);
        r->worker = NULL;
    }

    fr_func_unqueue(r);
    r->outcome = FR_OUTCOME_ERROR;

    if (r->response_started && !fr_conn_holding(r->conn)) {
        return FR_ERROR;
    }

    /* nothing went, or all of it is still held back */
    fr_conn_unhold(r->conn);
    fr_req_answer(r, status);

    return FR_OK;
}


/*
 * The invocation failed. Nothing sent yet: an answer of our own; else
 * the client must not take a cut response for a whole one: close.
 */

void
fr_req_fail(fr_req_t *r, fr_outcome_e outcome)
{
    r->worker = NULL;
    r->outcome = r->bad_status ? FR_OUTCOME_ERROR : outcome;
    fr_func_unqueue(r);

    if (r->meter && r->t_assigned && r->duration_us < 0) {
        /* what it used until it failed is billed too */
        r->duration_us = (int64_t) (fr_current_usec - r->t_assigned);
    }

    if (r->meter && r->queue_us < 0 && r->t_queued) {
        r->queue_us = (int64_t) (fr_current_usec - r->t_queued);
    }

    if (r->conn == NULL) {
        fr_req_orphan_end(r);
        return;
    }

    if (r->response_started && !fr_conn_holding(r->conn)) {
        fr_req_cut(r);
        return;
    }

    /* nothing went, or all of it is still held back: a clean answer */
    fr_conn_unhold(r->conn);

    fr_req_answer(r, fr_outcome_status(outcome));
}


/*
 * The response had begun: the client must not take it for a whole one,
 * so it never gets END_REQUEST and the connection closes. What was sent
 * goes out first, and, if asked for, the measurements: the invocation
 * ran and is billed like any other.
 */

static void
fr_req_cut(fr_req_t *r)
{
    u_char      rec[FR_METER_RECORD_MAX];
    fr_conn_t  *c;

    c = r->conn;

    if (r->meter && fr_meter_log_instead(r) == FR_DECLINED) {
        (void) fr_conn_control(c, rec, fr_meter_record(r, rec));
    }

    r->stdin_done = 1;
    c->closing = 1;

    fr_req_free(r);
    fr_conn_flush(c);
}


/*
 * The client went away (its connection closed, or it sent
 * ABORT_REQUEST) while a worker runs its request: the invocation runs
 * to its end all the same, as under fcgiwrap and php-fpm, bounded by
 * its timeout; its output is dropped and its worker kept. Nobody takes
 * its measurements now: they go to meter_log. A request no worker has
 * yet, or whose body is not whole, has nothing to finish: FR_DECLINED.
 */

int
fr_req_orphan(fr_req_t *r)
{
    fr_conn_t  *c;

    if (r->state != FR_REQ_RUNNING || r->worker == NULL || !r->stdin_done
        || r->conn == NULL)
    {
        return FR_DECLINED;
    }

    c = r->conn;

    fr_log(FR_LOG_INFO, 0, "function \"%s\": its client went away, worker "
           "%d finishes the invocation", r->func->name, (int) r->worker->pid);

    c->req = NULL;
    c->paused = 0;
    r->conn = NULL;

    /* what waited for the client to read is read and dropped now */
    r->worker->ops->orphaned(r->worker);

    return FR_OK;
}


/*
 * The output of a request its client left: stderr to the log, stdout
 * dropped up to a bound (past the length of a response HTTP has no body
 * for), then the worker killed (as php-fpm ends a script writing to a
 * closed connection): nobody reads it, at a cost.
 */

static int
fr_req_orphan_output(fr_req_t *r, u_char type, const u_char *p, size_t n)
{
    fr_worker_t  *w;

    w = r->worker;

    if (type == FR_FCGI_STDERR && w) {
        fr_stderr_log(w, p, n);
        return FR_OK;
    }

    r->orphan_out += n;

    if (w == NULL
        || r->orphan_out <= FR_ORPHAN_OUT_MAX + fr_cgi_bodiless(r))
    {
        return FR_OK;
    }

    fr_log(FR_LOG_WARN, 0, "function \"%s\": worker %d wrote %zu bytes "
           "nobody reads, killing it", r->func->name, (int) w->pid,
           r->orphan_out);

    if (r->meter) {
        fr_meter_stop(w, r);
    }

    w->req = NULL;
    r->worker = NULL;
    fr_spawn_kill_strays(w);
    fr_worker_stop(w, FR_STOP_CLIENT, SIGKILL, 0);

    /* its client left: meter_log says client_closed (fr_meter.c) */
    fr_req_fail(r, r->after_response ? FR_OUTCOME_ERROR : FR_OUTCOME_OK);

    return FR_ERROR;
}


static void
fr_req_orphan_end(fr_req_t *r)
{
    r->state = FR_REQ_ANSWERED;
    r->worker = NULL;
    fr_timer_del(&r->timer);

    fr_log(FR_LOG_INFO, 0, "function \"%s\": the invocation %s ended (%s)",
           r->func->name, r->after_response ? "that had answered its client"
                                            : "its client left",
           fr_outcome_name(r->outcome));

    if (r->meter) {
        fr_meter_log_request(r);
    }

    fr_req_free(r);
}


/* answered and its input consumed: the connection is free */

void
fr_req_done(fr_req_t *r)
{
    fr_conn_t  *c;

    c = r->conn;

    fr_req_free(r);

    if (c->closing) {
        fr_conn_flush(c);
    }
}


void
fr_req_free(fr_req_t *r)
{
    fr_conn_t  *c;

    c = r->conn;

    fr_timer_del(&r->timer);
    fr_func_unqueue(r);

    if (r->worker) {
        /* the client is gone mid-invocation: the worker is replaced */
        fr_worker_abandon(r->worker);
        r->worker = NULL;
    }

    fr_status_count(r);
    fr_stderr_client_free(r);

    if (r->func) {
        r->func->nreqs--;
        fr_func_check(r->func);
    }

    fr_buf_free(&r->params);
    fr_buf_free(&r->body);

    if (!fr_list_empty(&r->pending)) {
        /* stored already: it runs all the same, nobody hears its 202 */
        fr_list_remove(&r->pending);
    }

    if (c) {
        c->req = NULL;
        c->paused = 0;
    }

    fr_runner.nreqs--;

    free(r);

    fr_listen_unpause();

    if (fr_runner.draining && fr_runner_drained()) {
        fr_runner.quitting = 1;
    }
}
