/*
 * Copyright (C) ngx_faas developers
 *
 * libFuzzer target for the runner's FastCGI codec: the first byte picks
 * how the rest is cut; every record's content is also read as name-value
 * pairs. Content never exceeds the input; nothing reads past it.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fr_event.h"
#include "fr_fcgi.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t             step, off, end, content, nlen, vlen;
    const u_char      *pos, *last, *name, *value, *np;
    fr_fcgi_parser_t   p;
    fr_fcgi_event_e    ev;

    if (size == 0) {
        return 0;
    }

    step = 1 + data[0] % 64;
    data++;
    size--;

    fr_fcgi_parser_init(&p);
    content = 0;

    for (off = 0; off < size; off = end) {
        end = off + step < size ? off + step : size;
        pos = data + off;
        last = data + end;

        while ((ev = fr_fcgi_parse(&p, &pos, last)) != FR_FCGI_EV_AGAIN) {
            if (ev == FR_FCGI_EV_ERROR) {
                return 0;
            }

            if (ev == FR_FCGI_EV_CONTENT) {
                if (p.data < data || p.data + p.size > data + size) {
                    abort();
                }

                content += p.size;

                np = p.data;
                while (fr_fcgi_nv_next(&np, p.data + p.size, &name, &nlen,
                                       &value, &vlen) == FR_OK)
                {
                    if (value + vlen > p.data + p.size) {
                        abort();
                    }
                }
            }

            if (pos > last) {
                abort();
            }
        }
    }

    if (content > size) {
        abort();
    }

    return 0;
}
