/*
 * Copyright (C) ngx_faas developers
 *
 * The live dashboard, format=html of the status: one page, nothing to
 * fetch but the status itself. The runner renders a whole snapshot (it
 * reads without JavaScript); a little script then polls the same status
 * as JSON, redraws the tables (sorted, filtered, a page at a time) and
 * charts the last ten minutes of each function and tenant. Names reach
 * the page as text only: escaped here, textContent in the script.
 */

#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "fr_dashboard.h"
#include "fr_meter.h"


typedef struct {
    const char            *key;             /* data-k, class c-KEY */
    const char            *label;           /* NULL: the outcomes */
} fr_dash_col_t;


static void fr_dash_runner(fr_out_t *o, fr_view_t *fv, int nf, int nt);
static void fr_dash_table(fr_out_t *o, const char *kind,
    const fr_dash_col_t *cols, fr_view_t *v, int n);
static void fr_dash_cell(fr_out_t *o, const fr_view_t *v, const char *key,
    int outcome);
static void fr_dash_text(fr_out_t *o, const char *s);
static double fr_dash_quantile(const fr_stats_t *s, double q);
static const char *fr_dash_state(const fr_view_t *v);


static const fr_dash_col_t  fr_dash_fcols[] = {
    { "name", "function" }, { "tenant", "tenant" }, { "state", "state" },
    { "chart", "invocations/s, p99 (10 min)" }, { "busy", "busy" },
    { "idle", "idle" }, { "starting", "starting" },
    { "stopping", "stopping" }, { "queue", "queue" },
    { "inv", "invocations" }, { "o", NULL }, { "p50", "p50 ms" },
    { "p99", "p99 ms" }, { "cold", "cold starts" }, { "cpu", "CPU s" },
    { "mem", "peak MiB" }, { NULL, NULL }
};


static const fr_dash_col_t  fr_dash_tcols[] = {
    { "name", "tenant" }, { "chart", "invocations/s, p99 (10 min)" },
    { "functions", "functions" },
    { "workers", "workers" }, { "max_instances", "max instances" },
    { "memory", "memory MiB" }, { "max_memory", "max memory MiB" },
    { "queue", "queue" }, { "inv", "invocations" }, { "o", NULL },
    { "p50", "p50 ms" }, { "p99", "p99 ms" }, { "cold", "cold starts" },
    { "cpu", "CPU s" }, { NULL, NULL }
};


static const char  fr_dash_css[] =
    "body { font: 13px/1.4 system-ui, sans-serif; margin: 0 16px 24px;\n"
    "       color: #1d2330; background: #fff; }\n"
    "header { display: flex; align-items: baseline; gap: 16px;\n"
    "         border-bottom: 1px solid #d8dce3; }\n"
    "h1 { font-size: 20px; margin: 12px 0 8px; }\n"
    "h2 { font-size: 16px; margin: 20px 0 6px; }\n"
    "#live { color: #777; }\n"
    "#live.live { color: #16813d; }\n"
    "#live.stale { color: #b3261e; }\n"
    "dl { display: flex; flex-wrap: wrap; gap: 8px 28px; margin: 12px 0; }\n"
    "dl div { min-width: 90px; }\n"
    "dt { color: #667; font-size: 12px; }\n"
    "dd { margin: 0; font-size: 20px; font-variant-numeric: tabular-nums; }\n"
    ".charts { display: flex; flex-wrap: wrap; gap: 16px; }\n"
    ".charts figure { margin: 0; }\n"
    "figcaption { color: #667; font-size: 12px; }\n"
    "svg.chart { background: #f6f7f9; border: 1px solid #e3e6eb;\n"
    "            vertical-align: middle; }\n"
    "svg.chart polyline { fill: none; stroke-width: 1.5; }\n"
    "svg.rate polyline { stroke: #1f6feb; }\n"
    "svg.rate .area { fill: #1f6feb33; }\n"
    "svg.p99 polyline { stroke: #d1242f; }\n"
    "svg.p99 .area { fill: #d1242f22; }\n"
    "svg.chart text { font-size: 10px; fill: #667; }\n"
    "td.c-chart svg { margin-right: 4px; }\n"
    ".scroll { overflow: auto; max-height: 80vh; max-width: 100%; }\n"
    ".tools { margin: 4px 0; }\n"
    ".tools input { padding: 3px 6px; width: 220px; }\n"
    "table { border-collapse: collapse; font-variant-numeric: tabular-nums; }\n"
    "th, td { padding: 3px 6px; border-bottom: 1px solid #eceef2;\n"
    "         text-align: right; white-space: nowrap; }\n"
    "th { background: #f1f3f6; font-weight: 600; cursor: pointer;\n"
    "     position: sticky; top: 0; }\n"
    "th[aria-sort=ascending]::after { content: ' \\25b2'; }\n"
    "th[aria-sort=descending]::after { content: ' \\25bc'; }\n"
    ".c-name, .c-tenant, .c-state { text-align: left; }\n"
    ".c-name, .c-tenant { max-width: 16em; overflow: hidden;\n"
    "                    text-overflow: ellipsis; }\n"
    "tbody tr:hover { background: #f6f8fb; }\n";


