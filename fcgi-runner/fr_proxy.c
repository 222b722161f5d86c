/*
 * Copyright (C) ngx_faas developers
 *
 * The FastCGI records nginx sends, read from a connection: a request's
 * BEGIN_REQUEST, PARAMS and STDIN, ABORT, management records. Request
 * bodies stream to the worker as it takes them: while a request waits
 * in a queue, or its worker is behind, the connection's input stays
 * parked in the kernel (backpressure), so memory stays bounded.
 */

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "faas_protocol.h"
#include "fr_cgi.h"
#include "fr_conn.h"
#include "fr_fastcgi_worker.h"
#include "fr_isolate.h"
#include "fr_log.h"
#include "fr_meter.h"
#include "fr_pool.h"
#include "fr_proxy.h"
#include "fr_request.h"
#include "fr_room.h"
#include "fr_runtime.h"
#include "fr_sweep.h"


#define FR_PARAMS_MAX     (256 * 1024)


static void fr_conn_process(fr_conn_t *c, const u_char **pos,
    const u_char *last);
static int fr_conn_header(fr_conn_t *c);
static void fr_conn_content(fr_conn_t *c, const u_char *p, size_t n);
static void fr_proxy_async_body(fr_req_t *r, const u_char *data,
    size_t n);
static int fr_conn_record_end(fr_conn_t *c);
static int fr_conn_begin(fr_conn_t *c);
static void fr_conn_get_values(fr_conn_t *c);
static void fr_conn_closed(fr_conn_t *c);


static const fr_conn_handlers_t  fr_proxy_conn = {
    fr_conn_process,
    fr_conn_closed
};


/*
 * The runner's wiring, once at startup (the runner's main and the
 * fuzzers alike): the two worker modes register with the pool, the
 * requests' ops with the pool, the connection handlers with the
 * listener; the runner's lists start empty.
 */

void
fr_proxy_init(void)
{
    fr_fastcgi_worker_init();
    fr_cgi_init();
    fr_request_init();
    fr_conn_init(&fr_proxy_conn);

    fr_list_init(&fr_runner.tenants);
    fr_list_init(&fr_runner.funcs);
    fr_list_init(&fr_runner.conns);
    fr_list_init(&fr_runner.workers);
    fr_list_init(&fr_runner.protos);
    fr_runner.listen.fd = -1;
    fr_runner.signal.fd = -1;

    fr_isolate_find_init();
    fr_runtime_init();
    fr_sweep_init();
    fr_room_init();
}


/*
 * A connection closes: its request goes with it, but for an invocation
 * a worker runs, which runs to its end.
 */

static void
fr_conn_closed(fr_conn_t *c)
{
    if (fr_req_orphan(c->req) != FR_OK) {
        fr_req_free(c->req);
    }
}


/* parses [*pos, last) until all is consumed or the body must wait */

static void
fr_conn_process(fr_conn_t *c, const u_char **pos, const u_char *last)
{
    fr_req_t          *r;
    fr_fcgi_parser_t  *p;
    fr_fcgi_event_e    ev;

    p = &c->parser;

    /* to FR_FCGI_EV_AGAIN: a record may end exactly at the end of input */

    while (c->io.fd != -1) {

        r = c->req;

        if (p->type == FR_FCGI_STDIN && fr_fcgi_in_content(p) && r
            && r->id == p->id && !fr_req_stdin_ready(r))
        {
            c->paused = 1;
            return;
        }

        ev = fr_fcgi_parse(p, pos, last);

        switch (ev) {

        case FR_FCGI_EV_AGAIN:
            return;

        case FR_FCGI_EV_HEADER:
            if (fr_conn_header(c) != FR_OK) {
                fr_conn_close(c);
                return;
            }
            break;

        case FR_FCGI_EV_CONTENT:
            /* p->data points into the input: used at once, not kept */
            fr_conn_content(c, p->data, p->size);
            break;

        case FR_FCGI_EV_END:
            if (fr_conn_record_end(c) != FR_OK) {
                fr_conn_close(c);
                return;
            }
            break;

        case FR_FCGI_EV_ERROR:
            fr_log(FR_LOG_ERR, 0, "client sent a record of FastCGI version "
                   "%d, closing connection", p->header[0]);
            fr_conn_close(c);
            return;
        }
    }
}


