/*
 * Copyright (C) ngx_faas developers
 *
 * A worker's stderr that no client takes goes to the runner's log:
 * escaped, a line of output a log line, rate-limited per worker.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>

#include "fr_log.h"
#include "fr_spawn.h"
#include "fr_stderr.h"


#define FR_STDERR_RATE     8192       /* bytes of stderr logged a second */
#define FR_STDERR_TENANT   (4 * FR_STDERR_RATE)     /* ... by a tenant's
                                                       workers together */
#define FR_STDERR_LINE     512
#define FR_STDERR_RUN_MAX  (64 * 1024)  /* of a run's, logged */
#define FR_STDERR_LINE_COST  128        /* a log line's own bytes */
#define FR_STDERR_RATE_COST  64         /* and against FR_STDERR_RATE */
#define FR_STDERR_MAX      8192         /* a request's, to its client */
#define FR_STDERR_TAIL     8192         /* and its last, at its end */
#define FR_STDERR_NGINX    (256 * 1024)  /* of nginx's log a second, a
                                            tenant's functions' */
#define FR_STDERR_NGINX_LINE  128       /* a line's own there, and the
                                           request's URI, Host, Referer */
#define FR_STDERR_NGINX_MAX   2048      /* nginx's longest log line */
#define FR_STDERR_PIECE    1800         /* escaped, of a log line's */


static size_t fr_stderr_line(const u_char *p, size_t n);
static size_t fr_stderr_run_line(const char *id, const char *function,
    const u_char *p, size_t n);
static void fr_stderr_tail_add(fr_stderr_tail_t *t, const u_char *p,
    size_t n);
static void fr_stderr_tail_keep(fr_stderr_tail_t *t, size_t n);
static void fr_stderr_dropped(fr_worker_t *w);
static size_t fr_stderr_nginx(fr_req_t *r, const u_char *p, size_t n,
    int tail);
static void fr_stderr_unsent(fr_req_t *r, size_t n);
static void fr_stderr_unsent_say(fr_timer_t *t);
static size_t fr_stderr_escape_tail(fr_stderr_tail_t *t);
static size_t fr_stderr_escape_lines(u_char *dst, const u_char *p, size_t n);


/* functions of no tenant: what they could not send is said all the same */
static fr_stderr_budget_t  fr_stderr_nobody = {
    0, 0, 0, { 0, 0, fr_stderr_unsent_say, &fr_stderr_nobody }, NULL
};

/* a record of stderr escaped for a client that logs it as it is: its
 * lines (4 bytes a byte at most), each ended by a line feed */
static u_char  fr_stderr_esc[5 * FR_STDERR_MAX];

#define fr_stderr_left(used, rate)  ((used) >= (rate) ? 0 : (rate) - (used))

/* a byte that fr_log_escape leaves as it is */
#define fr_stderr_printable(c)                                               \
    ((c) >= 0x20 && (c) < 0x7f && (c) != '"' && (c) != '\\')

/*
 * What a worker writes to stderr with no client to take it goes to the
 * log, escaped, a line of output a log line, at most FR_STDERR_RATE
 * bytes a second a worker and FR_STDERR_TENANT for all of a tenant's
 * (a customer's 256 workers were 2.4 MB a second of log, past
 * journald's rate limit, which then dropped every tenant's lines), each
 * line counted with FR_STDERR_RATE_COST of its own (a flood of "a\n"
 * was 4,096 log lines a second a worker); the rest is counted and said
 * once. Past a rate the pipe is not read until its second is over: a
 * flood blocks its writer instead of spinning the runner.
 */

