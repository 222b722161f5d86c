/*
 * Copyright (C) ngx_faas developers
 *
 * meter_log: what nginx's access log does not see (asynchronous and
 * scheduled runs, runs whose client left, work after a response, a
 * worker's CPU between invocations), metered by the runner in the
 * faas_meter format plus trigger= and id=.
 */

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "faas_protocol.h"
#include "fr_fcgi.h"
#include "fr_log.h"
#include "fr_meter.h"


static int fr_meter_log_file(void);
static void fr_meter_log_unset(const char *function);
static void fr_meter_log_id(fr_req_t *r, char *id);


/* meter_log, open when it is set */
static int  fr_meter_log_fd = -1;


/*
 * What nginx's access log does not see, in meter_log: the invocation's
 * measurements in the faas_meter format (times in ms, memory in KiB),
 * plus its trigger and id; "fcgi-runner meter" reads both logs.
 */

void
fr_meter_log(int fd, const char *path, const char *function,
    const char *trigger, const char *id, int status, const u_char *record,
    size_t len)
{
    int              n;
    char             line[1024], ts[40], v[12][FR_NAME_MAX + 8];
    size_t           nlen, vlen, i, k;
    time_t           now;
    struct tm        tm;
    const u_char    *pos, *last, *name, *value;
    struct timespec  ts_now;

    static const char  *keys[12] = {
        FAAS_METER_TENANT, FAAS_METER_OUTCOME, FAAS_METER_DURATION,
        FAAS_METER_INIT, FAAS_METER_COLD, FAAS_METER_QUEUE, FAAS_METER_CPU,
        FAAS_METER_MAX_MEMORY, FAAS_METER_MEMORY_SIZE, FAAS_METER_WORKER,
        "", ""
    };

    for (i = 0; i < 12; i++) {
        strcpy(v[i], "-");
    }

    pos = record;
    last = record + len;

    while (fr_fcgi_nv_next(&pos, last, &name, &nlen, &value, &vlen) == FR_OK)
    {
        for (k = 0; k < 10; k++) {
            if (strlen(keys[k]) == nlen && memcmp(keys[k], name, nlen) == 0
                && vlen < sizeof(v[0]))
            {
                memcpy(v[k], value, vlen);
                v[k][vlen] = '\0';
            }
        }
    }

    /* microseconds as milliseconds; billed: rounded up to whole ones */
    for (k = 2; k <= 6; k++) {
        if (k != 4 && strcmp(v[k], "-") != 0) {
            long long  us = atoll(v[k]);

            snprintf(v[k], sizeof(v[0]), "%lld.%03lld", us / 1000, us % 1000);

            if (k == 2) {
                snprintf(v[10], sizeof(v[0]), "%lld.000", (us + 999) / 1000);
            }
        }
    }

    /* the clock the runner's times are of (time() is the kernel's
     * coarse one: at a second's start, often the second before) */
    (void) clock_gettime(CLOCK_REALTIME, &ts_now);
    now = ts_now.tv_sec;
    localtime_r(&now, &tm);
    strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S%z", &tm);

    /* +0000 as nginx's $time_iso8601 writes it: +00:00 */
    memmove(ts + strlen(ts) - 1, ts + strlen(ts) - 2, 3);
    ts[strlen(ts) - 3] = ':';

    n = snprintf(line, sizeof(line), "time=%s function=%s tenant=%s "
                 "status=%d outcome=%s duration=%s billed=%s init=%s cold=%s "
                 "queue=%s cpu=%s memory=%s memory_size=%s worker=%s "
                 "trigger=%s id=%s\n", ts, function, v[0], status,
                 v[1], v[2], v[10], v[3], v[4], v[5], v[6], v[7], v[8], v[9],
                 trigger, id);

    if (n >= (int) sizeof(line)) {
        /* names are 64 bytes at most, figures numbers: never; a line
         * cut in a figure would bill that figure */
        fr_log(FR_LOG_ALERT, 0, "meter_log line of \"%s\" over %d bytes",
               function, (int) sizeof(line));
        return;
    }

    if (n > 0 && write(fd, line, (size_t) n) != n) {
        fr_log(FR_LOG_ERR, errno, "cannot write meter_log \"%s\"", path);
    }
}


/*
 * meter_log: what nginx does not see, metered. A log: made with the
 * operator's umask, not the store's; its folder (/var/log/faas) made
 * when it is missing, as systemd's LogsDirectory= would.
 */

