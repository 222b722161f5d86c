/*
 * Copyright (C) ngx_faas developers
 *
 * The CGI worker mode (RFC 3875): a process per request, its
 * meta-variables in the environment, the body on a pipe to its stdin,
 * its header block and body read from its stdout, its stderr passed to
 * the client as FastCGI STDERR. The response ends with its stdout and
 * its exit: a death by signal cuts it, as a FastCGI worker's crash.
 */

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fr_cgi.h"
#include "fr_fault.h"
#include "fr_log.h"
#include "fr_meter.h"
#include "fr_pool.h"
#include "fr_spawn.h"
#include "fr_stderr.h"


#define FR_CGI_HEADER_MAX  (64 * 1024)
#define FR_CGI_HEADER_BIG  (1024 * 1024)  /* with a larger faas_buffer_size */
#define FR_EXIT_WAIT       500        /* ms a CGI end waits for its exit */
#define FR_STRAYS_WAIT     100        /* ms to wait for pipes, stderr */
#define FR_LATE_STDERR     (64 * 1024)  /* to the client after stdout */
#define FR_CGI_BODILESS_MAX  (16 * 1024 * 1024)  /* faas_pass reads so much */


static int fr_cgi_open(fr_worker_t *w, int fd[2]);
static int fr_cgi_started(fr_worker_t *w, fr_req_t *r);
static int fr_cgi_assign(fr_worker_t *w, fr_req_t *r);
static void fr_cgi_stdin(fr_worker_t *w, const u_char *p, size_t n);
static int fr_cgi_stderr(fr_worker_t *w, const u_char *p, size_t n);
static void fr_cgi_stderr_end(fr_worker_t *w);
static int fr_cgi_reaped(fr_worker_t *w);
static void fr_cgi_timer(fr_worker_t *w);
static void fr_cgi_flush(fr_worker_t *w);
static void fr_cgi_stdout_handler(fr_io_t *io, uint32_t events);
static int fr_cgi_headers(fr_worker_t *w);
static void fr_cgi_stdin_handler(fr_io_t *io, uint32_t events);
static void fr_cgi_finish(fr_worker_t *w);
static int fr_cgi_works_on(fr_worker_t *w, fr_req_t *r);
static int fr_cgi_crashed(fr_worker_t *w);


static const fr_mode_t  fr_cgi_mode = {
    "cgi",
    1,
    fr_cgi_open,
    fr_cgi_started,
    fr_cgi_assign,
    fr_cgi_stdin,
    fr_cgi_stderr,
    fr_cgi_stderr_end,
    fr_cgi_reaped,
    fr_cgi_timer,
    fr_worker_stdout_ready
};


void
fr_cgi_init(void)
{
    fr_pool_mode(FR_MODE_CGI, &fr_cgi_mode);
}


/* pipes for the body (the child's 0) and the response (its 1) */

static int
fr_cgi_open(fr_worker_t *w, int fd[2])
{
    int  p[2];

    if (fr_spawn_pipe(p, 1, &w->ino[0]) != FR_OK) {
        return FR_ERROR;
    }

    fd[0] = p[0];
    w->in.fd = p[1];

    if (fr_spawn_pipe(p, 0, &w->ino[1]) != FR_OK) {
        return FR_ERROR;
    }

    fd[1] = p[1];
    w->io.fd = p[0];

    w->in.handler = fr_cgi_stdin_handler;
    w->io.handler = fr_cgi_stdout_handler;
    w->in.data = w->io.data = w;

    return FR_OK;
}


static int
fr_cgi_started(fr_worker_t *w, fr_req_t *r)
{
    (void) r;

    fr_worker_set_state(w, FR_WORKER_BUSY);

    return fr_io_set(&w->io, EPOLLIN);
}


/*
 * The request is in its environment; its body follows on stdin. One
 * that ended while the request waited for a worker (an empty body: it
 * has no content to hold back) ends on stdin now.
 */

static int
fr_cgi_assign(fr_worker_t *w, fr_req_t *r)
{
    if (r->stdin_done) {
        fr_cgi_stdin(w, NULL, 0);
    }

    return FR_OK;
}


static void
fr_cgi_stdin(fr_worker_t *w, const u_char *p, size_t n)
{
    if (w->in.fd == -1) {
        return;
    }

    if (n) {
        (void) fr_buf_append(&w->out, p, n);
    }

    if (fr_buf_full(&w->out)) {
        fr_cgi_flush(w);
        return;
    }

    fr_io_post(&w->in, EPOLLOUT);
}


