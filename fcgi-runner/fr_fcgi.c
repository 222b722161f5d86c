/*
 * Copyright (C) ngx_faas developers
 *
 * The record parser is a byte state machine: it stops at any byte and
 * resumes from there, so records split anywhere parse the same.
 */

#include <string.h>
#include <strings.h>

#include "fr_event.h"
#include "fr_fcgi.h"


enum {
    fr_fcgi_st_header = 0,
    fr_fcgi_st_content,
    fr_fcgi_st_padding,
    fr_fcgi_st_error
};


void
fr_fcgi_parser_init(fr_fcgi_parser_t *p)
{
    memset(p, 0, sizeof(fr_fcgi_parser_t));
}


fr_fcgi_event_e
fr_fcgi_parse(fr_fcgi_parser_t *p, const u_char **pos, const u_char *last)
{
    size_t         n;
    const u_char  *b;

    b = *pos;

    for ( ;; ) {

        switch (p->state) {

        case fr_fcgi_st_header:

            if (b == last) {
                *pos = b;
                return FR_FCGI_EV_AGAIN;
            }

            n = FR_FCGI_HEADER_LEN - p->hlen;
            if (n > (size_t) (last - b)) {
                n = last - b;
            }

            memcpy(p->header + p->hlen, b, n);
            p->hlen += n;
            b += n;

            if (p->hlen < FR_FCGI_HEADER_LEN) {
                *pos = b;
                return FR_FCGI_EV_AGAIN;
            }

            p->hlen = 0;

            if (p->header[0] != FR_FCGI_VERSION_1) {
                p->state = fr_fcgi_st_error;
                *pos = b;
                return FR_FCGI_EV_ERROR;
            }

            p->type = p->header[1];
            p->id = (uint16_t) (p->header[2] << 8 | p->header[3]);
            p->length = (uint16_t) (p->header[4] << 8 | p->header[5]);
            p->padding = p->header[6];
            p->content_left = p->length;
            p->padding_left = p->padding;

            p->state = fr_fcgi_st_content;
            *pos = b;
            return FR_FCGI_EV_HEADER;

        case fr_fcgi_st_content:

            if (p->content_left == 0) {
                p->state = fr_fcgi_st_padding;
                break;
            }

            if (b == last) {
                *pos = b;
                return FR_FCGI_EV_AGAIN;
            }

            n = p->content_left;
            if (n > (size_t) (last - b)) {
                n = last - b;
            }

            p->data = b;
            p->size = n;
            p->content_left -= n;

            *pos = b + n;
            return FR_FCGI_EV_CONTENT;

        case fr_fcgi_st_padding:

            n = p->padding_left;
            if (n > (size_t) (last - b)) {
                n = last - b;
            }

            p->padding_left -= n;
            b += n;

            if (p->padding_left) {
                *pos = b;
                return FR_FCGI_EV_AGAIN;
            }

            p->state = fr_fcgi_st_header;
            *pos = b;
            return FR_FCGI_EV_END;

        default: /* fr_fcgi_st_error */
            *pos = b;
            return FR_FCGI_EV_ERROR;
        }
    }
}


u_char *
fr_fcgi_write_header(u_char *p, u_char type, uint16_t id, uint16_t length,
    u_char padding)
{
    *p++ = FR_FCGI_VERSION_1;
    *p++ = type;
    *p++ = (u_char) (id >> 8);
    *p++ = (u_char) id;
    *p++ = (u_char) (length >> 8);
    *p++ = (u_char) length;
    *p++ = padding;
    *p++ = 0;

    return p;
}


/*
 * The empty STDOUT that ends a response, padded to 8 bytes: stock nginx
 * (fastcgi_keep_conn on) takes an end of STDOUT short of the response's
 * Content-Length for an error, but one with no padding leaves its pipe
 * wanting no more bytes, which it takes for the upstream's clean end:
 * the client's connection was kept and waited for the missing bytes
 * until keepalive_timeout. Padded, it is the 502 that closes it at once,
 * as php-fpm's answer, which has no empty STDOUT, gets. Any client
 * skips padding (the specification's 8-byte alignment).
 */

u_char *
fr_fcgi_write_stdout_end(u_char *p, uint16_t id)
{
    p = fr_fcgi_write_header(p, FR_FCGI_STDOUT, id, 0, 8);
    memset(p, 0, 8);

    return p + 8;
}


u_char *
fr_fcgi_write_end_request(u_char *p, uint16_t id, uint32_t app_status,
    u_char protocol_status)
{
    p = fr_fcgi_write_header(p, FR_FCGI_END_REQUEST, id, 8, 0);

    *p++ = (u_char) (app_status >> 24);
    *p++ = (u_char) (app_status >> 16);
    *p++ = (u_char) (app_status >> 8);
    *p++ = (u_char) app_status;
    *p++ = protocol_status;
    *p++ = 0;
    *p++ = 0;
    *p++ = 0;

    return p;
}


u_char *
fr_fcgi_write_begin_request(u_char *p, uint16_t id, uint16_t role,
    u_char flags)
{
    p = fr_fcgi_write_header(p, FR_FCGI_BEGIN_REQUEST, id, 8, 0);

    *p++ = (u_char) (role >> 8);
    *p++ = (u_char) role;
    *p++ = flags;
    memset(p, 0, 5);

    return p + 5;
}


/*
 * FCGI_GET_VALUES asking for one variable (an empty one is no probe:
 * libfcgi waits for more input on it). Room: FR_FCGI_HEADER_LEN + 2 +
 * strlen(name) + 7.
 */

