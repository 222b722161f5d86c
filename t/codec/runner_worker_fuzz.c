/*
 * Copyright (C) ngx_faas developers
 *
 * libFuzzer target for the runner's worker side: every runner file but
 * fr_main.c, a real listening socket and event loop, and two functions
 * (FastCGI "f", CGI "c") whose worker is t/codec/fuzz_worker.c, a real
 * process that answers with whatever bytes the input gives it: records
 * of any type, id and length in FastCGI mode, any CGI header block in
 * CGI mode, cut anywhere, written before or after reading the request,
 * followed by an exit or not. A client sends a valid request and reads
 * the answer to the end.
 *
 * Input: byte 0 the client (bit 0: the CGI function; bit 1: keep the
 * connection and send a second request on it; bit 2: send a body),
 * then the worker's script (t/codec/fuzz_worker.c).
 *
 * After each input no connection, request or held byte is left, the
 * runner holds at most the workers the functions allow, and every
 * worker that exited has been reaped.
 */

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "fr_log.h"
#include "fr_pool.h"
#include "fr_reap.h"
#include "fuzz_runner.h"


#define FZ_CGI     0x01
#define FZ_KEEP    0x02
#define FZ_BODY    0x04


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
static void fz_done(void);
static int fz_init(void);
static int fz_copy(const char *from, const char *to);
static int fz_function(const char *name, const char *mode);
static size_t fz_request(unsigned char *buf, int id, const char *fn,
    int keep, int body);
static size_t fz_record(unsigned char *p, int type, int id,
    const void *data, size_t len);
static size_t fz_param(unsigned char *p, const char *name,
    const char *value);
static void fz_exchange(int flags);


fr_runner_t  fr_runner;

static char  fz_dir[PATH_MAX];
static char  fz_script[PATH_MAX];


static void
fz_done(void)
{
    int   i;
    char  cmd[PATH_MAX + 16];

    /* the workers only: the fuzzer may have other children (a
     * symbolizer) that outlive this */
    fr_workers_stop_all(SIGKILL);

    for (i = 0; i < 200 && fr_runner.nworkers; i++) {
        (void) fr_event_process();
        fr_workers_reap();
    }

    snprintf(cmd, sizeof(cmd), "rm -rf %s", fz_dir);
    (void) system(cmd);
}


static int
fz_copy(const char *from, const char *to)
{
    int      in, out, rc;
    char     buf[65536];
    ssize_t  n;

    in = open(from, O_RDONLY);
    out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0755);
    rc = (in != -1 && out != -1) ? FR_OK : FR_ERROR;

    while (rc == FR_OK && (n = read(in, buf, sizeof(buf))) > 0) {
        if (write(out, buf, (size_t) n) != n) {
            rc = FR_ERROR;
        }
    }

    if (in != -1) {
        close(in);
    }

    if (out != -1) {
        close(out);
    }

    return rc;
}


static int
fz_function(const char *name, const char *mode)
{
    char   path[PATH_MAX];
    FILE  *f;

    snprintf(path, sizeof(path), "%s/functions/%s", fz_dir, name);

    if (mkdir(path, 0755) == -1) {
        return FR_ERROR;
    }

    snprintf(path, sizeof(path), "%s/functions/%s/function.conf", fz_dir,
             name);

    f = fopen(path, "w");
    if (f == NULL) {
        return FR_ERROR;
    }

    fprintf(f, "exec = %s/worker %s %s\nmode = %s\nmax_instances = 1\n"
            "timeout = 1s\nqueue_timeout = 2s\nmemory = 64M\n%s",
            fz_dir, fz_script, mode, mode,
            fr_runner.is_root ? "user = nobody\ntenant = fuzz\n"
                                "isolation = none\n" : "");

    return fclose(f) == 0 ? FR_OK : FR_ERROR;
}


static int
fz_init(void)
{
    char   self[PATH_MAX], worker[PATH_MAX], path[PATH_MAX];
    char  *dir;

    /* FR_FUZZ_LOG=1: the runner's log on stderr, to read a finding */
    fr_log_level = getenv("FR_FUZZ_LOG") ? FR_LOG_DEBUG : FR_LOG_EMERG;
    fr_event_max_wait = 10;

    if (fuzz_runner_dir(fz_dir, sizeof(fz_dir), "fr-wfuzz") != FR_OK) {
        return FR_ERROR;
    }

    atexit(fz_done);

    /* the worker is built next to the fuzzer; copied where any user
     * may run it */
    if (readlink("/proc/self/exe", self, sizeof(self) - 1) == -1) {
        return FR_ERROR;
    }

    self[sizeof(self) - 1] = '\0';
    dir = dirname(self);
    snprintf(worker, sizeof(worker), "%s/fuzz_worker", dir);
    snprintf(path, sizeof(path), "%s/worker", fz_dir);

    if (fz_copy(worker, path) != FR_OK) {
        fprintf(stderr, "no %s\n", worker);
        return FR_ERROR;
    }

    snprintf(fz_script, sizeof(fz_script), "%s/script", fz_dir);
    snprintf(path, sizeof(path), "%s/functions", fz_dir);

    fr_runner.is_root = (geteuid() == 0);

    if (mkdir(path, 0755) == -1
        || fz_function("f", "fastcgi") != FR_OK
        || fz_function("c", "cgi") != FR_OK)
    {
        return FR_ERROR;
    }

    return fuzz_runner_start(fz_dir, path);
}