static int
fr_conn_header(fr_conn_t *c)
{
    fr_req_t          *r;
    fr_fcgi_parser_t  *p;

    p = &c->parser;
    r = c->req;

    c->mgmt.len = 0;
    c->mgmt.start = 0;

    switch (p->type) {

    case FR_FCGI_BEGIN_REQUEST:
        if (p->length != 8 || p->id == 0) {
            fr_log(FR_LOG_ERR, 0, "client sent invalid BEGIN_REQUEST "
                   "(id %d, length %d), closing connection",
                   p->id, p->length);
            return FR_ERROR;
        }
        return FR_OK;

    case FR_FCGI_PARAMS:
        if (r == NULL || r->id != p->id || r->state != FR_REQ_PARAMS) {
            return FR_OK;
        }

        if (p->length == 0) {
            fr_req_start(r);
        }

        return FR_OK;

    case FR_FCGI_STDIN:
        if (r == NULL || r->id != p->id) {
            return FR_OK;
        }

        if (r->state == FR_REQ_PARAMS) {
            fr_log(FR_LOG_ERR, 0, "client sent STDIN before the end of "
                   "PARAMS, closing connection");
            return FR_ERROR;
        }

        if (r->stdin_done && p->length) {
            /* nothing of it may reach the worker: the request is void */
            fr_log(FR_LOG_ERR, 0, "client sent STDIN after the end of "
                   "STDIN");
            return fr_req_reject(r, 400);
        }

        if (p->length == 0 && !r->stdin_done) {
            r->stdin_done = 1;

            if (r->state == FR_REQ_ANSWERED) {
                fr_req_done(r);

            } else if (r->state == FR_REQ_ACCEPTING) {
                fr_req_async_end(r);

            } else if (r->state == FR_REQ_RUNNING) {
                fr_worker_stdin(r->worker, NULL, 0);

                if (fr_spool_size(&c->spool)) {
                    fr_conn_flush(c);
                }
            }
        }

        return FR_OK;

    default:
        return FR_OK;
    }
}


static void
fr_conn_content(fr_conn_t *c, const u_char *data, size_t n)
{
    fr_req_t          *r;
    fr_fcgi_parser_t  *p;

    p = &c->parser;
    r = c->req;

    if (p->type == FR_FCGI_BEGIN_REQUEST || p->id == 0) {
        (void) fr_buf_append(&c->mgmt, data, n);
        return;
    }

    if (r == NULL || r->id != p->id) {
        return;
    }

    if (p->type == FR_FCGI_PARAMS && r->state == FR_REQ_PARAMS) {

        if (r->params.len + n > FR_PARAMS_MAX) {
            fr_log(FR_LOG_ERR, 0, "client sent more than %d bytes of "
                   "PARAMS", FR_PARAMS_MAX);
            r->outcome = FR_OUTCOME_ERROR;
            fr_req_answer(r, 431);
            return;
        }

        if (fr_buf_append(&r->params, data, n) != FR_OK) {
            fr_req_answer(r, 500);
        }

        return;
    }

    if (p->type == FR_FCGI_STDIN && r->state == FR_REQ_RUNNING) {
        r->stdin_started = 1;
        fr_worker_stdin(r->worker, data, n);

    } else if (p->type == FR_FCGI_STDIN && r->state == FR_REQ_ACCEPTING) {
        fr_proxy_async_body(r, data, n);
    }
}


/* the body of an async request, kept up to async_max_body (then 413) */

static void
fr_proxy_async_body(fr_req_t *r, const u_char *data, size_t n)
{
    if (r->body.len + n > (size_t) fr_runner.conf.async_max_body) {
        fr_log(FR_LOG_INFO, 0, "function \"%s\": an asynchronous request's "
               "body is over async_max_body %lld", r->func->name,
               (long long) fr_runner.conf.async_max_body);
        fr_buf_free(&r->body);
        (void) fr_req_reject(r, 413);
        return;
    }

    if (fr_buf_append(&r->body, data, n) != FR_OK) {
        fr_buf_free(&r->body);
        (void) fr_req_reject(r, 500);
    }
}


static int
fr_conn_record_end(fr_conn_t *c)
{
    fr_req_t          *r;
    fr_fcgi_parser_t  *p;
    u_char             rec[FR_FCGI_HEADER_LEN + 8];

    p = &c->parser;
    r = c->req;

    switch (p->type) {

    case FR_FCGI_BEGIN_REQUEST:
        return fr_conn_begin(c);

    case FR_FCGI_ABORT_REQUEST:
        if ((r == NULL || r->state == FR_REQ_ANSWERED)
            && fr_meter_log_kept(&c->unread) == p->id)
        {
            /* nginx stopped reading the answer before its measurements
             * (the module says so): meter_log bills the run */
            fr_meter_log_unread(&c->unread);
            return FR_OK;
        }

        if (r == NULL || r->id != p->id || r->state == FR_REQ_ANSWERED) {
            return FR_OK;
        }

        fr_log(FR_LOG_INFO, 0, "client aborted request %d", p->id);

        if (fr_req_orphan(r) == FR_OK) {
            /* it runs on without the client, which gets END_REQUEST */
            c->closing = !r->keep_conn;
            fr_conn_end_request(c, p->id, 0, FR_FCGI_REQUEST_COMPLETE);
            return FR_OK;
        }

        r->stdin_done = 1;

        if (r->worker) {
            fr_worker_abandon(r->worker);
            r->worker = NULL;
        }

        fr_req_fail(r, FR_OUTCOME_ERROR);

        return FR_OK;

    case FR_FCGI_GET_VALUES:
        if (p->id == 0) {
            fr_conn_get_values(c);
        }
        return FR_OK;

    default:
        if (p->id != 0) {
            return FR_OK;
        }

        /* a management record we do not know */
        fr_fcgi_write_header(rec, FR_FCGI_UNKNOWN_TYPE, 0, 8, 0);
        memset(rec + FR_FCGI_HEADER_LEN, 0, 8);
        rec[FR_FCGI_HEADER_LEN] = p->type;

        (void) fr_conn_record(c, rec, rec + FR_FCGI_HEADER_LEN, 8,
                              FR_CONN_PAST | FR_CONN_OURS);
        fr_conn_flush(c);

        return FR_OK;
    }
}


