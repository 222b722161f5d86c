
/*
 * Copyright (C) ngx_faas developers
 *
 * The FastCGI record parser of the module's response side: pure, bytes
 * in and events out, no nginx state but the request's context, so that
 * a fuzzer links it alone (t/codec/module_parse_fuzz.c).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_faas.h"


/*
 * The record parser: bytes in, one event out. On content it gives the
 * slice of this record's payload in [*pos, last).
 */

ngx_http_faas_event_e
ngx_http_faas_parse(ngx_http_faas_ctx_t *ctx, u_char **pos, u_char *last,
    u_char **data, size_t *size)
{
    size_t   n;
    u_char  *p;

    p = *pos;

    for ( ;; ) {

        switch (ctx->state) {

        case ngx_http_faas_st_header:

            if (p == last) {
                *pos = p;
                return ngx_http_faas_ev_again;
            }

            n = ngx_min((size_t) (last - p), NGX_HTTP_FAAS_HEADER_LEN
                                             - ctx->hlen);
            ngx_memcpy(ctx->header + ctx->hlen, p, n);
            ctx->hlen += n;
            p += n;

            if (ctx->hlen < NGX_HTTP_FAAS_HEADER_LEN) {
                *pos = p;
                return ngx_http_faas_ev_again;
            }

            ctx->hlen = 0;
            ctx->request_id = (ctx->header[2] << 8) + ctx->header[3];

            /* a connection carries our one request: any other id is an
             * error, as in nginx's fastcgi module */
            if (ctx->header[0] != NGX_HTTP_FAAS_VERSION_1
                || ctx->request_id != NGX_HTTP_FAAS_REQUEST_ID)
            {
                *pos = p;
                return ngx_http_faas_ev_error;
            }

            ctx->type = ctx->header[1];
            ctx->content_left = (ctx->header[4] << 8) + ctx->header[5];
            ctx->padding_left = ctx->header[6];
            ctx->state = ngx_http_faas_st_content;

            *pos = p;
            return ngx_http_faas_ev_header;

        case ngx_http_faas_st_content:

            if (ctx->content_left == 0) {
                ctx->state = ngx_http_faas_st_padding;
                break;
            }

            if (p == last) {
                *pos = p;
                return ngx_http_faas_ev_again;
            }

            n = ngx_min((size_t) (last - p), ctx->content_left);

            *data = p;
            *size = n;
            ctx->content_left -= n;

            *pos = p + n;
            return ngx_http_faas_ev_content;

        default: /* ngx_http_faas_st_padding */

            n = ngx_min((size_t) (last - p), ctx->padding_left);
            ctx->padding_left -= n;
            p += n;

            if (ctx->padding_left) {
                *pos = p;
                return ngx_http_faas_ev_again;
            }

            ctx->state = ngx_http_faas_st_header;

            *pos = p;
            return ngx_http_faas_ev_end;
        }
    }
}


/* a record header, request id 1, no padding; returns the content's start */

u_char *
ngx_http_faas_write_header(u_char *p, ngx_uint_t type, size_t len)
{
    ngx_http_faas_header_t  *h;

    h = (ngx_http_faas_header_t *) p;

    h->version = NGX_HTTP_FAAS_VERSION_1;
    h->type = (u_char) type;
    h->request_id_hi = (u_char) (NGX_HTTP_FAAS_REQUEST_ID >> 8);
    h->request_id_lo = (u_char) NGX_HTTP_FAAS_REQUEST_ID;
    h->content_length_hi = (u_char) (len >> 8);
    h->content_length_lo = (u_char) len;
    h->padding_length = 0;
    h->reserved = 0;

    return p + sizeof(ngx_http_faas_header_t);
}
