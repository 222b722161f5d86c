/*
 * Copyright (C) ngx_faas developers
 *
 * fcgi-runner meter --format html: the usage report of a billing period
 * as one self-contained page (inline CSS and SVG, no script): totals,
 * the top functions by cost, per tenant and per function the figures of
 * the table and JSON formats, and charts per hour or per day of
 * invocations, GB-seconds and p99 duration. Whatever a log line carries
 * is shown as text: escaped, and bytes that are not UTF-8 replaced.
 */

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fr_core.h"
#include "fr_usage.h"


#define FR_USAGE_TOP     10         /* functions in the top by cost */
#define FR_USAGE_CHARTS  5          /* of them with charts of their own */


static void fr_usage_head(FILE *out, fr_usage_t *u, fr_usage_series_t *s);
static void fr_usage_top(FILE *out, fr_usage_t *u, fr_usage_series_t *s);
static void fr_usage_table(FILE *out, fr_usage_groups_t *g, int functions,
    fr_usage_series_t *s);
static void fr_usage_spark(FILE *out, fr_usage_series_t *s);
static void fr_usage_charts(FILE *out, fr_usage_series_t *s);
static void fr_usage_chart(FILE *out, fr_usage_series_t *s, int kind);
static void fr_usage_when(char *buf, size_t size, int64_t t, int64_t grain);
static void fr_usage_scale(char *buf, size_t size, double max, int kind);
static void fr_usage_text(FILE *out, const char *s);
static int fr_usage_cost_cmp(const void *a, const void *b);
static int fr_usage_digits(const char *s, int n);


static const char  fr_usage_css[] =
    "body { font: 14px/1.4 system-ui, sans-serif; margin: 0 16px 24px;\n"
    "       color: #1d2330; background: #fff; }\n"
    "h1 { font-size: 20px; margin: 12px 0 4px; }\n"
    "h2 { font-size: 16px; margin: 22px 0 6px; }\n"
    "h3 { font-size: 14px; margin: 14px 0 4px; }\n"
    ".meta { color: #667; margin: 0 0 8px; }\n"
    "dl { display: flex; flex-wrap: wrap; gap: 8px 28px; margin: 12px 0; }\n"
    "dt { color: #667; font-size: 12px; }\n"
    "dd { margin: 0; font-size: 20px; font-variant-numeric: tabular-nums; }\n"
    ".charts { display: flex; flex-wrap: wrap; gap: 12px; }\n"
    "figure { margin: 0; }\n"
    "figcaption { color: #667; font-size: 12px; }\n"
    "svg.chart { background: #f6f7f9; border: 1px solid #e3e6eb; }\n"
    "svg.chart text { font-size: 10px; fill: #667; }\n"
    "svg .inv { fill: #1f6feb; }\n"
    "svg .gbs { fill: #8250df; }\n"
    "svg polyline { fill: none; stroke: #d1242f; stroke-width: 1.5; }\n"
    "svg circle { fill: #d1242f; }\n"
    "svg.spark polyline { stroke: #1f6feb; stroke-width: 1.2; }\n"
    "svg.spark { background: #f6f7f9; vertical-align: middle; }\n"
    "table { border-collapse: collapse; font-variant-numeric: tabular-nums; }\n"
    ".scroll { overflow-x: auto; max-width: 100%; }\n"
    "th, td { padding: 3px 8px; border-bottom: 1px solid #eceef2;\n"
    "         text-align: right; white-space: nowrap; }\n"
    "th { background: #f1f3f6; font-weight: 600; }\n"
    ".c-name, .c-tenant { text-align: left; max-width: 24em;\n"
    "                     overflow: hidden; text-overflow: ellipsis; }\n"
    ".share { display: inline-block; height: 10px; background: #1f6feb;\n"
    "         vertical-align: middle; }\n";


/* $time_iso8601: 2026-12-02T18:12:59+01:00 (a fraction and Z allowed) */

