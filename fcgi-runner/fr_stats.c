/*
 * Copyright (C) ngx_faas developers
 *
 * What the status shows: counters taken where things happen (here, as a
 * request ends; in the pool and the reaper, as workers start and end),
 * gathered on request into a view per function and per tenant (the
 * sums of its functions). And the writer the formats share: straight
 * into one buffer, numbers formatted by hand (no printf per sample), so
 * that a thousand functions render in a few milliseconds.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fr_cgroup.h"
#include "fr_func.h"
#include "fr_meter.h"
#include "fr_stats.h"


static void fr_view_function(fr_view_t *v, fr_func_t *f);
static void fr_view_labels(fr_view_t *v, int function);
static size_t fr_esc(char *dst, size_t size, const char *s, int json);


/* bucket bounds of the duration histogram, in microseconds */
const uint64_t  fr_bucket_us[FR_DURATION_BUCKETS] = {
    1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000,
    1000000, 2500000, 5000000, 10000000, 30000000
};

const char  *fr_bucket_le[FR_DURATION_BUCKETS] = {
    "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25",
    "0.5", "1", "2.5", "5", "10", "30"
};

const char  *fr_state_names[4] = {
    "starting", "idle", "busy", "stopping"
};

const char  *fr_stop_names[FR_STOP_MAX] = {
    [FR_STOP_NONE] = "none",
    [FR_STOP_EXITED] = "exited",
    [FR_STOP_CRASHED] = "crashed",
    [FR_STOP_FAILED] = "failed",
    [FR_STOP_IDLE] = "idle",
    [FR_STOP_RETIRED] = "retired",
    [FR_STOP_TIMEOUT] = "timeout",
    [FR_STOP_BROKEN] = "broken",
    [FR_STOP_CLIENT] = "client",
    [FR_STOP_EVICTED] = "evicted",
    [FR_STOP_RELOAD] = "reload",
    [FR_STOP_SHUTDOWN] = "shutdown"
};


/* a request ends: what it was and how long it took */

void
fr_status_count(fr_req_t *r)
{
    int          i;
    uint64_t     d;
    fr_stats_t  *s;

    if (r->state == FR_REQ_PARAMS || r->status) {
        return;
    }

    if (r->func == NULL) {
        fr_runner.unrouted++;
        return;
    }

    s = &r->func->stats;

    s->invocations[r->outcome]++;
    s->cold_starts += r->cold;

    if (r->t_assigned == 0) {
        /* it never reached a worker */
        return;
    }

    d = r->duration_us >= 0 ? (uint64_t) r->duration_us
                            : fr_current_usec - r->t_assigned;

    /* measured again from its response (fr_meter_restart): the whole */
    d += (uint64_t) r->responded_us;

    for (i = 0; i < FR_DURATION_BUCKETS && d > fr_bucket_us[i]; i++) {
        /* void */
    }

    s->duration[i]++;
    s->duration_us += d;
}


/* the views of the functions (one, or all) and of their tenants */

