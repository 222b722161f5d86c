/*
 * Copyright (C) ngx_faas developers
 *
 * The scripted worker of t/codec/runner_worker_fuzz.c: a function that
 * answers every invocation with the bytes of a file the fuzzer wrote
 * before sending the request, whatever they are.
 *
 *   fuzz_worker SCRIPT fcgi   FastCGI: accept on fd 0, per connection
 *                             read the request (or not), write SCRIPT,
 *                             close
 *   fuzz_worker SCRIPT cgi    CGI: read stdin (or not), write SCRIPT
 *
 * The readiness probe (GET_VALUES) gets an empty GET_VALUES_RESULT,
 * unless the script is written first. The script's first byte is the
 * worker's behaviour, the rest its output: bit 0 exit after writing (a
 * crash in FastCGI mode), bit 1 write before reading the request, bit 2
 * write in 7-byte pieces, bit 3 wait 50 ms before closing or exiting.
 */

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>


#define FW_EXIT    0x01
#define FW_FIRST   0x02
#define FW_PIECES  0x04
#define FW_LINGER  0x08


static size_t fw_load(const char *path, unsigned char *buf, size_t size);
static void fw_write(int fd, const unsigned char *p, size_t n, int pieces);
static void fw_read_fcgi(int fd);
static void fw_read_all(int fd);


static const unsigned char  probe[] = { 1, 10, 0, 0, 0, 0, 0, 0 };


static size_t
fw_load(const char *path, unsigned char *buf, size_t size)
{
    FILE    *f;
    size_t   n;

    f = fopen(path, "rb");
    if (f == NULL) {
        return 0;
    }

    n = fread(buf, 1, size, f);
    fclose(f);

    return n;
}


static void
fw_write(int fd, const unsigned char *p, size_t n, int pieces)
{
    size_t   chunk;
    ssize_t  w;

    while (n) {
        chunk = (pieces && n > 7) ? 7 : n;
        w = write(fd, p, chunk);

        if (w <= 0) {
            return;
        }

        p += w;
        n -= (size_t) w;
    }
}


/* records until the empty STDIN that ends the request, or EOF; the
 * runner's readiness probe (GET_VALUES), on the connection it then
 * sends the first request on, is answered on the way */

static void
fw_read_fcgi(int fd)
{
    size_t         have, len;
    ssize_t        n;
    unsigned char  buf[65536 + 8 + 255];

    have = 0;

    for ( ;; ) {
        n = read(fd, buf + have, sizeof(buf) - have);
        if (n <= 0) {
            return;
        }

        have += (size_t) n;

        while (have >= 8) {
            len = 8 + ((size_t) buf[4] << 8 | buf[5]) + buf[6];

            if (have < len) {
                break;
            }

            if (buf[1] == 9) {
                fw_write(fd, probe, sizeof(probe), 0);
            }

            if (buf[1] == 5 && buf[4] == 0 && buf[5] == 0) {
                return;
            }

            memmove(buf, buf + len, have - len);
            have -= len;
        }
    }
}


static void
fw_read_all(int fd)
{
    char  buf[65536];

    while (read(fd, buf, sizeof(buf)) > 0) {
        /* void */
    }
}


int
main(int argc, char **argv)
{
    int                   fd, how, cgi;
    size_t                n;
    static unsigned char  script[1 << 20];

    if (argc != 3) {
        fprintf(stderr, "usage: fuzz_worker SCRIPT fcgi|cgi\n");
        return 2;
    }

    cgi = (strcmp(argv[2], "cgi") == 0);

    /* a fuzzer that crashed does not stop its workers: they go with it */
    (void) prctl(PR_SET_PDEATHSIG, SIGKILL);

    for ( ;; ) {
        fd = cgi ? 0 : accept(0, NULL, NULL);
        if (fd == -1) {
            return 1;
        }

        n = fw_load(argv[1], script, sizeof(script));
        how = n ? script[0] : 0;

        if (!(how & FW_FIRST)) {
            if (cgi) {
                fw_read_all(0);
            } else {
                fw_read_fcgi(fd);
            }
        }

        fw_write(cgi ? 1 : fd, script + (n ? 1 : 0), n ? n - 1 : 0,
                 how & FW_PIECES);

        if (how & FW_LINGER) {
            (void) usleep(50000);
        }

        if (cgi || (how & FW_EXIT)) {
            return 0;
        }

        close(fd);
    }
}