int64_t
fr_usage_time(const char *s, size_t len)
{
    int           y, mo, d, h, mi, sec, oh, om;
    int64_t       days, t;
    const char   *p, *end;

    /* digits and separators where the format has them (sscanf() was
     * most of a report's time: it measures the rest of the line) */
    if (len < 19 || s[4] != '-' || s[7] != '-' || s[10] != 'T'
        || s[13] != ':' || s[16] != ':')
    {
        return -1;
    }

    y = fr_usage_digits(s, 4);
    mo = fr_usage_digits(s + 5, 2);
    d = fr_usage_digits(s + 8, 2);
    h = fr_usage_digits(s + 11, 2);
    mi = fr_usage_digits(s + 14, 2);
    sec = fr_usage_digits(s + 17, 2);

    if (y < 0 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23
        || mi < 0 || mi > 59 || sec < 0 || sec > 60)
    {
        return -1;
    }

    p = s + 19;
    end = s + len;

    if (p < end && *p == '.') {
        for (p++; p < end && *p >= '0' && *p <= '9'; p++) {
            /* void */
        }
    }

    oh = 0;
    om = 0;

    if (p < end && (*p == '+' || *p == '-')) {
        if (end - p < 6 || p[3] != ':'
            || (oh = fr_usage_digits(p + 1, 2)) < 0
            || (om = fr_usage_digits(p + 4, 2)) < 0)
        {
            return -1;
        }

        if (*p == '-') {
            oh = -oh;
            om = -om;
        }

    } else if (p < end && *p != 'Z') {
        return -1;
    }

    /* days from the civil date (proleptic Gregorian) */
    y -= mo <= 2;
    days = (int64_t) 365 * y + y / 4 - y / 100 + y / 400
           + (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1 - 719468;

    t = days * 86400 + h * 3600 + mi * 60 + sec;

    return t - oh * 3600 - om * 60;
}


/* n decimal digits as a number; -1: not all digits */

static int
fr_usage_digits(const char *s, int n)
{
    int  v;

    for (v = 0; n > 0; n--, s++) {
        if (*s < '0' || *s > '9') {
            return -1;
        }

        v = v * 10 + (*s - '0');
    }

    return v;
}


int
fr_usage_html(FILE *out, fr_usage_t *u)
{
    int                 rc;
    size_t              i, n;
    fr_usage_series_t   s;
    fr_meter_group_t  **top;

    memset(&s, 0, sizeof(s));

    if (fr_usage_series(&s, u->functions.all, u->functions.n, 1) != FR_OK) {
        free(s.inv);
        free(s.gbs);
        free(s.p99);
        return FR_ERROR;
    }

    rc = FR_OK;

    fr_usage_head(out, u, &s);

    fprintf(out, "<h2>Over time, per %s (UTC)</h2>\n",
            s.grain == 3600 ? "hour" : "day");
    fr_usage_charts(out, &s);

    fr_usage_top(out, u, &s);

    fprintf(out, "<h2>Tenants</h2>\n");
    fr_usage_table(out, &u->tenants, 0, &s);

    for (i = 0; i < u->tenants.n; i++) {
        fprintf(out, "<h3>");
        fr_usage_text(out, u->tenants.all[i]->name);
        fprintf(out, "</h3>\n");
        if (fr_usage_series(&s, &u->tenants.all[i], 1, 1) != FR_OK) {
            rc = FR_ERROR;
        }

        fr_usage_charts(out, &s);
    }

    fprintf(out, "<h2>Functions</h2>\n");
    fr_usage_table(out, &u->functions, 1, &s);

    /* the biggest spenders, each over time */
    n = u->functions.n;
    top = malloc((n + 1) * sizeof(fr_meter_group_t *));

    if (top == NULL) {
        rc = FR_ERROR;

    } else {
        memcpy(top, u->functions.all, n * sizeof(fr_meter_group_t *));
        qsort(top, n, sizeof(fr_meter_group_t *), fr_usage_cost_cmp);

        if (n) {
            fprintf(out, "<h2>The top functions, over time</h2>\n");
        }

        for (i = 0; i < n && i < FR_USAGE_CHARTS; i++) {
            fprintf(out, "<h3>");
            fr_usage_text(out, top[i]->name);
            fprintf(out, "</h3>\n");
            if (fr_usage_series(&s, &top[i], 1, 1) != FR_OK) {
                rc = FR_ERROR;
            }

            fr_usage_charts(out, &s);
        }

        free(top);
    }

    fprintf(out, "</body></html>\n");

    free(s.inv);
    free(s.gbs);
    free(s.p99);

    return rc;
}


static void
fr_usage_head(FILE *out, fr_usage_t *u, fr_usage_series_t *s)
{
    char               from[32], to[32];
    fr_meter_group_t  *t;

    t = u->functions.all[u->functions.n];

    fprintf(out, "<!DOCTYPE html>\n<html lang=\"en\"><head>"
            "<meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width\">\n"
            "<title>Usage report</title>\n<style>\n%s</style></head>\n"
            "<body>\n<h1>Usage report</h1>\n<p class=\"meta\">",
            fr_usage_css);

    if (s->nb) {
        fr_usage_when(from, sizeof(from), s->t0, 60);
        fr_usage_when(to, sizeof(to), s->t0 + (int64_t) s->nb * s->grain,
                      60);
        fprintf(out, "<span id=\"period\">%s to %s UTC</span>, ", from, to);
    }

    fprintf(out, "<span id=\"lines\">%llu</span> lines, "
            "<span id=\"skipped\">%llu</span> skipped; prices "
            "%.9g per GB-second, %.9g per million requests</p>\n",
            (unsigned long long) u->lines, (unsigned long long) u->skipped,
            u->price_gbs, u->price_mreq);

    fprintf(out, "<dl id=\"totals\">\n"
            "<div><dt>invocations</dt><dd id=\"t-inv\">%llu</dd></div>\n"
            "<div><dt>errors</dt><dd id=\"t-errors\">%llu</dd></div>\n"
            "<div><dt>GB-seconds</dt><dd id=\"t-gbs\">%.6f</dd></div>\n"
            "<div><dt>CPU seconds</dt><dd id=\"t-cpu\">%.3f</dd></div>\n"
            "<div><dt>cost</dt><dd id=\"t-cost\">%.6f</dd></div>\n"
            "<div><dt>functions</dt><dd id=\"t-functions\">%zu</dd></div>\n"
            "<div><dt>tenants</dt><dd id=\"t-tenants\">%zu</dd></div>\n"
            "</dl>\n",
            (unsigned long long) t->invocations,
            (unsigned long long) (t->outcomes[FR_OUTCOME_TIMEOUT]
                                  + t->outcomes[FR_OUTCOME_CRASHED]
                                  + t->outcomes[FR_OUTCOME_ERROR]),
            t->gb_seconds, t->cpu_ms / 1000, t->cost, u->functions.n,
            u->tenants.n);
}


static void
fr_usage_top(FILE *out, fr_usage_t *u, fr_usage_series_t *s)
{
    size_t              i, n;
    double              all;
    fr_meter_group_t  **top, *g;

    (void) s;

    n = u->functions.n;
    top = malloc((n + 1) * sizeof(fr_meter_group_t *));
    if (top == NULL) {
        return;
    }

    memcpy(top, u->functions.all, n * sizeof(fr_meter_group_t *));
    qsort(top, n, sizeof(fr_meter_group_t *), fr_usage_cost_cmp);

    all = u->functions.all[n]->cost;

    fprintf(out, "<h2>Top functions by cost</h2>\n<table id=\"top\">"
            "<thead><tr><th>#</th><th class=\"c-name\">function</th>"
            "<th class=\"c-tenant\">tenant</th><th>invocations</th>"
            "<th>GB-seconds</th><th>cost</th><th>share</th></tr></thead>\n"
            "<tbody>\n");

    for (i = 0; i < n && i < FR_USAGE_TOP; i++) {
        g = top[i];
        fprintf(out, "<tr data-name=\"");
        fr_usage_text(out, g->name);
        fprintf(out, "\"><td>%zu</td><td class=\"c-name\">", i + 1);
        fr_usage_text(out, g->name);
        fprintf(out, "</td><td class=\"c-tenant\">");
        fr_usage_text(out, g->tenant ? g->tenant : "-");
        fprintf(out, "</td><td class=\"c-inv\">%llu</td>"
                "<td class=\"c-gbs\">%.6f</td><td class=\"c-cost\">%.6f</td>"
                "<td><span class=\"share\" style=\"width:%dpx\"></span> "
                "%.1f%%</td></tr>\n",
                (unsigned long long) g->invocations, g->gb_seconds, g->cost,
                all > 0 ? (int) (g->cost / all * 100) : 0,
                all > 0 ? g->cost / all * 100 : 0.0);
    }

    fprintf(out, "</tbody></table>\n");

    free(top);
}


/* the figures of the JSON format, in its units and precision */

static void
fr_usage_table(FILE *out, fr_usage_groups_t *groups, int functions,
    fr_usage_series_t *s)
{
    int                o;
    size_t             i;
    fr_meter_group_t  *g;

    fprintf(out, "<div class=\"scroll\"><table id=\"%s\"><thead><tr>"
            "<th class=\"c-name\">%s"
            "</th>%s<th>invocations per %s</th><th>invocations</th>"
            "<th>cold</th>",
            functions ? "functions" : "tenants",
            functions ? "function" : "tenant",
            functions ? "<th class=\"c-tenant\">tenant</th>" : "",
            s->grain == 3600 ? "hour" : "day");

    for (o = 0; o < FR_METER_OUTCOMES; o++) {
        fprintf(out, "<th>%s</th>", fr_outcome_name(o));
    }

    fprintf(out, "<th>errors</th><th>duration s</th><th>billed s</th>"
            "<th>CPU s</th><th>GB-seconds</th><th>cost</th></tr></thead>\n"
            "<tbody>\n");

    for (i = 0; i <= groups->n; i++) {
        g = groups->all[i];

        if (i == groups->n) {
            fprintf(out, "</tbody>\n<tfoot>");
        }

        fprintf(out, "<tr data-name=\"");
        fr_usage_text(out, i == groups->n ? "" : g->name);
        fprintf(out, "\"><td class=\"c-name\">");
        fr_usage_text(out, g->name);
        fprintf(out, "</td>");

        if (functions) {
            fprintf(out, "<td class=\"c-tenant\">");
            fr_usage_text(out, g->tenant ? g->tenant : "");
            fprintf(out, "</td>");
        }

        fprintf(out, "<td class=\"c-chart\">");

        if (i < groups->n
            && fr_usage_series(s, &groups->all[i], 1, 0) == FR_OK)
        {
            fr_usage_spark(out, s);
        }

        fprintf(out, "</td><td class=\"c-inv\">%llu</td>"
                "<td class=\"c-cold\">%llu</td>",
                (unsigned long long) g->invocations,
                (unsigned long long) g->cold);

        for (o = 0; o < FR_METER_OUTCOMES; o++) {
            fprintf(out, "<td class=\"c-o-%s\">%llu</td>", fr_outcome_name(o),
                    (unsigned long long) g->outcomes[o]);
        }

        fprintf(out, "<td class=\"c-errors\">%llu</td>"
                "<td class=\"c-duration\">%.3f</td>"
                "<td class=\"c-billed\">%.3f</td><td class=\"c-cpu\">%.3f</td>"
                "<td class=\"c-gbs\">%.6f</td><td class=\"c-cost\">%.6f</td>"
                "</tr>\n",
                (unsigned long long) (g->outcomes[FR_OUTCOME_TIMEOUT]
                                      + g->outcomes[FR_OUTCOME_CRASHED]
                                      + g->outcomes[FR_OUTCOME_ERROR]),
                g->duration_ms / 1000, g->billed_ms / 1000, g->cpu_ms / 1000,
                g->gb_seconds, g->cost);
    }

    fprintf(out, "</tfoot></table></div>\n");
}


/* a group's invocations over the period, as a line in its table row */

static void
fr_usage_spark(FILE *out, fr_usage_series_t *s)
{
    size_t    b;
    uint64_t  max;

    enum { W = 120, H = 18 };

    for (max = 0, b = 0; b < s->nb; b++) {
        max = s->inv[b] > max ? s->inv[b] : max;
    }

    if (s->nb == 0) {
        return;
    }

    fprintf(out, "<svg class=\"spark\" width=\"%d\" height=\"%d\">"
            "<polyline points=\"", W, H);

    for (b = 0; b < s->nb; b++) {
        fprintf(out, "%.1f,%.1f ",
                s->nb > 1 ? (double) b * (W - 2) / (s->nb - 1) + 1 : W / 2.0,
                H - 1 - (max ? (double) s->inv[b] / max * (H - 2) : 0));
    }

    fprintf(out, "\"/></svg>");
}


static void
fr_usage_charts(FILE *out, fr_usage_series_t *s)
{
    if (s->nb == 0) {
        fprintf(out, "<p class=\"meta\">no times in the log</p>\n");
        return;
    }

    fprintf(out, "<div class=\"charts\">\n");
    fr_usage_chart(out, s, 0);
    fr_usage_chart(out, s, 1);
    fr_usage_chart(out, s, 2);
    fprintf(out, "</div>\n");
}


/* kind 0: invocations (bars), 1: GB-seconds (bars), 2: p99 ms (line) */

static void
fr_usage_chart(FILE *out, fr_usage_series_t *s, int kind)
{
    size_t   b;
    char     first[32], last[32], scale[48];
    double   v, max, x, y, bw;

    static const char  *names[] = { "invocations", "GB-seconds", "p99 ms" };
    static const char  *cls[] = { "inv", "gbs", "p99" };

    enum { W = 320, H = 110, L = 4, T = 14, B = 16 };

    for (max = 0, b = 0; b < s->nb; b++) {
        v = kind == 0 ? (double) s->inv[b] : kind == 1 ? s->gbs[b]
                                                       : s->p99[b];
        max = v > max ? v : max;
    }

    fr_usage_scale(scale, sizeof(scale), max, kind);
    fr_usage_when(first, sizeof(first), s->t0, s->grain);
    fr_usage_when(last, sizeof(last),
                  s->t0 + (int64_t) (s->nb - 1) * s->grain, s->grain);

    fprintf(out, "<figure><svg class=\"chart %s\" width=\"%d\" "
            "height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\">"
            "<title>%s per %s</title>"
            "<text x=\"%d\" y=\"10\">max %s</text>"
            "<text x=\"%d\" y=\"%d\">%s</text>"
            "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%s</text>\n",
            cls[kind], W, H, W, H, names[kind],
            s->grain == 3600 ? "hour" : "day", L, scale, L, H - 4, first,
            W - L, H - 4, s->nb > 1 ? last : "");

    bw = (double) (W - 2 * L) / s->nb;

    if (kind == 2) {
        fprintf(out, "<polyline points=\"");
    }

    for (b = 0; b < s->nb; b++) {
        v = kind == 0 ? (double) s->inv[b] : kind == 1 ? s->gbs[b]
                                                       : s->p99[b];
        if (v < 0) {
            continue;
        }

        x = L + b * bw;
        y = max > 0 ? v / max * (H - T - B) : 0;

        if (kind == 2) {
            fprintf(out, "%.1f,%.1f ", x + bw / 2, H - B - y);

        } else if (y > 0) {
            fprintf(out, "<rect class=\"%s\" x=\"%.1f\" y=\"%.1f\" "
                    "width=\"%.1f\" height=\"%.1f\"/>", cls[kind], x,
                    H - B - y, bw > 2 ? bw - 1 : bw, y < 1 ? 1 : y);
        }
    }

    if (kind == 2) {
        fprintf(out, "\"/>");

        for (b = 0; b < s->nb && s->nb <= 48; b++) {
            if (s->p99[b] >= 0) {
                fprintf(out, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2\"/>",
                        L + b * bw + bw / 2,
                        H - B - (max > 0 ? s->p99[b] / max * (H - T - B)
                                         : 0));
            }
        }
    }

    fprintf(out, "</svg><figcaption>%s</figcaption></figure>\n",
            names[kind]);
}


/*
 * The scale of a chart, as one reads it: "899", "99.1 GB-s", "30002 ms";
 * the figures as many digits as tell them apart (%.6g said 99.1142 and
 * 1.01687).
 */

static void
fr_usage_scale(char *buf, size_t size, double max, int kind)
{
    int                 digits;
    static const char  *units[] = { "", " GB-s", " ms" };

    digits = max >= 100 ? 0 : max >= 10 ? 1 : max >= 1 ? 2 : 3;

    if (max > 0 && max < 0.001) {
        (void) snprintf(buf, size, "%.1e%s", max, units[kind]);
        return;
    }

    (void) snprintf(buf, size, "%.*f%s", kind == 0 ? 0 : digits, max,
                    units[kind]);
}


static void
fr_usage_when(char *buf, size_t size, int64_t t, int64_t grain)
{
    time_t     tt;
    struct tm  tm;

    tt = (time_t) t;
    gmtime_r(&tt, &tm);
    strftime(buf, size, grain >= 86400 ? "%Y-%m-%d" : "%Y-%m-%d %H:%M", &tm);
}


/*
 * Text from a log as HTML text or a quoted attribute: markup escaped,
 * UTF-8 kept, any other byte (and control characters) as U+FFFD.
 */

static void
fr_usage_text(FILE *out, const char *s)
{
    int            n, i;
    const u_char  *p;

    for (p = (const u_char *) s; *p; p++) {
        switch (*p) {
        case '&':  fputs("&amp;", out); continue;
        case '<':  fputs("&lt;", out); continue;
        case '>':  fputs("&gt;", out); continue;
        case '"':  fputs("&quot;", out); continue;
        case '\'': fputs("&#39;", out); continue;
        }

        if (*p >= 0x20 && *p < 0x7f) {
            fputc(*p, out);
            continue;
        }

        n = (*p & 0xe0) == 0xc0 && *p >= 0xc2 ? 1
            : (*p & 0xf0) == 0xe0 ? 2
            : (*p & 0xf8) == 0xf0 && *p <= 0xf4 ? 3 : 0;

        for (i = 1; i <= n; i++) {
            if ((p[i] & 0xc0) != 0x80) {
                n = 0;
                break;
            }
        }

        /* overlong three-byte forms and surrogates are not UTF-8 */
        if ((n == 2 && ((*p == 0xe0 && p[1] < 0xa0)
                        || (*p == 0xed && p[1] >= 0xa0)))
            || (n == 3 && ((*p == 0xf0 && p[1] < 0x90)
                           || (*p == 0xf4 && p[1] >= 0x90))))
        {
            n = 0;
        }

        if (n == 0) {
            fputs("\xef\xbf\xbd", out);
            continue;
        }

        fwrite(p, 1, n + 1, out);
        p += n;
    }
}


/* the highest cost first; then GB-seconds, invocations, name */

static int
fr_usage_cost_cmp(const void *a, const void *b)
{
    const fr_meter_group_t  *x = *(fr_meter_group_t **) a;
    const fr_meter_group_t  *y = *(fr_meter_group_t **) b;

    if (x->cost != y->cost) {
        return x->cost < y->cost ? 1 : -1;
    }

    if (x->gb_seconds != y->gb_seconds) {
        return x->gb_seconds < y->gb_seconds ? 1 : -1;
    }

    if (x->invocations != y->invocations) {
        return x->invocations < y->invocations ? 1 : -1;
    }

    return strcmp(x->name, y->name);
}
