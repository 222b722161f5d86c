/*
 * Copyright (C) ngx_faas developers
 *
 * The runner's status, asked for by a FastCGI request with FAAS_STATUS
 * (nginx's faas_status, or fcgi-runner status): JSON, Prometheus text,
 * OpenMetrics, a table for a terminal or the dashboard page (HTML), for
 * all functions or one.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <unistd.h>

#include "fr_dashboard.h"
#include "fr_meter.h"
#include "fr_metrics.h"
#include "fr_status.h"
#include "fr_store.h"


static void fr_render_json(fr_out_t *o, fr_view_t *fv, int nf,
    fr_view_t *tv, int nt);
static void fr_render_json_sums(fr_out_t *o, const fr_view_t *all);
static void fr_render_json_counts(fr_out_t *o, const fr_view_t *v, int lead);
static void fr_render_json_outcomes(fr_out_t *o, const fr_view_t *v);
static void fr_render_json_usage(fr_out_t *o, const fr_view_t *v,
    uint64_t count);
static void fr_render_json_cgroup(fr_out_t *o, const fr_cgroup_use_t *u);
static void fr_render_json_view(fr_out_t *o, const fr_view_t *v,
    int tenant);
static void fr_render_table(fr_out_t *o, fr_view_t *fv, int nf);
static int fr_view_cmp(const void *a, const void *b);
static size_t fr_status_decode(const char *s, size_t len, char *out,
    size_t size);
static fr_format_e fr_status_accept(const char *s, size_t len);
static int fr_status_range(const char *r, size_t len, fr_format_e f);
static double fr_status_q(const char *s, size_t len);
static int fr_status_hex(char c);


/*
 * QUERY_STRING: format=json|prometheus|openmetrics|table|html,
 * function=NAME for one function (and its tenant), tenant=NAME for one
 * tenant's functions (a provider shows a customer its own); keys and
 * values %-decoded. Without a format, the one the client's Accept
 * (HTTP_ACCEPT) prefers.
 */

