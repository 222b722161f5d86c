/*
 * Copyright (C) ngx_faas developers
 *
 * FastCGI connections from nginx (or any client): accepted, read into
 * one buffer shared by all, written from their output buffer and, while
 * a request body is still coming, a spool; closed when done or idle too
 * long. What the records mean is the proxy's, which registers how input
 * is processed and what goes when a connection closes.
 */

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fr_conn.h"
#include "fr_listen.h"
#include "fr_log.h"
#include "fr_meter.h"
#include "fr_pool.h"


#define FR_READ_SIZE      (64 * 1024)
#define FR_LINGER_MSEC    5000
#define FR_DRAIN_FRESH    1000      /* a new connection's request, awaited */


static void fr_conn_open(int fd, int own);
static int fr_conn_idle(fr_conn_t *c);
static int fr_conn_room(void);
static void fr_conn_handler(fr_io_t *io, uint32_t events);
static void fr_conn_timeout(fr_timer_t *t);
static int fr_conn_fits(fr_conn_t *c, size_t n);
static int fr_conn_put(fr_conn_t *c, const void *p, size_t n);


static const fr_conn_handlers_t  *fr_conn_handlers;

static const fr_listen_handlers_t  fr_conn_listen = {
    fr_conn_room,
    fr_conn_accept
};


void
fr_conn_init(const fr_conn_handlers_t *handlers)
{
    fr_conn_handlers = handlers;
    fr_listen_on(&fr_conn_listen);
}


/* a new client connection: from the listener, or the runner's own */

void
fr_conn_accept(int fd)
{
    fr_conn_open(fd, 0);
}


/* the runner's own, for a stored invocation's run (fr_dispatch.c) */

void
fr_conn_accept_own(int fd)
{
    fr_conn_open(fd, 1);
}


static void
fr_conn_open(int fd, int own)
{
    int         one;
    fr_conn_t  *c;

    c = calloc(1, sizeof(fr_conn_t));
    if (c == NULL) {
        fr_log(FR_LOG_ALERT, errno, "calloc() failed");
        close(fd);
        return;
    }

    one = 1;
    (void) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));

    fr_log(FR_LOG_DEBUG, 0, "client connection %d accepted", fd);

    c->own = own;
    c->io.fd = fd;
    c->io.handler = fr_conn_handler;
    c->io.data = c;
    c->timer.handler = fr_conn_timeout;
    c->timer.data = c;
    fr_fcgi_parser_init(&c->parser);
    fr_list_insert_tail(&fr_runner.conns, &c->link);
    fr_runner.nconns++;
    fr_runner.nown += own;

    /* its first request's parameters are awaited so long */
    fr_timer_add(&c->timer, (uint64_t) fr_runner.conf.client_header_timeout);

    if (fr_io_set(&c->io, EPOLLIN | EPOLLRDHUP) != FR_OK) {
        fr_conn_close(c);
        return;
    }

    fr_conn_read(c);
}


/*
 * A kept connection between requests: none in progress, nothing read
 * or waiting to be read. A new one awaiting its first request (its
 * header timer armed), or one whose next request has just come, is not
 * idle: closing it would drop that request.
 */

static int
fr_conn_idle(fr_conn_t *c)
{
    int  n;

    if (c->req != NULL || c->closing || c->timer.index != 0 || c->in.len) {
        return 0;
    }

    return ioctl(c->io.fd, FIONREAD, &n) == 0 && n == 0;
}


/*
 * At max_connections a kept connection with no request in progress, the
 * least recently used, makes room (nginx opens another when it needs
 * one); with none, accepting pauses until a connection closes. The
 * runner's own (stored invocations, bounded by fr_dispatch.c) are not
 * counted: one tenant's backlog never holds nginx's out.
 */

static int
fr_conn_room(void)
{
    fr_link_t  *l;
    fr_conn_t  *c;

    if (fr_runner.conf.max_connections == 0
        || fr_runner.nconns - fr_runner.nown
           < fr_runner.conf.max_connections)
    {
        return FR_OK;
    }

    for (l = fr_list_first(&fr_runner.conns); l != &fr_runner.conns;
         l = l->next)
    {
        c = fr_list_data(l, fr_conn_t, link);

        if (!c->own && fr_conn_idle(c)) {
            fr_log(FR_LOG_INFO, 0, "max_connections %d reached: closing "
                   "an idle connection", fr_runner.conf.max_connections);

            /* once what it still has to send is sent */
            c->closing = 1;
            fr_conn_flush(c);

            if (fr_runner.nconns - fr_runner.nown
                < fr_runner.conf.max_connections)
            {
                return FR_OK;
            }

            break;
        }
    }

    if (!fr_runner.accept_paused) {
        fr_log(FR_LOG_WARN, 0, "max_connections %d reached, not accepting",
               fr_runner.conf.max_connections);
        fr_listen_pause();
    }

    return FR_DECLINED;
}


