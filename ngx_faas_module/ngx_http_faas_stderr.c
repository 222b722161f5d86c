
/*
 * Copyright (C) ngx_faas developers
 *
 * A function's stderr in nginx's error log, as php-fpm's
 * catch_workers_output: a log line per line it wrote, whatever records
 * carried it (a line split across records is joined, one record with
 * many lines is split). Escaped: a function cannot write control bytes
 * or forge log lines. A line longer than a log line holds goes on in
 * the next. A request logs at most NGX_HTTP_FAAS_STDERR_MAX bytes: the
 * first half as they come, the last lines (where a traceback ends) when
 * the request ends, and what was between them is counted.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_faas.h"


#define NGX_HTTP_FAAS_STDERR_HEAD  (NGX_HTTP_FAAS_STDERR_MAX / 2)
#define NGX_HTTP_FAAS_STDERR_TAIL  (NGX_HTTP_FAAS_STDERR_MAX / 2)

/*
 * What a log line costs beyond its text (nginx's date, level, pid and
 * request): counted with it, both halves. A flood of "a" lines was
 * 4,096 log lines a request from the first half alone, 1.6 MB of log.
 */
#define NGX_HTTP_FAAS_STDERR_COST  64


static ngx_int_t ngx_http_faas_stderr_init(ngx_http_request_t *r,
    ngx_http_faas_ctx_t *ctx);
static void ngx_http_faas_stderr_line(ngx_http_request_t *r,
    ngx_http_faas_ctx_t *ctx);
static void ngx_http_faas_stderr_keep(ngx_http_faas_ctx_t *ctx, u_char *p,
    size_t n);
static void ngx_http_faas_stderr_log(ngx_http_request_t *r,
    ngx_http_faas_ctx_t *ctx, u_char *p, size_t n);
static u_char *ngx_http_faas_stderr_escape(u_char *dst, u_char *end,
    u_char **src, u_char *last);


/* a slice of a STDERR record's content */

void
ngx_http_faas_stderr(ngx_http_request_t *r, ngx_http_faas_ctx_t *ctx,
    u_char *data, size_t size)
{
    size_t      n, room;
    u_char     *eol;
    ngx_buf_t  *line;

    if (size == 0 || ngx_http_faas_stderr_init(r, ctx) != NGX_OK) {
        return;
    }

    line = ctx->stderr_line;

    while (size) {
        eol = ngx_strlchr(data, data + size, LF);
        n = eol ? (size_t) (eol - data) : size;
        room = line->end - line->last;

        if (n > room) {
            /* longer than a log line: this much of it goes now */
            line->last = ngx_cpymem(line->last, data, room);
            data += room;
            size -= room;
            ngx_http_faas_stderr_line(r, ctx);
            continue;
        }

        line->last = ngx_cpymem(line->last, data, n);
        data += n;
        size -= n;

        if (eol) {
            data++;
            size--;
            ngx_http_faas_stderr_line(r, ctx);
        }
    }
}


/*
 * The request ends: a last line without its newline, then, if the
 * budget was spent, the count of what was left out and the last lines.
 */

void
ngx_http_faas_stderr_flush(ngx_http_request_t *r, ngx_http_faas_ctx_t *ctx)
{
    u_char     *p, *eol;
    ngx_buf_t  *tail;

    if (ctx->stderr_line == NULL) {
        return;
    }

    ngx_http_faas_stderr_line(r, ctx);

    if (ctx->stderr_dropped) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "function \"%V\": %uz bytes of stderr not logged%s",
                      &ctx->function, ctx->stderr_dropped,
                      ctx->stderr_tail->pos < ctx->stderr_tail->last
                      ? ", its last lines follow" : "");
        ctx->stderr_dropped = 0;
    }

    tail = ctx->stderr_tail;

    for (p = tail->pos; p < tail->last; p = eol + 1) {
        eol = ngx_strlchr(p, tail->last, LF);
        ngx_http_faas_stderr_log(r, ctx, p, eol - p);
    }

    tail->pos = tail->start;
    tail->last = tail->start;
    ctx->stderr_tail_lines = 0;
}