static size_t
fz_record(unsigned char *p, int type, int id, const void *data, size_t len)
{
    p[0] = 1;
    p[1] = (unsigned char) type;
    p[2] = (unsigned char) (id >> 8);
    p[3] = (unsigned char) id;
    p[4] = (unsigned char) (len >> 8);
    p[5] = (unsigned char) len;
    p[6] = 0;
    p[7] = 0;
    memcpy(p + 8, data, len);

    return 8 + len;
}


static size_t
fz_param(unsigned char *p, const char *name, const char *value)
{
    size_t  nl, vl;

    nl = strlen(name);
    vl = strlen(value);
    p[0] = (unsigned char) nl;
    p[1] = (unsigned char) vl;
    memcpy(p + 2, name, nl);
    memcpy(p + 2 + nl, value, vl);

    return 2 + nl + vl;
}


static size_t
fz_request(unsigned char *buf, int id, const char *fn, int keep, int body)
{
    size_t         n, pl;
    unsigned char  begin[8], params[512];

    memset(begin, 0, sizeof(begin));
    begin[1] = 1;                               /* responder */
    begin[2] = keep ? 1 : 0;

    pl = fz_param(params, "FAAS_FUNCTION", fn);
    pl += fz_param(params + pl, "REQUEST_METHOD", body ? "POST" : "GET");
    pl += fz_param(params + pl, "SCRIPT_NAME", fn[0] == 'c' ? "/fn/c"
                                                            : "/fn/f");
    pl += fz_param(params + pl, "SERVER_PROTOCOL", "HTTP/1.1");
    pl += fz_param(params + pl, "CONTENT_LENGTH", body ? "11" : "0");

    n = fz_record(buf, 1, id, begin, sizeof(begin));
    n += fz_record(buf + n, 4, id, params, pl);
    n += fz_record(buf + n, 4, id, "", 0);

    if (body) {
        n += fz_record(buf + n, 5, id, "hello world", 11);
    }

    n += fz_record(buf + n, 5, id, "", 0);

    return n;
}


/* one connection: the request(s), then read until the runner closes
 * (or, kept, until both END_REQUESTs came), bounded */

static void
fz_exchange(int flags)
{
    int                 fd, i, ends, want;
    size_t              len, off, have;
    ssize_t             n;
    unsigned char       req[2048], in[65536];
    struct sockaddr_un  sun;

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

    want = (flags & FZ_KEEP) ? 2 : 1;
    len = fz_request(req, 1, (flags & FZ_CGI) ? "c" : "f",
                     flags & FZ_KEEP, flags & FZ_BODY);

    if (flags & FZ_KEEP) {
        len += fz_request(req + len, 2, (flags & FZ_CGI) ? "c" : "f", 1, 0);
    }

    if (write(fd, req, len) != (ssize_t) len) {
        abort();
    }

    /* END_REQUEST headers are counted by a small record scanner; the
     * answer may be anything the runner makes of the worker's bytes */
    ends = 0;
    have = 0;

    for (i = 0; i < 1000 && ends < want; i++) {
        (void) fr_event_process();
        fr_workers_reap();

        n = read(fd, in + have, sizeof(in) - have);

        if (n == 0) {
            break;
        }

        if (n < 0) {
            continue;
        }

        have += (size_t) n;
        off = 0;

        while (have - off >= 8) {
            len = 8 + ((size_t) in[off + 4] << 8 | in[off + 5])
                  + in[off + 6];

            if (have - off < len) {
                break;
            }

            if (in[off + 1] == 3) {
                ends++;
            }

            off += len;
        }

        memmove(in, in + off, have - off);
        have -= off;
    }

    if (ends < want && i == 1000) {
        fprintf(stderr, "the runner did not answer in time\n");
        abort();
    }

    close(fd);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int         i;
    FILE       *f;
    fr_link_t  *q;
    unsigned    live;

    static int  ready;

    if (!ready) {
        if (fz_init() != FR_OK) {
            abort();
        }
        ready = 1;
    }

    if (size == 0 || size > 65536) {
        return 0;
    }

    f = fopen(fz_script, "wb");
    if (f == NULL || fwrite(data + 1, 1, size - 1, f) != size - 1
        || fclose(f) != 0)
    {
        abort();
    }

    fz_exchange(data[0]);

    /* the runner sees the close and lets go of everything */
    for (i = 0; i < 20 && (fr_runner.nconns || fr_runner.nreqs); i++) {
        (void) fr_event_process();
        fr_workers_reap();
    }

    if (fr_runner.nconns != 0 || fr_runner.nreqs != 0
        || fr_runner.spooled != 0)
    {
        fprintf(stderr, "left behind: %d connections, %d requests, "
                "%lld bytes held\n", fr_runner.nconns, fr_runner.nreqs,
                (long long) fr_runner.spooled);
        abort();
    }

    /* each function allows one worker; a stopping one may linger while
     * the next starts, never more */
    live = 0;

    for (q = fr_runner.workers.next; q != &fr_runner.workers; q = q->next) {
        live++;
    }

    if (live > 4 || fr_runner.nworkers > 4) {
        fprintf(stderr, "%u workers held\n", live);
        abort();
    }

    return 0;
}