void
fr_stderr_log(fr_worker_t *w, const u_char *p, size_t n)
{
    size_t         chunk, len, left;
    u_char         line[FR_STDERR_LINE * 4];
    uint64_t       until;
    fr_tenant_t   *tn;
    const u_char  *eol;

    tn = w->func->owner;

    if (tn && fr_current_msec >= tn->log_window + 1000) {
        tn->log_window = fr_current_msec;
        tn->log_bytes = 0;
    }

    if (fr_current_msec >= w->log_window + 1000) {
        /* said within the tenant's budget too, else carried on */
        if (w->log_dropped
            && (tn == NULL
                || fr_stderr_left(tn->log_bytes, FR_STDERR_TENANT)
                   >= FR_STDERR_RATE_COST))
        {
            fr_stderr_dropped(w);

            if (tn) {
                tn->log_bytes += FR_STDERR_RATE_COST;
            }

            w->log_dropped = 0;
        }

        w->log_window = fr_current_msec;
        w->log_bytes = 0;
    }

    while (n) {
        left = fr_stderr_left(w->log_bytes, FR_STDERR_RATE);
        until = w->log_window + 1000;

        if (tn && fr_stderr_left(tn->log_bytes, FR_STDERR_TENANT) < left) {
            left = fr_stderr_left(tn->log_bytes, FR_STDERR_TENANT);
            until = tn->log_window + 1000;
        }

        if (left == 0) {
            w->log_dropped += n;

            if (w->err.fd != -1) {
                (void) fr_io_set(&w->err, 0);
                fr_timer_add(&w->log_timer, until - fr_current_msec);
            }

            return;
        }

        chunk = n;

        if (chunk > FR_STDERR_LINE) {
            chunk = FR_STDERR_LINE;
        }

        if (chunk > left) {
            chunk = left;
        }

        eol = memchr(p, '\n', chunk);

        if (eol) {
            chunk = eol - p + 1;
        }

        len = fr_log_escape(line, p, eol ? chunk - 1 : chunk);

        if (len) {
            fr_log(FR_LOG_WARN, 0, "function \"%s\" (pid %d) stderr: "
                   "\"%.*s\"", w->func->name, (int) w->pid, (int) len,
                   line);
        }

        w->log_bytes += chunk + (len ? FR_STDERR_RATE_COST : 0);

        if (tn) {
            tn->log_bytes += chunk + (len ? FR_STDERR_RATE_COST : 0);
        }

        p += chunk;
        n -= chunk;
    }
}


void
fr_stderr_resume(fr_timer_t *t)
{
    fr_worker_t  *w;

    w = t->data;

    if (w->err.fd != -1) {
        (void) fr_io_set(&w->err, EPOLLIN);
    }
}


/* a worker's stderr: the mode's while a request runs, else the log */

void
fr_stderr_handler(fr_io_t *io, uint32_t events)
{
    ssize_t           n;
    u_char            buf[8192];
    fr_worker_t      *w;
    const fr_mode_t  *m;

    (void) events;

    w = io->data;
    m = w->ops;

    fr_worker_exec_check(w);

    n = read(io->fd, buf, sizeof(buf));

    if (n == -1 && (errno == EAGAIN || errno == EINTR)) {
        return;
    }

    if (n <= 0) {
        fr_io_close(io);

        if (m->stderr_end) {
            m->stderr_end(w);
        }

        return;
    }

    if (w->req && m->stderr && m->stderr(w, buf, (size_t) n) != FR_DECLINED)
    {
        return;
    }

    fr_stderr_log(w, buf, (size_t) n);
}


/*
 * Its process was reaped: all it wrote is in the pipe, read now, before
 * its response ends. EOF closes it; what still holds it open (a process
 * left behind) is waited for by the mode.
 */

void
fr_stderr_drain(fr_worker_t *w)
{
    int       i;
    ssize_t   n;
    u_char    buf[8192];

    for (i = 0; i < 64 && w->err.fd != -1; i++) {
        n = read(w->err.fd, buf, sizeof(buf));

        if (n == -1 && errno == EINTR) {
            continue;
        }

        if (n == -1 && errno == EAGAIN) {
            return;
        }

        if (n <= 0) {
            fr_io_close(&w->err);
            return;
        }

        if (w->req == NULL || w->ops->stderr == NULL
            || w->ops->stderr(w, buf, (size_t) n) == FR_DECLINED)
        {
            fr_stderr_log(w, buf, (size_t) n);
        }
    }
}


/* the worker is gone: what was not logged is said once */

void
fr_stderr_done(fr_worker_t *w)
{
    fr_timer_del(&w->log_timer);

    if (w->log_dropped) {
        fr_stderr_dropped(w);
    }
}