int
fr_views(fr_view_t **funcs, int *nfuncs, fr_view_t **tenants, int *ntenants,
    const char *only, const char *tenant)
{
    int           nf, nt, i, j;
    unsigned      gen;
    fr_link_t    *l;
    fr_func_t    *f, *g;
    fr_view_t    *fv, *tv;

    static unsigned  generation;

    gen = ++generation;
    nf = 0;

    for (l = fr_list_first(&fr_runner.funcs); l != &fr_runner.funcs;
         l = l->next)
    {
        nf++;
    }

    fv = calloc(nf + 1, sizeof(fr_view_t));
    tv = calloc(nf + 1, sizeof(fr_view_t));

    if (fv == NULL || tv == NULL) {
        free(fv);
        free(tv);
        return FR_ERROR;
    }

    nf = 0;
    nt = 0;

    for (l = fr_list_first(&fr_runner.funcs); l != &fr_runner.funcs;
         l = l->next)
    {
        f = fr_list_data(l, fr_func_t, link);

        if ((only && strcmp(f->name, only) != 0)
            || (tenant && (f->tenant == NULL || strcmp(f->tenant, tenant))))
        {
            continue;
        }

        fr_view_function(&fv[nf], f);

        /* its tenant's view: the sums of the tenant's functions */
        if (f->owner && f->owner->view_gen == gen) {
            j = f->owner->view;

        } else {
            for (j = 0; j < nt && strcmp(tv[j].name, fv[nf].tenant) != 0;
                 j++)
            {
                /* void */
            }
        }

        if (f->owner) {
            f->owner->view_gen = gen;
            f->owner->view = j;
        }

        if (j == nt) {
            tv[j].name = fv[nf].tenant;
            tv[j].tenant = fv[nf].tenant;
            tv[j].owner = f->owner;
            nt++;
        }

        fr_view_add(&tv[j], &fv[nf]);

        /*
         * one removed but still draining, whose name is loaded again (or
         * is another tenant's now): in its tenant's sums, not a row of
         * its own (two series of one name are no exposition)
         */
        g = fr_func_find((const u_char *) f->name, strlen(f->name));
        nf += (g == NULL || g == f);
    }

    for (i = 0; i < nt; i++) {
        fr_view_labels(&tv[i], 0);
        /* the kernel's count of what its processes hold (a few reads) */
        fr_cgroup_tenant_use(tv[i].owner, &tv[i].cgroup);
    }

    *funcs = fv;
    *nfuncs = nf;
    *tenants = tv;
    *ntenants = nt;

    return FR_OK;
}


static void
fr_view_function(fr_view_t *v, fr_func_t *f)
{
    int64_t       cpu, peak;
    fr_link_t    *l;
    fr_worker_t  *w;

    static const int  slot[] = {
        [FR_WORKER_NEW] = 0, [FR_WORKER_STARTING] = 0,
        [FR_WORKER_IDLE] = 1, [FR_WORKER_BUSY] = 2,
        [FR_WORKER_STOPPING] = 3
    };

    v->name = f->name;
    v->tenant = f->tenant ? f->tenant : "";
    v->mode = f->conf.mode == FR_MODE_CGI ? "cgi" : "fastcgi";
    v->owner = f->owner;
    v->conf = &f->conf;
    v->nfuncs = 1;
    v->queue = f->nqueued;
    v->queue_limit = f->conf.queue;
    v->stats = f->stats;
    v->cpu_us = f->stats.cpu_us;
    v->peak_kb = f->stats.max_memory_kb;

    for (l = fr_list_first(&f->workers); l != &f->workers; l = l->next) {
        w = fr_list_data(l, fr_worker_t, link);
        v->workers[slot[w->state]]++;

        if (w->state != FR_WORKER_NEW && !w->reaped
            && fr_meter_live(w, &cpu, &peak) == FR_OK)
        {
            v->cpu_us += (uint64_t) cpu;
            v->peak_kb = peak > v->peak_kb ? peak : v->peak_kb;
        }
    }

    fr_view_labels(v, 1);
}


/* a function's figures into its tenant's */

void
fr_view_add(fr_view_t *t, const fr_view_t *v)
{
    int  i;

    t->nfuncs++;
    t->queue += v->queue;
    t->queue_limit += v->queue_limit;
    t->cpu_us += v->cpu_us;
    t->peak_kb = v->peak_kb > t->peak_kb ? v->peak_kb : t->peak_kb;

    for (i = 0; i < 4; i++) {
        t->workers[i] += v->workers[i];
    }

    for (i = 0; i < FR_OUTCOME_MAX; i++) {
        t->stats.invocations[i] += v->stats.invocations[i];
    }

    for (i = 0; i <= FR_DURATION_BUCKETS; i++) {
        t->stats.duration[i] += v->stats.duration[i];
    }

    for (i = 0; i < FR_STOP_MAX; i++) {
        t->stats.stops[i] += v->stats.stops[i];
    }

    t->stats.duration_us += v->stats.duration_us;
    t->stats.cold_starts += v->stats.cold_starts;
    t->stats.starts += v->stats.starts;
    t->stats.start_us += v->stats.start_us;
    t->stats.start_failures += v->stats.start_failures;
}


/* function="…",tenant="…" (or tenant="…"), escaped, once per view */