static int
fr_conn_begin(fr_conn_t *c)
{
    u_char     *b;
    fr_req_t   *r;
    uint16_t    id, role;

    b = fr_buf_pos(&c->mgmt);
    id = c->parser.id;
    role = (uint16_t) (b[0] << 8 | b[1]);

    /* nginx asks again only once it has read the last answer whole */
    fr_buf_free(&c->unread);

    if (c->req) {
        if (c->req->state != FR_REQ_ANSWERED) {
            fr_conn_end_request(c, id, 0, FR_FCGI_CANT_MPX_CONN);
            return FR_OK;
        }

        fr_req_free(c->req);
    }

    if (role != FR_FCGI_RESPONDER) {
        /* without FCGI_KEEP_CONN the connection ends with the answer */
        c->closing = !(b[2] & FR_FCGI_KEEP_CONN);
        fr_conn_end_request(c, id, 0, FR_FCGI_UNKNOWN_ROLE);
        return FR_OK;
    }

    r = calloc(1, sizeof(fr_req_t));
    if (r == NULL) {
        fr_log(FR_LOG_ALERT, errno, "calloc() failed");
        return FR_ERROR;
    }

    r->conn = c;
    r->stored = c->own;
    r->id = id;
    /* stopping: the connection's last request (fr_conns_drain) */
    r->keep_conn = (b[2] & FR_FCGI_KEEP_CONN) && !fr_runner.draining;
    r->state = FR_REQ_PARAMS;
    r->queue_us = -1;
    r->init_us = -1;
    r->duration_us = -1;
    r->cpu_us = -1;
    r->max_memory_kb = -1;
    fr_list_init(&r->queue);
    fr_list_init(&r->pending);

    c->req = r;
    c->served = 1;
    fr_runner.nreqs++;

    if (c->fresh) {
        /* awaited by a stopping runner: its one request, served */
        c->fresh = 0;
        fr_runner.nfresh--;
        r->drain_fresh = 1;
    }

    fr_timer_add(&c->timer, (uint64_t) fr_runner.conf.client_header_timeout);

    return FR_OK;
}


static void
fr_conn_get_values(fr_conn_t *c)
{
    size_t         nlen, vlen, len;
    u_char         out[256], *o;
    const u_char  *pos, *last, *name, *value, *v;

    pos = fr_buf_pos(&c->mgmt);
    last = pos + c->mgmt.len;
    o = out + FR_FCGI_HEADER_LEN;

    while (fr_fcgi_nv_next(&pos, last, &name, &nlen, &value, &vlen) == FR_OK)
    {
        if (nlen == 14 && memcmp(name, "FCGI_MAX_CONNS", 14) == 0) {
            v = (const u_char *) "1024";

        } else if (nlen == 13 && memcmp(name, "FCGI_MAX_REQS", 13) == 0) {
            v = (const u_char *) "1024";

        } else if (nlen == 15 && memcmp(name, "FCGI_MPXS_CONNS", 15) == 0) {
            v = (const u_char *) "0";

        } else {
            continue;
        }

        if (o + fr_fcgi_nv_size(nlen, strlen((char *) v)) > out + 200) {
            break;
        }

        o = fr_fcgi_nv_write(o, name, nlen, v, strlen((char *) v));
    }

    len = o - out - FR_FCGI_HEADER_LEN;
    fr_fcgi_write_header(out, FR_FCGI_GET_VALUES_RESULT, 0,
                         (uint16_t) len, 0);

    /* management: not held with a response */
    (void) fr_conn_record(c, out, out + FR_FCGI_HEADER_LEN, len,
                          FR_CONN_PAST | FR_CONN_OURS);
    fr_conn_flush(c);
}