static const char  fr_dash_js[] =
    "(function () {\n"
    "'use strict';\n"
    "var SPAN = 600, PERIOD = 2000, PAGE = 50,\n"
    "    NS = 'http://www.w3.org/2000/svg';\n"
    "var hist = { f: Object.create(null), t: Object.create(null) },\n"
    "    total = { pts: [] }, rows = { f: [], t: [] }, clock = 0;\n"
    "var view = {\n"
    "    f: { key: 'inv', desc: true, filter: '', page: 0 },\n"
    "    t: { key: 'inv', desc: true, filter: '', page: 0 }\n"
    "};\n"
    "\n"
    "function $(id) { return document.getElementById(id); }\n"
    "\n"
    "function el(tag, cls, text) {\n"
    "    var e = document.createElement(tag);\n"
    "    if (cls) { e.className = cls; }\n"
    "    if (text !== undefined) { e.textContent = text; }\n"
    "    return e;\n"
    "}\n"
    "\n"
    "function sum(o) {\n"
    "    var n = 0, k;\n"
    "    for (k in o) { n += o[k]; }\n"
    "    return n;\n"
    "}\n"
    "\n"
    "function buckets(d) {\n"
    "    var b = [], k;\n"
    "    for (k in d.buckets) {\n"
    "        b.push([k === '+Inf' ? Infinity : Number(k), d.buckets[k]]);\n"
    "    }\n"
    "    return b.sort(function (x, y) { return x[0] - y[0]; });\n"
    "}\n"
    "\n"
    "/* as the runner does it: linear within the bucket the rank falls in */\n"
    "function quantile(b, q) {\n"
    "    var n = b.length ? b[b.length - 1][1] : 0, r = q * n, prev = 0,\n"
    "        lo = 0, i, c;\n"
    "    if (n <= 0) { return null; }\n"
    "    for (i = 0; i < b.length; i++) {\n"
    "        if (b[i][1] >= r) {\n"
    "            if (b[i][0] === Infinity) { return lo; }\n"
    "            c = b[i][1] - prev;\n"
    "            return c ? lo + (b[i][0] - lo) * (r - prev) / c : b[i][0];\n"
    "        }\n"
    "        prev = b[i][1];\n"
    "        lo = b[i][0];\n"
    "    }\n"
    "    return lo;\n"
    "}\n"
    "\n"
    "function state(w) {\n"
    "    return w.busy ? 'busy' : w.idle ? 'idle' : w.starting ? 'starting'\n"
    "           : w.stopping ? 'stopping' : 'stopped';\n"
    "}\n"
    "\n"
    "function row(v, kind) {\n"
    "    var w = v.workers, b = buckets(v.duration), r;\n"
    "    r = {\n"
    "        name: v.name, tenant: v.tenant, state: state(w), busy: w.busy,\n"
    "        idle: w.idle, starting: w.starting, stopping: w.stopping,\n"
    "        queue: v.queue.length, inv: sum(v.invocations),\n"
    "        o: v.invocations,\n"
    "        p50: quantile(b, 0.5), p99: quantile(b, 0.99),\n"
    "        cold: v.cold_starts, cpu: v.cpu_seconds,\n"
    "        mem: v.memory_peak_bytes,\n"
    "        b: b\n"
    "    };\n"
    "    if (kind === 't') {\n"
    "        r.functions = v.functions;\n"
    "        r.workers = w.busy + w.idle + w.starting + w.stopping;\n"
    "        r.max_instances = v.limits.max_instances;\n"
    "        r.memory = v.memory_bytes;\n"
    "        r.max_memory = v.limits.max_memory_bytes;\n"
    "    }\n"
    "    return r;\n"
    "}\n"
    "\n"
    "/* a point of the last ten minutes: invocations/s and p99 since last */\n"
    "function sample(h, r, t) {\n"
    "    var d, i, dt;\n"
    "    if (h.last && r.inv >= h.last.inv && t > h.last.t) {\n"
    "        dt = t - h.last.t;\n"
    "        d = r.b.map(function (x, j) {\n"
    "            return [x[0], x[1] - (h.last.b[j] ? h.last.b[j][1] : 0)];\n"
    "        });\n"
    "        h.pts.push({ t: t, rate: (r.inv - h.last.inv) / dt,\n"
    "                     p99: quantile(d, 0.99) });\n"
    "    }\n"
    "    h.last = { t: t, inv: r.inv, b: r.b };\n"
    "    for (i = 0; i < h.pts.length && h.pts[i].t < t - SPAN; i++) { }\n"
    "    h.pts.splice(0, i);\n"
    "}\n"
    "\n"
    "function ms(s) { return s === null ? '-' : (s * 1000).toFixed(3); }\n"
    "function mib(b) { return b === null ? '-' : (b / 1048576).toFixed(1); }\n"
    "\n"
    "function uptime(s) {\n"
    "    var d = Math.floor(s / 86400), h = Math.floor(s / 3600) % 24,\n"
    "        m = Math.floor(s / 60) % 60, x = Math.floor(s) % 60;\n"
    "    function two(n) { return (n < 10 ? '0' : '') + n; }\n"
    "    return d + 'd ' + two(h) + ':' + two(m) + ':' + two(x);\n"
    "}\n"
    "\n"
    "function value(r, k) {\n"
    "    return k.indexOf('o.') === 0 ? r.o[k.slice(2)] : r[k];\n"
    "}\n"
    "\n"
    "function text(r, k) {\n"
    "    var v = value(r, k);\n"
    "    if (k === 'p50' || k === 'p99') { return ms(v); }\n"
    "    if (k === 'cpu') { return v.toFixed(3); }\n"
    "    if (k === 'mem' || k === 'memory' || k === 'max_memory') {\n"
    "        return mib(v);\n"
    "    }\n"
    "    return v === null || v === undefined ? '-' : String(v);\n"
    "}\n"
    "\n"
    "/* a scale's figure: three digits at most past the first */\n"
    "function round(v) {\n"
    "    return v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1)\n"
    "                                             : v.toFixed(2);\n"
    "}\n"
    "\n"
    "function axis(svg, x, y, anchor, s) {\n"
    "    var t = document.createElementNS(NS, 'text');\n"
    "    t.setAttribute('x', x);\n"
    "    t.setAttribute('y', y);\n"
    "    t.setAttribute('text-anchor', anchor);\n"
    "    t.textContent = s;\n"
    "    svg.appendChild(t);\n"
    "}\n"
    "\n"
    "function chart(pts, k, w, h, cls, now) {\n"
    "    var svg = document.createElementNS(NS, 'svg'), max = 0, line = [],\n"
    "        top = h >= 60 ? 16 : 2, base = h >= 60 ? h - 14 : h - 2,\n"
    "        area, pl, t, i;\n"
    "    svg.setAttribute('class', 'chart ' + cls);\n"
    "    svg.setAttribute('width', w);\n"
    "    svg.setAttribute('height', h);\n"
    "    svg.setAttribute('viewBox', '0 0 ' + w + ' ' + h);\n"
    "    for (i = 0; i < pts.length; i++) {\n"
    "        if (pts[i][k] !== null && pts[i][k] > max) { max = pts[i][k]; }\n"
    "    }\n"
    "    for (i = 0; i < pts.length; i++) {\n"
    "        if (pts[i][k] === null) { continue; }\n"
    "        line.push(((pts[i].t - now + SPAN) / SPAN * (w - 2) + 1)\n"
    "                  .toFixed(1) + ','\n"
    "                  + (base - (max ? pts[i][k] / max * (base - top)\n"
    "                                 : 0))\n"
    "                  .toFixed(1));\n"
    "    }\n"
    "    if (line.length) {\n"
    "        area = document.createElementNS(NS, 'polygon');\n"
    "        area.setAttribute('points', line[0].split(',')[0] + ','\n"
    "                          + (base + 1) + ' ' + line.join(' ') + ' '\n"
    "                          + line[line.length - 1].split(',')[0] + ','\n"
    "                          + (base + 1));\n"
    "        area.setAttribute('class', 'area');\n"
    "        svg.appendChild(area);\n"
    "        pl = document.createElementNS(NS, 'polyline');\n"
    "        pl.setAttribute('points', line.join(' '));\n"
    "        svg.appendChild(pl);\n"
    "    }\n"
    "    if (h >= 60) {\n"
    "        axis(svg, 4, 12, 'start', k === 'rate'\n"
    "             ? 'max ' + round(max) + '/s'\n"
    "             : 'max ' + round(max * 1000) + ' ms');\n"
    "        axis(svg, 4, h - 3, 'start', '10 min ago');\n"
    "        axis(svg, w - 4, h - 3, 'end', 'now');\n"
    "    }\n"
    "    t = document.createElementNS(NS, 'title');\n"
    "    t.textContent = (k === 'rate'\n"
    "                     ? 'invocations/s, max ' + max.toFixed(2)\n"
    "                     : 'p99 ms, max ' + ms(max)) + ', last 10 minutes';\n"
    "    svg.appendChild(t);\n"
    "    return svg;\n"
    "}\n"
    "\n"
    "function cmp(k, desc) {\n"
    "    return function (a, b) {\n"
    "        var x = value(a, k), y = value(b, k), c;\n"
    "        if (x === null || x === undefined) { x = -1; }\n"
    "        if (y === null || y === undefined) { y = -1; }\n"
    "        c = typeof x === 'string' ? x.localeCompare(y) : x - y;\n"
    "        if (c === 0) { c = a.name.localeCompare(b.name); return c; }\n"
    "        return desc ? -c : c;\n"
    "    };\n"
    "}\n"
    "\n"
    "function render(kind, now) {\n"
    "    var v = view[kind], tb = $(kind + '-body'), heads, list, pages, f,\n"
    "        tr, td, i, j, k, r, h;\n"
    "    heads = document.querySelectorAll('#' + kind + '-table thead th');\n"
    "    f = v.filter;\n"
    "    list = rows[kind].filter(function (x) {\n"
    "        return !f || (x.name + ' ' + (x.tenant || '')).toLowerCase()\n"
    "                     .indexOf(f) >= 0;\n"
    "    });\n"
    "    list.sort(cmp(v.key, v.desc));\n"
    "    pages = Math.max(1, Math.ceil(list.length / PAGE));\n"
    "    v.page = Math.min(v.page, pages - 1);\n"
    "    $(kind + '-page').textContent = 'page ' + (v.page + 1) + ' of '\n"
    "        + pages + ', ' + list.length + ' of ' + rows[kind].length;\n"
    "    $(kind + '-prev').disabled = v.page === 0;\n"
    "    $(kind + '-next').disabled = v.page >= pages - 1;\n"
    "    tb.textContent = '';\n"
    "    for (i = v.page * PAGE; i < list.length && i < (v.page + 1) * PAGE;\n"
    "         i++)\n"
    "    {\n"
    "        r = list[i];\n"
    "        tr = el('tr');\n"
    "        tr.setAttribute('data-name', r.name);\n"
    "        for (j = 0; j < heads.length; j++) {\n"
    "            k = heads[j].getAttribute('data-k');\n"
    "            td = el('td', heads[j].className);\n"
    "            if (k === 'chart') {\n"
    "                h = hist[kind][r.name] || { pts: [] };\n"
    "                td.appendChild(chart(h.pts, 'rate', 120, 24, 'rate',\n"
    "                                     now));\n"
    "                td.appendChild(chart(h.pts, 'p99', 120, 24, 'p99',\n"
    "                                     now));\n"
    "            } else {\n"
    "                td.textContent = text(r, k);\n"
    "            }\n"
    "            tr.appendChild(td);\n"
    "        }\n"
    "        tb.appendChild(tr);\n"
    "    }\n"
    "    for (j = 0; j < heads.length; j++) {\n"
    "        k = heads[j].getAttribute('data-k');\n"
    "        heads[j].setAttribute('aria-sort', k !== v.key ? 'none'\n"
    "                              : v.desc ? 'descending' : 'ascending');\n"
    "    }\n"
    "}\n"
    "\n"
    "/* a tenant's view has none of the host's figures (null) */\n"
    "function host(v) { return v === null ? '-' : v; }\n"
    "\n"
    "function runner(s, fs) {\n"
    "    var q = 0, i;\n"
    "    for (i = 0; i < fs.length; i++) { q += fs[i].queue; }\n"
    "    $('r-uptime').textContent = uptime(s.runner.uptime_seconds);\n"
    "    $('r-workers').textContent = host(s.runner.workers.total);\n"
    "    $('r-limit').textContent = s.runner.pid === null ? '-'\n"
    "        : s.runner.workers.limit === null ? 'none'\n"
    "        : s.runner.workers.limit;\n"
    "    $('r-queue').textContent = q;\n"
    "    $('r-inflight').textContent = host(s.runner.requests_in_flight);\n"
    "    $('r-conns').textContent = host(s.runner.connections.open);\n"
    "    $('r-accepted').textContent = host(s.runner.connections.accepted);\n"
    "    $('r-functions').textContent = fs.length;\n"
    "    $('r-tenants').textContent = s.tenants.length;\n"
    "    $('r-pid').textContent = host(s.runner.pid);\n"
    "    $('r-version').textContent = s.runner.version;\n"
    "}\n"
    "\n"
    "function totals(fs) {\n"
    "    var r = { inv: 0, b: [] }, i, j;\n"
    "    for (i = 0; i < fs.length; i++) {\n"
    "        r.inv += fs[i].inv;\n"
    "        for (j = 0; j < fs[i].b.length; j++) {\n"
    "            if (!r.b[j]) { r.b[j] = [fs[i].b[j][0], 0]; }\n"
    "            r.b[j][1] += fs[i].b[j][1];\n"
    "        }\n"
    "    }\n"
    "    return r;\n"
    "}\n"
    "\n"
    "function big(id, svg) {\n"
    "    svg.id = id;\n"
    "    $(id).replaceWith(svg);\n"
    "}\n"
    "\n"
    "/* the runner's clock, not the browser's: rates over its own seconds */\n"
    "function update(s) {\n"
    "    var now = s.runner.start_time + s.runner.uptime_seconds, kind, i, r,\n"
    "        kinds = { f: 'functions', t: 'tenants' };\n"
    "    clock = now;\n"
    "    for (kind in kinds) {\n"
    "        rows[kind] = s[kinds[kind]].map(function (v) {\n"
    "            return row(v, kind);\n"
    "        });\n"
    "        for (i = 0; i < rows[kind].length; i++) {\n"
    "            r = rows[kind][i];\n"
    "            if (!hist[kind][r.name]) {\n"
    "                hist[kind][r.name] = { pts: [] };\n"
    "            }\n"
    "            sample(hist[kind][r.name], r, now);\n"
    "        }\n"
    "    }\n"
    "    runner(s, rows.f);\n"
    "    sample(total, totals(rows.f), now);\n"
    "    big('total-rate', chart(total.pts, 'rate', 560, 110, 'rate', now));\n"
    "    big('total-p99', chart(total.pts, 'p99', 560, 110, 'p99', now));\n"
    "    render('f', now);\n"
    "    render('t', now);\n"
    "    $('live').textContent = 'live, updated '\n"
    "                            + new Date().toTimeString().slice(0, 8);\n"
    "    $('live').className = 'live';\n"
    "}\n"
    "\n"
    "function url() {\n"
    "    var q = location.search.slice(1).split('&').filter(function (p) {\n"
    "        return p && p.indexOf('format=') !== 0;\n"
    "    });\n"
    "    q.push('format=json');\n"
    "    return location.pathname + '?' + q.join('&');\n"
    "}\n"
    "\n"
    "function poll() {\n"
    "    fetch(url(), { cache: 'no-store', credentials: 'same-origin' })\n"
    "        .then(function (a) {\n"
    "            if (!a.ok) { throw new Error('status ' + a.status); }\n"
    "            return a.json();\n"
    "        })\n"
    "        .then(update)\n"
    "        .catch(function (e) {\n"
    "            $('live').textContent = 'not updated: ' + e.message;\n"
    "            $('live').className = 'stale';\n"
    "        })\n"
    "        .then(function () { setTimeout(poll, PERIOD); });\n"
    "}\n"
    "\n"
    "function controls(kind) {\n"
    "    var heads = document.querySelectorAll('#' + kind\n"
    "                                          + '-table thead th'),\n"
    "        i, v = view[kind];\n"
    "    for (i = 0; i < heads.length; i++) {\n"
    "        if (heads[i].getAttribute('data-k') === 'chart') { continue; }\n"
    "        heads[i].tabIndex = 0;\n"
    "        heads[i].addEventListener('click', function (ev) {\n"
    "            var k = ev.currentTarget.getAttribute('data-k');\n"
    "            v.desc = v.key === k ? !v.desc\n"
    "                     : k !== 'name' && k !== 'tenant' && k !== 'state';\n"
    "            v.key = k;\n"
    "            render(kind, clock);\n"
    "        });\n"
    "    }\n"
    "    $(kind + '-filter').addEventListener('input', function (ev) {\n"
    "        v.filter = ev.target.value.toLowerCase();\n"
    "        v.page = 0;\n"
    "        render(kind, clock);\n"
    "    });\n"
    "    $(kind + '-prev').addEventListener('click', function () {\n"
    "        v.page--;\n"
    "        render(kind, clock);\n"
    "    });\n"
    "    $(kind + '-next').addEventListener('click', function () {\n"
    "        v.page++;\n"
    "        render(kind, clock);\n"
    "    });\n"
    "    $(kind + '-tools').hidden = false;\n"
    "}\n"
    "\n"
    "if (location.protocol === 'http:' || location.protocol === 'https:') {\n"
    "    controls('f');\n"
    "    controls('t');\n"
    "    poll();\n"
    "}\n"
    "})();\n";


