/*
 * Copyright (C) ngx_faas developers
 *
 * The FastCGI worker mode: a worker is started the standard way, with a
 * listening socket on fd 0. The runner connects at once and sends
 * FCGI_GET_VALUES: the worker is ready when it answers (or, as php-cgi
 * does, answers and closes). The connection is kept and reused for the
 * worker's requests, each with an id of its own.
 */

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fr_fastcgi_worker.h"
#include "fr_fault.h"
#include "fr_log.h"
#include "fr_meter.h"
#include "fr_spawn.h"


/* what libfcgi reads at once (its FCGX_Accept_r reader's buffer) */
#define FR_FASTCGI_READ  8192


static int fr_fastcgi_open(fr_worker_t *w, int fd[2]);
static int fr_fastcgi_started(fr_worker_t *w, fr_req_t *r);
static int fr_fastcgi_assign(fr_worker_t *w, fr_req_t *r);
static void fr_fastcgi_stdin(fr_worker_t *w, const u_char *p, size_t n);
static int fr_fastcgi_reaped(fr_worker_t *w);
static void fr_fastcgi_timer(fr_worker_t *w);
static void fr_fastcgi_orphaned(fr_worker_t *w);
static int fr_fastcgi_connect(fr_worker_t *w);
static void fr_fastcgi_send_request(fr_worker_t *w, fr_req_t *r);
static void fr_fastcgi_post_flush(fr_worker_t *w);
static void fr_fastcgi_flush(fr_worker_t *w);
static void fr_fastcgi_handler(fr_io_t *io, uint32_t events);
static void fr_fastcgi_record(fr_worker_t *w, fr_fcgi_event_e ev);
static int fr_fastcgi_unread(fr_worker_t *w);
static void fr_fastcgi_done(fr_worker_t *w, uint32_t app_status);
static void fr_fastcgi_responded(fr_worker_t *w);


static const fr_mode_t  fr_fastcgi_mode = {
    "fastcgi",
    0,
    fr_fastcgi_open,
    fr_fastcgi_started,
    fr_fastcgi_assign,
    fr_fastcgi_stdin,
    NULL,                       /* its stderr to the log: its answer */
    NULL,                       /* is on its socket */
    fr_fastcgi_reaped,
    fr_fastcgi_timer,
    fr_fastcgi_orphaned
};


void
fr_fastcgi_worker_init(void)
{
    fr_pool_mode(FR_MODE_FASTCGI, &fr_fastcgi_mode);
}


/* a fresh listening socket, the child's fd 0 */

static int
fr_fastcgi_open(fr_worker_t *w, int fd[2])
{
    struct stat         st;
    struct sockaddr_un  sun;

    snprintf(w->sock, sizeof(w->sock), "%s/w%llu.sock", fr_runner.rundir,
             (unsigned long long) ++fr_runner.spawn_seq);

    fd[0] = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    strcpy(sun.sun_path, w->sock);

    if (fd[0] == -1
        || bind(fd[0], (struct sockaddr *) &sun, sizeof(sun)) == -1
        || listen(fd[0], 16) == -1)
    {
        fr_log(FR_LOG_ALERT, errno, "cannot create the socket of a "
               "worker of \"%s\"", w->func->name);
        return FR_ERROR;
    }

    if (fstat(fd[0], &st) == 0) {
        w->ino[0] = st.st_ino;
        w->ino_socket = 1;
    }

    return FR_OK;
}


/* connected at once; ready when it answers the probe */

static int
fr_fastcgi_started(fr_worker_t *w, fr_req_t *r)
{
    u_char  *p;

    (void) r;

    fr_worker_set_state(w, FR_WORKER_STARTING);

    if (fr_fastcgi_connect(w) != FR_OK) {
        return FR_ERROR;
    }

    /* the probe names a variable: libfcgi waits on an empty one */
    p = fr_buf_reserve(&w->out, FR_FCGI_HEADER_LEN + 32);
    if (p == NULL) {
        return FR_ERROR;
    }

    w->out.len += fr_fcgi_write_get_values(p, "FCGI_MPXS_CONNS") - p;
    fr_fastcgi_flush(w);

    return FR_OK;
}


static int
fr_fastcgi_assign(fr_worker_t *w, fr_req_t *r)
{
    if (!w->connected && fr_fastcgi_connect(w) != FR_OK) {
        return FR_DECLINED;
    }

    /* (a stray empty STDOUT of the last one ends nothing of this one) */
    w->stdout_over = 0;
    w->stdout_late = 0;

    fr_fastcgi_send_request(w, r);

    return FR_OK;
}


