/*
 * Copyright (C) ngx_faas developers
 *
 * fcgi-runner meter: the offline report of what was metered.
 */

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "faas_protocol.h"
#include "fr_log.h"
#include "fr_meter.h"
#include "fr_report.h"
#include "fr_report_open.h"
#include "fr_report_print.h"
#include "fr_usage.h"


/*
 * fcgi-runner meter: reads access logs written with the faas_meter format
 * (logfmt "key=value"; other keys and other lines skipped) and reports
 * per function or per tenant.
 */

#define FR_METER_BUCKETS  4096

/* by function, the row of the names no tenant has (no function's name) */
#define FR_METER_UNKNOWN  "(unknown)"

/* the times a line may have: from 2000, to a day after now */
#define FR_METER_TIME_MIN    946684800
#define FR_METER_TIME_AHEAD  86400

/* fr_meter_group_t: in fr_usage.h, the HTML report reads it */

typedef struct fr_meter_report_s  fr_meter_report_t;

struct fr_meter_report_s {
    fr_meter_group_t      *buckets[FR_METER_BUCKETS];
    fr_meter_group_t     **sorted;
    size_t                 ngroups;
    uint64_t               lines;
    uint64_t               skipped;
    uint64_t               unmetered;       /* of them: outcome=- */
    uint64_t               unpriced;        /* no billed or memory_size */
    int                    by_tenant;
    int                    samples;         /* keep them, for charts */
    fr_meter_report_t     *twin;            /* html: by the other key */
};


/* a key of the format, its length counted once (strlen() of each key
 * at each pair was a fifth of a report's time) */
typedef struct {
    const char            *data;
    size_t                 len;
} fr_str_t;

#define fr_string(s)  { s, sizeof(s) - 1 }


/* what one line says */
typedef struct {
    const char            *group;
    size_t                 glen;
    const char            *outcome;
    size_t                 olen;
    double                 duration;
    double                 billed;
    double                 cpu;
    double                 memsize;
    unsigned               cold:1;
    unsigned               after:1;         /* trigger=after_response,
                                               idle */
    unsigned               unrun:1;         /* duration=-: no worker */
    unsigned               stopped:1;       /* trigger=shutdown */
    const char            *tenant;          /* of the function */
    size_t                 tlen;
    int64_t                time;            /* -1: none */
} fr_meter_entry_t;


static int fr_meter_read(fr_meter_report_t *rep, const char *file);
static void fr_meter_line(fr_meter_report_t *rep, char *line);
static int fr_meter_format_key(const char *key, size_t len);
static int fr_meter_key_bit(const char *key, size_t len);
static void fr_meter_add(fr_meter_report_t *rep, fr_meter_entry_t *e);
static fr_meter_group_t *fr_meter_group(fr_meter_report_t *rep,
    const char *name, size_t len);
static int fr_meter_print(fr_meter_report_t *rep, const char *format,
    double price_gbs, double price_mreq);
static fr_meter_group_t **fr_meter_collect(fr_meter_report_t *rep,
    double price_gbs, double price_mreq, fr_meter_group_t *total);
static int fr_meter_html(fr_meter_report_t *rep, double price_gbs,
    double price_mreq);
static void fr_meter_usage(FILE *out);
static void fr_meter_free(fr_meter_report_t *rep);


static int64_t  fr_meter_now;           /* the report's, for its times */


static void
fr_meter_usage(FILE *out)
{
    fprintf(out,
        "usage: fcgi-runner meter [--by function|tenant] "
        "[--format table|json|csv|html]\n"
        "                         [--price-gb-second P] "
        "[--price-million-requests P] LOG...\n");
}