void
fr_dashboard_render(fr_out_t *o, fr_view_t *fv, int nf, fr_view_t *tv,
    int nt)
{
    fr_outs(o, "<!DOCTYPE html>\n<html lang=\"en\"><head>"
            "<meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width\">\n"
            "<title>fcgi-runner status</title>\n<style>\n");
    fr_outs(o, fr_dash_css);
    fr_outs(o, "</style></head>\n<body>\n<header><h1>fcgi-runner</h1>"
            "<span id=\"live\">snapshot</span></header>\n");

    fr_dash_runner(o, fv, nf, nt);

    /* a tenant's (or a function's) view: not all of the host's */
    fr_outs(o, o->scoped ? "<h2>The functions shown, the last 10 minutes"
                           "</h2>\n"
                         : "<h2>All functions, the last 10 minutes</h2>\n");
    fr_outs(o, "<div class=\"charts\"><figure>"
            "<svg id=\"total-rate\" class=\"chart rate\" width=\"560\" "
            "height=\"110\"></svg><figcaption>invocations/s"
            "</figcaption></figure>\n<figure>"
            "<svg id=\"total-p99\" class=\"chart p99\" width=\"560\" "
            "height=\"110\"></svg><figcaption>p99 duration, ms"
            "</figcaption></figure></div>\n");

    fr_outs(o, "<h2>Functions</h2>\n");
    fr_dash_table(o, "f", fr_dash_fcols, fv, nf);
    fr_outs(o, "<h2>Tenants</h2>\n");
    fr_dash_table(o, "t", fr_dash_tcols, tv, nt);

    fr_outs(o, "<script>\n");
    fr_outs(o, fr_dash_js);
    fr_outs(o, "</script>\n</body></html>\n");
}


