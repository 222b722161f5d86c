/*
 * Copyright (C) ngx_faas developers
 *
 * libFuzzer target for the module's response record parser
 * (ngx_faas_module/ngx_http_faas_record.c), linked alone. The first
 * byte of an input picks the size of the pieces the rest arrives in, as
 * reads from the upstream would cut it; the parser must then never
 * step outside a piece, give content that is not the record's, or lose
 * its place across pieces.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_faas.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char                *buf, *pos, *start, *last, *d;
    size_t                 piece, off, n, content;
    ngx_http_faas_ctx_t    ctx;
    ngx_http_faas_event_e  ev;

    if (size < 1) {
        return 0;
    }

    piece = data[0] % 23 + 1;
    data++;
    size--;

    /* a heap copy of its own: ASan sees any byte read past the end */
    buf = malloc(size ? size : 1);
    if (buf == NULL) {
        return 0;
    }

    memcpy(buf, data, size);
    memset(&ctx, 0, sizeof(ctx));
    content = 0;

    for (off = 0; off < size; off += piece) {
        start = buf + off;
        last = buf + (off + piece < size ? off + piece : size);
        pos = start;

        for ( ;; ) {
            ev = ngx_http_faas_parse(&ctx, &pos, last, &d, &n);

            if (pos < start || pos > last) {
                abort();
            }

            if (ev == ngx_http_faas_ev_again) {
                if (pos != last) {
                    abort();
                }
                break;
            }

            if (ev == ngx_http_faas_ev_error) {
                free(buf);
                return 0;
            }

            if (ev == ngx_http_faas_ev_header) {
                content = (size_t) (ctx.header[4] << 8 | ctx.header[5]);
            }

            if (ev == ngx_http_faas_ev_content) {
                if (n == 0 || d < start || d + n > last || n > content) {
                    abort();
                }
                content -= n;
            }

            if (ev == ngx_http_faas_ev_end && content != 0) {
                abort();
            }
        }
    }

    free(buf);

    return 0;
}
