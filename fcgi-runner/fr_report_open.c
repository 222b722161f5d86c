/*
 * Copyright (C) ngx_faas developers
 *
 * fcgi-runner meter's logs as they are or gzip-compressed: logrotate
 * compresses nginx's (Debian's "compress" and "delaycompress"), and
 * "faas.log*" finds faas.log.2.gz beside faas.log. zlib reads either.
 * Their lines, read in a bounded buffer (a gzip of a line of 300 MB is
 * some KB), and a line's logfmt pairs and figures.
 */

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "fr_core.h"
#include "fr_report_open.h"


static ssize_t fr_report_gz_read(void *cookie, char *buf, size_t size);
static int fr_report_gz_close(void *cookie);


/* FILE ("-": stdin) as a stream of its lines; NULL and errno set when
 * it cannot be opened */

FILE *
fr_report_open(const char *file)
{
    int                    fd;
    FILE                  *f;
    gzFile                 gz;
    cookie_io_functions_t  io = {
        .read = fr_report_gz_read, .close = fr_report_gz_close
    };

    fd = strcmp(file, "-") == 0 ? dup(STDIN_FILENO)
                                : open(file, O_RDONLY | O_CLOEXEC);
    if (fd == -1) {
        return NULL;
    }

    gz = gzdopen(fd, "rb");
    if (gz == NULL) {
        close(fd);
        errno = ENOMEM;
        return NULL;
    }

    f = fopencookie(gz, "r", io);
    if (f == NULL) {
        gzclose(gz);
    }

    return f;
}


static ssize_t
fr_report_gz_read(void *cookie, char *buf, size_t size)
{
    int  n, err;

    n = gzread(cookie, buf, size > INT_MAX ? INT_MAX : (unsigned) size);

    if (n > 0) {
        return n;
    }

    /* a read error keeps its errno; a damaged or cut gzip is EIO */
    (void) gzerror(cookie, &err);

    if (n == 0 && err != Z_BUF_ERROR) {
        return 0;
    }

    errno = (err == Z_ERRNO && errno) ? errno : EIO;

    return -1;
}


static int
fr_report_gz_close(void *cookie)
{
    return gzclose(cookie) == Z_OK ? 0 : EOF;
}


/*
 * The next line of in (without its newline) in in->line: its length; -1
 * at the end, -2 a line over FR_REPORT_LINE_MAX (read to its end, kept
 * nowhere), -3 the fragment a read error left.  Read by blocks, a line
 * found with memchr(): getline() grows without bound, getc() per byte
 * is twice a report's time, fgets() loses the line after a NUL byte
 */

ssize_t
fr_report_line(fr_report_in_t *in)
{
    char    *p, *nl;
    size_t   n, k;

    n = 0;

    for ( ;; ) {
        if (in->pos == in->end) {
            in->pos = 0;
            in->end = fread(in->block, 1, sizeof(in->block), in->file);

            if (in->end == 0) {
                break;
            }
        }

        p = in->block + in->pos;
        nl = memchr(p, '\n', in->end - in->pos);
        k = (nl ? nl : in->block + in->end) - p;

        if (n + k <= FR_REPORT_LINE_MAX) {
            memcpy(in->line + n, p, k);
        }

        n += k;
        in->pos += k + (nl != NULL);

        if (nl) {
            goto line;
        }
    }

    if (ferror(in->file)) {
        return -3;
    }

    if (n == 0) {
        return -1;
    }

line:

    if (n > FR_REPORT_LINE_MAX) {
        return -2;
    }

    in->line[n] = '\0';

    return (ssize_t) n;
}


/* a value as nginx logs it: "-" or empty is none */

int
fr_report_value(const char *v, size_t len, double *out)
{
    char    buf[32], *end;

    if (len == 0 || len >= sizeof(buf) || (len == 1 && *v == '-')) {
        return FR_DECLINED;
    }

    /* what the runner and nginx write: digits, a point (no sign, no
     * exponent, no "inf" or "nan", no hexadecimal) */
    if (!isdigit((u_char) *v) || strspn(v, "0123456789.") < len) {
        return FR_ERROR;
    }

    memcpy(buf, v, len);
    buf[len] = '\0';

    *out = strtod(buf, &end);

    /* over 10^12 (31 years of milliseconds, a PiB in KiB): no figure
     * the runner or nginx writes, a bill of it a forgery */
    return (*end == '\0' && *out < 1e12) ? FR_OK : FR_ERROR;
}


/* the next "key=value" (or key="value") of a logfmt line; 0 at its end */

int
fr_report_pair_next(char **pos, fr_report_pair_t *kv)
{
    char  *p;

    for (p = *pos; *p; ) {
        while (*p == ' ' || *p == '\t') {
            p++;
        }

        kv->key = p;
        while (*p && *p != '=' && *p != ' ') {
            p++;
        }

        if (*p != '=') {
            /* a word without a value */
            while (*p && *p != ' ') {
                p++;
            }
            continue;
        }

        kv->klen = p - kv->key;
        kv->val = ++p;

        if (*p == '"') {
            /* escape=json writes a quote in a value as \" */
            kv->val = ++p;
            while (*p && *p != '"') {
                p += (*p == '\\' && p[1]) ? 2 : 1;
            }
            kv->vlen = p - kv->val;
            if (*p) {
                p++;
            }

        } else {
            while (*p && *p != ' ' && *p != '\t') {
                p++;
            }
            kv->vlen = p - kv->val;
        }

        *pos = p;
        return 1;
    }

    *pos = p;
    return 0;
}