int
fr_meter_main(int argc, char **argv)
{
    int                 i, rc, read;
    char               *end, why[160];
    double              price_gbs, price_mreq;
    const char         *format;
    fr_meter_report_t  *rep;

    rep = calloc(1, sizeof(fr_meter_report_t));
    if (rep == NULL) {
        return 1;
    }

    format = "table";
    price_gbs = 0;
    price_mreq = 0;
    rc = 0;
    why[0] = '\0';

    for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {

        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fr_meter_usage(stdout);
            fr_meter_free(rep);
            return 0;
        }

        if (strncmp(argv[i], "--", 2) != 0 || strchr(argv[i], '=')
            || (strcmp(argv[i], "--by") && strcmp(argv[i], "--format")
                && strcmp(argv[i], "--price-gb-second")
                && strcmp(argv[i], "--price-million-requests")))
        {
            snprintf(why, sizeof(why), "unknown option \"%.64s\"%s",
                     argv[i], strchr(argv[i], '=') ? " (an option and its "
                     "value are two words)" : "");
            goto usage;
        }

        if (i + 1 >= argc) {
            snprintf(why, sizeof(why), "%s takes a value", argv[i]);
            goto usage;
        }

        if (strcmp(argv[i], "--by") == 0) {
            i++;
            if (strcmp(argv[i], "tenant") == 0) {
                rep->by_tenant = 1;

            } else if (strcmp(argv[i], "function") != 0) {
                snprintf(why, sizeof(why), "invalid --by \"%.64s\": "
                         "function or tenant", argv[i]);
                goto usage;
            }

        } else if (strcmp(argv[i], "--format") == 0) {
            format = argv[++i];
            if (strcmp(format, "table") && strcmp(format, "json")
                && strcmp(format, "csv") && strcmp(format, "html"))
            {
                snprintf(why, sizeof(why), "invalid --format \"%.64s\": "
                         "table, json, csv or html", format);
                goto usage;
            }

        } else if (strcmp(argv[i], "--price-gb-second") == 0
                   || strcmp(argv[i], "--price-million-requests") == 0)
        {
            double  *p = argv[i][8] == 'g' ? &price_gbs : &price_mreq;

            /* a price: a decimal number (1e-5 too), none of nan, inf, a
             * sign, hexadecimal, blanks, nothing */
            i++;
            *p = strtod(argv[i], &end);
            if (!(isdigit((u_char) argv[i][0]) || argv[i][0] == '.')
                || strspn(argv[i], "0123456789.eE-") != strlen(argv[i])
                || *end != '\0' || !(*p >= 0 && *p <= 1e9))
            {
                snprintf(why, sizeof(why), "invalid %s \"%.64s\": a "
                         "decimal number from 0 to 1000000000",
                         argv[i - 1], argv[i]);
                goto usage;
            }
        }
    }

    if (i == argc) {
        snprintf(why, sizeof(why), "no log named (\"-\": stdin)");
        goto usage;
    }

    if (strcmp(format, "html") == 0) {
        /* per function and per tenant at once, over time */
        rep->twin = calloc(1, sizeof(fr_meter_report_t));
        if (rep->twin == NULL) {
            return 1;
        }

        rep->by_tenant = 0;
        rep->samples = 1;
        rep->twin->by_tenant = 1;
        rep->twin->samples = 1;
    }

    for (read = 0; i < argc; i++) {
        if (fr_meter_read(rep, argv[i]) != FR_OK) {
            rc = 1;
            continue;
        }

        read++;
    }

    /* as cat(1): what could be read, the others said; none, no table */
    if (read && fr_meter_print(rep, format, price_gbs, price_mreq) != FR_OK)
    {
        fprintf(stderr, "fcgi-runner: out of memory: no report\n");
        rc = 1;
    }

    fr_meter_free(rep->twin);
    fr_meter_free(rep);

    return rc;

usage:

    fprintf(stderr, "fcgi-runner meter: %s\n", why);
    fr_meter_usage(stderr);
    fr_meter_free(rep);
    return 2;
}


static int
fr_meter_read(fr_meter_report_t *rep, const char *file)
{
    int              err;
    FILE            *f;
    ssize_t          n;
    uint64_t         overlong;
    fr_report_in_t  *in;

    f = fr_report_open(file);

    if (f == NULL) {
        fprintf(stderr, "fcgi-runner: cannot open \"%s\": %s\n", file,
                strerror(errno));
        return FR_ERROR;
    }

    in = malloc(sizeof(fr_report_in_t));

    if (in == NULL) {
        fclose(f);
        fprintf(stderr, "fcgi-runner: cannot read \"%s\": %s\n", file,
                strerror(ENOMEM));
        return FR_ERROR;
    }

    in->file = f;
    in->pos = 0;
    in->end = 0;
    overlong = 0;

    while ((n = fr_report_line(in)) != -1) {

        if (n == -2) {
            /* a line none of the format writes */
            rep->lines++;
            rep->skipped++;
            overlong++;

            if (rep->twin) {
                rep->twin->lines++;
                rep->twin->skipped++;
            }

            continue;
        }

        if (n == -3) {
            /* what a read error (a gzip cut short) left of its last
             * line: a fragment, never billed as an invocation */
            break;
        }

        fr_meter_line(rep, in->line);

        if (rep->twin) {
            fr_meter_line(rep->twin, in->line);
        }
    }

    /* a folder, a read error: said, not an empty log */
    err = ferror(f) ? (errno ? errno : EIO) : 0;

    free(in);

    fclose(f);

    if (overlong) {
        fprintf(stderr, "fcgi-runner: \"%s\": %llu line(s) over %d bytes "
                "skipped\n", file, (unsigned long long) overlong,
                FR_REPORT_LINE_MAX);
    }

    if (err) {
        fprintf(stderr, "fcgi-runner: cannot read \"%s\": %s\n", file,
                strerror(err));
        return FR_ERROR;
    }

    return FR_OK;
}


