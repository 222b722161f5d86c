/*
 * Copyright (C) ngx_faas developers
 *
 * The side that faces nginx: the listening socket, FastCGI connections,
 * and each request from its BEGIN_REQUEST to its END_REQUEST. Request
 * bodies stream to the worker as it takes them: while a request waits in
 * a queue, or its worker is behind, the connection's input stays parked
 * in the kernel (backpressure), so memory stays bounded.
 */

#include <errno.h>
#include <grp.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "faas_protocol.h"
#include "fr_log.h"
#include "fr_runner.h"


#define FR_READ_SIZE      (64 * 1024)
#define FR_PARAMS_MAX     (256 * 1024)
#define FR_LINGER_MSEC    5000
#define FR_ACCEPT_REST    100


static int fr_listen_unix(const char *addr);
static int fr_listen_live(const char *path);
static int fr_listen_owner(const char *path);
static int fr_listen_inet(const char *addr);
static void fr_listen_handler(fr_io_t *io, uint32_t events);
static void fr_accept_resume(fr_timer_t *t);
static int fr_accept_room(void);
static void fr_accept_unpause(void);
static void fr_conn_handler(fr_io_t *io, uint32_t events);
static void fr_conn_timeout(fr_timer_t *t);
static void fr_conn_read(fr_conn_t *c);
static void fr_conn_process(fr_conn_t *c, const u_char **pos,
    const u_char *last);
static int fr_conn_header(fr_conn_t *c);
static void fr_conn_content(fr_conn_t *c, const u_char *p, size_t n);
static int fr_conn_record_end(fr_conn_t *c);
static int fr_conn_begin(fr_conn_t *c);
static void fr_conn_get_values(fr_conn_t *c);
static void fr_conn_end_request(fr_conn_t *c, uint16_t id, uint32_t app,
    u_char status);
static int fr_conn_output(fr_conn_t *c, const void *p, size_t n);
static void fr_conn_flush(fr_conn_t *c);
static void fr_conn_update(fr_conn_t *c);
static void fr_conn_close(fr_conn_t *c);
static void fr_req_start(fr_req_t *r);
static void fr_req_answer(fr_req_t *r, int status);
static void fr_req_cut(fr_req_t *r);
static void fr_req_spool_full(fr_req_t *r);
static void fr_conn_spool_free(fr_conn_t *c);
static int fr_req_reject(fr_req_t *r, int status);
static void fr_req_done(fr_req_t *r);
static void fr_req_free(fr_req_t *r);


/*
 * The unix socket. A live runner's socket is never taken over, and
 * nothing but a stale socket is replaced. The socket is bound inside a
 * private directory next to its path, given its mode and owner there,
 * where nobody else can swap the file, and renamed into place.
 */

static int
fr_listen_unix(const char *addr)
{
    int                  fd;
    char                 dir[sizeof(((struct sockaddr_un *) 0)->sun_path)
                             - sizeof("/s")];
    char                *slash;
    struct stat          st;
    struct sockaddr_un   sun;

    slash = strrchr(addr, '/');

    if (strlen(addr) >= sizeof(sun.sun_path)
        || (slash ? (size_t) (slash - addr) + 1 : 0)
           + sizeof(".fcgi-runner.XXXXXX") > sizeof(dir))
    {
        fr_log(FR_LOG_EMERG, 0, "listen path \"%s\" is too long", addr);
        return -1;
    }

    if (lstat(addr, &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) {
            fr_log(FR_LOG_EMERG, 0, "listen path \"%s\" exists and is not "
                   "a socket", addr);
            return -1;
        }

        if (fr_listen_live(addr)) {
            fr_log(FR_LOG_EMERG, 0, "a runner already listens on "
                   "\"unix:%s\"", addr);
            return -1;
        }
    }

    /* the private directory: in the socket's own, for rename() */
    snprintf(dir, sizeof(dir), "%.*s.fcgi-runner.XXXXXX",
             slash ? (int) (slash - addr) + 1 : 0, addr);

    if (mkdtemp(dir) == NULL) {
        fr_log(FR_LOG_EMERG, errno, "mkdtemp() \"%s\" failed", dir);
        return -1;
    }

    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/s", dir);

    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

    if (fd == -1) {
        fr_log(FR_LOG_EMERG, errno, "socket() failed");

    } else if (bind(fd, (struct sockaddr *) &sun, sizeof(sun)) == -1) {
        fr_log(FR_LOG_EMERG, errno, "bind() to \"unix:%s\" failed", addr);

    } else if (fr_listen_owner(sun.sun_path) == FR_OK) {

        if (rename(sun.sun_path, addr) == 0) {
            (void) rmdir(dir);

            fr_runner.listen_path = strdup(addr);

            if (stat(addr, &st) == 0) {
                fr_runner.listen_ino = st.st_ino;
            }

            return fd;
        }

        fr_log(FR_LOG_EMERG, errno, "rename() to \"%s\" failed", addr);
    }

    (void) unlink(sun.sun_path);
    (void) rmdir(dir);

    if (fd != -1) {
        close(fd);
    }

    return -1;
}


