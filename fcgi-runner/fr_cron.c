/*
 * Copyright (C) ngx_faas developers
 *
 * Cron expressions: "minute hour day-of-month month day-of-week", each a
 * list of "*", "N", "N-M" with "/STEP", months and weekdays also by name;
 * when both days are restricted either may match (as Vixie cron). And
 * the names @yearly (@annually), @monthly, @weekly, @daily (@midnight),
 * @hourly, and "@every 1h30m". The next tick is found field by field on
 * a clock with no zone, then placed in UTC or in the local time zone
 * (TZ), across its changes.
 */

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fr_conf.h"
#include "fr_cron.h"
#include "fr_log.h"


static int fr_cron_every(const char *s, int64_t *every);
static int fr_cron_field(const char *s, int lo, int hi,
    const char *const *names, uint64_t *bits);
static int fr_cron_value(const char **p, int lo, const char *const *names);
static int fr_cron_step(const char **p, int lo, int hi);
static time_t fr_cron_wall(const fr_cron_t *cron, time_t w);
static time_t fr_cron_place(const fr_cron_t *cron, time_t w, time_t after);
static time_t fr_cron_change(time_t lo, time_t hi);
static time_t fr_cron_offset(time_t t);


#define FR_CRON_ALL_HOURS  0xffffffu
#define FR_CRON_YEARS      9         /* a tick looked for so far ahead */


static const char *const  fr_months[] = {
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct",
    "nov", "dec", NULL
};

static const char *const  fr_weekdays[] = {
    "sun", "mon", "tue", "wed", "thu", "fri", "sat", NULL
};


int
fr_cron_parse(const char *expr, fr_cron_t *cron)
{
    int       n, i;
    char      copy[256], *f[6], *save;
    uint64_t  bits[5];

    static const struct {
        const char  *name;
        const char  *expr;
    } named[] = {
        { "@yearly", "0 0 1 1 *" }, { "@annually", "0 0 1 1 *" },
        { "@monthly", "0 0 1 * *" }, { "@weekly", "0 0 * * 0" },
        { "@daily", "0 0 * * *" }, { "@midnight", "0 0 * * *" },
        { "@hourly", "0 * * * *" }
    };

    memset(cron, 0, sizeof(fr_cron_t));

    while (isspace((u_char) *expr)) {
        expr++;
    }

    if (strncmp(expr, "@every", 6) == 0 && isspace((u_char) expr[6])) {
        if (fr_cron_every(expr + 7, &cron->every) != FR_OK) {
            return FR_ERROR;
        }

        cron->set = 1;
        return FR_OK;
    }

    for (i = 0; i < (int) (sizeof(named) / sizeof(named[0])); i++) {
        if (strcmp(expr, named[i].name) == 0) {
            expr = named[i].expr;
            break;
        }
    }

    if (strlen(expr) >= sizeof(copy)) {
        return FR_ERROR;
    }

    strcpy(copy, expr);

    for (n = 0, f[0] = strtok_r(copy, " \t", &save); f[n] && n < 6;
         f[++n] = strtok_r(NULL, " \t", &save))
    {
        /* void */
    }

    if (n != 5
        || fr_cron_field(f[0], 0, 59, NULL, &bits[0]) != FR_OK
        || fr_cron_field(f[1], 0, 23, NULL, &bits[1]) != FR_OK
        || fr_cron_field(f[2], 1, 31, NULL, &bits[2]) != FR_OK
        || fr_cron_field(f[3], 1, 12, fr_months, &bits[3]) != FR_OK
        || fr_cron_field(f[4], 0, 7, fr_weekdays, &bits[4]) != FR_OK)
    {
        return FR_ERROR;
    }

    cron->minutes = bits[0];
    cron->hours = (uint32_t) bits[1];
    cron->days = (uint32_t) bits[2];
    cron->months = (uint16_t) bits[3];
    /* 7 is Sunday too */
    cron->weekdays = (uint8_t) ((bits[4] | (bits[4] >> 7)) & 0x7f);
    cron->any_day = (f[2][0] == '*');
    cron->any_weekday = (f[4][0] == '*');
    cron->set = 1;

    return FR_OK;
}


/*
 * "90", "30s", "1.5m", "1h30m", "2h 15m 10s", "3000ms": a sum of numbers
 * each with its unit (a lone number is seconds), each unit once and the
 * larger first, whole seconds from 1 s to 366 days ("1.5s" would tick
 * each second)
 */