void
fr_status_render(const u_char *query, size_t len, const u_char *accept,
    size_t accept_len, const u_char *only_tenant, size_t only_len,
    fr_status_reply_t *reply)
{
    int           nf, nt, asked;
    char          only[FR_NAME_MAX + 1], tenant[FR_NAME_MAX + 1];
    char          key[16], val[FR_NAME_MAX + 2], *name;
    size_t        n, k;
    fr_out_t      o;
    fr_view_t    *fv, *tv;
    const char   *p, *e, *end, *v;
    const char   *why;
    fr_format_e   format, f;

    static const char  *formats[] = {
        "json", "prometheus", "openmetrics", "table", "html"
    };

    static const char  *types[] = {
        "application/json",
        "text/plain; version=0.0.4; charset=utf-8",
        "application/openmetrics-text; version=1.0.0; charset=utf-8",
        "text/plain; charset=utf-8",
        "text/html; charset=utf-8"
    };

    format = FR_FORMAT_JSON;
    asked = 0;
    only[0] = '\0';
    tenant[0] = '\0';
    reply->status = 200;
    why = "format: json, prometheus, openmetrics, table or html\n";

    end = (const char *) query + len;

    for (p = (const char *) query; query && p < end; p = e + 1) {
        e = memchr(p, '&', end - p);
        e = e ? e : end;
        v = memchr(p, '=', e - p);
        k = fr_status_decode(p, (v ? v : e) - p, key, sizeof(key));
        n = v ? fr_status_decode(v + 1, e - v - 1, val, sizeof(val)) : 0;

        if (k == 6 && memcmp(key, "format", 6) == 0) {
            for (f = 0; f <= FR_FORMAT_HTML; f++) {
                if (strlen(formats[f]) == n && memcmp(formats[f], val, n) == 0)
                {
                    break;
                }
            }

            /* twice: the last (a location may add one to a client's) */
            if (f > FR_FORMAT_HTML) {
                reply->status = 400;
            }

            format = f;
            asked = 1;

        } else if ((k == 8 && memcmp(key, "function", 8) == 0)
                   || (k == 6 && memcmp(key, "tenant", 6) == 0))
        {
            name = (*key == 'f') ? only : tenant;

            if (*key == 'f' ? !fr_name_valid((const u_char *) val, n)
                            : !fr_tenant_valid((const u_char *) val, n))
            {
                reply->status = (reply->status == 400) ? 400 : 404;
                n = 0;
            }

            if (name[0] != '\0'
                && (strlen(name) != n || memcmp(name, val, n) != 0))
            {
                /* twice, two names: which one a location set and which
                 * a client added is not known, so neither is shown */
                reply->status = 400;
                why = "one function and one tenant at most\n";
                continue;
            }

            memcpy(name, val, n);
            name[n] = '\0';
        }
    }

    if (!asked && accept) {
        format = fr_status_accept((const char *) accept, accept_len);
    }

    /* nginx's faas_tenant: that tenant's view, whatever is asked */
    if (only_tenant && reply->status == 200) {
        if (!fr_tenant_valid(only_tenant, only_len)
            || (tenant[0] && (strlen(tenant) != only_len
                              || memcmp(tenant, only_tenant, only_len))))
        {
            reply->status = 404;

        } else {
            memcpy(tenant, only_tenant, only_len);
            tenant[only_len] = '\0';
        }
    }

    o.b = &reply->body;
    o.failed = 0;
    o.format = format;
    o.scoped = (tenant[0] != '\0');
    reply->headers = "Cache-Control: no-store\r\nVary: Accept\r\n";

    if (reply->status != 200) {
        reply->content_type = "text/plain; charset=utf-8";
        fr_outs(&o, reply->status == 400 ? why
                                         : "no such function or tenant\n");
        return;
    }

    reply->content_type = types[format];

    if (fr_views(&fv, &nf, &tv, &nt, only[0] ? only : NULL,
                 tenant[0] ? tenant : NULL) != FR_OK)
    {
        reply->status = 500;
        return;
    }

    /* sized once: no copies as it grows (per function, about 3.6 KiB of
     * metrics, 0.7 KiB of JSON) */
    (void) fr_buf_reserve(o.b, (size_t) (nf + nt + 4)
                               * (format == FR_FORMAT_JSON ? 1024 : 4096));

    if ((only[0] || tenant[0]) && nf == 0) {
        reply->status = 404;
        reply->content_type = "text/plain; charset=utf-8";
        fr_outs(&o, "no such function or tenant\n");

    } else if (format == FR_FORMAT_JSON) {
        fr_render_json(&o, fv, nf, tv, nt);

    } else if (format == FR_FORMAT_TABLE) {
        fr_render_table(&o, fv, nf);

    } else if (format == FR_FORMAT_HTML) {
        /* the page may run its own script and fetch the status, no more */
        reply->headers = "Cache-Control: no-store\r\nVary: Accept\r\n"
                         "X-Content-Type-Options: nosniff\r\n"
                         "Content-Security-Policy: default-src 'none'; "
                         "script-src 'unsafe-inline'; "
                         "style-src 'unsafe-inline'; connect-src 'self'\r\n";
        fr_dashboard_render(&o, fv, nf, tv, nt);

    } else {
        fr_metrics_render(&o, fv, nf, tv, nt);
    }

    free(fv);
    free(tv);

    if (o.failed) {
        fr_buf_free(&reply->body);
        reply->status = 500;
    }
}


/* s %-decoded (and '+' a space) into out, NUL-terminated; its length,
 * or size when it does not fit */

static size_t
fr_status_decode(const char *s, size_t len, char *out, size_t size)
{
    int     hi, lo;
    size_t  i, n;

    for (i = 0, n = 0; i < len && n < size - 1; i++, n++) {
        out[n] = (s[i] == '+') ? ' ' : s[i];

        if (s[i] == '%' && i + 2 < len
            && (hi = fr_status_hex(s[i + 1])) >= 0
            && (lo = fr_status_hex(s[i + 2])) >= 0)
        {
            out[n] = (char) (hi << 4 | lo);
            i += 2;
        }
    }

    out[n] = '\0';

    return (i < len) ? size : n;
}