/* which of the keys read a line's figures is, -1: none */

static int
fr_meter_key_bit(const char *key, size_t len)
{
    int  i;

    static const fr_str_t  keys[] = {
        fr_string("function"), fr_string("tenant"), fr_string("time"),
        fr_string("outcome"), fr_string("duration"), fr_string("billed"),
        fr_string("cpu"), fr_string("memory_size"), fr_string("trigger"),
        fr_string("cold")
    };

    for (i = 0; i < (int) (sizeof(keys) / sizeof(keys[0])); i++) {
        if (keys[i].len == len && memcmp(keys[i].data, key, len) == 0) {
            return i;
        }
    }

    return -1;
}


/* a key of the faas_meter format (README), or of meter_log's lines */

static int
fr_meter_format_key(const char *key, size_t len)
{
    int  i;

    static const fr_str_t  more[] = {
        fr_string("status"), fr_string("init"), fr_string("memory"),
        fr_string("queue"), fr_string("worker"), fr_string("id")
    };

    if (fr_meter_key_bit(key, len) >= 0) {
        return 1;
    }

    for (i = 0; i < (int) (sizeof(more) / sizeof(more[0])); i++) {
        if (more[i].len == len && memcmp(more[i].data, key, len) == 0) {
            return 1;
        }
    }

    return 0;
}


/* one access log line: its figures added to its function's (tenant's) */