static int
fr_cron_every(const char *s, int64_t *every)
{
    int      terms, unit, last;
    char    *end;
    double   v, sum;
    int64_t  whole;

    sum = 0;
    last = 4;

    for (terms = 0; ; terms++) {
        while (isspace((u_char) *s)) {
            s++;
        }

        if (*s == '\0') {
            break;
        }

        /* decimal digits and a point: no sign, exponent, hex or "inf" */
        v = strtod(s, &end);

        if (end == s || end != s + strspn(s, "0123456789.")) {
            return FR_ERROR;
        }

        /* each unit once, the larger first, as nginx takes them:
         * "1s1s" or "1s1m" is no duration someone meant */
        switch (*end) {
        case 'h': v *= 3600; end++; unit = 3; break;
        case 'm':
            if (end[1] == 's') {
                v /= 1000; end += 2; unit = 0; break;
            }
            v *= 60; end++; unit = 2; break;
        case 's': end++; unit = 1; break;

        default:
            /* no unit: seconds, when nothing else is said */
            if (terms > 0) {
                return FR_ERROR;
            }

            for (s = end; isspace((u_char) *s); s++) { /* void */ }

            if (*s != '\0') {
                return FR_ERROR;
            }

            unit = 1;
        }

        if (unit >= last) {
            return FR_ERROR;
        }

        last = unit;

        if (!(v >= 0 && v <= 366 * 86400)) {
            return FR_ERROR;
        }

        sum += v;
        s = end;
    }

    /* whole, but for a decimal's binary rounding ("0.7m": 42.000...01) */
    whole = (int64_t) (sum + 0.5);

    if (terms == 0 || !(sum >= 1 && sum <= 366 * 86400)
        || sum - (double) whole > 1e-6 || (double) whole - sum > 1e-6)
    {
        return FR_ERROR;
    }

    *every = whole;

    return FR_OK;
}


/* a star, a star with a step, N, N-M, N-M/S, comma separated: bits */

static int
fr_cron_field(const char *s, int lo, int hi, const char *const *names,
    uint64_t *bits)
{
    int          a, b, step, v;
    const char  *p;

    *bits = 0;
    p = s;

    for ( ;; ) {
        if (*p == '*') {
            a = lo;
            b = hi;
            p++;

        } else {
            a = fr_cron_value(&p, lo, names);
            b = a;

            if (*p == '-') {
                p++;
                b = fr_cron_value(&p, lo, names);
            }
        }

        step = 1;

        if (*p == '/') {
            p++;
            step = fr_cron_step(&p, lo, hi);
        }

        if (a < lo || b > hi || a > b || step < 1) {
            return FR_ERROR;
        }

        for (v = a; v <= b; v += step) {
            *bits |= (uint64_t) 1 << v;
        }

        if (*p == '\0') {
            return FR_OK;
        }

        if (*p++ != ',') {
            return FR_ERROR;
        }
    }
}


static int
fr_cron_value(const char **p, int lo, const char *const *names)
{
    int    i;
    char  *end;
    long   v;

    for (i = 0; names && names[i]; i++) {
        if (strncasecmp(*p, names[i], 3) == 0) {
            *p += 3;
            /* months count from 1, weekdays from 0 */
            return i + lo;
        }
    }

    if (!isdigit((u_char) **p)) {
        return -1;
    }

    v = strtol(*p, &end, 10);
    *p = end;

    return v > 1000 ? -1 : (int) v;
}


/*
 * A step: digits only, 1 up to the field's width (a minute's step of 60
 * at most); anything else is -1, so no sum of a value and a step can
 * overflow
 */

static int
fr_cron_step(const char **p, int lo, int hi)
{
    int          v;
    const char  *s;

    v = 0;

    for (s = *p; isdigit((u_char) *s); s++) {
        if (v > hi - lo + 1) {
            break;
        }

        v = v * 10 + (*s - '0');
    }

    if (s == *p || isdigit((u_char) *s) || v > hi - lo + 1) {
        *p = s;
        return -1;
    }

    *p = s;

    return v;
}