static void
fr_dash_runner(fr_out_t *o, fr_view_t *fv, int nf, int nt)
{
    int             i;
    char            line[160];
    int64_t         queue;
    uint64_t        up;
    struct timeval  now;

    static const char  *dd = "</dd></div>\n<div><dt>";

    gettimeofday(&now, NULL);
    up = fr_uptime_usec() / 1000000;

    for (queue = 0, i = 0; i < nf; i++) {
        queue += fv[i].queue;
    }

    snprintf(line, sizeof(line), "%llud %02llu:%02llu:%02llu",
             (unsigned long long) up / 86400,
             (unsigned long long) up / 3600 % 24,
             (unsigned long long) up / 60 % 60,
             (unsigned long long) up % 60);

    fr_outs(o, "<section id=\"runner\"><dl>\n<div><dt>uptime</dt>"
            "<dd id=\"r-uptime\">");
    fr_outs(o, line);
    fr_outs(o, dd);
    fr_outs(o, "workers</dt><dd id=\"r-workers\">");
    fr_out_host(o, (uint64_t) fr_runner.nworkers);
    fr_outs(o, dd);
    fr_outs(o, "worker limit</dt><dd id=\"r-limit\">");

    if (o->scoped) {
        fr_outs(o, "-");

    } else if (fr_runner.conf.max_workers) {
        fr_out_i64(o, fr_runner.conf.max_workers);

    } else {
        fr_outs(o, "none");
    }

    fr_outs(o, dd);
    fr_outs(o, "queued</dt><dd id=\"r-queue\">");
    fr_out_i64(o, queue);
    fr_outs(o, dd);
    fr_outs(o, "in flight</dt><dd id=\"r-inflight\">");
    fr_out_host(o, (uint64_t) fr_runner.nreqs);
    fr_outs(o, dd);
    fr_outs(o, "connections</dt><dd id=\"r-conns\">");
    fr_out_host(o, (uint64_t) fr_runner.nconns);
    fr_outs(o, dd);
    fr_outs(o, "accepted</dt><dd id=\"r-accepted\">");
    fr_out_host(o, fr_runner.accepted);
    fr_outs(o, dd);
    fr_outs(o, "functions</dt><dd id=\"r-functions\">");
    fr_out_i64(o, nf);
    fr_outs(o, dd);
    fr_outs(o, "tenants</dt><dd id=\"r-tenants\">");
    fr_out_i64(o, nt);
    fr_outs(o, dd);
    fr_outs(o, "pid</dt><dd id=\"r-pid\">");
    fr_out_host(o, (uint64_t) getpid());
    fr_outs(o, dd);
    fr_outs(o, "version</dt><dd id=\"r-version\">" FR_VERSION
            "</dd></div>\n</dl></section>\n");
}