static int
fr_fastcgi_connect(fr_worker_t *w)
{
    int                 fd;
    struct sockaddr_un  sun;

    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd == -1) {
        fr_log(FR_LOG_ALERT, errno, "socket() failed");
        return FR_ERROR;
    }

    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    strcpy(sun.sun_path, w->sock);

    /* a unix socket connects at once or not at all: EAGAIN is a full
     * backlog (the worker's own connections to itself), no connection */
    if (connect(fd, (struct sockaddr *) &sun, sizeof(sun)) == -1) {
        fr_log(FR_LOG_INFO, errno, "connect() to worker %d of \"%s\" "
               "failed", (int) w->pid, w->func->name);
        close(fd);
        return FR_ERROR;
    }

    w->io.fd = fd;
    w->io.mask = 0;
    w->io.handler = fr_fastcgi_handler;
    w->io.data = w;
    w->connected = 1;
    w->unwritable = 0;
    w->write_reset = 0;
    w->connects++;
    fr_fcgi_parser_init(&w->parser);

    return fr_io_set(&w->io, EPOLLIN);
}


/*
 * BEGIN_REQUEST, the client's parameters re-encoded (SCRIPT_FILENAME set
 * to the function's script), the end of PARAMS; the body follows as the
 * client sends it.
 */

static void
fr_fastcgi_send_request(fr_worker_t *w, fr_req_t *r)
{
    size_t         nlen, vlen, size, chunk, sl;
    u_char        *p, *h, *start;
    fr_buf_t      *b;
    const u_char  *pos, *last, *name, *value;

    b = &w->out;
    sl = w->func->script_path ? strlen(w->func->script_path) : 0;
    pos = fr_buf_pos(&r->params);
    last = pos + r->params.len;

    /* pass 1: measure; with nothing to replace, the client's bytes go */

    if (sl == 0) {
        size = r->params.len;

    } else {
        size = 0;

        while (fr_fcgi_nv_next(&pos, last, &name, &nlen, &value, &vlen)
               == FR_OK)
        {
            size += fr_fcgi_nv_size(nlen, vlen);
        }

        size += fr_fcgi_nv_size(15, sl);
    }

    p = fr_buf_reserve(b, 16 + size + size / FR_FCGI_MAX_CONTENT * 8 + 32);
    if (p == NULL) {
        fr_log(FR_LOG_ALERT, errno, "malloc() failed");
        fr_worker_failed(w, "cannot send");
        return;
    }

    /* pass 2: write; PARAMS content first, framed after */
    /*
     * Each request its own id: a record of an earlier one (its forked
     * child's answer, one behind an END_REQUEST it forged) is never
     * taken for this one's
     */
    w->fcgi_id = (uint16_t) (w->fcgi_id % 0xffff + 1);
    w->flushed = 0;
    w->split = 0;
    w->sent = 0;

    p = fr_fcgi_write_begin_request(p, w->fcgi_id, FR_FCGI_RESPONDER,
                                    FR_FCGI_KEEP_CONN);

    start = p + FR_FCGI_HEADER_LEN * (size / FR_FCGI_MAX_CONTENT + 1);
    h = start;
    pos = fr_buf_pos(&r->params);

    if (sl == 0) {
        h = (u_char *) memcpy(h, pos, size) + size;

    } else {
        while (fr_fcgi_nv_next(&pos, last, &name, &nlen, &value, &vlen)
               == FR_OK)
        {
            if (nlen == 15 && memcmp(name, "SCRIPT_FILENAME", 15) == 0) {
                continue;
            }

            h = fr_fcgi_nv_write(h, name, nlen, value, vlen);
        }

        h = fr_fcgi_nv_write(h, (u_char *) "SCRIPT_FILENAME", 15,
                             (u_char *) w->func->script_path, sl);
    }

    size = h - start;

    while (size) {
        chunk = size > FR_FCGI_MAX_CONTENT ? FR_FCGI_MAX_CONTENT : size;
        p = fr_fcgi_write_header(p, FR_FCGI_PARAMS, w->fcgi_id,
                                 (uint16_t) chunk, 0);
        memmove(p, start, chunk);
        p += chunk;
        start += chunk;
        size -= chunk;
    }

    p = fr_fcgi_write_header(p, FR_FCGI_PARAMS, w->fcgi_id, 0, 0);

    if (r->stdin_done) {
        p = fr_fcgi_write_header(p, FR_FCGI_STDIN, w->fcgi_id, 0, 0);
    }

    b->len = p - b->data - b->start;

    fr_fastcgi_post_flush(w);
}