static int
fr_meter_log_file(void)
{
    int     fd, err;
    char    dir[PATH_MAX], *slash;
    mode_t  mask;

    mask = umask(fr_runner.umask);
    fd = open(fr_runner.conf.meter_log,
              O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);

    if (fd == -1 && errno == ENOENT
        && snprintf(dir, sizeof(dir), "%s", fr_runner.conf.meter_log)
           < (int) sizeof(dir)
        && (slash = strrchr(dir, '/')) != NULL && slash != dir)
    {
        *slash = '\0';

        if (mkdir(dir, 0750) == 0) {
            fr_log(FR_LOG_NOTICE, 0, "created \"%s\" for meter_log", dir);
            fd = open(fr_runner.conf.meter_log,
                      O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
        }
    }

    err = errno;
    (void) umask(mask);
    errno = err;

    return fd;
}


int
fr_meter_log_open(void)
{
    if (fr_runner.conf.meter_log == NULL) {
        return FR_OK;
    }

    fr_meter_log_fd = fr_meter_log_file();

    return (fr_meter_log_fd == -1) ? FR_ERROR : FR_OK;
}


/*
 * --test: meter_log's folder is there, or its parent, where the runner
 * makes it (fr_meter_log_file); nothing is created
 */

int
fr_meter_log_check(const char *path)
{
    char         dir[PATH_MAX], *slash;
    int          i;
    struct stat  st;

    if (path == NULL
        || snprintf(dir, sizeof(dir), "%s", path) >= (int) sizeof(dir))
    {
        return FR_OK;
    }

    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        fr_log(FR_LOG_EMERG, 0, "cannot open meter_log \"%s\": a folder",
               path);
        return FR_ERROR;
    }

    for (i = 0; i < 2; i++) {
        slash = strrchr(dir, '/');

        if (slash == NULL || slash == dir) {
            return FR_OK;
        }

        *slash = '\0';

        if (stat(dir, &st) == 0) {
            if (S_ISDIR(st.st_mode)) {
                return FR_OK;
            }

            break;
        }
    }

    fr_log(FR_LOG_EMERG, 0, "cannot open meter_log \"%s\": no folder "
           "\"%s\" to make it in", path, dir);

    return FR_ERROR;
}


/*
 * SIGUSR1: meter_log opened again by its name (a rotation renamed it);
 * lines go on to the old file if the new one cannot be opened
 */

int
fr_meter_log_reopen(void)
{
    int  fd;

    if (fr_meter_log_fd == -1) {
        return FR_OK;
    }

    fd = fr_meter_log_file();

    if (fd == -1) {
        fr_log(FR_LOG_ALERT, errno, "cannot reopen meter_log \"%s\"",
               fr_runner.conf.meter_log);
        return FR_ERROR;
    }

    close(fr_meter_log_fd);
    fr_meter_log_fd = fd;

    return FR_OK;
}


/* a line of an invocation the runner made, when meter_log is set */

void
fr_meter_log_write(const char *function, const char *trigger,
    const char *id, int status, const u_char *record, size_t len)
{
    if (fr_meter_log_fd == -1) {
        fr_meter_log_unset(function);
        return;
    }

    fr_meter_log(fr_meter_log_fd, fr_runner.conf.meter_log, function,
                 trigger, id, status, record, len);
}


/*
 * The measurements of the last answer on nginx's connection, kept until
 * nginx is known to have read them (its next request there, or its
 * close with nothing of the runner's unsent): [length][the record as
 * sent][function NUL][id NUL]. A client that left while nginx read
 * the answer, or a filter that answered in its place (image_filter's
 * 415), makes nginx stop reading it: the module says so with
 * ABORT_REQUEST (fr_proxy.c), or the end of it is still the runner's
 * (fr_conn_close()); then nginx's line has no measurements and
 * meter_log bills the run (fr_meter_log_unread()).
 */

void
fr_meter_log_keep(fr_req_t *r, fr_buf_t *keep, const u_char *rec, size_t n)
{
    char      id[65];
    u_char    len[2];
    fr_func_t *f;

    f = r->func;

    fr_buf_consume(keep, keep->len);

    if (f == NULL || n > FR_METER_RECORD_MAX) {
        return;
    }

    fr_meter_log_id(r, id);

    len[0] = (u_char) (n >> 8);
    len[1] = (u_char) n;

    if (fr_buf_append(keep, len, 2) != FR_OK
        || fr_buf_append(keep, rec, n) != FR_OK
        || fr_buf_append(keep, f->name, strlen(f->name) + 1) != FR_OK
        || fr_buf_append(keep, id, strlen(id) + 1) != FR_OK)
    {
        fr_buf_consume(keep, keep->len);
    }
}


/* the FastCGI request id of the kept answer; 0: none kept */

unsigned
fr_meter_log_kept(fr_buf_t *keep)
{
    const u_char  *p;

    if (keep->len == 0) {
        return 0;
    }

    p = fr_buf_pos(keep);

    return (unsigned) p[2 + 2] << 8 | p[2 + 3];
}


/* the kept answer was not read: its run into meter_log, client_closed */