static void
fr_cgi_flush(fr_worker_t *w)
{
    int  rc, full;

    if (w->in.fd == -1) {
        return;
    }

    full = fr_buf_full(&w->out);

    rc = fr_buf_flush(&w->out, w->in.fd);

    if (rc == FR_ERROR) {
        /* the script does not read its body: that is its right */
        fr_buf_free(&w->out);
        fr_io_close(&w->in);
        return;
    }

    if (rc == FR_OK && w->req && w->req->stdin_done) {
        /* the whole body is in: the script sees EOF */
        fr_io_close(&w->in);
        return;
    }

    (void) fr_io_set(&w->in, rc == FR_AGAIN ? EPOLLOUT : 0);

    if (full && !fr_buf_full(&w->out) && w->req) {
        fr_req_ops->resume(w->req);
    }
}


/*
 * To the client as FastCGI STDERR, paced like its stdout. Once its
 * stdout has ended, its last words (a traceback) still go there, but
 * not a flood: past FR_LATE_STDERR the rest goes to the log, and the
 * response's end never waits behind it.
 */

static int
fr_cgi_stderr(fr_worker_t *w, const u_char *p, size_t n)
{
    if (w->io.fd == -1 && (w->err_late += n) > FR_LATE_STDERR) {
        fr_stderr_log(w, p, n);
        return FR_OK;
    }

    if (fr_req_ops->output(w->req, FR_FCGI_STDERR, p, n) == FR_AGAIN
        && w->err.fd != -1)
    {
        (void) fr_io_set(&w->err, 0);
    }

    return FR_OK;
}


static void
fr_cgi_stderr_end(fr_worker_t *w)
{
    if (w->state == FR_WORKER_BUSY) {
        fr_cgi_finish(w);
    }
}


/*
 * The process of a request exited. Its output may still sit in the
 * pipe: read it first. If the pipes are still open a moment later, what
 * holds them was left behind by it.
 */

static int
fr_cgi_reaped(fr_worker_t *w)
{
    if (w->state != FR_WORKER_BUSY) {
        return FR_DECLINED;
    }

    if (w->err.fd != -1) {
        /* its last words on stderr go with its response */
        fr_stderr_drain(w);
    }

    if (w->io.fd != -1) {
        fr_timer_add(&w->timer, FR_STRAYS_WAIT);
        return FR_DONE;
    }

    fr_timer_del(&w->timer);
    fr_cgi_finish(w);

    return FR_DONE;
}


/* near its end: waited for its pipes, its stderr or its exit */

static void
fr_cgi_timer(fr_worker_t *w)
{
    if (w->reaped && (w->io.fd != -1 || w->err.fd != -1)) {
        /* gone, and its pipes still open: held by what it left */
        fr_spawn_kill_strays(w);
    }

    if (w->io.fd == -1) {
        /* stdout ended: no longer wait for stderr or for the exit */
        fr_cgi_finish(w);
    }
}


static void
fr_cgi_stdout_handler(fr_io_t *io, uint32_t events)
{
    int           rc;
    ssize_t       n;
    u_char        buf[64 * 1024];
    fr_req_t     *r;
    fr_worker_t  *w;

    (void) events;

    w = io->data;

    fr_worker_exec_check(w);

    n = read(io->fd, buf, sizeof(buf));

    if (n == -1 && (errno == EAGAIN || errno == EINTR)) {
        return;
    }

    r = w->req;

    if (n <= 0) {
        fr_io_close(io);

        if (!w->cgi_headers && r) {
            if (!w->exec_failed) {
                fr_log(FR_LOG_ERR, 0, "CGI function \"%s\" (pid %d) %s",
                       w->func->name, (int) w->pid,
                       w->hdr.len ? "sent an incomplete header"
                                  : "sent no response");
            }

            /* failed once its exit measures it (fr_cgi_finish) */
            w->no_answer = 1;
        }

        fr_cgi_finish(w);
        return;
    }

    if (r == NULL) {
        return;
    }

    if (w->cgi_headers) {
        rc = fr_req_ops->output(r, FR_FCGI_STDOUT, buf, (size_t) n);

        if (rc == FR_AGAIN && io->fd != -1) {
            (void) fr_io_set(io, 0);
        }

        return;
    }

    (void) fr_buf_append(&w->hdr, buf, (size_t) n);

    rc = fr_cgi_headers(w);

    if (rc == FR_AGAIN) {
        return;
    }

    if (rc == FR_DECLINED) {
        /* a Status that is no status: the function answered garbage */
        fr_log(FR_LOG_ERR, 0, "CGI function \"%s\" (pid %d) sent an invalid "
               "status", w->func->name, (int) w->pid);
        r->bad_status = 1;
        fr_worker_failed(w, NULL);
        return;
    }

    if (rc == FR_ERROR) {
        fr_log(FR_LOG_ERR, 0, "CGI function \"%s\" (pid %d) sent an invalid "
               "header", w->func->name, (int) w->pid);
        r->bad_status = 1;
        fr_worker_failed(w, NULL);
        return;
    }

    w->cgi_headers = 1;

    rc = fr_req_ops->output(r, FR_FCGI_STDOUT, fr_buf_pos(&w->hdr), w->hdr.len);
    fr_buf_free(&w->hdr);

    if (rc == FR_AGAIN && io->fd != -1) {
        (void) fr_io_set(io, 0);
    }
}