static void
fr_meter_line(fr_meter_report_t *rep, char *line)
{
    int                named, bit, bad, rc, o;
    char              *p;
    double             cold;
    unsigned           seen;
    fr_report_pair_t    kv;
    fr_meter_entry_t   e;

    rep->lines++;

    if (fr_meter_now == 0) {
        /* once a report: its lines are judged against the same now */
        fr_meter_now = (int64_t) time(NULL);
    }

    memset(&e, 0, sizeof(e));
    e.time = -1;
    named = 0;
    cold = 0;
    seen = 0;
    bad = 0;

    /*
     * A line of the format begins with one of its keys: one of another
     * format (combined: an address first) has its pairs in what clients
     * chose (a User-Agent of "function=shop tenant=victim outcome=ok
     * duration=1 billed=999999999 ..."), each key there a first one
     */
    p = line + strspn(line, " \t");

    if (!fr_report_pair_next(&p, &kv) || kv.key != line + strspn(line, " \t")
        || !fr_meter_format_key(kv.key, kv.klen))
    {
        rep->skipped++;
        return;
    }

    for (p = line; fr_report_pair_next(&p, &kv); ) {

        /*
         * The first of a key is the format's: one repeated later is in
         * a value a client or a function chose (a header logged after
         * them), there to be taken for the runner's figures
         */
        bit = fr_meter_key_bit(kv.key, kv.klen);

        if (bit >= 0 && (seen & (1u << bit))) {
            continue;
        }

        seen |= (bit >= 0) ? 1u << bit : 0;

#define fr_key(s)  (kv.klen == sizeof(s) - 1 && memcmp(kv.key, s, kv.klen) == 0)

        if (fr_key("function")) {
            if (!rep->by_tenant) {
                e.group = kv.val;
                e.glen = kv.vlen;
            }

            /* a line of the format names a function; nginx logs "-" */
            named |= kv.vlen && !(kv.vlen == 1 && *kv.val == '-');

        } else if (fr_key("tenant")) {
            if (rep->by_tenant) {
                e.group = kv.val;
                e.glen = kv.vlen;
            }

            e.tenant = kv.val;
            e.tlen = kv.vlen;

        } else if (fr_key("time")) {
            e.time = fr_usage_time(kv.val, kv.vlen);

        } else if (fr_key("outcome")) {
            e.outcome = kv.val;
            e.olen = kv.vlen;

        } else if (fr_key("duration")) {
            rc = fr_report_value(kv.val, kv.vlen, &e.duration);
            bad |= (rc == FR_ERROR);
            e.unrun = (rc == FR_DECLINED);

        } else if (fr_key("billed")) {
            bad |= (fr_report_value(kv.val, kv.vlen, &e.billed) == FR_ERROR);

        } else if (fr_key("cpu")) {
            bad |= (fr_report_value(kv.val, kv.vlen, &e.cpu) == FR_ERROR);

        } else if (fr_key("memory_size")) {
            bad |= (fr_report_value(kv.val, kv.vlen, &e.memsize)
                    == FR_ERROR);

        } else if (fr_key("trigger")) {
            /* a worker's CPU between invocations (idle), and what a run
             * cut by a fast stop used (nginx's 502 line counts it), are
             * billed as what one did after its response: no invocation */
            e.stopped = (kv.vlen == 8 && memcmp(kv.val, "shutdown", 8) == 0);
            e.after = (kv.vlen == 14 && memcmp(kv.val, "after_response", 14)
                       == 0)
                      || (kv.vlen == 4 && memcmp(kv.val, "idle", 4) == 0)
                      || e.stopped;

        } else if (fr_key("cold")) {
            if (fr_report_value(kv.val, kv.vlen, &cold) != FR_OK) {
                cold = 0;
            }
        }

#undef fr_key
    }

    for (o = 0; e.outcome && o < FR_METER_OUTCOMES; o++) {
        if (strlen(fr_outcome_name(o)) == e.olen
            && memcmp(fr_outcome_name(o), e.outcome, e.olen) == 0)
        {
            break;
        }
    }

    if (!named || bad || o == FR_METER_OUTCOMES || e.outcome == NULL
        || !(seen & (1u << fr_meter_key_bit("duration", 8)))
        || ((seen & (1u << fr_meter_key_bit("time", 4)))
            && (e.time < FR_METER_TIME_MIN
                || e.time > fr_meter_now + FR_METER_TIME_AHEAD)))
    {
        /*
         * Not the format's (no outcome or duration, an outcome neither
         * the runner nor nginx writes, a time that is none or no run
         * had: one line of 1970 made the report's period years), or
         * nginx's line of a request the runner sent no measurements for
         * ("-"): its client left before they came, and the runner
         * metered it in meter_log; or it never ran.
         */
        rep->skipped++;
        rep->unmetered += named && !bad && e.outcome && e.olen == 1
                          && *e.outcome == '-';
        return;
    }

    e.cold = (cold == 1);

    /* counted, billed 0: a format of the operator's without them */
    rep->unpriced += !(seen & (1u << fr_meter_key_bit("billed", 6)))
                     || !(seen & (1u << fr_meter_key_bit("memory_size", 11)));

    fr_meter_add(rep, &e);
}