void
fr_meter_log_unread(fr_buf_t *keep)
{
    u_char         rec[FR_METER_RECORD_MAX], *q;
    size_t         n, nlen, vlen;
    const u_char  *p, *pos, *last, *name, *value;
    const char    *function, *id;

    if (keep->len == 0) {
        return;
    }

    p = fr_buf_pos(keep);
    n = (size_t) p[0] << 8 | p[1];
    pos = p + 2 + FR_FCGI_HEADER_LEN;
    last = p + 2 + n;
    function = (const char *) last;
    id = function + strlen(function) + 1;

    /* as a run whose client left: ok is client_closed */
    q = rec;

    while (fr_fcgi_nv_next(&pos, last, &name, &nlen, &value, &vlen) == FR_OK
           && fr_fcgi_nv_size(nlen, vlen > 13 ? vlen : 13)
              <= (size_t) (rec + sizeof(rec) - q))
    {
        if (nlen == sizeof(FAAS_METER_OUTCOME) - 1
            && memcmp(name, FAAS_METER_OUTCOME, nlen) == 0
            && vlen == 2 && memcmp(value, "ok", 2) == 0)
        {
            value = (const u_char *) "client_closed";
            vlen = sizeof("client_closed") - 1;
        }

        q = fr_fcgi_nv_write(q, name, nlen, value, vlen);
    }

    fr_log(FR_LOG_INFO, 0, "function \"%s\": nginx did not read its answer "
           "to its end (its client left, or a filter answered instead): "
           "billed in meter_log", function);

    fr_meter_log_write(function, "http", id, 499, rec, q - rec);

    fr_buf_consume(keep, keep->len);
}


/* a run no log bills: said once, the first time */

static void
fr_meter_log_unset(const char *function)
{
    static int  said;

    if (said) {
        return;
    }

    said = 1;

    fr_log(FR_LOG_WARN, 0, "a run of \"%s\" that nginx's access log does "
           "not meter (asynchronous, scheduled, its client gone, or after "
           "its response; or CPU its processes used between runs) is "
           "billed nowhere: meter_log is not set", function);
}


/*
 * A request whose client left while it ran (fr_req_orphan): nginx logs
 * no measurements for it, so meter_log has them; its outcome
 * client_closed when it ran to its end, its status nginx's 499, its id
 * nginx's request id (FAAS_REQUEST_ID) when it is one. Or what ran after
 * a response (fr_req_respond): trigger after_response, its own outcome.
 * Or one a fast stop cut (the runner closed its connection): before its
 * answer began, nginx's line (a 502, outcome error) is the invocation
 * and this one, trigger shutdown, what it used; after, nginx's line has
 * no outcome and this one is the invocation, with the status nginx got.
 */

void
fr_meter_log_request(fr_req_t *r)
{
    char          id[65];
    u_char        rec[FR_METER_RECORD_MAX];
    size_t        n;
    fr_outcome_e  outcome;

    if (r->func == NULL) {
        return;
    }

    if (fr_meter_log_fd == -1) {
        if (r->meter) {
            fr_meter_log_unset(r->func->name);
        }

        return;
    }

    fr_meter_log_id(r, id);

    outcome = r->outcome;

    if (outcome == FR_OUTCOME_OK && !r->after_response) {
        r->outcome = FR_OUTCOME_CLIENT_CLOSED;
    }

    n = fr_meter_record(r, rec);
    r->outcome = outcome;

    /* after its response (fastcgi_finish_request()): the status its
     * client had; "fcgi-runner meter" bills it, counts no invocation */
    /* a subrequest has no line of nginx's to count it: this one does */
    fr_meter_log(fr_meter_log_fd, fr_runner.conf.meter_log, r->func->name,
                 r->after_response ? "after_response"
                 : r->meter_log ? "subrequest"
                 : (r->runner_closed && !r->response_started) ? "shutdown"
                 : "http", id,
                 (r->after_response || r->runner_closed)
                 ? (r->http_status ? r->http_status
                    : r->response_started ? 200 : 502)
                 : 499,
                 rec + FR_FCGI_HEADER_LEN, n - FR_FCGI_HEADER_LEN);
}


/*
 * A request whose line nginx does not log (FAAS_METER=log: a
 * subrequest, auth_request's, mirror's, SSI's): its measurements go to
 * meter_log at its end, trigger subrequest, not to nginx. FR_DECLINED:
 * one nginx takes them for.
 */

int
fr_meter_log_instead(fr_req_t *r)
{
    int     status;
    char    id[65];
    u_char  rec[FR_METER_RECORD_MAX];
    size_t  n;

    if (!r->meter_log || r->func == NULL) {
        return FR_DECLINED;
    }

    if (fr_meter_log_fd == -1) {
        fr_meter_log_unset(r->func->name);
        return FR_OK;
    }

    fr_meter_log_id(r, id);

    /* what nginx got: the answer's status (the runner's own too) */
    status = r->http_status ? r->http_status
             : r->response_started ? 200 : fr_outcome_status(r->outcome);

    n = fr_meter_record(r, rec);

    fr_meter_log(fr_meter_log_fd, fr_runner.conf.meter_log, r->func->name,
                 "subrequest", id, status, rec + FR_FCGI_HEADER_LEN,
                 n - FR_FCGI_HEADER_LEN);

    return FR_OK;
}


/* nginx's request id (FAAS_REQUEST_ID) when it is one, else "-" */

static void
fr_meter_log_id(fr_req_t *r, char *id)
{
    size_t  i, n;

    n = r->request_id_len;

    for (i = 0; i < n && n < 65; i++) {
        if (!isalnum(r->request_id[i]) && r->request_id[i] != '-') {
            break;
        }

        id[i] = (char) r->request_id[i];
    }

    if (n == 0 || i != n) {
        i = 0;
        id[i++] = '-';
    }

    id[i] = '\0';
}
