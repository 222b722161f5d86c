/*
 * Copyright (C) ngx_faas developers
 *
 * fcgi-runner meter's table, CSV and JSON: the groups all[0..n-1],
 * then their total all[n]. A name is what a log line said: quoted as
 * each format needs, whatever its bytes.
 */

#include <stdio.h>
#include <string.h>

#include "fr_buf.h"
#include "fr_report_print.h"


/* a name in the table: 64 bytes shown, one character more, "...", NUL */
#define FR_METER_TABLE_NAME  80


static void fr_meter_csv_field(const char *s);
static int fr_meter_width(int o);
static size_t fr_meter_shown(const unsigned char *p);
static size_t fr_meter_table_name(char *buf, const char *name);


/*
 * A CSV field (RFC 4180): quoted when it holds a comma, a quote or a
 * line's end, its quotes doubled; one a spreadsheet would take for a
 * formula (=, +, -, @, a tab or CR first) starts with a quote character
 * inside.
 */

static void
fr_meter_csv_field(const char *s)
{
    int  formula;

    /* (the group of no tenant, "-", is no formula) */
    formula = (*s == '=' || *s == '+' || (*s == '-' && s[1] != '\0')
               || *s == '@' || *s == '\t' || *s == '\r');

    if (!formula && strpbrk(s, ",\"\r\n") == NULL) {
        fputs(s, stdout);
        return;
    }

    printf("\"%s", formula ? "'" : "");

    for ( /* void */ ; *s; s++) {
        if (*s == '"') {
            putchar('"');
        }

        putchar(*s);
    }

    putchar('"');
}


void
fr_meter_csv(fr_meter_group_t **all, size_t n, const char *what)
{
    int                o;
    size_t             i;
    fr_meter_group_t  *g;

    printf("%s,invocations,cold", what);

    for (o = 0; o < FR_METER_OUTCOMES; o++) {
        printf(",%s", fr_outcome_name(o));
    }

    printf(",errors,duration_s,billed_s,cpu_s,gb_seconds,cost,"
           "after_response_faults\n");

    for (i = 0; i <= n; i++) {
        g = all[i];
        fr_meter_csv_field(g->name);
        printf(",%llu,%llu", (unsigned long long) g->invocations,
               (unsigned long long) g->cold);

        for (o = 0; o < FR_METER_OUTCOMES; o++) {
            printf(",%llu", (unsigned long long) g->outcomes[o]);
        }

        printf(",%llu,%.3f,%.3f,%.3f,%.6f,%.6f,%llu\n",
               (unsigned long long) fr_meter_errors(g), g->duration_ms / 1000,
               g->billed_ms / 1000, g->cpu_ms / 1000, g->gb_seconds,
               g->cost, (unsigned long long) g->after_faults);
    }
}


void
fr_meter_json(fr_meter_group_t **all, size_t n, const char *what,
    uint64_t lines, uint64_t skipped, uint64_t unmetered)
{
    size_t             i, w;
    fr_buf_t           name;
    fr_meter_group_t  *g;

    memset(&name, 0, sizeof(fr_buf_t));

    printf("{\"by\":\"%s\",\"lines\":%llu,\"skipped\":%llu,"
           "\"unmetered\":%llu,\"groups\":[", what,
           (unsigned long long) lines, (unsigned long long) skipped,
           (unsigned long long) unmetered);

    for (i = 0; i <= n; i++) {
        g = all[i];
        if (i == n) {
            printf("],\"total\":");
        }
        /* a name as a log line has it: valid JSON whatever its bytes */
        fr_buf_consume(&name, name.len);
        fr_buf_json_str(&name, (u_char *) g->name, strlen(g->name));
        printf("%s{\"name\":%.*s", i && i < n ? "," : "", (int) name.len,
               (char *) fr_buf_pos(&name));
        printf(",\"invocations\":%llu,\"cold\":%llu,\"outcomes\":{",
               (unsigned long long) g->invocations,
               (unsigned long long) g->cold);
        for (w = 0; w < FR_METER_OUTCOMES; w++) {
            printf("%s\"%s\":%llu", w ? "," : "", fr_outcome_name(w),
                   (unsigned long long) g->outcomes[w]);
        }
        printf("},\"errors\":%llu,\"duration_s\":%.3f,\"billed_s\":%.3f,"
               "\"cpu_s\":%.3f,\"gb_seconds\":%.6f,\"cost\":%.6f,"
               "\"after_response_faults\":%llu}",
               (unsigned long long) fr_meter_errors(g),
               g->duration_ms / 1000, g->billed_ms / 1000,
               g->cpu_ms / 1000, g->gb_seconds, g->cost,
               (unsigned long long) g->after_faults);
    }

    printf("}\n");

    fr_buf_free(&name);
}


/* an outcome's column: 9 wide, or its name's width */

static int
fr_meter_width(int o)
{
    size_t  n;

    n = strlen(fr_outcome_name(o));

    return n > 9 ? (int) n : 9;
}