/* a socket some process still accepts on */

static int
fr_listen_live(const char *path)
{
    int                 fd, live;
    struct sockaddr_un  sun;

    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd == -1) {
        return 0;
    }

    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    strcpy(sun.sun_path, path);

    live = connect(fd, (struct sockaddr *) &sun, sizeof(sun)) == 0
           || errno == EAGAIN;

    close(fd);

    return live;
}


/* mode, owner, group of the socket file, in its private directory */

static int
fr_listen_owner(const char *path)
{
    uid_t           uid;
    gid_t           gid;
    struct group   *gr;
    struct passwd  *pw;

    if (chmod(path, (mode_t) fr_runner.conf.listen_mode) == -1) {
        fr_log(FR_LOG_EMERG, errno, "chmod() \"%s\" failed", path);
        return FR_ERROR;
    }

    uid = (uid_t) -1;
    gid = (gid_t) -1;

    if (fr_runner.conf.listen_owner) {
        pw = getpwnam(fr_runner.conf.listen_owner);
        if (pw == NULL) {
            fr_log(FR_LOG_EMERG, 0, "unknown listen_owner \"%s\"",
                   fr_runner.conf.listen_owner);
            return FR_ERROR;
        }
        uid = pw->pw_uid;
    }

    if (fr_runner.conf.listen_group) {
        gr = getgrnam(fr_runner.conf.listen_group);
        if (gr == NULL) {
            fr_log(FR_LOG_EMERG, 0, "unknown listen_group \"%s\"",
                   fr_runner.conf.listen_group);
            return FR_ERROR;
        }
        gid = gr->gr_gid;
    }

    if ((uid != (uid_t) -1 || gid != (gid_t) -1)
        && chown(path, uid, gid) == -1)
    {
        fr_log(FR_LOG_EMERG, errno, "chown() \"%s\" failed", path);
        return FR_ERROR;
    }

    return FR_OK;
}


/* HOST:PORT, [IPV6]:PORT */

static int
fr_listen_inet(const char *addr)
{
    int               fd, one;
    char              host[256];
    const char       *colon;
    struct addrinfo   hints, *ai;

    colon = strrchr(addr, ':');

    if (colon == NULL || colon == addr
        || (size_t) (colon - addr) >= sizeof(host))
    {
        fr_log(FR_LOG_EMERG, 0, "invalid listen address \"%s\"", addr);
        return -1;
    }

    memcpy(host, addr, colon - addr);
    host[colon - addr] = '\0';

    if (host[0] == '[' && host[strlen(host) - 1] == ']') {
        memmove(host, host + 1, strlen(host) - 2);
        host[strlen(host) - 2] = '\0';
    }

    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;

    if (getaddrinfo(host, colon + 1, &hints, &ai) != 0) {
        fr_log(FR_LOG_EMERG, 0, "invalid listen address \"%s\"", addr);
        return -1;
    }

    fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd == -1) {
        fr_log(FR_LOG_EMERG, errno, "socket() failed");
        freeaddrinfo(ai);
        return -1;
    }

    one = 1;
    (void) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));

    if (bind(fd, ai->ai_addr, ai->ai_addrlen) == -1) {
        fr_log(FR_LOG_EMERG, errno, "bind() to \"%s\" failed", addr);
        freeaddrinfo(ai);
        close(fd);
        return -1;
    }

    freeaddrinfo(ai);

    return fd;
}