static ngx_int_t
ngx_http_faas_stderr_init(ngx_http_request_t *r, ngx_http_faas_ctx_t *ctx)
{
    if (ctx->stderr_line) {
        return NGX_OK;
    }

    ctx->stderr_line = ngx_create_temp_buf(r->pool,
                                           NGX_HTTP_FAAS_STDERR_LINE);
    ctx->stderr_tail = ngx_create_temp_buf(r->pool,
                                           NGX_HTTP_FAAS_STDERR_TAIL);

    if (ctx->stderr_line == NULL || ctx->stderr_tail == NULL) {
        ctx->stderr_line = NULL;
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* a whole line (or as much as a log line holds) is in ctx->stderr_line */

static void
ngx_http_faas_stderr_line(ngx_http_request_t *r, ngx_http_faas_ctx_t *ctx)
{
    u_char     *p;
    size_t      n;
    ngx_buf_t  *line;

    line = ctx->stderr_line;
    p = line->pos;
    n = line->last - line->pos;

    line->last = line->pos;

    if (n && p[n - 1] == CR) {
        n--;
    }

    if (n == 0) {
        return;
    }

    if (ctx->stderr_logged + n + NGX_HTTP_FAAS_STDERR_COST
        <= NGX_HTTP_FAAS_STDERR_HEAD)
    {
        ctx->stderr_logged += n + NGX_HTTP_FAAS_STDERR_COST;
        ngx_http_faas_stderr_log(r, ctx, p, n);
        return;
    }

    /* the budget of the first lines is spent: the last ones are kept */
    ctx->stderr_logged = NGX_HTTP_FAAS_STDERR_HEAD;

    ngx_http_faas_stderr_keep(ctx, p, n);
}


/*
 * The last lines, each ended by LF, in a buffer of their own: the
 * oldest give way to a new one, and are counted as not logged.
 */

static void
ngx_http_faas_stderr_keep(ngx_http_faas_ctx_t *ctx, u_char *p, size_t n)
{
    u_char     *eol;
    ngx_buf_t  *tail;

    tail = ctx->stderr_tail;

    /* its bytes and its lines' cost within the tail's size */
    while (((size_t) (tail->end - tail->last) < n + 1
            || (size_t) (tail->last - tail->start) + n + 1
               + (ctx->stderr_tail_lines + 1) * NGX_HTTP_FAAS_STDERR_COST
               > NGX_HTTP_FAAS_STDERR_TAIL)
           && tail->pos < tail->last)
    {
        eol = ngx_strlchr(tail->pos, tail->last, LF);
        ctx->stderr_dropped += eol + 1 - tail->pos;     /* its LF too */
        ctx->stderr_tail_lines--;
        tail->pos = eol + 1;

        tail->last = ngx_movemem(tail->start, tail->pos,
                                 tail->last - tail->pos);
        tail->pos = tail->start;
    }

    if ((size_t) (tail->end - tail->last) < n + 1) {
        /* never: a line is shorter than the tail */
        ctx->stderr_dropped += n + 1;
        return;
    }

    tail->last = ngx_cpymem(tail->last, p, n);
    *tail->last++ = LF;
    ctx->stderr_tail_lines++;
}


/* one line of stderr, escaped, in as many log lines as it needs */

static void
ngx_http_faas_stderr_log(ngx_http_request_t *r, ngx_http_faas_ctx_t *ctx,
    u_char *p, size_t n)
{
    u_char  *last, *end, buf[NGX_HTTP_FAAS_STDERR_LINE];

    end = p + n;

    while (p < end) {
        last = ngx_http_faas_stderr_escape(buf, buf + sizeof(buf), &p, end);

        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "function \"%V\" stderr: \"%*s\"", &ctx->function,
                      last - buf, buf);
    }
}


/*
 * Bytes of a function's output as text of a log line, as many as fit in
 * [dst, end): printable ASCII as is; quotes, backslashes and all else as
 * \xNN. *src moves past what was written.
 */

static u_char *
ngx_http_faas_stderr_escape(u_char *dst, u_char *end, u_char **src,
    u_char *last)
{
    u_char  *p;

    static u_char  hex[] = "0123456789abcdef";

    for (p = *src; p < last; p++) {

        if (*p >= 0x20 && *p < 0x7f && *p != '"' && *p != '\\') {
            if (dst == end) {
                break;
            }

            *dst++ = *p;
            continue;
        }

        if (end - dst < 4) {
            break;
        }

        *dst++ = '\\';
        *dst++ = 'x';
        *dst++ = hex[*p >> 4];
        *dst++ = hex[*p & 0xf];
    }

    *src = p;

    return dst;
}
