/*
 * Copyright (C) ngx_faas developers
 *
 * libFuzzer target for the runner's request path: every runner file but
 * fr_main.c, a real listening socket and event loop; each input is what
 * a client sends on a new connection, written through a real socket,
 * the loop run until the runner has answered and closed or stopped
 * making progress. The functions folder is empty: requests end at the
 * runner's own answers (404, 400, 431, END_REQUEST refusals), which is
 * the connection and request state machines, parameters, management
 * records, aborts and bodies. Afterwards no connection or request may be
 * left.
 */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "fr_log.h"
#include "fr_pool.h"
#include "fr_reap.h"
#include "fuzz_runner.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
static void fr_fuzz_done(void);
static int fr_fuzz_init(void);


fr_runner_t  fr_runner;

static char  fr_fuzz_dir[PATH_MAX];


/* the socket and its folder go with the fuzzer */

static void
fr_fuzz_done(void)
{
    (void) unlink(fuzz_runner_sock);
    (void) rmdir(fr_fuzz_dir);
}


static int
fr_fuzz_init(void)
{
    fr_log_level = FR_LOG_EMERG;
    fr_event_max_wait = 0;

    if (fuzz_runner_dir(fr_fuzz_dir, sizeof(fr_fuzz_dir), "fr-fuzz")
        != FR_OK)
    {
        return FR_ERROR;
    }

    atexit(fr_fuzz_done);

    /* functions: the folder itself, with no function in it */
    return fuzz_runner_start(fr_fuzz_dir, fr_fuzz_dir);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int                 fd, i, idle;
    char                buf[65536];
    size_t              off;
    ssize_t             n;
    struct sockaddr_un  sun;

    static int  ready;

    if (!ready) {
        if (fr_fuzz_init() != FR_OK) {
            abort();
        }
        ready = 1;
    }

    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (fd == -1) {
        abort();
    }

    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    strcpy(sun.sun_path, fuzz_runner_sock);

    if (connect(fd, (struct sockaddr *) &sun, sizeof(sun)) == -1) {
        abort();
    }

    off = 0;
    idle = 0;

    for (i = 0; i < 1000 && idle < 8; i++) {
        if (off < size) {
            n = write(fd, data + off, size - off);

            if (n > 0) {
                off += (size_t) n;
            }

            if (off == size) {
                (void) shutdown(fd, SHUT_WR);
            }

        } else if (size == 0 && i == 0) {
            (void) shutdown(fd, SHUT_WR);
        }

        (void) fr_event_process();

        n = read(fd, buf, sizeof(buf));

        if (n == 0) {
            break;                  /* the runner closed: done */
        }

        idle = (n > 0 || off < size) ? 0 : idle + 1;
    }

    close(fd);

    /* the runner sees the close and lets go of everything */
    for (i = 0; i < 8; i++) {
        (void) fr_event_process();
    }

    if (fr_runner.nconns != 0 || fr_runner.nreqs != 0
        || fr_runner.spooled != 0)
    {
        fprintf(stderr, "left behind: %d connections, %d requests, "
                "%lld bytes held\n", fr_runner.nconns, fr_runner.nreqs,
                (long long) fr_runner.spooled);
        abort();
    }

    return 0;
}