static void
fr_stderr_dropped(fr_worker_t *w)
{
    fr_log(FR_LOG_WARN, 0, "function \"%s\" (pid %d): %zu bytes of stderr "
           "not logged, over %d bytes a second (%d for its tenant's "
           "workers together)", w->func->name, (int) w->pid, w->log_dropped,
           FR_STDERR_RATE, FR_STDERR_TENANT);
}


/*
 * The stderr of an invocation the runner made itself (async, schedule,
 * destination; a CGI's, a FastCGI worker's FCGI_STDERR) goes to the log
 * as any worker's: escaped, a line a log line, tagged with its id;
 * FR_STDERR_RUN_MAX bytes of log a run (a line's own bytes counted with
 * it: 64 KB of "a\n" were 32,768 log lines, a run's each, on the
 * runner's one thread; a hostile review's finding). Past that its last
 * FR_STDERR_TAIL bytes are kept, logged at its end (a traceback's end,
 * as nginx is sent a request's).
 */

void
fr_stderr_invocation(const char *id, const char *function,
    fr_stderr_run_t *s, const u_char *p, size_t n)
{
    size_t  chunk;

    while (n && s->logged < FR_STDERR_RUN_MAX) {
        chunk = fr_stderr_line(p, n);
        s->logged += chunk + fr_stderr_run_line(id, function, p, chunk);
        p += chunk;
        n -= chunk;
    }

    if (n == 0) {
        return;
    }

    if (s->tail.buf == NULL && s->tail.dropped == 0) {
        fr_log(FR_LOG_WARN, 0, "invocation %s of \"%s\": its stderr past "
               "%d bytes of log is not logged, but for its last lines at "
               "its end", id, function, FR_STDERR_RUN_MAX);
    }

    fr_stderr_tail_add(&s->tail, p, n);
}


/*
 * The run is over: of its tail, the last lines that fit FR_STDERR_TAIL
 * bytes of log (its lines' own counted; the first, cut, left out), then
 * it is freed. How much fell between is not known here: past 64 KB the
 * request's side (fr_stderr_client) sends the dispatcher only its last
 * 8 KB.
 */

void
fr_stderr_invocation_end(const char *id, const char *function,
    fr_stderr_run_t *s)
{
    size_t         cost, chunk, n;
    const u_char  *p, *last, *eol;

    if (s->tail.buf == NULL) {
        if (s->tail.dropped) {
            fr_log(FR_LOG_WARN, 0, "invocation %s of \"%s\": its stderr's "
                   "last lines not kept, no memory", id, function);
        }

        return;
    }

    p = s->tail.buf;
    last = p + s->tail.len;

    if (s->tail.len > FR_STDERR_TAIL) {
        p = last - FR_STDERR_TAIL;
        s->tail.dropped += s->tail.len - FR_STDERR_TAIL;
    }

    /* it began in a line: that line's start is not here */
    eol = s->tail.dropped ? memchr(p, '\n', last - p) : NULL;

    if (eol && eol + 1 < last) {
        s->tail.dropped += eol + 1 - p;
        p = eol + 1;
    }

    /* whole lines off its front until the rest fits */
    for (cost = 0, n = last - p; n; n -= chunk) {
        chunk = fr_stderr_line(last - n, n);
        cost += chunk + FR_STDERR_LINE_COST;
    }

    while (cost > FR_STDERR_TAIL) {
        chunk = fr_stderr_line(p, last - p);
        cost -= chunk + FR_STDERR_LINE_COST;
        s->tail.dropped += chunk;
        p += chunk;
    }

    fr_log(FR_LOG_WARN, 0, "invocation %s of \"%s\": the last %zu bytes "
           "of its stderr follow", id, function, (size_t) (last - p));

    while (p < last) {
        chunk = fr_stderr_line(p, last - p);
        (void) fr_stderr_run_line(id, function, p, chunk);
        p += chunk;
    }

    free(s->tail.buf);
    s->tail.buf = NULL;
    s->tail.len = 0;
}


/* of n bytes at p, the first line's, at most FR_STDERR_LINE */