/*
 * The bytes of the character at p that a terminal may show as they
 * are: 1 to 4 (UTF-8); 0 for a control (C0, DEL, and C1 such as U+009B,
 * CSI to a terminal) or a byte that is no UTF-8.
 */

static size_t
fr_meter_shown(const unsigned char *p)
{
    size_t  len, i;

    if (*p < 0x20 || *p == 0x7f) {
        return 0;
    }

    if (*p < 0x80) {
        return 1;
    }

    len = (*p >= 0xc2 && *p <= 0xdf) ? 2
          : (*p >= 0xe0 && *p <= 0xef) ? 3
          : (*p >= 0xf0 && *p <= 0xf4) ? 4 : 0;

    for (i = 1; i < len; i++) {
        if ((p[i] & 0xc0) != 0x80) {
            return 0;
        }
    }

    if ((*p == 0xc2 && p[1] < 0xa0)                   /* C1 */
        || (*p == 0xe0 && p[1] < 0xa0)                /* overlong */
        || (*p == 0xed && p[1] >= 0xa0)               /* surrogate */
        || (*p == 0xf0 && p[1] < 0x90)
        || (*p == 0xf4 && p[1] >= 0x90))
    {
        return 0;
    }

    return len;
}


/*
 * A name as a terminal may show it: a control or a byte that is no
 * UTF-8 as \xNN (a log line's ESC, CR or CSI drove the terminal), past
 * 64 bytes (no function's or tenant's name is longer) cut with "...",
 * never inside a character. Returns the characters it shows, for the
 * columns (a wide character, CJK, counts as one).
 */

static size_t
fr_meter_table_name(char *buf, const char *name)
{
    size_t               n, len, chars;
    const unsigned char  *p;

    n = 0;
    chars = 0;

    for (p = (const unsigned char *) name; *p && n < 64; p += len) {
        len = fr_meter_shown(p);

        if (len == 0) {
            n += (size_t) sprintf(buf + n, "\\x%02x", *p);
            chars += 4;
            len = 1;
            continue;
        }

        memcpy(buf + n, p, len);
        n += len;
        chars++;
    }

    if (*p) {
        n += (size_t) sprintf(buf + n, "...");
        chars += 3;
    }

    buf[n] = '\0';

    return chars;
}


void
fr_meter_table(fr_meter_group_t **all, size_t n, const char *what,
    uint64_t lines, uint64_t skipped, uint64_t unmetered)
{
    int                o, faults;
    char               name[FR_METER_TABLE_NAME];
    size_t             i, w, len;
    fr_meter_group_t  *g;

    w = strlen(what);
    for (i = 0; i < n; i++) {
        len = fr_meter_table_name(name, all[i]->name);
        w = len > w ? len : w;
    }

    printf("%-*s %12s %8s", (int) w, what, "invocations", "cold");

    for (o = 0; o < FR_METER_OUTCOMES; o++) {
        printf(" %*s", fr_meter_width(o), fr_outcome_name(o));
    }

    printf(" %9s %12s %12s %11s %12s %12s\n", "errors", "duration",
           "billed", "cpu", "GB-s", "cost");

    for (i = 0; i <= n; i++) {
        g = all[i];
        len = fr_meter_table_name(name, g->name);
        printf("%s%*s %12llu %8llu", name, (int) (w - len), "",
               (unsigned long long) g->invocations,
               (unsigned long long) g->cold);

        for (o = 0; o < FR_METER_OUTCOMES; o++) {
            printf(" %*llu", fr_meter_width(o),
                   (unsigned long long) g->outcomes[o]);
        }

        printf(" %9llu %10.3f s %10.3f s %9.3f s %12.3f %12.6f\n",
               (unsigned long long) fr_meter_errors(g),
               g->duration_ms / 1000, g->billed_ms / 1000, g->cpu_ms / 1000,
               g->gb_seconds, g->cost);
    }

    /* the work after a response (fastcgi_finish_request()) that timed
     * out or crashed: its client had its answer, the outcome columns
     * count that */
    faults = 0;

    for (i = 0; i < n; i++) {
        if (all[i]->after_faults) {
            (void) fr_meter_table_name(name, all[i]->name);
            printf("%s%s: %llu fault(s) after the response (meter_log's "
                   "trigger=after_response)\n", faults++ ? "" : "\n",
                   name, (unsigned long long) all[i]->after_faults);
        }
    }

    if (unmetered) {
        /* nginx's line of a run the runner metered in meter_log (its
         * client left, a subrequest), or of one that never ran */
        printf("\n%llu of %llu line(s) skipped with outcome=-: nginx's "
               "of a run metered in meter_log, or of none\n",
               (unsigned long long) unmetered, (unsigned long long) lines);
    }

    if (skipped > unmetered) {
        printf("%s%llu of %llu line(s) skipped: not of the faas_meter "
               "format (a line begins with one of its keys, its figures "
               "as nginx and the runner write them) or naming no "
               "function\n", unmetered ? "" : "\n",
               (unsigned long long) (skipped - unmetered),
               (unsigned long long) lines);
    }
}