int
fr_listen_open(void)
{
    int          fd;
    const char  *addr;

    addr = fr_runner.conf.listen;

    fd = strncmp(addr, "unix:", 5) == 0 ? fr_listen_unix(addr + 5)
                                        : fr_listen_inet(addr);
    if (fd == -1) {
        return FR_ERROR;
    }

    if (listen(fd, 4096) == -1) {
        fr_log(FR_LOG_EMERG, errno, "listen() on \"%s\" failed", addr);
        close(fd);
        return FR_ERROR;
    }

    fr_runner.listen.fd = fd;
    fr_runner.listen.handler = fr_listen_handler;

    return fr_io_set(&fr_runner.listen, EPOLLIN);
}


static fr_timer_t  fr_accept_timer = { 0, 0, fr_accept_resume, NULL };


static void
fr_accept_resume(fr_timer_t *t)
{
    (void) t;

    if (fr_runner.listen.fd != -1 && !fr_runner.accept_paused) {
        (void) fr_io_set(&fr_runner.listen, EPOLLIN);
    }
}


void
fr_listen_close(void)
{
    struct stat  st;

    fr_timer_del(&fr_accept_timer);
    fr_io_close(&fr_runner.listen);

    if (fr_runner.listen_path) {
        /* ours still, not a file somebody put there since */
        if (stat(fr_runner.listen_path, &st) == 0
            && st.st_ino == fr_runner.listen_ino)
        {
            (void) unlink(fr_runner.listen_path);
        }

        free(fr_runner.listen_path);
        fr_runner.listen_path = NULL;
    }
}


static void
fr_listen_handler(fr_io_t *io, uint32_t events)
{
    int         fd, one;
    fr_conn_t  *c;

    (void) events;

    for ( ;; ) {
        if (fr_accept_room() != FR_OK) {
            return;
        }

        fd = accept4(io->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

        if (fd == -1) {
            if (errno == EINTR || errno == ECONNABORTED) {
                continue;
            }

            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS
                || errno == ENOMEM)
            {
                /* the socket stays readable: rest, or spin */
                fr_log(FR_LOG_ERR, errno, "accept4() failed, not accepting "
                       "for %d ms", FR_ACCEPT_REST);
                (void) fr_io_set(io, 0);
                fr_timer_add(&fr_accept_timer, FR_ACCEPT_REST);
                return;
            }

            if (errno != EAGAIN) {
                fr_log(FR_LOG_ALERT, errno, "accept4() failed");
            }

            return;
        }

        c = calloc(1, sizeof(fr_conn_t));
        if (c == NULL) {
            fr_log(FR_LOG_ALERT, errno, "calloc() failed");
            close(fd);
            return;
        }

        one = 1;
        (void) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));

        fr_log(FR_LOG_DEBUG, 0, "client connection %d accepted", fd);

        c->io.fd = fd;
        c->io.handler = fr_conn_handler;
        c->io.data = c;
        c->timer.handler = fr_conn_timeout;
        c->timer.data = c;
        fr_fcgi_parser_init(&c->parser);
        fr_list_insert_tail(&fr_runner.conns, &c->link);
        fr_runner.nconns++;

        /* its first request's parameters are awaited so long */
        fr_timer_add(&c->timer,
                     (uint64_t) fr_runner.conf.client_header_timeout);

        if (fr_io_set(&c->io, EPOLLIN | EPOLLRDHUP) != FR_OK) {
            fr_conn_close(c);
            continue;
        }

        fr_conn_read(c);
    }
}


/*
 * At max_connections a kept connection with no request in progress, the
 * least recently used, makes room (nginx opens another when it needs
 * one); with none, accepting pauses until a connection closes.
 */

