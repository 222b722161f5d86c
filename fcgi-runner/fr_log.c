/*
 * Copyright (C) ngx_faas developers
 *
 * Log lines in the shape of nginx's error log, so that one grep serves
 * both: "2026/11/27 01:50:00 [error] 1234#0: message".
 */

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "fr_log.h"


int  fr_log_level = FR_LOG_INFO;

static const char  *fr_log_levels[] = {
    "emerg", "alert", "error", "warn", "notice", "info", "debug"
};


void
fr_log(fr_log_level_e level, int err, const char *fmt, ...)
{
    char        line[2048];
    size_t      n;
    va_list     args;
    time_t      now;
    struct tm   tm;
    int         rc;

    if ((int) level > fr_log_level) {
        return;
    }

    now = time(NULL);
    localtime_r(&now, &tm);

    n = strftime(line, sizeof(line), "%Y/%m/%d %H:%M:%S", &tm);

    rc = snprintf(line + n, sizeof(line) - n, " [%s] %d#0: ",
                  fr_log_levels[level], (int) getpid());
    n += (rc > 0) ? (size_t) rc : 0;

    va_start(args, fmt);
    rc = vsnprintf(line + n, sizeof(line) - n, fmt, args);
    va_end(args);

    if (rc > 0) {
        n += (size_t) rc;
    }

    if (n > sizeof(line) - 64) {
        n = sizeof(line) - 64;
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
