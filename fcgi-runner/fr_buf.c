/*
 * Copyright (C) ngx_faas developers
 */

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fr_buf.h"
#include "fr_event.h"
#include "fr_log.h"


/* room for n more bytes at the tail; the caller commits with len += n */

u_char *
fr_buf_reserve(fr_buf_t *b, size_t n)
{
    size_t   cap;
    u_char  *p;

    if (b->start + b->len + n <= b->cap) {
        return b->data + b->start + b->len;
    }

    if (b->start && b->len + n <= b->cap) {
        memmove(b->data, b->data + b->start, b->len);
        b->start = 0;
        return b->data + b->len;
    }

    /* a first allocation fits its need: a thousand requests waiting */
    cap = b->cap ? b->cap * 2 : 512;
    while (cap < b->len + n) {
        cap *= 2;
    }

    p = malloc(cap);
    if (p == NULL) {
        return NULL;
    }

    if (b->len) {
        memcpy(p, b->data + b->start, b->len);
    }

    free(b->data);

    b->data = p;
    b->start = 0;
    b->cap = cap;

    return p + b->len;
}


int
fr_buf_append(fr_buf_t *b, const void *p, size_t n)
{
    u_char  *dst;

    if (n == 0) {
        /* p may be NULL then (an empty body): memcpy() may not */
        return FR_OK;
    }

    dst = fr_buf_reserve(b, n);
    if (dst == NULL) {
        return FR_ERROR;
    }

    memcpy(dst, p, n);
    b->len += n;

    return FR_OK;
}


/* of n bytes, what b holds below max: a capped copy's first bytes */

int
fr_buf_append_max(fr_buf_t *b, const void *p, size_t n, size_t max)
{
    if (b->len >= max) {
        return FR_OK;
    }

    return fr_buf_append(b, p, n < max - b->len ? n : max - b->len);
}


void
fr_buf_consume(fr_buf_t *b, size_t n)
{
    b->start += n;
    b->len -= n;

    if (b->len == 0) {
        b->start = 0;

        /* drained: memory goes back, beyond what a small answer needs */
        if (b->cap > 16 * 1024) {
            fr_buf_free(b);
        }
    }
}


void
fr_buf_free(fr_buf_t *b)
{
    free(b->data);
    b->data = NULL;
    b->start = 0;
    b->len = 0;
    b->cap = 0;
}


/* FR_OK: all written; FR_AGAIN: the rest waits; FR_ERROR: errno is set */

int
fr_buf_flush(fr_buf_t *b, int fd)
{
    ssize_t  n;

    while (b->len) {
        /* SIGPIPE is ignored: a closed peer is EPIPE here */
        n = write(fd, fr_buf_pos(b), b->len);

        if (n > 0) {
            fr_buf_consume(b, (size_t) n);
            continue;
        }

        if (n == -1 && errno == EINTR) {
            continue;
        }

        if (n == -1 && errno == EAGAIN) {
            return FR_AGAIN;
        }

        return FR_ERROR;
    }

    return FR_OK;
}


/* order is kept: memory takes bytes only while the file part is empty */

int
fr_spool_write(fr_spool_t *s, const u_char *p, size_t n, const char *dir)
{
    ssize_t  w;

    if (s->wpos == s->rpos && s->mem.len + n <= FR_BUF_HIGH) {
        return fr_buf_append(&s->mem, p, n);
    }

    if (s->fd <= 0) {
        s->fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
        if (s->fd == -1) {
            s->fd = 0;
            return FR_ERROR;
        }
        s->wpos = s->rpos = 0;
    }

    while (n) {
        w = pwrite(s->fd, p, n, s->wpos);

        if (w == -1 && errno == EINTR) {
            continue;
        }

        if (w <= 0) {
            return FR_ERROR;
        }

        p += w;
        n -= (size_t) w;
        s->wpos += w;
    }

    return FR_OK;
}


/* up to max bytes from the head of the spool to the tail of b */

int
fr_spool_move(fr_spool_t *s, fr_buf_t *b, size_t max)
{
    size_t    n;
    ssize_t   r;
    u_char   *dst;

    if (s->mem.len) {
        n = s->mem.len < max ? s->mem.len : max;

        if (fr_buf_append(b, fr_buf_pos(&s->mem), n) != FR_OK) {
            return FR_ERROR;
        }

        fr_buf_consume(&s->mem, n);
        return FR_OK;
    }

    if (s->rpos == s->wpos) {
        return FR_OK;
    }

    n = (size_t) (s->wpos - s->rpos);
    if (n > max) {
        n = max;
    }

    dst = fr_buf_reserve(b, n);
    if (dst == NULL) {
        return FR_ERROR;
    }

    r = pread(s->fd, dst, n, s->rpos);
    if (r <= 0) {
        return FR_ERROR;
    }

    b->len += (size_t) r;
    s->rpos += r;

    if (s->rpos == s->wpos) {
        /* drained: the disk space goes back */
        if (ftruncate(s->fd, 0) == -1) {
            /*
             * the next writes start at 0 all the same; the space returns
             * when the spool is freed (checked, not cast to void: glibc's
             * warn_unused_result under _FORTIFY_SOURCE sees no cast)
             */
        }

        s->rpos = s->wpos = 0;
    }

    return FR_OK;
}


void
fr_spool_free(fr_spool_t *s)
{
    fr_buf_free(&s->mem);

    if (s->fd > 0) {
        close(s->fd);
    }

    s->fd = 0;
    s->rpos = s->wpos = 0;
}


/*
 * Bytes as a JSON string, quoted: well-formed UTF-8 as it is, control
 * characters as \u00XX, and a byte that is no UTF-8 as U+FFFD (JSON is
 * Unicode text: a byte has no escape of its own)
 */

void
fr_buf_json_str(fr_buf_t *doc, const u_char *p, size_t n)
{
    u_char         e[6];
    size_t         len;
    const u_char  *last;

    static const char  hex[] = "0123456789abcdef";

    (void) fr_buf_append(doc, "\"", 1);

    for (last = p + n; p < last; p += len ? len : 1) {
        len = fr_utf8_len(p, last);

        if (len == 0) {
            (void) fr_buf_append(doc, "\\ufffd", 6);

        } else if (*p == '"' || *p == '\\') {
            e[0] = '\\';
            e[1] = *p;
            (void) fr_buf_append(doc, e, 2);

        } else if (*p < 0x20 || *p == 0x7f) {
            (void) fr_buf_append(doc, "\\u00", 4);
            e[0] = hex[*p >> 4];
            e[1] = hex[*p & 0xf];
            (void) fr_buf_append(doc, e, 2);

        } else {
            (void) fr_buf_append(doc, p, len);
        }
    }

    (void) fr_buf_append(doc, "\"", 1);
}