/*
 * The format an Accept header prefers (RFC 9110, 12.5.1): of each
 * format, the quality of the most specific range that matches it; the
 * best quality wins, then the most specific, then the first of json,
 * openmetrics, table, prometheus, html. No range of any: JSON.
 * A browser gets the page, Prometheus its own format.
 */

static fr_format_e
fr_status_accept(const char *s, size_t len)
{
    int          i, spec, best_spec[FR_FORMAT_HTML + 1];
    double       q, best_q[FR_FORMAT_HTML + 1];
    const char  *p, *e, *end, *qp;
    fr_format_e  f, pick;

    static const fr_format_e  order[] = {
        FR_FORMAT_JSON, FR_FORMAT_OPENMETRICS, FR_FORMAT_TABLE,
        FR_FORMAT_PROMETHEUS, FR_FORMAT_HTML
    };

    memset(best_spec, 0, sizeof(best_spec));
    memset(best_q, 0, sizeof(best_q));
    end = s + len;

    for (p = s; p < end; p = e + 1) {
        e = memchr(p, ',', end - p);
        e = e ? e : end;

        /* its quality: q=, 1 without; a malformed one is 0 */
        q = 1;

        for (qp = p; (qp = memchr(qp, ';', e - qp)) != NULL; qp++) {
            while (++qp < e && (*qp == ' ' || *qp == '\t')) { /* void */ }

            if (e - qp >= 2 && (*qp == 'q' || *qp == 'Q') && qp[1] == '=') {
                q = fr_status_q(qp + 2, e - qp - 2);
            }

            qp--;
        }

        for (f = FR_FORMAT_JSON; f <= FR_FORMAT_HTML; f++) {
            spec = fr_status_range(p, e - p, f);

            /* two as specific (parameters aside): the better one,
             * whichever comes first */
            if (spec > best_spec[f]
                || (spec && spec == best_spec[f] && q > best_q[f]))
            {
                best_spec[f] = spec;
                best_q[f] = q;
            }
        }
    }

    pick = FR_FORMAT_JSON;

    for (i = 0; i <= FR_FORMAT_HTML; i++) {
        f = order[i];

        if (best_q[f] > best_q[pick]
            || (best_q[f] == best_q[pick] && best_spec[f] > best_spec[pick]))
        {
            pick = f;
        }
    }

    return (best_q[pick] > 0) ? pick : FR_FORMAT_JSON;
}


/*
 * How specifically the media range r matches format f: 0 not at all,
 * 2 any type ("*" "/" "*"), 4 any subtype of its type, 6 its type and
 * subtype, 8 text/plain with a version= (the Prometheus text format's);
 * text/plain without one is the table's (6), and the Prometheus text's
 * less so (5), but more than text/ with any subtype
 */

static int
fr_status_range(const char *r, size_t len, fr_format_e f)
{
    size_t       n, t;
    const char  *end, *semi, *mt;

    static const char  *media[] = {
        "application/json", "text/plain", "application/openmetrics-text",
        "text/plain", "text/html"
    };

    end = r + len;

    while (r < end && (*r == ' ' || *r == '\t')) {
        r++;
    }

    semi = memchr(r, ';', end - r);
    n = (semi ? semi : end) - r;

    while (n && (r[n - 1] == ' ' || r[n - 1] == '\t')) {
        n--;
    }

    mt = media[f];
    t = strchr(mt, '/') - mt + 1;               /* "type/" */

    if (n == 3 && memcmp(r, "*/*", 3) == 0) {
        return 2;
    }

    if (n == t + 1 && r[t] == '*' && strncasecmp(r, mt, t) == 0) {
        return 4;
    }

    if (n != strlen(mt) || strncasecmp(r, mt, n) != 0) {
        return 0;
    }

    if (f != FR_FORMAT_PROMETHEUS && f != FR_FORMAT_TABLE) {
        return 6;
    }

    /* text/plain: a version= asks for the exposition format */
    for (semi = r + n; semi && semi < end; semi = memchr(semi, ';',
                                                          end - semi))
    {
        while (++semi < end && (*semi == ' ' || *semi == '\t')) {
            /* void */
        }

        if (end - semi > 8 && strncasecmp(semi, "version=", 8) == 0) {
            return (f == FR_FORMAT_PROMETHEUS) ? 8 : 0;
        }
    }

    return (f == FR_FORMAT_TABLE) ? 6 : 5;
}


