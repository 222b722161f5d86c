/*
 * Copyright (C) ngx_faas developers
 *
 * Log lines in the shape of nginx's error log, so that one grep serves
 * both: "2026/11/27 01:50:00 [error] 1234#0: message".
 */

#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fr_core.h"
#include "fr_log.h"


int  fr_log_level = FR_LOG_INFO;

/* the file stderr was at startup, when it is one: SIGUSR1 reopens it */
static char  *fr_log_path;

static const char  *fr_log_levels[] = {
    "emerg", "alert", "error", "warn", "notice", "info", "debug"
};


void
fr_log(fr_log_level_e level, int err, const char *fmt, ...)
{
    int              rc;
    char             line[2048], msg[1900];
    size_t           n, i;
    time_t           now;
    va_list          args;
    struct tm        tm;
    struct timespec  ts_now;

    static const char  hex[] = "0123456789abcdef";

    if ((int) level > fr_log_level) {
        return;
    }

    /* the clock the runner's times are of (time() is the kernel's
     * coarse one: at a second's start, often the second before) */
    (void) clock_gettime(CLOCK_REALTIME, &ts_now);
    now = ts_now.tv_sec;
    localtime_r(&now, &tm);

    n = strftime(line, sizeof(line), "%Y/%m/%d %H:%M:%S", &tm);

    rc = snprintf(line + n, sizeof(line) - n, " [%s] %d#0: ",
                  fr_log_levels[level], (int) getpid());
    n += (rc > 0) ? (size_t) rc : 0;

    va_start(args, fmt);
    rc = vsnprintf(msg, sizeof(msg), fmt, args);
    va_end(args);

    /*
     * A control character of what a message quotes (a folder's name, a
     * value of function.conf) shown as \xNN: a name with a newline must
     * not make a line of its own, which would pass for another's
     */
    for (i = 0; rc > 0 && msg[i] && n < sizeof(line) - 64; i++) {
        if ((u_char) msg[i] >= 0x20 && msg[i] != 0x7f) {
            line[n++] = msg[i];
            continue;
        }

        line[n++] = '\\';
        line[n++] = 'x';
        line[n++] = hex[(u_char) msg[i] >> 4];
        line[n++] = hex[(u_char) msg[i] & 0xf];
    }

    if (err) {
        rc = snprintf(line + n, sizeof(line) - n, " (%d: %s)",
                      err, strerror(err));
        n += (rc > 0) ? (size_t) rc : 0;
    }

    line[n++] = '\n';

    /* one write per line: lines of concurrent writers never interleave */
    (void) !write(STDERR_FILENO, line, n);
}


/*
 * Bytes of a function's output as one log line's text: printable ASCII
 * as is, quotes, backslashes and all else as escapes. dst holds 4 * n.
 */

size_t
fr_log_escape(u_char *dst, const u_char *src, size_t n)
{
    u_char  *d;

    static const char  hex[] = "0123456789abcdef";

    for (d = dst; n; n--, src++) {
        if (*src >= 0x20 && *src < 0x7f && *src != '"' && *src != '\\') {
            *d++ = *src;
            continue;
        }

        *d++ = '\\';
        *d++ = 'x';
        *d++ = hex[*src >> 4];
        *d++ = hex[*src & 0xf];
    }

    return d - dst;
}


/*
 * The length of the well-formed UTF-8 character at p (RFC 3629: no
 * overlong form, no surrogate, nothing past U+10FFFF), 0 if there is
 * none: an ASCII byte is 1, a stray or cut byte 0.
 */

size_t
fr_utf8_len(const u_char *p, const u_char *last)
{
    size_t  n, i;
    u_char  lo, hi;

    lo = 0x80;
    hi = 0xbf;

    if (p[0] < 0x80) {
        return 1;

    } else if (p[0] >= 0xc2 && p[0] <= 0xdf) {
        n = 2;

    } else if (p[0] >= 0xe0 && p[0] <= 0xef) {
        n = 3;
        lo = (p[0] == 0xe0) ? 0xa0 : 0x80;
        hi = (p[0] == 0xed) ? 0x9f : 0xbf;

    } else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
        n = 4;
        lo = (p[0] == 0xf0) ? 0x90 : 0x80;
        hi = (p[0] == 0xf4) ? 0x8f : 0xbf;

    } else {
        return 0;
    }

    if ((size_t) (last - p) < n || p[1] < lo || p[1] > hi) {
        return 0;
    }

    for (i = 2; i < n; i++) {
        if (p[i] < 0x80 || p[i] > 0xbf) {
            return 0;
        }
    }

    return n;
}


/*
 * At startup: when stderr is a regular file (fcgi-runner 2>>FILE, a
 * unit's StandardError=append:FILE), its path, for fr_log_reopen().
 */

void
fr_log_file_init(void)
{
    char         path[PATH_MAX];
    ssize_t      n;
    struct stat  st;

    if (fstat(STDERR_FILENO, &st) == -1 || !S_ISREG(st.st_mode)) {
        return;
    }

    n = readlink("/proc/self/fd/2", path, sizeof(path) - 1);

    if (n <= 0 || path[0] != '/') {
        return;
    }

    path[n] = '\0';
    free(fr_log_path);
    fr_log_path = strdup(path);
}


/*
 * SIGUSR1, as nginx's USR1: the log file opened again by its name, so a
 * rotation that renamed it (logrotate's "create") starts a new file
 */

int
fr_log_reopen(void)
{
    int  fd;

    if (fr_log_path == NULL) {
        return FR_OK;
    }

    fd = open(fr_log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);

    if (fd == -1) {
        fr_log(FR_LOG_ALERT, errno, "cannot reopen the log \"%s\"",
               fr_log_path);
        return FR_ERROR;
    }

    if (dup2(fd, STDERR_FILENO) == -1) {
        fr_log(FR_LOG_ALERT, errno, "dup2() of the log \"%s\" failed",
               fr_log_path);
        close(fd);
        return FR_ERROR;
    }

    close(fd);

    return FR_OK;
}


/* bytes as a message says them: "64K", "100 bytes" when not whole K */

const char *
fr_log_size(char *buf, size_t size, int64_t bytes)
{
    if (bytes % 1024 == 0) {
        snprintf(buf, size, "%lldK", (long long) (bytes / 1024));

    } else {
        snprintf(buf, size, "%lld bytes", (long long) bytes);
    }

    return buf;
}


int
fr_log_parse_level(const char *name)
{
    size_t  i;

    for (i = 0; i < sizeof(fr_log_levels) / sizeof(fr_log_levels[0]); i++) {
        if (strcasecmp(name, fr_log_levels[i]) == 0) {
            return (int) i;
        }
    }

    return -1;
}