/* the header names the columns for the script too: data-k, class */

static void
fr_dash_table(fr_out_t *o, const char *kind, const fr_dash_col_t *cols,
    fr_view_t *v, int n)
{
    int                   i, k;
    const fr_dash_col_t  *c;

    fr_outs(o, "<div class=\"tools\" id=\"");
    fr_outs(o, kind);
    fr_outs(o, "-tools\" hidden><input id=\"");
    fr_outs(o, kind);
    fr_outs(o, "-filter\" type=\"search\" placeholder=\"filter by name\" "
            "aria-label=\"filter by name\"> <button id=\"");
    fr_outs(o, kind);
    fr_outs(o, "-prev\">&lsaquo; previous</button> <span id=\"");
    fr_outs(o, kind);
    fr_outs(o, "-page\"></span> <button id=\"");
    fr_outs(o, kind);
    fr_outs(o, "-next\">next &rsaquo;</button></div>\n"
            "<div class=\"scroll\"><table id=\"");
    fr_outs(o, kind);
    fr_outs(o, "-table\"><thead><tr>");

    for (c = cols; c->key; c++) {
        for (k = 0; k < (c->label ? 1 : FR_OUTCOME_MAX); k++) {
            fr_outs(o, "<th class=\"c-");
            fr_outs(o, c->key);

            if (c->label == NULL) {
                fr_outs(o, "-");
                fr_outs(o, fr_outcome_name(k));
                fr_outs(o, "\" data-k=\"o.");
                fr_outs(o, fr_outcome_name(k));
                fr_outs(o, "\">");
                fr_outs(o, fr_outcome_name(k));

            } else {
                fr_outs(o, "\" data-k=\"");
                fr_outs(o, c->key);
                fr_outs(o, "\">");
                fr_outs(o, c->label);
            }

            fr_outs(o, "</th>");
        }
    }

    fr_outs(o, "</tr></thead>\n<tbody id=\"");
    fr_outs(o, kind);
    fr_outs(o, "-body\">\n");

    for (i = 0; i < n; i++) {
        fr_outs(o, "<tr data-name=\"");
        fr_dash_text(o, v[i].name);
        fr_outs(o, "\">");

        for (c = cols; c->key; c++) {
            for (k = 0; k < (c->label ? 1 : FR_OUTCOME_MAX); k++) {
                fr_outs(o, "<td class=\"c-");
                fr_outs(o, c->key);

                if (c->label == NULL) {
                    fr_outs(o, "-");
                    fr_outs(o, fr_outcome_name(k));
                }

                fr_outs(o, "\">");
                fr_dash_cell(o, &v[i], c->key, k);
                fr_outs(o, "</td>");
            }
        }

        fr_outs(o, "</tr>\n");
    }

    fr_outs(o, "</tbody></table></div>\n");
}