static void
fr_conn_handler(fr_io_t *io, uint32_t events)
{
    fr_conn_t  *c;

    c = io->data;

    if (events & EPOLLOUT) {
        fr_conn_flush(c);

        if (c->io.fd == -1) {
            return;
        }
    }

    if (c->paused && (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))) {
        /* the client left while its body waited for a worker */
        fr_log(FR_LOG_INFO, 0, "client closed connection mid-request");
        fr_conn_close(c);
        return;
    }

    if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
        fr_conn_read(c);
    }
}


/* the parameters took too long, or the lingering close is over */

static void
fr_conn_timeout(fr_timer_t *t)
{
    fr_conn_t  *c;

    c = t->data;

    if (!c->closing) {
        fr_log(FR_LOG_ERR, 0, "client sent no whole request within "
               "client_header_timeout, closing connection");

        if (c->req) {
            c->req->outcome = FR_OUTCOME_ERROR;
        }
    }

    fr_conn_close(c);
}


/*
 * Reads go to one buffer shared by all connections and are parsed there;
 * a connection keeps only what a parked body leaves unparsed. A thousand
 * idle kept connections cost no buffers.
 */

void
fr_conn_read(fr_conn_t *c)
{
    ssize_t        n;
    const u_char  *pos;

    static u_char  buf[FR_READ_SIZE];

    /* what the client does not read bounds what it may ask for */
    while (!c->paused && c->io.fd != -1 && !fr_buf_full(&c->out)) {

        if (c->in.len) {
            pos = fr_buf_pos(&c->in);
            fr_conn_handlers->process(c, &pos, pos + c->in.len);

            if (c->io.fd == -1) {
                return;
            }

            fr_buf_consume(&c->in, pos - fr_buf_pos(&c->in));

            if (c->in.len == 0) {
                fr_buf_free(&c->in);
            }

            continue;
        }

        n = read(c->io.fd, buf, sizeof(buf));

        if (n > 0) {
            pos = buf;
            fr_conn_handlers->process(c, &pos, buf + n);

            if (c->io.fd != -1 && pos < buf + n
                && fr_buf_append(&c->in, pos, buf + n - pos) != FR_OK)
            {
                fr_log(FR_LOG_ALERT, errno, "malloc() failed");
                fr_conn_close(c);
                return;
            }

            if ((size_t) n < sizeof(buf) && c->in.len == 0) {
                /* drained; epoll is level-triggered if more comes */
                break;
            }

            continue;
        }

        if (n == -1 && errno == EINTR) {
            continue;
        }

        if (n == -1 && errno == EAGAIN) {
            break;
        }

        if (c->req && c->req->state != FR_REQ_ANSWERED) {
            fr_log(FR_LOG_INFO, n ? errno : 0,
                   "client closed connection mid-request");
        }

        fr_conn_close(c);
        return;
    }

    if (c->io.fd != -1) {
        fr_conn_update(c);
    }
}


void
fr_conn_end_request(fr_conn_t *c, uint16_t id, uint32_t app, u_char status)
{
    u_char  rec[FR_FCGI_END_LEN], *end;

    end = fr_fcgi_write_stdout_end(rec, id);
    fr_fcgi_write_end_request(end, id, app, status);

    /* no STDOUT end before a refusal: the request never started, and
     * its refusal is not held with the response of the one that runs */
    if (status == FR_FCGI_REQUEST_COMPLETE) {
        (void) fr_conn_control(c, rec, sizeof(rec));

    } else {
        (void) fr_conn_record(c, end, end + FR_FCGI_HEADER_LEN, 8,
                              FR_CONN_PAST | FR_CONN_OURS);
    }

    fr_conn_flush(c);
}


/*
 * nginx stops sending a request body once it has passed the response
 * header on (unless the module preserves output), so a function that
 * answers before it has read its body would wait for it forever. While
 * the body is still coming, the response is held in the spool; it goes
 * out, in order, once the body is in. So is a header block not yet
 * whole: a function that times out or crashes in it gets its clean 504
 * or 502, where nginx, with half a header, would answer 502 and run a
 * GET again on the runner.
 */