static int
fr_accept_room(void)
{
    fr_link_t  *l;
    fr_conn_t  *c;

    if (fr_runner.conf.max_connections == 0
        || fr_runner.nconns < fr_runner.conf.max_connections)
    {
        return FR_OK;
    }

    for (l = fr_list_first(&fr_runner.conns); l != &fr_runner.conns;
         l = l->next)
    {
        c = fr_list_data(l, fr_conn_t, link);

        if (c->req == NULL && !c->closing) {
            fr_log(FR_LOG_INFO, 0, "max_connections %d reached: closing "
                   "an idle connection", fr_runner.conf.max_connections);

            /* once what it still has to send is sent */
            c->closing = 1;
            fr_conn_flush(c);

            if (fr_runner.nconns < fr_runner.conf.max_connections) {
                return FR_OK;
            }

            break;
        }
    }

    if (!fr_runner.accept_paused) {
        fr_log(FR_LOG_WARN, 0, "max_connections %d reached, not accepting",
               fr_runner.conf.max_connections);
        fr_runner.accept_paused = 1;
        (void) fr_io_set(&fr_runner.listen, 0);
    }

    return FR_DECLINED;
}


/* a connection closed, or one became idle and may make room */

static void
fr_accept_unpause(void)
{
    if (!fr_runner.accept_paused || fr_runner.listen.fd == -1) {
        return;
    }

    fr_runner.accept_paused = 0;
    (void) fr_io_set(&fr_runner.listen, EPOLLIN);
    fr_io_post(&fr_runner.listen, EPOLLIN);
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

static void
fr_conn_read(fr_conn_t *c)
{
    ssize_t        n;
    const u_char  *pos;

    static u_char  buf[FR_READ_SIZE];

    /* what the client does not read bounds what it may ask for */
    while (!c->paused && c->io.fd != -1 && !fr_buf_full(&c->out)) {

        if (c->in.len) {
            pos = fr_buf_pos(&c->in);
            fr_conn_process(c, &pos, pos + c->in.len);

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
            fr_conn_process(c, &pos, buf + n);

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
        if (r == NULL || r->id != p->id || r->state == FR_REQ_ANSWERED) {
            return FR_OK;
        }

        fr_log(FR_LOG_INFO, 0, "client aborted request %d", p->id);

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

        (void) fr_conn_output(c, rec, sizeof(rec));
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

    if (c->req) {
        if (c->req->state != FR_REQ_ANSWERED) {
            fr_conn_end_request(c, id, 0, FR_FCGI_CANT_MPX_CONN);
            return FR_OK;
        }

        fr_req_free(c->req);
    }

    if (role != FR_FCGI_RESPONDER) {
        fr_conn_end_request(c, id, 0, FR_FCGI_UNKNOWN_ROLE);
        return FR_OK;
    }

    r = calloc(1, sizeof(fr_req_t));
    if (r == NULL) {
        fr_log(FR_LOG_ALERT, errno, "calloc() failed");
        return FR_ERROR;
    }

    r->conn = c;
    r->id = id;
    r->keep_conn = (b[2] & FR_FCGI_KEEP_CONN) ? 1 : 0;
    r->state = FR_REQ_PARAMS;
    r->queue_us = -1;
    r->init_us = -1;
    r->duration_us = -1;
    r->cpu_us = -1;
    r->max_memory_kb = -1;
    fr_list_init(&r->queue);

    c->req = r;
    fr_runner.nreqs++;

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

    (void) fr_conn_output(c, out, FR_FCGI_HEADER_LEN + len);
    fr_conn_flush(c);
}


static void
fr_conn_end_request(fr_conn_t *c, uint16_t id, uint32_t app, u_char status)
{
    u_char  rec[FR_FCGI_HEADER_LEN * 2 + 8];

    fr_fcgi_write_header(rec, FR_FCGI_STDOUT, id, 0, 0);
    fr_fcgi_write_end_request(rec + FR_FCGI_HEADER_LEN, id, app, status);

    /* no STDOUT end before a refusal: the request never started */
    if (status == FR_FCGI_REQUEST_COMPLETE) {
        (void) fr_conn_output(c, rec, sizeof(rec));

    } else {
        (void) fr_conn_output(c, rec + FR_FCGI_HEADER_LEN,
                              sizeof(rec) - FR_FCGI_HEADER_LEN);
    }

    fr_conn_flush(c);
}


/*
 * nginx stops sending a request body once it has passed the response
 * header on (unless the module preserves output), so a function that
 * answers before it has read its body would wait for it forever. While
 * the body is still coming, the response is held in the spool; it goes
 * out, in order, once the body is in.
 */

static int
fr_conn_holding(fr_conn_t *c)
{
    return c->req && c->req->state == FR_REQ_RUNNING && !c->req->stdin_done;
}


/* FR_DECLINED: over spool_max or spool_max_total, nothing written */

static int
fr_conn_output(fr_conn_t *c, const void *p, size_t n)
{
    off_t  size;

    size = (off_t) fr_spool_size(&c->spool);

    if (size == 0 && !fr_conn_holding(c)) {
        return fr_buf_append(&c->out, p, n);
    }

    if (size + (off_t) n > fr_runner.conf.spool_max
        || fr_runner.spooled + (off_t) n > fr_runner.conf.spool_max_total)
    {
        return FR_DECLINED;
    }

    if (fr_spool_write(&c->spool, p, n, fr_runner.rundir) != FR_OK) {
        fr_log(FR_LOG_ERR, errno, "cannot hold a response while its "
               "request body is still arriving");
        return FR_ERROR;
    }

    fr_runner.spooled += (off_t) n;

    return FR_OK;
}


static void
fr_conn_spool_free(fr_conn_t *c)
{
    fr_runner.spooled -= (off_t) fr_spool_size(&c->spool);
    fr_spool_free(&c->spool);
}


static void
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


static void
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


static void
fr_conn_close(fr_conn_t *c)
{
    if (c->io.fd == -1) {
        return;
    }

    if (c->req) {
        fr_req_free(c->req);
    }

    fr_timer_del(&c->timer);
    fr_io_close(&c->io);
    fr_list_remove(&c->link);
    fr_runner.nconns--;

    fr_accept_unpause();

    fr_buf_free(&c->in);
    fr_buf_free(&c->out);
    fr_buf_free(&c->mgmt);
    fr_conn_spool_free(c);

    fr_free_later(c);

    if (fr_runner.draining && fr_runner.nreqs == 0) {
        fr_runner.quitting = 1;
    }
}


/*
 * SIGTERM: idle connections go now, busy ones after their request.
 * SIGINT, SIGQUIT: all go now.
 */

void
fr_conns_drain(int fast)
{
    fr_link_t  *l, *next;
    fr_conn_t  *c;

    for (l = fr_list_first(&fr_runner.conns); l != &fr_runner.conns;
         l = next)
    {
        next = l->next;
        c = fr_list_data(l, fr_conn_t, link);

        if (fast || c->req == NULL || c->req->state == FR_REQ_ANSWERED) {
            fr_conn_close(c);

        } else {
            c->req->keep_conn = 0;
        }
    }
}


int
fr_req_stdin_ready(fr_req_t *r)
{
    switch (r->state) {

    case FR_REQ_ANSWERED:
        return 1;

    case FR_REQ_RUNNING:
        return fr_worker_stdin_ready(r->worker);

    default:
        return 0;
    }
}


/* the worker took some of the body: the client may send more */

void
fr_req_downstream_ready(fr_req_t *r)
{
    fr_conn_t  *c;

    c = r->conn;

    if (!c->paused) {
        return;
    }

    c->paused = 0;
    fr_io_post(&c->io, EPOLLIN);
}


/* one pass over the parameters for the few the runner reads itself */

static int
fr_req_scan_params(fr_req_t *r)
{
    size_t         nlen, vlen;
    const u_char  *pos, *last, *n, *v;

#define fr_is(s)  (nlen == sizeof(s) - 1 && memcmp(n, s, nlen) == 0)

    pos = fr_buf_pos(&r->params);
    last = pos + r->params.len;

    while (fr_fcgi_nv_next(&pos, last, &n, &nlen, &v, &vlen) == FR_OK) {

        if (nlen < 10 || (n[0] != 'F' && n[0] != 'R')) {
            continue;
        }

        if (fr_is("FAAS_FUNCTION")) {
            r->function = v;
            r->function_len = vlen;
            r->has_function = 1;

        } else if (fr_is(FAAS_METER_PARAM)) {
            r->meter = 1;

        } else if (fr_is("FAAS_STATUS")) {
            r->status = 1;

        } else if (fr_is("REQUEST_METHOD")) {
            r->method = v;
            r->method_len = vlen;
        }
    }

#undef fr_is

    return pos == last ? FR_OK : FR_ERROR;
}


static void
fr_req_start(fr_req_t *r)
{
    size_t         len;
    fr_func_t     *f;
    const u_char  *name;

    r->state = FR_REQ_QUEUED;
    r->outcome = FR_OUTCOME_NOT_FOUND;

    fr_timer_del(&r->conn->timer);

    if (fr_req_scan_params(r) != FR_OK) {
        /* nothing of it may reach a worker */
        fr_log(FR_LOG_ERR, 0, "client sent malformed parameters");
        r->outcome = FR_OUTCOME_ERROR;
        fr_req_answer(r, 400);
        return;
    }

    name = r->function;
    len = r->function_len;

    if (!r->has_function && r->status) {
        fr_log(FR_LOG_INFO, 0, "status requests are not served yet");
        fr_req_answer(r, 404);
        return;
    }

    if (!r->has_function) {
        fr_log(FR_LOG_ERR, 0, "request without FAAS_FUNCTION");
        fr_req_answer(r, 404);
        return;
    }

    if (!fr_name_valid(name, len)) {
        fr_log(FR_LOG_INFO, 0, "invalid function name \"%.*s\"",
               (int) (len > FR_NAME_MAX ? FR_NAME_MAX : len), name);
        fr_req_answer(r, 404);
        return;
    }

    f = fr_func_find(name, len);

    if (f == NULL) {
        fr_log(FR_LOG_INFO, 0, "unknown function \"%.*s\"", (int) len, name);
        fr_req_answer(r, 404);
        return;
    }

    r->outcome = FR_OUTCOME_OK;
    r->func = f;
    f->nreqs++;

    if (fr_runner.draining) {
        r->outcome = FR_OUTCOME_THROTTLED;
        fr_req_answer(r, 503);
        return;
    }

    fr_func_enqueue(f, r);
}


/* as nginx: all but POST, LOCK and PATCH may be sent twice */

int
fr_req_idempotent(fr_req_t *r)
{
    size_t         len;
    const u_char  *m;

    m = r->method;
    len = r->method_len;

    if (m == NULL) {
        return 1;
    }

    return !((len == 4 && memcmp(m, "POST", 4) == 0)
             || (len == 4 && memcmp(m, "LOCK", 4) == 0)
             || (len == 5 && memcmp(m, "PATCH", 5) == 0));
}


void
fr_req_assigned(fr_req_t *r)
{
    r->state = FR_REQ_RUNNING;

    /* the body parked in the connection may flow now */
    fr_req_downstream_ready(r);
}


/* a worker's STDOUT or STDERR for the client; FR_AGAIN: client is full */

int
fr_req_stdout(fr_req_t *r, u_char type, const u_char *p, size_t n)
{
    int         rc;
    size_t      chunk;
    u_char      h[FR_FCGI_HEADER_LEN];
    fr_conn_t  *c;

    c = r->conn;

    if (type == FR_FCGI_STDOUT) {
        r->response_started = 1;
    }

    while (n) {
        chunk = n > FR_FCGI_MAX_CONTENT ? FR_FCGI_MAX_CONTENT : n;

        fr_fcgi_write_header(h, type, r->id, (uint16_t) chunk, 0);

        rc = fr_conn_output(c, h, FR_FCGI_HEADER_LEN);

        if (rc == FR_OK) {
            rc = fr_conn_output(c, p, chunk);
        }

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

    if (fr_conn_holding(c)) {
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
 * The response held while the body arrives went over spool_max or
 * spool_max_total: none of it has left, so the client gets 502, and the
 * worker is stopped.
 */

static void
fr_req_spool_full(fr_req_t *r)
{
    fr_conn_t  *c;

    c = r->conn;

    fr_log(FR_LOG_ERR, 0, "function \"%s\": the response held while its "
           "request body arrives (%zu bytes) would pass spool_max %lld or "
           "spool_max_total %lld", r->func->name, fr_spool_size(&c->spool),
           (long long) fr_runner.conf.spool_max,
           (long long) fr_runner.conf.spool_max_total);

    fr_conn_spool_free(c);
    r->response_started = 0;

    if (r->worker) {
        fr_worker_abandon(r->worker);
        r->worker = NULL;
    }

    fr_req_fail(r, FR_OUTCOME_ERROR);
}


/* the worker's END_REQUEST: the invocation is over */

void
fr_req_end(fr_req_t *r, uint32_t app_status)
{
    u_char      rec[FR_FCGI_HEADER_LEN * 3 + FR_METER_RECORD_MAX], *p;
    fr_conn_t  *c;

    c = r->conn;

    r->worker = NULL;
    r->state = FR_REQ_ANSWERED;
    fr_timer_del(&r->timer);
    fr_timer_del(&c->timer);

    if (!r->keep_conn) {
        c->closing = 1;
    }

    /* the end of STDOUT, the measurements if asked, END_REQUEST */

    p = fr_fcgi_write_header(rec, FR_FCGI_STDOUT, r->id, 0, 0);

    if (r->meter) {
        p += fr_meter_record(r, p);
    }

    p = fr_fcgi_write_end_request(p, r->id, app_status,
                                  FR_FCGI_REQUEST_COMPLETE);

    (void) fr_conn_output(c, rec, p - rec);
    fr_io_post(&c->io, EPOLLOUT);

    if (c->req == r && r->stdin_done) {
        fr_req_done(r);
        return;
    }

    /* answered before its body was read: the rest is read and dropped,
     * then the connection takes the client's next request */
    fr_req_downstream_ready(r);
}


static const char *
fr_status_line(int status)
{
    switch (status) {
    case 400: return "400 Bad Request";
    case 404: return "404 Not Found";
    case 431: return "431 Request Header Fields Too Large";
    case 502: return "502 Bad Gateway";
    case 503: return "503 Service Unavailable";
    case 504: return "504 Gateway Timeout";
    default:  return "500 Internal Server Error";
    }
}


/* an answer of the runner's own: short, fixed, no detail */

static void
fr_req_answer(fr_req_t *r, int status)
{
    int          n;
    char         buf[512];
    const char  *line;

    line = fr_status_line(status);

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

    if (fr_req_stdout(r, FR_FCGI_STDOUT, (u_char *) buf, (size_t) n)
        == FR_ERROR)
    {
        return;
    }

    fr_req_end(r, 0);
}


/*
 * The client broke the protocol mid-request: its worker is stopped and
 * it gets status, or, with a response begun, FR_ERROR: close.
 */

static int
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

    if (r->response_started) {
        return FR_ERROR;
    }

    fr_req_answer(r, status);

    return FR_OK;
}


static int  fr_outcome_status[] = { 200, 404, 503, 504, 502, 502 };


/*
 * The invocation failed. Nothing sent yet: an answer of our own; else
 * the client must not take a cut response for a whole one: close.
 */

void
fr_req_fail(fr_req_t *r, fr_outcome_e outcome)
{
    r->worker = NULL;
    r->outcome = outcome;
    fr_func_unqueue(r);

    if (r->meter && r->t_assigned && r->duration_us < 0) {
        /* what it used until it failed is billed too */
        r->duration_us = (int64_t) (fr_current_usec - r->t_assigned);
    }

    if (r->meter && r->queue_us < 0 && r->t_queued) {
        r->queue_us = (int64_t) (fr_current_usec - r->t_queued);
    }

    if (r->response_started && fr_conn_holding(r->conn)) {
        /* all of it is still held back: the client gets a clean 502 */
        fr_conn_spool_free(r->conn);
        r->response_started = 0;
    }

    if (r->response_started) {
        fr_req_cut(r);
        return;
    }

    fr_req_answer(r, fr_outcome_status[outcome]);
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

    if (r->meter) {
        (void) fr_conn_output(c, rec, fr_meter_record(r, rec));
    }

    r->stdin_done = 1;
    c->closing = 1;

    fr_req_free(r);
    fr_conn_flush(c);
}


/* answered and its input consumed: the connection is free */

static void
fr_req_done(fr_req_t *r)
{
    fr_conn_t  *c;

    c = r->conn;

    fr_req_free(r);

    if (c->closing) {
        fr_conn_flush(c);
    }
}


static void
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

    if (r->func) {
        r->func->nreqs--;
        fr_func_check(r->func);
    }

    fr_buf_free(&r->params);

    c->req = NULL;
    c->paused = 0;
    fr_runner.nreqs--;

    free(r);

    fr_accept_unpause();

    if (fr_runner.draining && fr_runner.nreqs == 0) {
        fr_runner.quitting = 1;
    }
}