static void
fr_meter_add(fr_meter_report_t *rep, fr_meter_entry_t *e)
{
    int                i;
    fr_meter_group_t  *g;

    if (e->group == NULL || e->glen == 0) {
        /* by tenant: an unknown function has none, "-" */
        e->group = "-";
        e->glen = 1;

    } else if (!rep->by_tenant && e->tenant
               && (e->tlen == 0 || (e->tlen == 1 && *e->tenant == '-')))
    {
        /*
         * By function: a name no tenant has (the runner knew no such
         * function, or never answered) is the client's choice, one row
         * for all of them: a row each made a million 404s of random
         * names a report of a million rows, minutes and hundreds of MB
         */
        e->group = FR_METER_UNKNOWN;
        e->glen = sizeof(FR_METER_UNKNOWN) - 1;
    }

    g = fr_meter_group(rep, e->group, e->glen);
    if (g == NULL) {
        rep->skipped++;
        return;
    }

    if (!rep->by_tenant && g->tenant == NULL && e->tenant && e->tlen) {
        g->tenant = strndup(e->tenant, e->tlen);
    }

    if (e->after) {
        /* what an invocation did after its response (meter_log): billed
         * with it, not an invocation of its own, nor in the charts */
        g->duration_ms += e->duration;
        g->billed_ms += e->billed;
        g->cpu_ms += e->cpu;
        g->gb_seconds += e->memsize / (1024.0 * 1024.0) * e->billed / 1000.0;

        /* its client was answered: a fault after is counted apart */
        if (!e->stopped
            && (e->outcome == NULL || e->olen != 2
                || memcmp(e->outcome, "ok", 2) != 0))
        {
            g->after_faults++;
        }

        return;
    }

    for (i = 0; e->outcome && i < FR_METER_OUTCOMES; i++) {
        if (strlen(fr_outcome_name(i)) == e->olen
            && memcmp(fr_outcome_name(i), e->outcome, e->olen) == 0)
        {
            g->outcomes[i]++;
            break;
        }
    }

    if (i == FR_OUTCOME_ACCEPTED) {
        /* the 202 of an async invocation: counted apart, never billed;
         * its run is a line of its own (meter_log) */
        return;
    }

    /* the runner answered before a worker took it, or nginx never got
     * to the runner: no function ran it (as not_found, throttled) */
    g->unrun += e->unrun && i != FR_OUTCOME_NOT_FOUND
                && i != FR_OUTCOME_THROTTLED;

    g->invocations++;
    g->cold += e->cold;
    g->duration_ms += e->duration;
    g->billed_ms += e->billed;
    g->cpu_ms += e->cpu;
    g->gb_seconds += e->memsize / (1024.0 * 1024.0) * e->billed / 1000.0;

    /* charts: what ran, not what clients typed (a million 404s of
     * random names were 50 MB of samples, when each run was kept) */
    if (rep->samples && !e->unrun
        && fr_usage_sample(g, e->time, e->duration,
                           e->memsize / (1024.0 * 1024.0) * e->billed
                           / 1000.0)
           != FR_OK)
    {
        rep->skipped++;
    }
}


static fr_meter_group_t *
fr_meter_group(fr_meter_report_t *rep, const char *name, size_t len)
{
    size_t             i;
    uint32_t           h;
    fr_meter_group_t  *g;

    for (h = 2166136261u, i = 0; i < len; i++) {
        h = (h ^ (u_char) name[i]) * 16777619u;
    }

    h %= FR_METER_BUCKETS;

    for (g = rep->buckets[h]; g; g = g->next) {
        if (strncmp(g->name, name, len) == 0 && g->name[len] == '\0') {
            return g;
        }
    }

    g = calloc(1, sizeof(fr_meter_group_t));
    if (g == NULL) {
        return NULL;
    }

    g->name = strndup(name, len);
    if (g->name == NULL) {
        free(g);
        return NULL;
    }

    g->next = rep->buckets[h];
    rep->buckets[h] = g;
    rep->ngroups++;

    return g;
}


static int
fr_meter_cmp(const void *a, const void *b)
{
    int          ux, uy;
    const char  *x, *y;

    x = (*(fr_meter_group_t **) a)->name;
    y = (*(fr_meter_group_t **) b)->name;

    /* the names, then the row of those no tenant has */
    ux = (strcmp(x, FR_METER_UNKNOWN) == 0);
    uy = (strcmp(y, FR_METER_UNKNOWN) == 0);

    return (ux != uy) ? ux - uy : strcmp(x, y);
}


/* the groups by name, then their total (all[ngroups]), costs set */