int
fr_conn_holding(fr_conn_t *c)
{
    fr_req_t  *r;

    r = c->req;

    return r && r->state == FR_REQ_RUNNING
           && (!r->stdin_done || (r->response_started && !r->hdr_done));
}


/*
 * A record for the client: its header h, then n bytes of p, whole or
 * not at all. FR_CONN_PAST: not held with the response (STDERR: nginx
 * logs it as it comes, and a failure that drops what is held keeps
 * what explains it; 8 KB a request and its tail, escaped to 4 times
 * that at most, fr_stderr_client).
 * FR_CONN_OURS: the runner's own short answer, never refused for room.
 */

int
fr_conn_record(fr_conn_t *c, const u_char *h, const u_char *p, size_t n,
    int flags)
{
    int  rc;

    if ((flags & FR_CONN_PAST) && fr_conn_holding(c)) {
        rc = fr_buf_append(&c->out, h, FR_FCGI_HEADER_LEN);
        return (rc == FR_OK) ? fr_buf_append(&c->out, p, n) : rc;
    }

    if (!(flags & FR_CONN_OURS) && !fr_conn_fits(c, FR_FCGI_HEADER_LEN + n)) {
        return FR_DECLINED;
    }

    rc = fr_conn_put(c, h, FR_FCGI_HEADER_LEN);

    return (rc == FR_OK) ? fr_conn_put(c, p, n) : rc;
}


/*
 * A record of the protocol's own (a response's end, its measurements,
 * an answer to a management record): a few bytes a request, never
 * refused for room, else the client waited for an end that never came
 * or a run went unbilled.
 */

int
fr_conn_control(fr_conn_t *c, const void *p, size_t n)
{
    return fr_conn_put(c, p, n);
}


/* n more bytes fit: in the output buffer, or in the spool's bounds */

static int
fr_conn_fits(fr_conn_t *c, size_t n)
{
    off_t  size;

    size = (off_t) fr_spool_size(&c->spool);

    if (size == 0 && !fr_conn_holding(c)) {
        return 1;
    }

    return size + (off_t) n <= fr_runner.conf.spool_max
           && fr_runner.spooled + (off_t) n <= fr_runner.conf.spool_max_total;
}


static int
fr_conn_put(fr_conn_t *c, const void *p, size_t n)
{
    if (fr_spool_size(&c->spool) == 0 && !fr_conn_holding(c)) {
        return fr_buf_append(&c->out, p, n);
    }

    if (fr_spool_write(&c->spool, p, n, fr_runner.rundir) != FR_OK) {
        fr_log(FR_LOG_ERR, errno, "cannot hold a response while its "
               "request body is still arriving");
        return FR_ERROR;
    }

    fr_runner.spooled += (off_t) n;

    return FR_OK;
}


void
fr_conn_spool_free(fr_conn_t *c)
{
    fr_runner.spooled -= (off_t) fr_spool_size(&c->spool);
    fr_spool_free(&c->spool);
}


/*
 * What is held of c's response is dropped (none of it left): the
 * runner answers in its place (fr_req_answer scans its header from its
 * start: the function's half line would prefix it), or nothing at a
 * fast stop (its status none of the function's).
 */

void
fr_conn_unhold(fr_conn_t *c)
{
    fr_req_t  *r;

    r = c->req;

    if (r == NULL || !r->response_started) {
        /* none of its response (what is there is an answer before) */
        return;
    }

    fr_conn_spool_free(c);
    r->response_started = 0;
    r->http_status = 0;
}