/*
 * The CGI header block (RFC 3875 6.2): "Name: value" lines up to an empty
 * line. It goes on unchanged: the FastCGI client reads Status: and
 * Location: as from any responder; a block that is no header is a 502
 * (FR_ERROR), and so is a Status that is no status (FR_DECLINED).
 */

static int
fr_cgi_headers(fr_worker_t *w)
{
    int      rc;
    u_char  *start, *p, *last, *eol, *colon, *c;
    size_t   max;

    /*
     * From where the last read left it: a block written a few bytes a
     * read, scanned from its start each time, cost the runner n^2 (a
     * hostile review: 22k lines of 3 bytes, seconds of its CPU)
     */
    start = fr_buf_pos(&w->hdr);
    p = start + w->hdr_at;
    last = start + w->hdr.len;

    for ( ;; ) {
        eol = memchr(start + w->hdr_seen, '\n', last - start - w->hdr_seen);

        if (eol == NULL) {
            w->hdr_seen = (uint32_t) w->hdr.len;

            /* 64 KiB, or what nginx takes (faas_buffer_size) to 1 MiB */
            max = (w->req && w->req->header_max > FR_CGI_HEADER_MAX)
                  ? (w->req->header_max < FR_CGI_HEADER_BIG
                     ? w->req->header_max : FR_CGI_HEADER_BIG)
                  : FR_CGI_HEADER_MAX;

            return w->hdr.len > max ? FR_ERROR : FR_AGAIN;
        }

        if (eol == p || (eol == p + 1 && *p == '\r')) {
            return (p > start) ? FR_OK : FR_ERROR;
        }

        colon = memchr(p, ':', eol - p);

        if (colon == NULL || colon == p) {
            return FR_ERROR;
        }

        for (c = p; c < colon; c++) {
            if (*c <= ' ' || *c >= 127) {
                return FR_ERROR;
            }
        }

        /* a NUL, a CR not at its end: nginx takes no such line */
        for (c = colon; c < eol; c++) {
            if (*c == '\0' || (*c == '\r' && c + 1 < eol && c[1] != '\r')) {
                return FR_ERROR;
            }
        }

        /* the first Status: is the answer's, as nginx takes it */
        if (!w->hdr_status) {
            rc = fr_cgi_status(p, eol - p - (eol[-1] == '\r'));

            if (rc == FR_ERROR) {
                return FR_DECLINED;
            }

            w->hdr_status = (rc != FR_DECLINED);
        }

        p = eol + 1;
        w->hdr_at = (uint32_t) (p - start);
        w->hdr_seen = w->hdr_at;
    }
}


static void
fr_cgi_stdin_handler(fr_io_t *io, uint32_t events)
{
    (void) events;

    fr_cgi_flush(io->data);
}


/* stdout and stderr are closed: the response is whole */