static size_t
fr_stderr_line(const u_char *p, size_t n)
{
    const u_char  *eol;

    n = n > FR_STDERR_LINE ? FR_STDERR_LINE : n;
    eol = memchr(p, '\n', n);

    return eol ? (size_t) (eol - p) + 1 : n;
}


/* a line of an invocation's stderr logged: the log line's own cost */

static size_t
fr_stderr_run_line(const char *id, const char *function, const u_char *p,
    size_t n)
{
    size_t  len;
    u_char  line[FR_STDERR_LINE * 4];

    len = fr_log_escape(line, p, (n && p[n - 1] == '\n') ? n - 1 : n);

    if (len == 0) {
        return 0;
    }

    fr_log(FR_LOG_WARN, 0, "invocation %s of \"%s\" stderr: \"%.*s\"", id,
           function, (int) len, line);

    return FR_STDERR_LINE_COST;
}


/*
 * A request's stderr for its client: the first 8 KB as it comes (a
 * stored run's, for the runner's log, 64 KB), then only its last 8 KB
 * kept (the end of a traceback), sent at the end of
 * the response; the rest is counted (a stock nginx logs every byte of
 * every record: a flood of stderr filled its disk at 50 MB/s). nginx
 * logs a line of it with its request's URI, and a tenant's functions
 * together send it FR_STDERR_NGINX bytes of log a second at most (a
 * customer's 32 connections were 300 MB/s of nginx's error log, with
 * the 8 KB a request the module logs); what is not sent is said once a
 * second. A client that does not escape it itself (stock nginx logs it
 * as it is: a function forged "[emerg]" lines and terminal escapes)
 * gets it escaped, a record a log line. What goes now: n bytes at *p.
 */

size_t
fr_stderr_client(fr_req_t *r, const u_char **p, size_t n)
{
    size_t  now, max;

    max = r->stored ? FR_STDERR_RUN_MAX : FR_STDERR_MAX;

    if (r->stderr_sent + n <= max) {
        now = n;
        r->stderr_sent += n;

    } else {
        now = max - r->stderr_sent;
        r->stderr_sent = max;

        fr_stderr_tail_add(&r->stderr_tail, *p + now, n - now);
    }

    /* a stored one's client is the runner's dispatcher: it logs it */
    if (now == 0 || r->stored) {
        return now;
    }

    n = fr_stderr_nginx(r, *p, now, 0);

    if (n < now) {
        fr_stderr_unsent(r, now - n);
        now = n;
    }

    if (r->stderr_raw || now == 0) {
        return now;
    }

    now = fr_stderr_escape_lines(fr_stderr_esc, *p, now);
    *p = fr_stderr_esc;

    return now;
}


/*
 * Of n bytes at p for the client, the next record's: a client that
 * logs a record as it is (stock nginx) is sent a line of escaped
 * stderr a record (its line feed, which nginx trims off, last), a long
 * one in pieces of a log line's, never inside an escape
 */

size_t
fr_stderr_chunk(fr_req_t *r, u_char type, const u_char *p, size_t n)
{
    size_t         k;
    const u_char  *eol;

    if (type != FR_FCGI_STDERR || r->stderr_raw || r->stored) {
        return n > FR_FCGI_MAX_CONTENT ? FR_FCGI_MAX_CONTENT : n;
    }

    n = n > FR_STDERR_PIECE ? FR_STDERR_PIECE : n;
    eol = memchr(p, '\n', n);

    if (eol) {
        return eol - p + 1;
    }

    /* a backslash is an escape's first byte, its 3 others never one */
    for (k = 1; k < 4 && k < n; k++) {
        if (p[n - k] == '\\') {
            return n - k;
        }
    }

    return n;
}


/* each line of n bytes at p, escaped, ended by a line feed; none empty */

