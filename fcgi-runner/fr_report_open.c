/*
 * Copyright (C) ngx_faas developers
 *
 * fcgi-runner meter's logs as they are or gzip-compressed: logrotate
 * compresses nginx's (Debian's "compress" and "delaycompress"), and
 * "faas.log*" finds faas.log.2.gz beside faas.log. zlib reads either.
 */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

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