static fr_meter_group_t **
fr_meter_collect(fr_meter_report_t *rep, double price_gbs, double price_mreq,
    fr_meter_group_t *total)
{
    size_t             i, n, w;
    fr_meter_group_t  *g, **all;

    all = calloc(rep->ngroups + 1, sizeof(fr_meter_group_t *));
    if (all == NULL) {
        return NULL;
    }

    n = 0;
    for (i = 0; i < FR_METER_BUCKETS; i++) {
        for (g = rep->buckets[i]; g; g = g->next) {
            all[n++] = g;
        }
    }

    qsort(all, n, sizeof(fr_meter_group_t *), fr_meter_cmp);

    memset(total, 0, sizeof(fr_meter_group_t));
    /* no function's nor tenant's name: one named "total" is a row of
     * its own (a tenant's function "total" read as the total) */
    total->name = "(total)";

    for (i = 0; i < n; i++) {
        g = all[i];
        total->invocations += g->invocations;
        total->cold += g->cold;
        total->duration_ms += g->duration_ms;
        total->billed_ms += g->billed_ms;
        total->cpu_ms += g->cpu_ms;
        total->gb_seconds += g->gb_seconds;
        total->after_faults += g->after_faults;
        total->unrun += g->unrun;
        for (w = 0; w < FR_METER_OUTCOMES; w++) {
            total->outcomes[w] += g->outcomes[w];
        }
    }

    all[n] = total;

    for (i = 0; i <= n; i++) {
        g = all[i];
        /* a request the function never ran (unknown, throttled, no
         * worker took it) costs nothing */
        g->cost = g->gb_seconds * price_gbs
                  + (g->invocations - g->outcomes[FR_OUTCOME_NOT_FOUND]
                     - g->outcomes[FR_OUTCOME_THROTTLED] - g->unrun)
                    / 1e6 * price_mreq;
    }

    return all;
}


static int
fr_meter_print(fr_meter_report_t *rep, const char *format, double price_gbs,
    double price_mreq)
{
    size_t             n;
    fr_meter_group_t   total, **all;
    const char        *what;

    if (rep->unpriced) {
        fprintf(stderr, "fcgi-runner: %llu of %llu line(s) with no billed= "
                "or no memory_size=, billed as 0 (the faas_meter format "
                "writes both)\n", (unsigned long long) rep->unpriced,
                (unsigned long long) rep->lines);
    }

    if (strcmp(format, "html") == 0) {
        return fr_meter_html(rep, price_gbs, price_mreq);
    }

    all = fr_meter_collect(rep, price_gbs, price_mreq, &total);
    if (all == NULL) {
        return FR_ERROR;
    }

    n = rep->ngroups;

    what = rep->by_tenant ? "tenant" : "function";

    if (strcmp(format, "csv") == 0) {
        fr_meter_csv(all, n, what);

    } else if (strcmp(format, "json") == 0) {
        fr_meter_json(all, n, what, rep->lines, rep->skipped,
                      rep->unmetered);

    } else {
        fr_meter_table(all, n, what, rep->lines, rep->skipped,
                       rep->unmetered);
    }

    if (rep->skipped && strcmp(format, "table") != 0) {
        fprintf(stderr, "fcgi-runner: %llu of %llu line(s) skipped (%llu "
                "with outcome=-)\n", (unsigned long long) rep->skipped,
                (unsigned long long) rep->lines,
                (unsigned long long) rep->unmetered);
    }

    free(all);

    return FR_OK;
}


/* html: both groupings (rep by function, its twin by tenant) and charts */

static int
fr_meter_html(fr_meter_report_t *rep, double price_gbs, double price_mreq)
{
    int               rc;
    fr_usage_t        u;
    fr_meter_group_t  ftotal, ttotal;

    memset(&u, 0, sizeof(fr_usage_t));

    u.functions.all = fr_meter_collect(rep, price_gbs, price_mreq, &ftotal);
    u.functions.n = rep->ngroups;
    u.tenants.all = fr_meter_collect(rep->twin, price_gbs, price_mreq,
                                     &ttotal);
    u.tenants.n = rep->twin->ngroups;
    u.lines = rep->lines;
    u.skipped = rep->skipped;
    u.price_gbs = price_gbs;
    u.price_mreq = price_mreq;

    rc = (u.functions.all && u.tenants.all) ? fr_usage_html(stdout, &u)
                                            : FR_ERROR;

    if (rep->skipped) {
        fprintf(stderr, "fcgi-runner: %llu of %llu line(s) skipped\n",
                (unsigned long long) rep->skipped,
                (unsigned long long) rep->lines);
    }

    free(u.functions.all);
    free(u.tenants.all);

    return rc;
}


static void
fr_meter_free(fr_meter_report_t *rep)
{
    size_t             i;
    fr_meter_group_t  *g, *next;

    if (rep == NULL) {
        return;
    }

    for (i = 0; i < FR_METER_BUCKETS; i++) {
        for (g = rep->buckets[i]; g; g = next) {
            next = g->next;
            free(g->name);
            free(g->tenant);
            fr_usage_free(g);
            free(g);
        }
    }

    free(rep);
}