static size_t
fr_stderr_escape_lines(u_char *dst, const u_char *p, size_t n)
{
    size_t         len;
    u_char        *d;
    const u_char  *last, *eol;

    d = dst;
    last = p + n;

    for ( /* void */ ; p < last; p = eol + 1) {
        eol = memchr(p, '\n', last - p);
        eol = eol ? eol : last;

        /* the CRs before its end are nginx's to trim, not a byte of it */
        for (len = eol - p; len && p[len - 1] == '\r'; len--) {
            /* void */
        }

        if (len) {
            d += fr_log_escape(d, p, len);
            *d++ = '\n';
        }

        if (eol == last) {
            break;
        }
    }

    return d - dst;
}


/*
 * Of n bytes of a request's stderr for nginx, how many its tenant's
 * functions may still send this second: its first whole lines (or, of
 * its tail, its last), each counted with its log line's own bytes
 */

static size_t
fr_stderr_nginx(fr_req_t *r, const u_char *p, size_t n, int tail)
{
    size_t               cost, line, left, ok, k;
    const u_char        *eol, *pos, *last;
    fr_stderr_budget_t  *b;

    if (r->func == NULL || r->func->owner == NULL) {
        return n;
    }

    b = &r->func->owner->nginx_log;

    if (fr_current_msec >= b->window + 1000) {
        b->window = fr_current_msec;
        b->bytes = 0;
    }

    left = fr_stderr_left(b->bytes, FR_STDERR_NGINX);
    line = FR_STDERR_NGINX_LINE + r->uri_len;
    line = line > FR_STDERR_NGINX_MAX ? FR_STDERR_NGINX_MAX : line;
    last = p + n;

    /* a line is [pos, eol): forwards from its first, or back from its
     * last (once: a tail of 8,192 empty lines was trimmed a line at a
     * time, each time measured again) */
    for (pos = p, eol = last, ok = 0, cost = 0; pos < eol; /* void */ ) {
        if (tail) {
            pos = (eol - 1 > p) ? memrchr(p, '\n', eol - 1 - p) : NULL;
            pos = pos ? pos + 1 : p;

        } else {
            eol = memchr(pos, '\n', last - pos);
            eol = eol ? eol + 1 : last;
        }

        /* a log line a line, a long one several; a byte up to 4 */
        k = (eol - pos) * (r->stderr_raw ? 1 : 4);
        k += (k / FR_STDERR_PIECE + 1) * line;

        if (cost + k > left) {
            break;
        }

        cost += k;
        ok = tail ? (size_t) (last - pos) : (size_t) (eol - p);
        pos = tail ? p : eol;
        eol = tail ? last - ok : last;
    }

    b->bytes += cost;

    return ok;
}


/*
 * n bytes of a request's stderr nginx was not sent: said a second on,
 * with its tenant's functions' (or all of no tenant's)
 */

static void
fr_stderr_unsent(fr_req_t *r, size_t n)
{
    fr_stderr_budget_t  *b;

    b = r->func->owner ? &r->func->owner->nginx_log : &fr_stderr_nobody;

    if (b->timer.handler == NULL) {
        b->tenant = r->func->owner->name;
        b->timer.handler = fr_stderr_unsent_say;
        b->timer.data = b;
    }

    b->unsent += n;

    if (b->timer.index == 0) {
        fr_timer_add(&b->timer, 1000);
    }
}


static void
fr_stderr_unsent_say(fr_timer_t *t)
{
    fr_stderr_budget_t  *b;

    b = t->data;

    if (b->tenant) {
        fr_log(FR_LOG_WARN, 0, "tenant \"%s\": %zu bytes of its functions' "
               "stderr not sent to nginx, over %d bytes a request or %d "
               "bytes of log a second for the tenant", b->tenant, b->unsent,
               FR_STDERR_MAX, FR_STDERR_NGINX);

    } else {
        fr_log(FR_LOG_WARN, 0, "%zu bytes of functions' stderr not sent to "
               "nginx, over %d bytes a request", b->unsent, FR_STDERR_MAX);
    }

    b->unsent = 0;
}


/*
 * Of a stream cut short, its last FR_STDERR_TAIL bytes: kept in twice
 * their size, moved to its front once that fills (a flood of 1-byte
 * records cost the runner a move of 8 KB each, a core for 4M records:
 * hostile pass); what falls off is counted.
 */