/* a quality value: 0 to 1, three decimals at most; malformed: 0 */

static double
fr_status_q(const char *s, size_t len)
{
    size_t  i, d;
    double  q, unit;

    if (len == 0 || (s[0] != '0' && s[0] != '1')) {
        return 0;
    }

    q = s[0] - '0';

    if (len == 1 || s[1] != '.') {
        return (len == 1 || s[1] == ';' || s[1] == ' ' || s[1] == '\t')
               ? q : 0;
    }

    for (i = 2, d = 0, unit = 0.1; i < len && s[i] >= '0' && s[i] <= '9';
         i++, d++, unit /= 10)
    {
        q += (s[i] - '0') * unit;
    }

    if (d > 3 || q > 1
        || (i < len && s[i] != ';' && s[i] != ' ' && s[i] != '\t'))
    {
        return 0;
    }

    return q;
}


static int
fr_status_hex(char c)
{
    return (c >= '0' && c <= '9') ? c - '0'
           : (c >= 'a' && c <= 'f') ? c - 'a' + 10
           : (c >= 'A' && c <= 'F') ? c - 'A' + 10 : -1;
}


static void
fr_render_json(fr_out_t *o, fr_view_t *fv, int nf, fr_view_t *tv, int nt)
{
    int             i;
    uint64_t        counts[FR_INV_STATES];
    fr_view_t       all;

    /* the runner's sums: of its tenants' (of those shown) */
    memset(&all, 0, sizeof(fr_view_t));

    for (i = 0; i < nt; i++) {
        fr_view_add(&all, &tv[i]);
    }

    /* in a tenant's view, the host's figures are null (fr_out_host) */
    fr_outs(o, "{\"runner\":{\"version\":\"" FR_VERSION "\",\"pid\":");
    fr_out_host(o, (uint64_t) getpid());
    fr_outs(o, ",\"start_time\":");
    fr_out_sec(o, fr_runner.started);
    fr_outs(o, ",\"uptime_seconds\":");
    fr_out_sec(o, fr_uptime_usec());
    fr_outs(o, ",\"connections\":{\"open\":");
    fr_out_host(o, (uint64_t) fr_runner.nconns);
    fr_outs(o, ",\"accepted\":");
    fr_out_host(o, fr_runner.accepted);
    fr_outs(o, "},\"requests_in_flight\":");
    fr_out_host(o, (uint64_t) fr_runner.nreqs);
    fr_outs(o, ",\"workers\":{\"total\":");
    fr_out_host(o, (uint64_t) fr_runner.nworkers);
    fr_outs(o, ",\"limit\":");

    if (fr_runner.conf.max_workers && !o->scoped) {
        fr_out_u64(o, (uint64_t) fr_runner.conf.max_workers);

    } else {
        fr_outs(o, "null");
    }

    fr_render_json_sums(o, &all);

    fr_outs(o, ",\"prototypes\":{\"live\":");
    fr_out_host(o, (uint64_t) fr_runner.nprotos);
    fr_outs(o, ",\"starts\":");
    fr_out_host(o, fr_runner.proto_starts);
    fr_outs(o, ",\"forks\":");
    fr_out_host(o, fr_runner.proto_forks);
    fr_outs(o, "},\"spawn_failures\":");
    fr_out_host(o, fr_runner.start_failures);
    fr_outs(o, ",\"reloads\":");
    fr_out_host(o, fr_runner.reloads);
    fr_outs(o, ",\"unrouted_requests\":");
    fr_out_host(o, fr_runner.unrouted);
    fr_outs(o, ",\"async_invocations\":{");

    (void) fr_store_counts(counts);

    for (i = 0; i < FR_INV_STATES; i++) {
        fr_outs(o, i ? ",\"" : "\"");
        fr_outs(o, fr_inv_state_name(i));
        fr_outs(o, "\":");
        fr_out_host(o, counts[i]);
    }

    fr_outs(o, "}},\n\"functions\":[");

    for (i = 0; i < nf; i++) {
        fr_outs(o, i ? ",\n" : "\n");
        fr_render_json_view(o, &fv[i], 0);
    }

    fr_outs(o, "],\n\"tenants\":[");

    for (i = 0; i < nt; i++) {
        fr_outs(o, i ? ",\n" : "\n");
        fr_render_json_view(o, &tv[i], 1);
    }

    fr_outs(o, "]}\n");
}