static void
fr_fastcgi_stdin(fr_worker_t *w, const u_char *p, size_t n)
{
    u_char  *h;

    if (w->unwritable) {
        return;
    }

    h = fr_buf_reserve(&w->out, FR_FCGI_HEADER_LEN + n);
    if (h == NULL) {
        fr_log(FR_LOG_ALERT, errno, "malloc() failed");
        return;
    }

    fr_fcgi_write_header(h, FR_FCGI_STDIN, w->fcgi_id, (uint16_t) n, 0);

    if (n) {
        memcpy(h + FR_FCGI_HEADER_LEN, p, n);
    }

    w->out.len += FR_FCGI_HEADER_LEN + n;

    fr_fastcgi_post_flush(w);
}


/*
 * Its client left: a runtime of ours is told, after the body (Python's
 * driver closes the stream, faas-php ends the script as php-fpm; a
 * libfcgi app would take it for a protocol error), at once: a write
 * left for later ends the connection with the request (fr_fastcgi_done)
 */

static void
fr_fastcgi_orphaned(fr_worker_t *w)
{
    u_char   h[FR_FCGI_HEADER_LEN];
    ssize_t  n;

    if (w->ends_early && !w->unwritable && w->io.fd != -1) {
        fr_fcgi_write_header(h, FR_FCGI_ABORT_REQUEST, w->fcgi_id, 0, 0);

        /* behind the body it has not read yet, if any */
        n = w->out.len ? 0 : send(w->io.fd, h, sizeof(h),
                                  MSG_DONTWAIT | MSG_NOSIGNAL);
        n = n > 0 ? n : 0;

        if (n < (ssize_t) sizeof(h)
            && fr_buf_append(&w->out, h + n, sizeof(h) - n) == FR_OK)
        {
            fr_fastcgi_post_flush(w);
        }
    }

    fr_worker_stdout_ready(w);
}


/*
 * Writes wait until the current batch of events is handled, so that the
 * records of one request leave in one write: fewer syscalls, and libfcgi,
 * which drops its read buffer between requests, keeps the connection.
 */

static void
fr_fastcgi_post_flush(fr_worker_t *w)
{
    fr_io_t  *io;

    io = &w->io;

    if (fr_buf_full(&w->out)) {
        fr_fastcgi_flush(w);
        return;
    }

    if (io->fd != -1) {
        fr_io_post(io, EPOLLOUT);
    }
}


static void
fr_fastcgi_flush(fr_worker_t *w)
{
    int       rc, fd, full;
    size_t    len;
    fr_io_t  *io;

    io = &w->io;
    fd = io->fd;

    if (fd == -1 || w->unwritable) {
        return;
    }

    full = fr_buf_full(&w->out);
    len = w->out.len;

    rc = fr_buf_flush(&w->out, fd);

    /* some of its request is the worker's now */
    if (w->out.len < len) {
        w->split |= w->flushed;
        w->flushed = 1;
        w->sent += len - w->out.len;
    }

    if (rc == FR_ERROR) {
        if (w->state == FR_WORKER_STARTING) {
            /* the worker's exit will tell */
            w->out.len = 0;
            return;
        }

        if (errno != EPIPE && errno != ECONNRESET) {
            /* (ENOBUFS, ENOMEM: a worker that reads would wait for
             * the rest of its body) */
            fr_worker_lost_written(w, "could not be written to", 1);
            return;
        }

        /*
         * It stopped reading: it may have answered first (php-cgi with
         * a body it was not told of, or more than CONTENT_LENGTH), and
         * what it wrote is read before its end decides (the handler).
         * The rest of the body is dropped. A write that took the
         * connection's reset leaves none for the read: kept here.
         */
        w->write_reset = (errno == ECONNRESET);
        fr_buf_free(&w->out);
        w->unwritable = 1;
        (void) fr_io_set(io, io->mask & EPOLLIN);

        if (full && w->req) {
            fr_req_ops->resume(w->req);
        }

        return;
    }

    (void) fr_io_set(io, (io->mask & EPOLLIN)
                         | (rc == FR_AGAIN ? EPOLLOUT : 0));

    if (full && !fr_buf_full(&w->out) && w->req) {
        fr_req_ops->resume(w->req);
    }
}