void
fr_conn_flush(fr_conn_t *c)
{
    int     rc;
    size_t  size;

    if (c->io.fd == -1) {
        return;
    }

    for ( ;; ) {
        while (fr_spool_size(&c->spool) && !fr_conn_holding(c)
               && !fr_buf_full(&c->out))
        {
            size = fr_spool_size(&c->spool);
            rc = fr_spool_move(&c->spool, &c->out, 65536);
            fr_runner.spooled -= (off_t) (size - fr_spool_size(&c->spool));

            if (rc != FR_OK) {
                fr_log(FR_LOG_ERR, errno, "cannot read the held response");
                fr_conn_close(c);
                return;
            }
        }

        rc = fr_buf_flush(&c->out, c->io.fd);

        if (rc != FR_OK || fr_spool_size(&c->spool) == 0
            || fr_conn_holding(c))
        {
            break;
        }
    }

    if (rc == FR_ERROR) {
        if (errno != EPIPE && errno != ECONNRESET) {
            fr_log(FR_LOG_ERR, errno, "write() to client failed");
        }

        fr_conn_close(c);
        return;
    }

    if (c->out.len == 0) {
        /* an idle kept connection holds no buffer */
        fr_buf_free(&c->out);
    }

    if (c->in.len && !c->paused && !fr_buf_full(&c->out)) {
        /* what it sent while we waited for it to read */
        fr_io_post(&c->io, EPOLLIN);
    }

    if (c->req && c->req->worker && !fr_buf_full(&c->out)) {
        fr_worker_stdout_ready(c->req->worker);
    }

    if (rc == FR_OK && c->closing && fr_spool_size(&c->spool) == 0) {
        if (c->req == NULL || c->req->stdin_done) {
            fr_conn_close(c);
            return;
        }

        /* let the client finish its body, so it reads our answer */
        (void) shutdown(c->io.fd, SHUT_WR);
        fr_timer_add(&c->timer, FR_LINGER_MSEC);
    }

    fr_conn_update(c);
}


void
fr_conn_update(fr_conn_t *c)
{
    uint32_t  mask;

    mask = EPOLLRDHUP;

    if (!c->paused && !fr_buf_full(&c->out)) {
        mask |= EPOLLIN;
    }

    if (c->out.len) {
        mask |= EPOLLOUT;
    }

    if (fr_io_set(&c->io, mask) != FR_OK) {
        fr_conn_close(c);
    }
}


void
fr_conn_close(fr_conn_t *c)
{
    if (c->io.fd == -1) {
        return;
    }

    if (c->req) {
        fr_conn_handlers->closed(c);
    }

    if (c->out.len + fr_spool_size(&c->spool) > FR_FCGI_HEADER_LEN * 2) {
        /* more than END_REQUEST of the last answer never left: nginx
         * has not its measurements */
        fr_meter_log_unread(&c->unread);
    }

    fr_buf_free(&c->unread);

    fr_timer_del(&c->timer);
    fr_io_close(&c->io);
    fr_list_remove(&c->link);
    fr_runner.nconns--;
    fr_runner.nown -= c->own;

    if (c->fresh) {
        c->fresh = 0;
        fr_runner.nfresh--;
    }

    fr_listen_unpause();

    fr_buf_free(&c->in);
    fr_buf_free(&c->out);
    fr_buf_free(&c->mgmt);
    fr_conn_spool_free(c);

    fr_free_later(c);

    if (fr_runner.draining && fr_runner_drained()) {
        fr_runner.quitting = 1;
    }
}


/*
 * SIGTERM: idle connections go now, busy ones after their request.
 * SIGINT, SIGQUIT: all go now.
 */

int
fr_conns_drain(int fast)
{
    int         fresh;
    fr_link_t  *l, *next;
    fr_conn_t  *c;

    fresh = 0;

    for (l = fr_list_first(&fr_runner.conns); l != &fr_runner.conns;
         l = next)
    {
        next = l->next;
        c = fr_list_data(l, fr_conn_t, link);

        if (!fast && c->req == NULL && !c->served && !c->closing) {
            /*
             * Accepted, its request not here yet (a client writes it
             * just after its connect): closed now, it would fail a
             * request nobody refused. It gets a moment, then its one
             * request (keep_conn off while draining).
             */
            fr_timer_add(&c->timer, FR_DRAIN_FRESH);
            c->fresh = 1;
            fr_runner.nfresh++;
            fresh++;

        } else if ((c->req == NULL || c->req->state == FR_REQ_ANSWERED)
                   && (c->out.len || fr_spool_size(&c->spool)))
        {
            /*
             * A whole answer still here (its END_REQUEST queued this
             * round, a tail the client has not taken yet, one held
             * while its body came): sent, then closed, as any closing
             * connection, within the linger time; the runner's stop
             * waits for it (fr_shutdown())
             */
            c->closing = 1;
            fr_timer_add(&c->timer, FR_LINGER_MSEC);
            fr_conn_flush(c);

        } else if (fast || c->req == NULL
                   || c->req->state == FR_REQ_ANSWERED)
        {
            if (c->req) {
                /* not its client's leaving: nginx answers it 502 (what
                 * was held of its response never went) */
                c->req->runner_closed = 1;

                if (fr_conn_holding(c)) {
                    fr_conn_unhold(c);
                }
            }

            fr_conn_close(c);

        } else {
            c->req->keep_conn = 0;
        }
    }

    return fresh;
}