/* workers by state (after a member of "workers" when lead), the
 * queue's length: its object left open */

static void
fr_render_json_counts(fr_out_t *o, const fr_view_t *v, int lead)
{
    int  i;

    for (i = 0; i < 4; i++) {
        fr_outs(o, (i || lead) ? ",\"" : "\"");
        fr_outs(o, fr_state_names[i]);
        fr_outs(o, "\":");
        fr_out_i64(o, v->workers[i]);
    }

    fr_outs(o, "},\"queue\":{\"length\":");
    fr_out_i64(o, v->queue);
}


/* its invocations by outcome, and its cold starts */

static void
fr_render_json_outcomes(fr_out_t *o, const fr_view_t *v)
{
    int  i;

    fr_outs(o, ",\"invocations\":{");

    for (i = 0; i < FR_OUTCOME_MAX; i++) {
        fr_outs(o, i ? ",\"" : "\"");
        fr_outs(o, fr_outcome_name(i));
        fr_outs(o, "\":");
        fr_out_u64(o, v->stats.invocations[i]);
    }

    fr_outs(o, "},\"cold_starts\":");
    fr_out_u64(o, v->stats.cold_starts);
}


/* the rest of "workers", and what the functions did, all together */

static void
fr_render_json_sums(fr_out_t *o, const fr_view_t *all)
{
    int       i;
    uint64_t  n;

    fr_render_json_counts(o, all, 1);
    fr_outs(o, "}");
    fr_render_json_outcomes(o, all);

    for (n = 0, i = 0; i <= FR_DURATION_BUCKETS; i++) {
        n += all->stats.duration[i];
    }

    fr_outs(o, ",\"duration\":{\"count\":");
    fr_render_json_usage(o, all, n);
}


/* a duration's count and sum, then CPU and peak memory */

static void
fr_render_json_usage(fr_out_t *o, const fr_view_t *v, uint64_t count)
{
    fr_out_u64(o, count);
    fr_outs(o, ",\"sum_seconds\":");
    fr_out_sec(o, v->stats.duration_us);
    fr_outs(o, "},\"cpu_seconds\":");
    fr_out_sec(o, v->cpu_us);
    fr_outs(o, ",\"memory_peak_bytes\":");
    fr_out_u64(o, v->peak_kb > 0 ? (uint64_t) v->peak_kb * 1024 : 0);
}


/*
 * A tenant's memory as its cgroup counts it (all its processes hold:
 * pages, tmpfs, memfds, kernel memory), null without one
 */

static void
fr_render_json_cgroup(fr_out_t *o, const fr_cgroup_use_t *u)
{
    int            i;
    const int64_t  *n[3] = { &u->bytes, &u->peak, &u->oom_kills };

    static const char  *key[3] = {
        "{\"memory_bytes\":", ",\"memory_peak_bytes\":", ",\"oom_kills\":"
    };

    fr_outs(o, ",\"cgroup\":");

    if (u->bytes == -1) {
        fr_outs(o, "null");
        return;
    }

    for (i = 0; i < 3; i++) {
        fr_outs(o, key[i]);

        if (*n[i] == -1) {
            fr_outs(o, "null");

        } else {
            fr_out_i64(o, *n[i]);
        }
    }

    fr_outs(o, "}");
}