static void
fr_fastcgi_handler(fr_io_t *io, uint32_t events)
{
    uint16_t           gen;
    ssize_t            n;
    u_char             buf[64 * 1024];
    fr_worker_t       *w;
    fr_fcgi_event_e    ev;
    const u_char      *pos, *last;

    w = io->data;

    if (events & EPOLLOUT) {
        fr_fastcgi_flush(w);

        if (io->fd == -1) {
            return;
        }
    }

    if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR))) {
        return;
    }

    n = read(io->fd, buf, sizeof(buf));

    if (n == -1 && (errno == EAGAIN || errno == EINTR)) {
        return;
    }

    if (n <= 0) {
        switch (w->state) {

        case FR_WORKER_BUSY:
            fr_worker_lost_written(w, n == 0 ? "closed the connection"
                                             : "reset the connection",
                                   (n == -1 && errno == ECONNRESET)
                                   || w->write_reset);
            return;

        case FR_WORKER_STARTING:
            /*
             * Closed without an answer: most likely it exited. Its reap
             * says so; if it lives on, the start timeout decides.
             */
            fr_io_close(io);
            w->connected = 0;
            return;

        default:
            fr_io_close(io);
            w->connected = 0;
            return;
        }
    }

    pos = buf;
    last = buf + n;
    gen = w->connects;

    /* what a connection closed meanwhile sent is not the next one's */
    while (io->fd != -1 && w->connects == gen
           && w->state != FR_WORKER_STOPPING)
    {
        ev = fr_fcgi_parse(&w->parser, &pos, last);

        if (ev == FR_FCGI_EV_AGAIN) {
            break;
        }

        fr_fastcgi_record(w, ev);
    }

    if (w->stdout_ended && w->req && io->fd != -1
        && w->state == FR_WORKER_BUSY && w->parser.hlen == 0)
    {
        /* no END_REQUEST behind the end of STDOUT, not even begun */
        fr_fastcgi_responded(w);
    }

    if (io->fd != -1 && w->req && fr_req_ops->output_full(w->req)) {
        /* backpressure: the worker waits until the client reads */
        (void) fr_io_set(io, io->mask & ~EPOLLIN);
    }
}