/* one figure as the script shows it too */

static void
fr_dash_cell(fr_out_t *o, const fr_view_t *v, const char *key, int outcome)
{
    int          i;
    char         num[64];
    double       d;
    int64_t      w;
    uint64_t     n;
    fr_tenant_t *t;

#define fr_key(s)  (strcmp(key, s) == 0)

    t = v->owner;
    num[0] = '\0';

    if (fr_key("name")) {
        fr_dash_text(o, v->name);

    } else if (fr_key("tenant")) {
        fr_dash_text(o, v->tenant);

    } else if (fr_key("state")) {
        fr_outs(o, fr_dash_state(v));

    } else if (fr_key("busy") || fr_key("idle") || fr_key("starting")
               || fr_key("stopping"))
    {
        i = key[1] == 'u' ? 2 : key[1] == 'd' ? 1 : key[3] == 'r' ? 0 : 3;
        fr_out_i64(o, v->workers[i]);

    } else if (fr_key("queue")) {
        fr_out_i64(o, v->queue);

    } else if (fr_key("inv")) {
        for (n = 0, i = 0; i < FR_OUTCOME_MAX; i++) {
            n += v->stats.invocations[i];
        }

        fr_out_u64(o, n);

    } else if (fr_key("o")) {
        fr_out_u64(o, v->stats.invocations[outcome]);

    } else if (fr_key("p50") || fr_key("p99")) {
        d = fr_dash_quantile(&v->stats, key[1] == '5' ? 0.5 : 0.99);
        snprintf(num, sizeof(num), d < 0 ? "-" : "%.3f", d * 1000);

    } else if (fr_key("cold")) {
        fr_out_u64(o, v->stats.cold_starts);

    } else if (fr_key("cpu")) {
        snprintf(num, sizeof(num), "%.3f", v->cpu_us / 1e6);

    } else if (fr_key("mem")) {
        snprintf(num, sizeof(num), "%.1f",
                 v->peak_kb > 0 ? v->peak_kb / 1024.0 : 0.0);

    } else if (fr_key("functions")) {
        fr_out_i64(o, v->nfuncs);

    } else if (fr_key("workers")) {
        for (w = 0, i = 0; i < 4; i++) {
            w += v->workers[i];
        }

        fr_out_i64(o, w);

    } else if (fr_key("max_instances")) {
        if (t && t->max_instances) {
            fr_out_i64(o, t->max_instances);

        } else {
            fr_outs(o, "-");
        }

    } else if (fr_key("memory")) {
        snprintf(num, sizeof(num), "%.1f",
                 t ? t->memory / 1048576.0 : 0.0);

    } else if (fr_key("max_memory")) {
        snprintf(num, sizeof(num), t && t->max_memory ? "%.1f" : "-",
                 t ? t->max_memory / 1048576.0 : 0.0);
    }

#undef fr_key

    fr_outs(o, num);
}