static void
fr_stderr_tail_add(fr_stderr_tail_t *t, const u_char *p, size_t n)
{
    size_t  keep;

    if (t->buf == NULL) {
        t->buf = malloc(FR_STDERR_TAIL * 2);

        if (t->buf == NULL) {
            t->dropped += n;
            return;
        }
    }

    keep = n < FR_STDERR_TAIL ? n : FR_STDERR_TAIL;
    t->dropped += n - keep;

    if (t->len + keep > FR_STDERR_TAIL * 2) {
        fr_stderr_tail_keep(t, FR_STDERR_TAIL - keep);
    }

    memcpy(t->buf + t->len, p + n - keep, keep);
    t->len += keep;
}


/*
 * The tail's last bytes, at most FR_STDERR_TAIL, at the response's end:
 * its last lines that its tenant's bytes of nginx's log this second
 * take, for a client that logs a record as it is only what escapes into
 * one log line (its last line's end, the traceback's)
 */

void
fr_stderr_client_end(fr_req_t *r)
{
    size_t             n, k, esc;
    fr_stderr_tail_t  *t;

    t = &r->stderr_tail;

    if (t->len > FR_STDERR_TAIL) {
        fr_stderr_tail_keep(t, FR_STDERR_TAIL);
    }

    if (t->len == 0 || r->stored) {
        return;
    }

    if (!r->stderr_raw) {
        while (t->len && (t->buf[t->len - 1] == '\n'
                          || t->buf[t->len - 1] == '\r'))
        {
            t->len--;
        }

        for (n = 0, esc = 0; n < t->len; n++, esc += k) {
            k = fr_stderr_printable(t->buf[t->len - n - 1]) ? 1 : 4;

            if (esc + k > FR_STDERR_PIECE) {
                break;
            }
        }

        fr_stderr_tail_keep(t, n);
    }

    /* its last whole lines that fit */
    fr_stderr_tail_keep(t, fr_stderr_nginx(r, t->buf, t->len, 1));

    if (t->len && !r->stderr_raw && fr_stderr_escape_tail(t) == 0) {
        t->dropped += t->len;
        t->len = 0;
    }
}


/* the tail escaped where it is, made room for: its new length, or 0 */

static size_t
fr_stderr_escape_tail(fr_stderr_tail_t *t)
{
    size_t   len, i;
    u_char  *buf, *src, *dst, c;

    static const char  hex[] = "0123456789abcdef";

    for (len = 0, i = 0; i < t->len; i++) {
        len += fr_stderr_printable(t->buf[i]) ? 1 : 4;
    }

    if (len == t->len) {
        return len;
    }

    buf = realloc(t->buf, len > FR_STDERR_TAIL * 2 ? len : FR_STDERR_TAIL * 2);
    if (buf == NULL) {
        return 0;
    }

    /* from its end: what is written is never what is still to be read */
    src = buf + t->len;
    dst = buf + len;

    while (src > buf) {
        c = *--src;

        if (fr_stderr_printable(c)) {
            *--dst = c;
            continue;
        }

        *--dst = hex[c & 0xf];
        *--dst = hex[c >> 4];
        *--dst = 'x';
        *--dst = '\\';
    }

    t->buf = buf;
    t->len = len;

    return len;
}


/* of the tail, its last n bytes moved to its front */

static void
fr_stderr_tail_keep(fr_stderr_tail_t *t, size_t n)
{
    size_t  drop;

    drop = t->len > n ? t->len - n : 0;

    memmove(t->buf, t->buf + drop, t->len - drop);
    t->len -= drop;
    t->dropped += drop;
}


/* at the request's free: what its client was not sent is said (a
 * stored one's client is the runner's dispatcher, which says what it
 * did not log: no nginx, no last bytes sent it at the end) */

void
fr_stderr_client_free(fr_req_t *r)
{
    fr_stderr_tail_t  *t;

    t = &r->stderr_tail;

    /* said with its tenant's functions', once a second at most: a log
     * line a request was a flood past its tenant's bytes of log */
    if (t->dropped + t->len && r->func && !r->stored) {
        fr_stderr_unsent(r, t->dropped + t->len);
    }

    free(t->buf);
    t->buf = NULL;
}