static void
fr_cgi_finish(fr_worker_t *w)
{
    int64_t    left;
    fr_req_t  *r;

    if (w->io.fd != -1) {
        /* the response goes on until its stdout ends */
        return;
    }

    if (w->err.fd != -1 && !w->err_waited) {
        /*
         * Its last words on stderr may come a moment after: they are
         * waited for briefly, not for as long as something holds the
         * pipe. What comes later goes to the log.
         */
        w->err_waited = 1;
        fr_timer_add(&w->timer, FR_STRAYS_WAIT);
        return;
    }

    r = w->req;

    if (r && !w->reaped && !w->reap_waited) {
        /*
         * How it ended is part of its answer (a crash cuts it) and its
         * rusage is the measure: the exit is near, wait a moment. One
         * that closed its output and works on (the CGI way to answer
         * early) ends its response without.
         */
        w->reap_waited = 1;
        fr_timer_add(&w->timer, FR_EXIT_WAIT);
        return;
    }

    if (r && !w->reaped && fr_cgi_works_on(w, r)) {
        return;
    }

    w->req = NULL;

    if (r) {
        if (r->meter) {
            fr_meter_stop(w, r);
        }

        r->worker = NULL;

        if (fr_cgi_crashed(w)) {
            fr_req_ops->fail(r, FR_OUTCOME_CRASHED);

        } else if (w->no_answer) {
            /* no whole header block, and no crash: an answer that is
             * none, as a FastCGI function's empty STDOUT (one the
             * runner killed, stopping, was cut: crashed, as before) */
            fr_req_ops->fail(r, w->killed ? FR_OUTCOME_CRASHED
                                          : FR_OUTCOME_ERROR);

        } else {
            fr_req_ops->end(r, w->reaped && WIFEXITED(w->status)
                          ? (uint32_t) WEXITSTATUS(w->status) : 0);
        }
    }

    fr_io_close(&w->in);
    fr_buf_free(&w->out);

    if (w->reaped) {
        fr_worker_set_state(w, FR_WORKER_STOPPING);
        fr_worker_free(w);
        fr_func_dispatch(w->func);

        /* its room, for what waits at its tenant's or the host's limits */
        fr_pool_room(w->func);
        return;
    }

    /* it closed its output but lives on: to the end of its timeout */
    left = w->func->conf.timeout
           - (int64_t) (fr_current_usec - w->spawned) / 1000;

    fr_worker_set_state(w, FR_WORKER_STOPPING);
    fr_timer_add(&w->timer, left > 0 ? (uint64_t) left : 0);
}


/*
 * It closed its output and works on: the CGI way to answer early, as
 * PHP's fastcgi_finish_request(). Its client has the response and its
 * measurements so far; the invocation runs on to the process's exit
 * or its timeout, metered from here as a run of its own into meter_log
 * (after_response). One whose client left is already such a run. 0:
 * its body is not all with it, the response ends as before.
 */

static int
fr_cgi_works_on(fr_worker_t *w, fr_req_t *r)
{
    if (r->after_response || r->conn == NULL) {
        return 1;
    }

    if (w->no_answer || !r->stdin_done) {
        return 0;
    }

    if (r->meter) {
        fr_meter_stop(w, r);
    }

    fr_req_ops->respond(r);

    if (!r->after_response) {
        return 0;
    }

    if (r->meter) {
        fr_meter_restart(w, r);
    }

    fr_log(FR_LOG_INFO, 0, "CGI function \"%s\" (pid %d) answered and works "
           "on", w->func->name, (int) w->pid);

    return 1;
}


/*
 * A process that died by a signal nobody here sent (a crash, the OOM
 * killer) broke its response, however much of it was written: the
 * client must not take it for a whole one. The request fails; the
 * response, if begun, is cut (no END_REQUEST), as a FastCGI worker's.
 */

static int
fr_cgi_crashed(fr_worker_t *w)
{
    if (!w->reaped || w->killed || !WIFSIGNALED(w->status)) {
        return 0;
    }

    fr_log(FR_LOG_ERR, 0, "CGI function \"%s\" (pid %d) exited on signal "
           "%d%s mid-request", w->func->name, (int) w->pid,
           WTERMSIG(w->status), WCOREDUMP(w->status) ? " (core dumped)" : "");

    w->why = FR_STOP_CRASHED;

    return 1;
}


/*
 * At the response's end: its header block seen whole, or none (nothing,
 * or one never ended), which nginx, the module or stock, answers with a
 * 502: the invocation is an error, as for a bad "Status:".
 */

int
fr_cgi_header_ended(fr_req_t *r)
{
    if (r->hdr_done && !r->bad_status) {
        return FR_OK;
    }

    if (!r->bad_status) {
        fr_log(FR_LOG_ERR, 0, "function \"%.*s\" ended its response "
               "without a whole header block", (int) r->function_len,
               (const char *) r->function);
        r->bad_status = 1;
    }

    return FR_ERROR;
}