static void
fr_view_labels(fr_view_t *v, int function)
{
    char    *p, *last;

    p = v->labels;
    last = v->labels + sizeof(v->labels);

    if (function) {
        p += fr_esc(p, last - p, "function=\"", -1);
        p += fr_esc(p, last - p, v->name, 0);
        p += fr_esc(p, last - p, "\",", -1);
    }

    p += fr_esc(p, last - p, "tenant=\"", -1);
    p += fr_esc(p, last - p, v->tenant, 0);
    p += fr_esc(p, last - p, "\"", -1);
    *p = '\0';
}


/*
 * s into dst as a label value (json 0) or JSON string body (json 1),
 * or verbatim (json -1); what does not fit is cut. Returns the length.
 */

static size_t
fr_esc(char *dst, size_t size, const char *s, int json)
{
    char    c, *p, *last;

    static const char  hex[] = "0123456789abcdef";

    p = dst;
    last = dst + size - 1;

    for ( /* void */ ; *s && p < last; s++) {
        c = *s;

        if (json < 0 || (c != '\\' && c != '"' && (u_char) c >= 0x20)) {
            *p++ = c;
            continue;
        }

        if (last - p < 6) {
            break;
        }

        *p++ = '\\';

        if (c == '\\' || c == '"') {
            *p++ = c;

        } else if (c == '\n') {
            *p++ = 'n';

        } else if (json) {
            p += sprintf(p, "u00%c%c", hex[(c >> 4) & 0xf], hex[c & 0xf]);

        } else {
            /* a label value knows only \\, \" and \n */
            p[-1] = '?';
        }
    }

    *p = '\0';

    return p - dst;
}


/* --- output ------------------------------------------------------------ */

void
fr_out(fr_out_t *o, const char *s, size_t n)
{
    fr_buf_t  *b;

    b = o->b;

    if (b->start + b->len + n <= b->cap) {
        /* the common case: room, as the buffer was sized to the need */
        memcpy(b->data + b->start + b->len, s, n);
        b->len += n;
        return;
    }

    if (!o->failed && fr_buf_append(b, s, n) != FR_OK) {
        o->failed = 1;
    }
}


void
fr_outs(fr_out_t *o, const char *s)
{
    fr_out(o, s, strlen(s));
}


void
fr_out_u64(fr_out_t *o, uint64_t v)
{
    char   buf[24], *p;

    p = buf + sizeof(buf);

    do {
        *--p = (char) ('0' + v % 10);
        v /= 10;
    } while (v);

    fr_out(o, p, buf + sizeof(buf) - p);
}


void
fr_out_i64(fr_out_t *o, int64_t v)
{
    if (v < 0) {
        fr_out(o, "-", 1);
        v = -v;
    }

    fr_out_u64(o, (uint64_t) v);
}


/*
 * A figure of the whole host (connections, all workers, reloads, the
 * store's invocations of every tenant): in a tenant's view (a provider
 * shows a customer its own, &tenant=) none: null in JSON, else "-".
 */

void
fr_out_host(fr_out_t *o, uint64_t v)
{
    if (o->scoped) {
        fr_outs(o, (o->format == FR_FORMAT_JSON) ? "null" : "-");
        return;
    }

    fr_out_u64(o, v);
}


/* microseconds as seconds: 1.5, 0.000012, 3 */

void
fr_out_sec(fr_out_t *o, uint64_t usec)
{
    int   n;
    char  frac[8];

    fr_out_u64(o, usec / 1000000);

    usec %= 1000000;
    if (usec == 0) {
        return;
    }

    frac[0] = '.';
    for (n = 6; n > 0; n--) {
        frac[n] = (char) ('0' + usec % 10);
        usec /= 10;
    }

    for (n = 6; frac[n] == '0'; n--) {
        /* void */
    }

    fr_out(o, frac, n + 1);
}


void
fr_out_esc(fr_out_t *o, const char *s, int json)
{
    char  buf[512];

    fr_out(o, buf, fr_esc(buf, sizeof(buf), s, json));
}


/*
 * Microseconds of the monotonic clock: less fr_runner.started_mono, the
 * runner's uptime (the wall clock set back made it wrap to 1.8e13 s)
 */

uint64_t
fr_uptime_usec(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);

    return (uint64_t) ts.tv_sec * 1000000 + (uint64_t) ts.tv_nsec / 1000
           - fr_runner.started_mono;
}