static void
fr_render_json_view(fr_out_t *o, const fr_view_t *v, int tenant)
{
    int       i;
    uint64_t  n;

    fr_outs(o, "{\"name\":\"");
    fr_out_esc(o, v->name, 1);

    if (tenant) {
        fr_outs(o, "\",\"functions\":");
        fr_out_u64(o, (uint64_t) v->nfuncs);

    } else {
        fr_outs(o, "\",\"tenant\":\"");
        fr_out_esc(o, v->tenant, 1);
        fr_outs(o, "\",\"mode\":\"");
        fr_outs(o, v->mode);
        fr_outs(o, "\"");
    }

    fr_outs(o, ",\"workers\":{");
    fr_render_json_counts(o, v, 0);
    fr_outs(o, ",\"limit\":");
    fr_out_i64(o, v->queue_limit);
    fr_outs(o, "}");
    fr_render_json_outcomes(o, v);
    fr_outs(o, ",\"init\":{\"count\":");
    fr_out_u64(o, v->stats.starts);
    fr_outs(o, ",\"sum_seconds\":");
    fr_out_sec(o, v->stats.start_us);
    fr_outs(o, "},\"duration\":{\"buckets\":{");

    for (n = 0, i = 0; i <= FR_DURATION_BUCKETS; i++) {
        n += v->stats.duration[i];
        fr_outs(o, i ? ",\"" : "\"");
        fr_outs(o, i < FR_DURATION_BUCKETS ? fr_bucket_le[i] : "+Inf");
        fr_outs(o, "\":");
        fr_out_u64(o, n);
    }

    fr_outs(o, "},\"count\":");
    fr_render_json_usage(o, v, n);
    fr_outs(o, ",\"worker_stops\":{");

    for (i = FR_STOP_NONE + 1; i < FR_STOP_MAX; i++) {
        fr_outs(o, i > FR_STOP_NONE + 1 ? ",\"" : "\"");
        fr_outs(o, fr_stop_names[i]);
        fr_outs(o, "\":");
        fr_out_u64(o, v->stats.stops[i]);
    }

    fr_outs(o, "},\"spawn_failures\":");
    fr_out_u64(o, v->stats.start_failures);

    if (!tenant && v->conf) {
        /* what its function.conf (or the defaults) allow */
        fr_outs(o, ",\"limits\":{\"max_instances\":");
        fr_out_u64(o, (uint64_t) v->conf->max_instances);
        fr_outs(o, ",\"min_instances\":");
        fr_out_u64(o, (uint64_t) v->conf->min_instances);
        fr_outs(o, ",\"memory_bytes\":");

        if (v->conf->memory) {
            fr_out_i64(o, v->conf->memory);

        } else {
            fr_outs(o, "null");
        }

        fr_outs(o, ",\"timeout_seconds\":");
        fr_out_sec(o, (uint64_t) v->conf->timeout * 1000);
        fr_outs(o, ",\"queue\":");
        fr_out_u64(o, (uint64_t) v->conf->queue);
        fr_outs(o, ",\"queue_timeout_seconds\":");
        fr_out_sec(o, (uint64_t) v->conf->queue_timeout * 1000);
        fr_outs(o, "}");
    }

    if (tenant) {
        fr_outs(o, ",\"memory_bytes\":");
        fr_out_i64(o, v->owner ? v->owner->memory : 0);
        fr_render_json_cgroup(o, &v->cgroup);
        fr_outs(o, ",\"limits\":{\"max_instances\":");

        if (v->owner && v->owner->max_instances) {
            fr_out_u64(o, (uint64_t) v->owner->max_instances);

        } else {
            fr_outs(o, "null");
        }

        fr_outs(o, ",\"max_memory_bytes\":");

        if (v->owner && v->owner->max_memory) {
            fr_out_i64(o, v->owner->max_memory);

        } else {
            fr_outs(o, "null");
        }

        fr_outs(o, "}");
    }

    fr_outs(o, "}");
}


/* busiest first, then the most invoked, then by name */

static int
fr_view_cmp(const void *a, const void *b)
{
    int              i;
    uint64_t         na, nb;
    const fr_view_t  *va = a, *vb = b;

    if (va->workers[2] != vb->workers[2]) {
        return va->workers[2] < vb->workers[2] ? 1 : -1;
    }

    for (na = 0, nb = 0, i = 0; i < FR_OUTCOME_MAX; i++) {
        na += va->stats.invocations[i];
        nb += vb->stats.invocations[i];
    }

    if (na != nb) {
        return na < nb ? 1 : -1;
    }

    return strcmp(va->name, vb->name);
}


/* like top: the runner on one line, then a line per function */

