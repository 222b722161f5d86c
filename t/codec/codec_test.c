/*
 * Copyright (C) ngx_faas developers
 *
 * The runner's FastCGI codec driven directly: a stream of records with
 * every interesting length and padding parses to the same events however
 * it is cut; name-value pairs round-trip; malformed input is refused.
 * Prints TAP.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fr_event.h"
#include "fr_fcgi.h"


static int  tests, failed;


static void
ok(int cond, const char *what)
{
    tests++;
    failed += !cond;
    printf("%s %d - %s\n", cond ? "ok" : "not ok", tests, what);
}


/* a digest of the events: types, ids, lengths and content bytes */

static unsigned long
digest(const u_char *in, size_t len, size_t cut, size_t step, int *errors)
{
    size_t             off, end;
    unsigned long      h;
    const u_char      *pos, *last;
    fr_fcgi_parser_t   p;
    fr_fcgi_event_e    ev;

    fr_fcgi_parser_init(&p);
    h = 5381;
    *errors = 0;

    for (off = 0; off < len; off = end) {
        end = off + (off == 0 && cut ? cut : step);
        if (end > len) {
            end = len;
        }

        pos = in + off;
        last = in + end;

        while ((ev = fr_fcgi_parse(&p, &pos, last)) != FR_FCGI_EV_AGAIN) {
            if (ev == FR_FCGI_EV_ERROR) {
                (*errors)++;
                return h;
            }

            /* content may come in more slices when cut: not counted */
            if (ev != FR_FCGI_EV_CONTENT) {
                h = h * 33 + ev;
            }

            if (ev == FR_FCGI_EV_HEADER) {
                h = h * 33 + p.type;
                h = h * 33 + p.id;
                h = h * 33 + p.length;
            }

            if (ev == FR_FCGI_EV_CONTENT) {
                for (size_t i = 0; i < p.size; i++) {
                    h = h * 33 + p.data[i];
                }
            }
        }
    }

    return h;
}


int
main(void)
{
    u_char         *stream, *p, buf[512], big[70000], *nv;
    size_t          len, i, nlen, vlen, cut;
    int             errors, e2, all;
    unsigned long   whole, h;
    const u_char   *pos, *name, *value;

    static const size_t  lengths[] = { 0, 1, 7, 8, 9, 255, 4096, 65535 };
    static const u_char  pads[] = { 0, 1, 7, 8, 255 };

    stream = malloc(1 << 20);
    p = stream;

    for (i = 0; i < sizeof(lengths) / sizeof(lengths[0]); i++) {
        size_t  k;
        u_char  pad = pads[i % (sizeof(pads))];

        p = fr_fcgi_write_header(p, (u_char) (1 + i % 11), (uint16_t) i,
                                 (uint16_t) lengths[i], pad);
        for (k = 0; k < lengths[i]; k++) {
            *p++ = (u_char) (k * 7 + i);
        }
        memset(p, 0xee, pad);
        p += pad;
    }

    p = fr_fcgi_write_end_request(p, 1, 42, FR_FCGI_REQUEST_COMPLETE);
    len = p - stream;

    whole = digest(stream, len, 0, len, &errors);
    ok(errors == 0, "a stream of 9 records parses whole");

    all = 1;
    for (cut = 1; cut < len; cut += (cut < 200 ? 1 : 97)) {
        h = digest(stream, len, cut, len, &e2);
        all &= (h == whole && e2 == 0);
    }
    ok(all, "the same events when cut at every offset (then by steps)");

    ok(digest(stream, len, 0, 1, &e2) == whole && e2 == 0,
       "the same events fed one byte at a time");

    ok(digest(stream, len, 0, 3, &e2) == whole && e2 == 0,
       "the same events fed three bytes at a time");

    stream[len - 16] = 2;    /* END_REQUEST's version */
    digest(stream, len, 0, len, &errors);
    ok(errors == 1, "a record of version 2 is refused");

    /* name-value pairs */
    memset(big, 'v', sizeof(big));
    nv = malloc(1 << 20);
    p = nv;
    p = fr_fcgi_nv_write(p, (u_char *) "", 0, (u_char *) "", 0);
    p = fr_fcgi_nv_write(p, (u_char *) "A", 1, big, 127);
    p = fr_fcgi_nv_write(p, big, 128, big, 128);
    p = fr_fcgi_nv_write(p, (u_char *) "BIG", 3, big, sizeof(big));

    ok((size_t) (p - nv) == fr_fcgi_nv_size(0, 0) + fr_fcgi_nv_size(1, 127)
       + fr_fcgi_nv_size(128, 128) + fr_fcgi_nv_size(3, sizeof(big)),
       "nv_size measures what nv_write writes");

    pos = nv;
    all = fr_fcgi_nv_next(&pos, p, &name, &nlen, &value, &vlen) == FR_OK
          && nlen == 0 && vlen == 0;
    all &= fr_fcgi_nv_next(&pos, p, &name, &nlen, &value, &vlen) == FR_OK
           && nlen == 1 && vlen == 127 && name[0] == 'A';
    all &= fr_fcgi_nv_next(&pos, p, &name, &nlen, &value, &vlen) == FR_OK
           && nlen == 128 && vlen == 128;
    all &= fr_fcgi_nv_next(&pos, p, &name, &nlen, &value, &vlen) == FR_OK
           && nlen == 3 && vlen == sizeof(big)
           && memcmp(value, big, vlen) == 0;
    all &= fr_fcgi_nv_next(&pos, p, &name, &nlen, &value, &vlen)
           == FR_DECLINED;
    ok(all, "name-value pairs of 1- and 4-byte lengths round-trip");

    /* truncated anywhere: an error, never a read past the end */
    all = 1;
    for (i = 1; i < 300; i++) {
        int  rc;

        pos = nv + fr_fcgi_nv_size(0, 0) + fr_fcgi_nv_size(1, 127);
        do {
            rc = fr_fcgi_nv_next(&pos, pos + 0, &name, &nlen, &value, &vlen);
        } while (0);

        pos = nv + fr_fcgi_nv_size(0, 0) + fr_fcgi_nv_size(1, 127);
        rc = fr_fcgi_nv_next(&pos, pos + i, &name, &nlen, &value, &vlen);
        all &= (i < fr_fcgi_nv_size(128, 128)) ? rc == FR_ERROR : rc == FR_OK;
    }
    ok(all, "a pair cut short at any length is malformed");

    buf[0] = 0x80;    /* a 4-byte length with only 1 byte */
    pos = buf;
    ok(fr_fcgi_nv_next(&pos, buf + 1, &name, &nlen, &value, &vlen)
       == FR_ERROR, "a 4-byte length cut short is malformed");

    printf("1..%d\n", tests);

    free(stream);
    free(nv);

    return failed ? 1 : 0;
}