static void
fr_fastcgi_record(fr_worker_t *w, fr_fcgi_event_e ev)
{
    fr_req_t          *r;
    fr_fcgi_parser_t  *p;

    p = &w->parser;
    r = w->req;

    switch (ev) {

    case FR_FCGI_EV_ERROR:
        fr_log(FR_LOG_ERR, 0, "worker %d of \"%s\" sent garbage (not a "
               "FastCGI record)", (int) w->pid, w->func->name);

        if (w->state == FR_WORKER_STARTING) {
            /* it never became ready: not a worker to replace at once */
            fr_func_start_failed(w->func, 0);
        }

        fr_worker_failed(w, NULL);
        return;

    case FR_FCGI_EV_HEADER:
        w->hdr.len = 0;
        w->hdr.start = 0;

        if (w->state == FR_WORKER_STARTING) {
            return;
        }

        if (p->length == 0
            && (p->type == FR_FCGI_STDOUT || p->type == FR_FCGI_STDERR)
            && p->id == (r ? (w->fcgi_id + 0xfffd) % 0xffff + 1
                           : w->fcgi_id))
        {
            /* an empty stream's end behind the last END_REQUEST (in the
             * same read as the next request given it): nothing */
            return;
        }

        if (r && p->id == w->fcgi_id && !w->flushed) {
            /*
             * A request given it while this read is parsed, not sent
             * yet: ids come in order, it guessed this one and answered
             * it in advance, in no time (a hostile review's finding);
             * sent to another worker
             */
            fr_log(FR_LOG_ERR, 0, "worker %d of \"%s\" answered request %d "
                   "before it was sent, retiring it", (int) w->pid,
                   w->func->name, p->id);
            fr_worker_lost(w, "answered a request not sent it", 1);
            return;
        }

        if (p->id != 0 && r == NULL) {
            /* between requests: a process with its connection (a
             * fork) speaks for it, or it forged its END_REQUEST */
            fr_log(FR_LOG_ERR, 0, "worker %d of \"%s\" sent a record "
                   "with no request asked, retiring it", (int) w->pid,
                   w->func->name);
            fr_worker_failed(w, NULL);

        } else if (p->id != 0 && p->id != w->fcgi_id) {
            /* its request, given it in the same read and not sent yet,
             * goes to another worker (an idempotent one); one sent may
             * have run: 502, billed */
            fr_log(FR_LOG_ERR, 0, "worker %d of \"%s\" sent a record for "
                   "request %d, not %d", (int) w->pid, w->func->name,
                   p->id, (int) w->fcgi_id);
            fr_worker_lost(w, "sent another request's records",
                           !w->flushed);
        }

        return;

    case FR_FCGI_EV_CONTENT:
        if (w->state == FR_WORKER_STARTING || p->id == 0) {
            return;
        }

        w->responded = 1;

        if (p->type == FR_FCGI_STDOUT && w->stdout_over) {
            /* past its own end of the stream: no part of the answer */
            if (!w->stdout_late) {
                fr_log(FR_LOG_INFO, 0, "worker %d of \"%s\" wrote STDOUT "
                       "after its end: dropped", (int) w->pid,
                       w->func->name);
            }

            w->stdout_late = 1;
            return;
        }

        if (p->type == FR_FCGI_STDOUT || p->type == FR_FCGI_STDERR) {
            if (r) {
                (void) fr_req_ops->output(r, p->type, p->data, p->size);
            }
            return;
        }

        if (p->type == FR_FCGI_END_REQUEST && w->hdr.len < 8) {
            (void) fr_buf_append(&w->hdr, p->data, p->size);
        }

        return;

    case FR_FCGI_EV_END:
        if (w->state == FR_WORKER_STARTING) {
            if (p->type == FR_FCGI_GET_VALUES_RESULT
                || p->type == FR_FCGI_UNKNOWN_TYPE)
            {
                fr_worker_ready(w);
            }
            return;
        }

        if (p->id != w->fcgi_id) {
            /* the empty end of the request before, skipped */
            return;
        }

        if (p->type == FR_FCGI_STDOUT && p->length == 0 && r
            && w->state == FR_WORKER_BUSY)
        {
            w->stdout_over = 1;
        }

        if (p->type == FR_FCGI_STDOUT && p->length == 0 && w->ends_early
            && w->state == FR_WORKER_BUSY)
        {
            /* an answer: never sent again to another worker */
            w->responded = 1;
            w->stdout_ended = 1;
            return;
        }

        if (p->type == FR_FCGI_END_REQUEST && w->state == FR_WORKER_BUSY) {
            u_char  *b = fr_buf_pos(&w->hdr);

            fr_fastcgi_done(w, w->hdr.len >= 4
                              ? (uint32_t) b[0] << 24 | (uint32_t) b[1] << 16
                                | (uint32_t) b[2] << 8 | b[3]
                              : 0);
        }

        return;

    default:
        return;
    }
}


/*
 * Whether the worker may have left records of its request unread: sent
 * in more than one go, or more than libfcgi takes in one read. libfcgi
 * drops its read buffer between requests but reads what is left in the
 * socket at its next FCGX_Accept_r: it takes the first of those records
 * for a protocol error, shuts its side, reads on for 2 s and closes:
 * the next request sent meanwhile is read and dropped (a client's 502,
 * billed as a crash). Ending is cheaper: a connect() at the next one.
 */

static int
fr_fastcgi_unread(fr_worker_t *w)
{
    return w->split || w->sent > FR_FASTCGI_READ;
}


/* END_REQUEST from the worker */

static void
fr_fastcgi_done(fr_worker_t *w, uint32_t app_status)
{
    fr_req_t  *r;

    r = w->req;
    w->req = NULL;
    w->stdout_ended = 0;
    w->stdout_over = 0;
    w->stdout_late = 0;

    if (r && (!r->stdin_done || w->out.len || w->unwritable
              || fr_fastcgi_unread(w)))
    {
        /* it may have answered before taking the whole request: a fresh
         * connection */
        fr_io_close(&w->io);
        fr_buf_free(&w->out);
        w->connected = 0;
    }

    if (r) {
        if (r->meter) {
            fr_meter_stop(w, r);
        }

        fr_req_ops->end(r, app_status);
    }

    fr_worker_release(w);
}