/*
 * The quantile q of the duration histogram, in seconds (-1: none), as
 * Prometheus' histogram_quantile() estimates it: linear within the
 * bucket the rank falls in; the +Inf bucket gives the last bound.
 */

static double
fr_dash_quantile(const fr_stats_t *s, double q)
{
    int       i;
    double    rank, lo, up;
    uint64_t  n, prev;

    for (n = 0, i = 0; i <= FR_DURATION_BUCKETS; i++) {
        n += s->duration[i];
    }

    if (n == 0) {
        return -1;
    }

    rank = q * n;
    prev = 0;
    lo = 0;

    for (i = 0; i <= FR_DURATION_BUCKETS; i++) {
        if (prev + s->duration[i] >= rank && s->duration[i]) {
            if (i == FR_DURATION_BUCKETS) {
                return lo;
            }

            up = fr_bucket_us[i] / 1e6;
            return lo + (up - lo) * (rank - prev) / s->duration[i];
        }

        prev += s->duration[i];

        if (i < FR_DURATION_BUCKETS) {
            lo = fr_bucket_us[i] / 1e6;
        }
    }

    return lo;
}


static const char *
fr_dash_state(const fr_view_t *v)
{
    return v->workers[2] ? "busy" : v->workers[1] ? "idle"
           : v->workers[0] ? "starting" : v->workers[3] ? "stopping"
           : "stopped";
}


/* text for an element or a quoted attribute */

static void
fr_dash_text(fr_out_t *o, const char *s)
{
    const char  *p;

    for (p = s; *p; p++) {
        switch (*p) {
        case '&':  fr_outs(o, "&amp;"); break;
        case '<':  fr_outs(o, "&lt;"); break;
        case '>':  fr_outs(o, "&gt;"); break;
        case '"':  fr_outs(o, "&quot;"); break;
        case '\'': fr_outs(o, "&#39;"); break;
        default:
            if ((u_char) *p >= 0x20) {
                fr_out(o, p, 1);
            }
        }
    }
}