u_char *
fr_fcgi_write_get_values(u_char *p, const char *name)
{
    size_t   len, pad;
    u_char  *start;

    len = fr_fcgi_nv_size(strlen(name), 0);
    pad = (8 - len % 8) % 8;

    p = fr_fcgi_write_header(p, FR_FCGI_GET_VALUES, 0, (uint16_t) len,
                             (u_char) pad);
    start = p;
    p = fr_fcgi_nv_write(p, (const u_char *) name, strlen(name),
                         (const u_char *) "", 0);
    memset(p, 0, pad);

    return start + len + pad;
}


size_t
fr_fcgi_nv_size(size_t nlen, size_t vlen)
{
    return (nlen > 127 ? 4 : 1) + (vlen > 127 ? 4 : 1) + nlen + vlen;
}


static u_char *
fr_fcgi_nv_write_len(u_char *p, size_t len)
{
    if (len > 127) {
        *p++ = (u_char) (((len >> 24) & 0x7f) | 0x80);
        *p++ = (u_char) (len >> 16);
        *p++ = (u_char) (len >> 8);
        *p++ = (u_char) len;

    } else {
        *p++ = (u_char) len;
    }

    return p;
}


u_char *
fr_fcgi_nv_write(u_char *p, const u_char *name, size_t nlen,
    const u_char *value, size_t vlen)
{
    p = fr_fcgi_nv_write_len(p, nlen);
    p = fr_fcgi_nv_write_len(p, vlen);

    memcpy(p, name, nlen);
    p += nlen;

    memcpy(p, value, vlen);
    p += vlen;

    return p;
}


static int
fr_fcgi_nv_read_len(const u_char **pos, const u_char *last, size_t *len)
{
    const u_char  *p;

    p = *pos;

    if (p == last) {
        return FR_ERROR;
    }

    if (*p < 0x80) {
        *len = *p;
        *pos = p + 1;
        return FR_OK;
    }

    if (last - p < 4) {
        return FR_ERROR;
    }

    *len = ((size_t) (p[0] & 0x7f) << 24) | ((size_t) p[1] << 16)
           | ((size_t) p[2] << 8) | p[3];
    *pos = p + 4;

    return FR_OK;
}


/* FR_OK: a pair; FR_DECLINED: no more; FR_ERROR: malformed */

int
fr_fcgi_nv_next(const u_char **pos, const u_char *last, const u_char **name,
    size_t *nlen, const u_char **value, size_t *vlen)
{
    const u_char  *p;

    p = *pos;

    if (p == last) {
        return FR_DECLINED;
    }

    if (fr_fcgi_nv_read_len(&p, last, nlen) != FR_OK
        || fr_fcgi_nv_read_len(&p, last, vlen) != FR_OK
        || *nlen > (size_t) (last - p)
        || *vlen > (size_t) (last - p) - *nlen)
    {
        return FR_ERROR;
    }

    *name = p;
    *value = p + *nlen;
    *pos = p + *nlen + *vlen;

    return FR_OK;
}


/*
 * One line of a CGI header block (no CR LF): FR_DECLINED if it is no
 * "Status:" line, else its code, or FR_ERROR when that is not three
 * digits from 200 to 999, alone or before a space and a reason phrase
 * (as nginx's ngx_http_parse_header_line and ngx_atoi(value, 3) take
 * it: "Status:\t200" is no status, "Status: 200\r\r" is 200; "abc",
 * "2000", "-1" are no status; nor a 1xx, which is no final answer:
 * after it nginx frames no body, the body would pass for the next
 * response)
 */

int
fr_cgi_status(const u_char *p, size_t len)
{
    int            status;
    size_t         i;
    const u_char  *last;

    if (len < 7 || strncasecmp((const char *) p, "status:", 7) != 0) {
        return FR_DECLINED;
    }

    /* nginx's value: after spaces (a tab is in it), before CRs */
    for (last = p + len; last > p + 7 && last[-1] == '\r'; last--) {
        /* void */
    }

    for (p += 7; p < last && *p == ' '; p++) {
        /* void */
    }

    status = 0;

    for (i = 0; i < 3; i++) {
        if (p + i == last || p[i] < '0' || p[i] > '9') {
            return FR_ERROR;
        }

        status = status * 10 + (p[i] - '0');
    }

    p += 3;

    if (status < 200 || (p < last && *p != ' ' && *p != '\t')) {
        return FR_ERROR;
    }

    return status;
}


/* the status line of an answer the runner makes itself */

const char *
fr_fcgi_status_line(int status)
{
    switch (status) {
    case 200: return "200 OK";
    case 202: return "202 Accepted";
    case 400: return "400 Bad Request";
    case 404: return "404 Not Found";
    case 413: return "413 Request Entity Too Large";
    case 431: return "431 Request Header Fields Too Large";
    case 502: return "502 Bad Gateway";
    case 503: return "503 Service Unavailable";
    case 504: return "504 Gateway Timeout";
    default:  return "500 Internal Server Error";
    }
}


/* "Status: NNN" of a CGI header block (an async answer kept whole), or
 * 200; 502 for garbage, and for none (nothing, or one never ended) */

int
fr_cgi_block_status(const u_char *p, size_t n)
{
    int            status, rc, seen;
    size_t         len;
    const u_char  *last, *eol;

    last = p + n;
    status = 200;
    seen = 0;

    while (p < last && (eol = memchr(p, '\n', last - p)) != NULL) {
        len = (size_t) (eol - p) - (eol > p && eol[-1] == '\r');

        if (len == 0) {
            return status;
        }

        rc = fr_cgi_status(p, len);

        if (rc == FR_ERROR) {
            return 502;
        }

        if (rc != FR_DECLINED && !seen) {
            status = rc;
            seen = 1;
        }

        p = eol + 1;
    }

    return 502;
}