/*
 * The end of STDOUT with no END_REQUEST behind it: a worker of ours
 * (faas-php: fastcgi_finish_request()) ended its response, not its
 * script. The client is answered with what was measured so far; the
 * worker stays busy, its request running on to END_REQUEST within the
 * same timeout, metered from here into meter_log. Not before the
 * worker has the whole body: then its response ends with its script.
 */

static void
fr_fastcgi_responded(fr_worker_t *w)
{
    u_char     c;
    fr_req_t  *r;

    r = w->req;

    if (recv(w->io.fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) == 1) {
        /* more came than was read: END_REQUEST may be there */
        return;
    }

    w->stdout_ended = 0;

    if (r->conn == NULL || r->after_response || !r->stdin_done
        || w->out.len || w->unwritable)
    {
        /* its client left, or its body is not all with the worker */
        return;
    }

    if (r->meter) {
        fr_meter_stop(w, r);
    }

    fr_req_ops->respond(r);

    if (r->after_response && r->meter) {
        fr_meter_restart(w, r);
    }
}


/* what it left outside its process group goes with it */

static int
fr_fastcgi_reaped(fr_worker_t *w)
{
    int         queued, reads, err;
    u_char      c;
    ssize_t     n;
    fr_stop_e   why;

    fr_spawn_kill_strays(w);

    if (w->awaited) {
        /* its connection reset with its request (fr_fault.c) */
        w->awaited = 0;

        if (w->req == NULL || !fr_worker_retired(w)
            || !fr_worker_retryable(w))
        {
            return FR_DECLINED;
        }

        /* it crashed nothing: it left (counted as a stop "exited") */
        w->why = (w->why == FR_STOP_CRASHED) ? FR_STOP_NONE : w->why;
        fr_worker_lost(w, "exited", 1);
        return FR_DONE;
    }

    if (w->state != FR_WORKER_BUSY || w->killed || w->io.fd == -1) {
        return FR_DECLINED;
    }

    /*
     * It ended with a request sent it, and its end came before its
     * connection's: the connection says what it did with the request.
     * What it answered before it ended is read first: an app that
     * retires itself answers its last request, then exits.
     */

    n = recv(w->io.fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
    err = (n == -1) ? errno : 0;

    if (n == 1) {
        why = w->why;
        w->why = FR_STOP_NONE;
        w->draining = 1;

        /*
         * What was queued at its end, not what a process that still
         * holds its connection writes on (one that kept only the
         * connection is no stray fr_spawn_kill_strays finds): each
         * read takes up to 64 KB, the runner's one thread meanwhile
         * serves nobody else
         */
        if (ioctl(w->io.fd, FIONREAD, &queued) == -1 || queued < 1) {
            queued = 1;
        }

        reads = queued / (64 * 1024) + 2;

        while (reads-- > 0 && w->state == FR_WORKER_BUSY && w->io.fd != -1
               && (n = recv(w->io.fd, &c, 1, MSG_PEEK | MSG_DONTWAIT)) == 1)
        {
            fr_fastcgi_handler(&w->io, EPOLLIN);
        }

        err = (n == -1) ? errno : 0;
        w->draining = 0;

        if (w->state != FR_WORKER_BUSY) {
            return FR_DECLINED;
        }

        w->why = why;

        if (n == 1 || w->io.fd == -1 || err != ECONNRESET) {
            /* a part of an answer: a crash, as its reap says */
            return FR_DECLINED;
        }

        /* what it sent was none of this request's (records behind its
         * last answer), and the reset says it left this one unread */
    }

    /*
     * A reset (the kernel's, for what it left unread) or a request
     * still all in the runner: it was retiring between requests, as
     * when the connection is read first (fr_worker_lost). The look took
     * the reset; the worker goes with its connection.
     */

    if (fr_worker_retryable(w)
        && (!w->flushed
            || ((err == ECONNRESET || w->write_reset)
                && fr_worker_retired(w))))
    {
        if (WIFEXITED(w->status) && w->why == FR_STOP_CRASHED) {
            /* it crashed nothing: it left (counted as a stop "exited") */
            w->why = FR_STOP_NONE;
        }

        fr_worker_lost(w, "exited", 1);
        return FR_DONE;
    }

    return FR_DECLINED;
}


/* a busy worker's limit is its request's timer; this, its exit's wait */

static void
fr_fastcgi_timer(fr_worker_t *w)
{
    fr_worker_await_expired(w);
}