/*
 * The first tick after "after" (seconds since the epoch); -1 if none in
 * nine years (a 31st of February: the 29th's ticks are up to eight years
 * apart, over 2100). In a time zone, the ticks are found
 * on the wall clock and then placed in time: a tick the clocks skip
 * (02:30 on the morning they go forward) is run when they jump, once; in
 * an hour the clocks repeat, a schedule that names its hours runs once
 * (in the first pass), one of every hour runs in both, as Vixie cron.
 */

time_t
fr_cron_next(const fr_cron_t *cron, time_t after, int utc)
{
    int     n;
    time_t  w, t, fold, again;

    if (cron->every) {
        return after - after % cron->every + cron->every;
    }

    if (utc) {
        return fr_cron_wall(cron, after);
    }

    w = after + fr_cron_offset(after);

    /*
     * A wall time passed over is one the clocks showed before "after"
     * (in a repeated period's second pass, up to three hours of
     * minutes) or skipped before it: no more than a day of them.
     */
    n = 0;

    do {
        w = fr_cron_wall(cron, w);
        t = (w == -1) ? -1 : fr_cron_place(cron, w, after);
    } while (w != -1 && t == -1 && ++n < 24 * 60);

    if (t == -1 || cron->hours != FR_CRON_ALL_HOURS
        || fr_cron_offset(t) >= fr_cron_offset(after))
    {
        return t;
    }

    /* the clocks went back before t: the repeated hour's ticks first */
    fold = fr_cron_change(after, t);
    w = fr_cron_wall(cron, fold + fr_cron_offset(fold) - 1);
    again = (w == -1) ? -1 : w - fr_cron_offset(t);

    return (again > after && again < t
            && fr_cron_offset(again) == fr_cron_offset(t)) ? again : t;
}


/* whether a schedule names a date that exists (not a 30th of February) */

int
fr_cron_possible(const fr_cron_t *cron)
{
    /* the nine years from 2000 hold every date there is */
    return cron->every || fr_cron_wall(cron, 946684800 - 60) != -1;
}


/* the first minute after w whose fields match, on a clock with no zone */

static time_t
fr_cron_wall(const fr_cron_t *cron, time_t w)
{
    int        day_ok;
    time_t     t, limit;
    struct tm  tm;

    t = w - ((w % 60) + 60) % 60 + 60;
    limit = w + (time_t) FR_CRON_YEARS * 366 * 86400;

    while (t < limit) {
        gmtime_r(&t, &tm);

        if (!(cron->months & (1 << (tm.tm_mon + 1)))) {
            tm.tm_mon++;
            tm.tm_mday = 1;
            tm.tm_hour = 0;
            tm.tm_min = 0;
            goto next;
        }

        if (cron->any_day || cron->any_weekday) {
            day_ok = (cron->days & (1u << tm.tm_mday))
                     && (cron->weekdays & (1 << tm.tm_wday));

        } else {
            day_ok = (cron->days & (1u << tm.tm_mday))
                     || (cron->weekdays & (1 << tm.tm_wday));
        }

        if (!day_ok) {
            tm.tm_mday++;
            tm.tm_hour = 0;
            tm.tm_min = 0;
            goto next;
        }

        if (!(cron->hours & (1u << tm.tm_hour))) {
            tm.tm_hour++;
            tm.tm_min = 0;
            goto next;
        }

        if (!(cron->minutes & ((uint64_t) 1 << tm.tm_min))) {
            tm.tm_min++;
            goto next;
        }

        return t;

    next:

        tm.tm_sec = 0;
        t = timegm(&tm);
    }

    return -1;
}


/*
 * The time after "after" at which the local clock shows w: the first of
 * two in a repeated hour (the second too for a schedule of every hour),
 * the clocks' jump for one they skip; -1: none.
 */

static time_t
fr_cron_place(const fr_cron_t *cron, time_t w, time_t after)
{
    time_t  before, later, t[2];
    int     n;

    /* the offsets a day around it: a zone changes at most once a day */
    before = fr_cron_offset(w - 86400);
    later = fr_cron_offset(w + 86400);

    n = 0;

    if (fr_cron_offset(w - before) == before) {
        t[n++] = w - before;
    }

    if (later != before && fr_cron_offset(w - later) == later) {
        t[n++] = w - later;
    }

    if (n == 0 && later > before) {
        /* skipped: the clocks jump between w - later and w - before */
        t[n++] = fr_cron_change(w - later, w - before);
    }

    if (n == 2 && t[0] > t[1]) {
        t[0] = t[1];
        t[1] = w - before;
    }

    if (n > 0 && t[0] > after) {
        return t[0];
    }

    if (n == 2 && cron->hours == FR_CRON_ALL_HOURS && t[1] > after) {
        return t[1];
    }

    return -1;
}