/* the header scan begun again: the runner's own answer comes */

void
fr_cgi_header_reset(fr_req_t *r)
{
    r->hdr_done = 0;
    r->bad_status = 0;
    r->hdr_line = 0;
    r->hdr_bytes = 0;
    r->http_status = 0;
    r->hdr_cr = 0;
    r->hdr_junk = 0;
    r->hdr_accel = 0;
}


/*
 * The response's header block as it passes (either mode): a "Status:"
 * that is no status is garbage from the function, its invocation an
 * error (nginx, the module or stock, answers 502 for it); the bytes go
 * on unchanged. A header block bigger than nginx takes (FAAS_HEADER_MAX,
 * its faas_buffer_size; else 64 KiB) is an error as well.
 */

void
fr_cgi_scan_header(fr_req_t *r, const u_char *p, size_t n)
{
    int       rc;
    size_t    len;
    u_char    esc[4 * sizeof(r->hdr_buf)];
    uint32_t  max;

    max = r->header_max ? r->header_max : FR_CGI_HEADER_MAX;

    for ( /* void */ ; n && !r->hdr_done; p++, n--) {
        if (++r->hdr_bytes > max) {
            /* nginx takes no such header (faas_buffer_size): its 502 is
             * the function's */
            r->bad_status = 1;
            r->hdr_done = 1;
            fr_log(FR_LOG_ERR, 0, "function \"%.*s\" sent a header block "
                   "over %u bytes", (int) r->function_len,
                   (const char *) r->function, (unsigned) max);
            return;
        }

        if (*p != '\n') {
            if (r->hdr_line < sizeof(r->hdr_buf)) {
                r->hdr_buf[r->hdr_line] = *p;
            }

            /* a NUL, a CR with more than CRs behind it: nginx's 502 */
            r->hdr_junk |= (*p == '\0') || (r->hdr_cr && *p != '\r');
            r->hdr_cr = (*p == '\r');
            r->hdr_line += (r->hdr_line < UINT16_MAX);
            continue;
        }

        len = r->hdr_line < sizeof(r->hdr_buf) ? r->hdr_line
                                               : sizeof(r->hdr_buf);
        len -= (len && len == r->hdr_line && r->hdr_buf[len - 1] == '\r');
        r->hdr_line = 0;
        r->hdr_cr = 0;

        if (len == 0) {
            r->hdr_done = 1;
            return;
        }

        if (r->hdr_junk && !r->bad_status) {
            r->bad_status = 1;
            fr_log(FR_LOG_ERR, 0, "function \"%.*s\" sent a header line "
                   "with a NUL or a CR in it", (int) r->function_len,
                   (const char *) r->function);
        }

        /* after a bad one, the block's end is still looked for: it is
         * held to there (fr_conn_holding); the first Status: is the
         * answer's, as nginx takes it */
        rc = (r->bad_status || r->http_status) ? 0
             : fr_cgi_status(r->hdr_buf, len);

        if (rc > 0) {
            r->http_status = (uint16_t) rc;
        }

        if (len >= 17 && strncasecmp((const char *) r->hdr_buf,
                                     "x-accel-redirect:", 17) == 0)
        {
            /* nginx acts on it (unless told not to): reads no body */
            r->hdr_accel = 1;
        }

        if (rc == FR_ERROR) {
            r->bad_status = 1;
            fr_log(FR_LOG_ERR, 0, "function \"%.*s\" sent an invalid status "
                   "line \"%.*s\"", (int) r->function_len,
                   (const char *) r->function,
                   (int) fr_log_escape(esc, r->hdr_buf, len), esc);
        }
    }
}


/*
 * What a response nginx reads no body of (to a HEAD; a 204, a 304; an
 * X-Accel-Redirect it acts on) may still write as one, past the bound
 * of any client that left: stock fastcgi_pass closes its connection
 * after the header, and a HEAD of a large page would cost its worker.
 * As much as faas_pass reads of it, 16 MiB, whatever its Content-Length
 * says (a function's claim). 0 for any other response.
 */

size_t
fr_cgi_bodiless(fr_req_t *r)
{
    return ((r->method_len == 4 && memcmp(r->method, "HEAD", 4) == 0)
            || r->http_status == 204 || r->http_status == 304
            || r->hdr_accel)
           ? FR_CGI_BODILESS_MAX : 0;
}