static void
fr_render_table(fr_out_t *o, fr_view_t *fv, int nf)
{
    int             i, wf, wt;
    char            line[512];
    uint64_t        n, up, avg;
    struct timeval  now;
    fr_view_t      *v;
    fr_stats_t     *s;

    gettimeofday(&now, NULL);
    up = fr_uptime_usec() / 1000000;

    /* the host's figures: none in a tenant's view */
    snprintf(line, sizeof(line), "fcgi-runner " FR_VERSION "  pid %d",
             (int) getpid());
    fr_outs(o, o->scoped ? "fcgi-runner " FR_VERSION : line);

    snprintf(line, sizeof(line), "  up %llud%02lluh%02llum%02llus",
             (unsigned long long) up / 86400,
             (unsigned long long) up / 3600 % 24,
             (unsigned long long) up / 60 % 60,
             (unsigned long long) up % 60);
    fr_outs(o, line);

    snprintf(line, sizeof(line), "  connections %d  in flight %d  "
             "workers %d", fr_runner.nconns, fr_runner.nreqs,
             fr_runner.nworkers);
    fr_outs(o, o->scoped ? "" : line);

    if (fr_runner.conf.max_workers && !o->scoped) {
        snprintf(line, sizeof(line), " of %d", fr_runner.conf.max_workers);
        fr_outs(o, line);
    }

    /* whole names: two that share 24 characters are told apart */
    for (i = 0, wf = 24, wt = 12; i < nf; i++) {
        n = strlen(fv[i].name);
        wf = (int) n > wf ? (int) n : wf;
        n = strlen(fv[i].tenant);
        wt = (int) n > wt ? (int) n : wt;
    }

    snprintf(line, sizeof(line), "  spawn failures %llu  reloads %llu",
             (unsigned long long) fr_runner.start_failures,
             (unsigned long long) fr_runner.reloads);
    fr_outs(o, o->scoped ? "" : line);

    snprintf(line, sizeof(line), "\n\n"
             "%-*s %-*s %-7s %4s %4s %5s %11s %9s %8s %7s %7s %7s %6s "
             "%8s %9s\n",
             wf, "FUNCTION", wt, "TENANT", "MODE", "BUSY", "IDLE", "START",
             "QUEUE", "CALLS", "OK", "THROTTL", "TIMEOUT", "CRASHED",
             "ERROR", "COLD", "AVG MS");
    fr_outs(o, line);

    qsort(fv, nf, sizeof(fr_view_t), fr_view_cmp);

    for (i = 0; i < nf; i++) {
        v = &fv[i];
        s = &v->stats;

        /* calls: runs, not acceptances of async ones */
        for (n = 0, avg = 0; avg < FR_OUTCOME_MAX; avg++) {
            n += avg != FR_OUTCOME_ACCEPTED ? s->invocations[avg] : 0;
        }

        for (avg = 0, up = 0; up <= FR_DURATION_BUCKETS; up++) {
            avg += s->duration[up];
        }

        avg = avg ? s->duration_us / avg : 0;

        snprintf(line, sizeof(line), "%-*s %-*s %-7s %4lld %4lld "
                 "%5lld %5lld/%-5lld %9llu %8llu %7llu %7llu %7llu %6llu "
                 "%8llu %5llu.%03llu\n",
                 wf, v->name, wt, v->tenant, v->mode,
                 (long long) v->workers[2],
                 (long long) v->workers[1], (long long) v->workers[0],
                 (long long) v->queue, (long long) v->queue_limit,
                 (unsigned long long) n,
                 (unsigned long long) s->invocations[FR_OUTCOME_OK],
                 (unsigned long long) s->invocations[FR_OUTCOME_THROTTLED],
                 (unsigned long long) s->invocations[FR_OUTCOME_TIMEOUT],
                 (unsigned long long) s->invocations[FR_OUTCOME_CRASHED],
                 (unsigned long long) s->invocations[FR_OUTCOME_ERROR],
                 (unsigned long long) s->cold_starts,
                 (unsigned long long) (avg / 1000),
                 (unsigned long long) (avg % 1000));
        fr_outs(o, line);
    }
}