/* the first second in (lo, hi] with hi's offset from UTC */

static time_t
fr_cron_change(time_t lo, time_t hi)
{
    time_t  mid, off;

    off = fr_cron_offset(hi);

    while (hi - lo > 1) {
        mid = lo + (hi - lo) / 2;

        if (fr_cron_offset(mid) == off) {
            hi = mid;

        } else {
            lo = mid;
        }
    }

    return hi;
}


/* seconds east of UTC at t, in the local time zone */

static time_t
fr_cron_offset(time_t t)
{
    struct tm  tm;

    localtime_r(&t, &tm);

    return tm.tm_gmtoff;
}


/*
 * A time zone's name: "UTC", or a file of /usr/share/zoneinfo that is
 * a compiled zone (TZif), not a folder (Europe) nor a table (zone.tab),
 * which the C library would take for UTC without a word.
 */

int
fr_cron_zone_ok(const char *name)
{
    int          fd, ok;
    char         path[256], magic[4];
    struct stat  st;

    if (strcmp(name, "UTC") == 0) {
        return 1;
    }

    if (name[0] == '\0' || name[0] == '/' || strstr(name, "..")
        || snprintf(path, sizeof(path), "/usr/share/zoneinfo/%s", name)
           >= (int) sizeof(path))
    {
        return 0;
    }

    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);

    if (fd == -1 && errno == ELOOP) {
        /* a link of the database's own (Etc/UTC, a zone's old name) */
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    }

    ok = fd != -1 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode)
         && read(fd, magic, 4) == 4 && memcmp(magic, "TZif", 4) == 0;

    if (fd != -1) {
        close(fd);
    }

    return ok;
}

/*
 * The event keys of settings read from file (a function.conf, or the
 * runner config's defaults for all): each problem said with the file
 * and line; the schedule parsed into cron. Returns how many.
 */

int
fr_cron_conf(const fr_fconf_t *fc, const char *file, fr_cron_t *cron,
    int level)
{
    int          problems, i;
    const char  *to, *key;

    problems = 0;

    if (fc->schedule && fr_cron_parse(fc->schedule, cron) != FR_OK) {
        fr_log(level, 0, "%s:%d: invalid schedule \"%s\": five cron "
               "fields, @hourly, @daily, @weekly, @monthly, @yearly or "
               "\"@every 30s\" (whole seconds)", file,
               fr_fconf_line(fc, "schedule"), fc->schedule);
        problems++;

    } else if (fc->schedule && cron->set && !fr_cron_possible(cron)) {
        fr_log(level, 0, "%s:%d: schedule \"%s\" names no date that "
               "comes (as a 30th of February or a 31st of April does)",
               file, fr_fconf_line(fc, "schedule"), fc->schedule);
        problems++;
    }

    if (fc->schedule_timezone && !fr_cron_zone_ok(fc->schedule_timezone)) {
        fr_log(level, 0, "%s:%d: unknown schedule_timezone \"%s\"", file,
               fr_fconf_line(fc, "schedule_timezone"), fc->schedule_timezone);
        problems++;
    }

    if (fc->schedule_catchup && strcmp(fc->schedule_catchup, "on") != 0
        && strcmp(fc->schedule_catchup, "off") != 0)
    {
        fr_log(level, 0, "%s:%d: schedule_catchup is on or off, not "
               "\"%s\"", file, fr_fconf_line(fc, "schedule_catchup"),
               fc->schedule_catchup);
        problems++;
    }

    for (i = 0; i < 2; i++) {
        to = i ? fc->on_failure : fc->on_success;
        key = i ? "on_failure" : "on_success";

        if (to && !fr_name_valid((const u_char *) to, strlen(to))) {
            fr_log(level, 0, "%s:%d: %s \"%s\" is no function name (1 to "
                   "64 of A-Z a-z 0-9 _ -)", file, fr_fconf_line(fc, key),
                   key, to);
            problems++;
        }
    }

    return problems;
}
