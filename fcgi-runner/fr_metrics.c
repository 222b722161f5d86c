/*
 * Copyright (C) ngx_faas developers
 *
 * The status as metrics: the Prometheus text format (0.0.4) and
 * OpenMetrics 1.0. Names follow Prometheus' conventions: a faas_ prefix,
 * base units, counters ending in _total; labels function, tenant,
 * outcome, state, reason, le.
 */

#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "fr_meter.h"
#include "fr_metrics.h"
#include "fr_store.h"


/* a metric family, for a function's view or a tenant's */
typedef struct {
    const char            *name;            /* after faas_function_ */
    const char            *type;
    const char            *help;
    void                 (*emit)(fr_out_t *o, const char *name,
                                 const fr_view_t *v);
    unsigned               function:1;      /* for functions */
    unsigned               tenant:1;        /* for tenants */
} fr_family_t;


static void fr_header(fr_out_t *o, const char *prefix, const char *name,
    const char *type, const char *help);
static void fr_runner_gauge(fr_out_t *o, const char *name, const char *type,
    const char *help, uint64_t value, int seconds);
static void fr_sample(fr_out_t *o, const char *name, const char *suffix,
    const fr_view_t *v, const char *key, const char *label,
    const char *value);
static void fr_sample_u64(fr_out_t *o, const char *name, const char *suffix,
    const fr_view_t *v, const char *key, const char *label, uint64_t value);
static void fr_sample_sec(fr_out_t *o, const char *name, const char *suffix,
    const fr_view_t *v, uint64_t usec);

static void fr_emit_workers(fr_out_t *o, const char *name,
    const fr_view_t *v);
static void fr_emit_queue(fr_out_t *o, const char *name, const fr_view_t *v);
static void fr_emit_queue_limit(fr_out_t *o, const char *name,
    const fr_view_t *v);
static void fr_emit_invocations(fr_out_t *o, const char *name,
    const fr_view_t *v);
static void fr_emit_cold(fr_out_t *o, const char *name, const fr_view_t *v);
static void fr_emit_init(fr_out_t *o, const char *name, const fr_view_t *v);
static void fr_emit_duration(fr_out_t *o, const char *name,
    const fr_view_t *v);
static void fr_emit_cpu(fr_out_t *o, const char *name, const fr_view_t *v);
static void fr_emit_peak(fr_out_t *o, const char *name, const fr_view_t *v);
static void fr_emit_stops(fr_out_t *o, const char *name, const fr_view_t *v);
static void fr_emit_failures(fr_out_t *o, const char *name,
    const fr_view_t *v);
static void fr_emit_memory(fr_out_t *o, const char *name,
    const fr_view_t *v);
static void fr_emit_max_instances(fr_out_t *o, const char *name,
    const fr_view_t *v);
static void fr_emit_max_memory(fr_out_t *o, const char *name,
    const fr_view_t *v);
static void fr_emit_cgroup(fr_out_t *o, const char *name,
    const fr_view_t *v);


static const fr_family_t  fr_families[] = {
    { "workers", "gauge", "Workers by state.",
      fr_emit_workers, 1, 1 },
    { "queue_length", "gauge", "Requests waiting for a worker.",
      fr_emit_queue, 1, 1 },
    { "queue_limit", "gauge", "The queue's limit (queue).",
      fr_emit_queue_limit, 1, 0 },
    { "invocations", "counter", "Invocations ended, by outcome.",
      fr_emit_invocations, 1, 1 },
    { "cold_starts", "counter",
      "Invocations that waited for a worker to start.",
      fr_emit_cold, 1, 1 },
    { "init_seconds", "summary",
      "Time from spawn to ready of the workers that started.",
      fr_emit_init, 1, 1 },
    { "duration_seconds", "histogram",
      "Time from a worker taking an invocation to its end.",
      fr_emit_duration, 1, 1 },
    { "cpu_seconds", "counter",
      "CPU time (user and system) of its workers, ended and live.",
      fr_emit_cpu, 1, 1 },
    { "memory_peak_bytes", "gauge",
      "The largest peak resident set of one of its workers.",
      fr_emit_peak, 1, 1 },
    { "worker_stops", "counter", "Workers ended, by reason.",
      fr_emit_stops, 1, 1 },
    { "spawn_failures", "counter",
      "Workers that could not start (exec failed, exited or not ready).",
      fr_emit_failures, 1, 1 },
    { "memory_bytes", "gauge",
      "The memory limits of its live workers, summed.",
      fr_emit_memory, 0, 1 },
    { "max_instances", "gauge", "Its limit of live workers (when set).",
      fr_emit_max_instances, 0, 1 },
    { "max_memory_bytes", "gauge",
      "Its limit of memory_bytes (when set).",
      fr_emit_max_memory, 0, 1 },
    { "cgroup_memory_bytes", "gauge",
      "The memory its processes hold now, as its cgroup counts it.",
      fr_emit_cgroup, 0, 1 },
    { "cgroup_memory_peak_bytes", "gauge",
      "The most its cgroup held since it was made.",
      fr_emit_cgroup, 0, 1 },
    { "oom_kills", "counter",
      "Processes the OOM killer ended in its cgroup.",
      fr_emit_cgroup, 0, 1 }
};


/*
 * # HELP and # TYPE. Prometheus text names a counter by its sample
 * (…_total) and knows no info type; OpenMetrics names the family.
 */

static void
fr_header(fr_out_t *o, const char *prefix, const char *name,
    const char *type, const char *help)
{
    int          i;
    const char  *sfx;

    sfx = "";

    if (o->format == FR_FORMAT_PROMETHEUS) {
        if (strcmp(type, "counter") == 0) {
            sfx = "_total";

        } else if (strcmp(type, "info") == 0) {
            sfx = "_info";
            type = "gauge";
        }
    }

    for (i = 0; i < 2; i++) {
        fr_outs(o, i ? "# TYPE " : "# HELP ");
        fr_outs(o, prefix);
        fr_outs(o, name);
        fr_outs(o, sfx);
        fr_out(o, " ", 1);
        fr_outs(o, i ? type : help);
        fr_out(o, "\n", 1);
    }
}


static void
fr_runner_gauge(fr_out_t *o, const char *name, const char *type,
    const char *help, uint64_t value, int seconds)
{
    fr_header(o, "faas_runner_", name, type, help);
    fr_outs(o, "faas_runner_");
    fr_outs(o, name);
    fr_outs(o, strcmp(type, "counter") == 0 ? "_total " : " ");

    if (seconds) {
        fr_out_sec(o, value);

    } else {
        fr_out_u64(o, value);
    }

    fr_out(o, "\n", 1);
}


void
fr_metrics_render(fr_out_t *o, fr_view_t *fv, int nf, fr_view_t *tv, int nt)
{
    int                 i, j;
    char                name[64];
    struct timeval      tv_now;
    const fr_family_t  *fam;
    uint64_t            counts[FR_INV_STATES];

    fr_header(o, "faas_runner", "", "info", "The runner: version, pid.");
    fr_outs(o, "faas_runner_info{version=\"" FR_VERSION "\",pid=\"");
    fr_out_host(o, (uint64_t) getpid());
    fr_outs(o, "\"} 1\n");

    gettimeofday(&tv_now, NULL);

    fr_runner_gauge(o, "start_time_seconds", "gauge",
                    "When the runner started, in seconds since the epoch.",
                    fr_runner.started, 1);
    fr_runner_gauge(o, "uptime_seconds", "gauge", "Seconds since it started.",
                    fr_uptime_usec(), 1);

    if (o->scoped) {
        /* a tenant's view: none of the host's figures */
        goto functions;
    }

    fr_runner_gauge(o, "connections", "gauge", "Client connections open.",
                    (uint64_t) fr_runner.nconns, 0);
    fr_runner_gauge(o, "connections_accepted", "counter",
                    "Client connections accepted.", fr_runner.accepted, 0);
    fr_runner_gauge(o, "requests_in_flight", "gauge",
                    "Requests being read, queued or served.",
                    (uint64_t) fr_runner.nreqs, 0);
    fr_runner_gauge(o, "workers", "gauge", "Live workers of all functions.",
                    (uint64_t) fr_runner.nworkers, 0);

    if (fr_runner.conf.max_workers) {
        fr_runner_gauge(o, "workers_limit", "gauge", "max_workers.",
                        (uint64_t) fr_runner.conf.max_workers, 0);
    }

    fr_runner_gauge(o, "prototypes", "gauge",
                    "Prototypes alive, one per function in use.",
                    (uint64_t) fr_runner.nprotos, 0);
    fr_runner_gauge(o, "prototype_starts", "counter",
                    "Prototypes started.", fr_runner.proto_starts, 0);
    fr_runner_gauge(o, "prototype_forks", "counter",
                    "Workers forked by prototypes.", fr_runner.proto_forks, 0);
    fr_runner_gauge(o, "spawn_failures", "counter",
                    "Workers of any function that could not start.",
                    fr_runner.start_failures, 0);
    fr_runner_gauge(o, "reloads", "counter",
                    "Reloads of the functions (SIGHUP).",
                    fr_runner.reloads, 0);
    fr_runner_gauge(o, "unrouted_requests", "counter",
                    "Requests for no function or an unknown one.",
                    fr_runner.unrouted, 0);

    fr_header(o, "faas_runner_", "async_invocations", "gauge",
              "Stored asynchronous invocations, by state.");
    (void) fr_store_counts(counts);

    for (i = 0; i < FR_INV_STATES; i++) {
        fr_outs(o, "faas_runner_async_invocations{state=\"");
        fr_outs(o, fr_inv_state_name(i));
        fr_outs(o, "\"} ");
        fr_out_u64(o, counts[i]);
        fr_out(o, "\n", 1);
    }

functions:

    for (i = 0; i < 2; i++) {
        for (fam = fr_families;
             fam < fr_families + sizeof(fr_families) / sizeof(fr_families[0]);
             fam++)
        {
            if (!(i ? fam->tenant : fam->function)) {
                continue;
            }

            fr_header(o, i ? "faas_tenant_" : "faas_function_", fam->name,
                      fam->type, fam->help);

            snprintf(name, sizeof(name), "%s%s",
                     i ? "faas_tenant_" : "faas_function_", fam->name);

            for (j = 0; j < (i ? nt : nf); j++) {
                fam->emit(o, name, i ? &tv[j] : &fv[j]);
            }
        }
    }

    if (o->format == FR_FORMAT_OPENMETRICS) {
        fr_outs(o, "# EOF\n");
    }
}


/* NAME[SUFFIX]{LABELS[,KEY="LABEL"]} VALUE */

static void
fr_sample(fr_out_t *o, const char *name, const char *suffix,
    const fr_view_t *v, const char *key, const char *label,
    const char *value)
{
    fr_outs(o, name);

    if (suffix) {
        fr_outs(o, suffix);
    }

    fr_out(o, "{", 1);
    fr_outs(o, v->labels);

    if (key) {
        fr_out(o, ",", 1);
        fr_outs(o, key);
        fr_out(o, "=\"", 2);
        fr_outs(o, label);
        fr_out(o, "\"", 1);
    }

    fr_out(o, "} ", 2);

    if (value) {
        fr_outs(o, value);
        fr_out(o, "\n", 1);
    }
}


static void
fr_sample_u64(fr_out_t *o, const char *name, const char *suffix,
    const fr_view_t *v, const char *key, const char *label, uint64_t value)
{
    fr_sample(o, name, suffix, v, key, label, NULL);
    fr_out_u64(o, value);
    fr_out(o, "\n", 1);
}


/* a sample in seconds, from microseconds */

static void
fr_sample_sec(fr_out_t *o, const char *name, const char *suffix,
    const fr_view_t *v, uint64_t usec)
{
    fr_sample(o, name, suffix, v, NULL, NULL, NULL);
    fr_out_sec(o, usec);
    fr_out(o, "\n", 1);
}


/* --- the families' samples ---------------------------------------------- */

static void
fr_emit_workers(fr_out_t *o, const char *name, const fr_view_t *v)
{
    int  i;

    for (i = 0; i < 4; i++) {
        fr_sample_u64(o, name, NULL, v, "state", fr_state_names[i],
                      (uint64_t) v->workers[i]);
    }
}


static void
fr_emit_queue(fr_out_t *o, const char *name, const fr_view_t *v)
{
    fr_sample_u64(o, name, NULL, v, NULL, NULL, (uint64_t) v->queue);
}


static void
fr_emit_queue_limit(fr_out_t *o, const char *name, const fr_view_t *v)
{
    fr_sample_u64(o, name, NULL, v, NULL, NULL, (uint64_t) v->queue_limit);
}


static void
fr_emit_invocations(fr_out_t *o, const char *name, const fr_view_t *v)
{
    int  i;

    for (i = 0; i < FR_OUTCOME_MAX; i++) {
        fr_sample_u64(o, name, "_total", v, "outcome", fr_outcome_name(i),
                      v->stats.invocations[i]);
    }
}


static void
fr_emit_cold(fr_out_t *o, const char *name, const fr_view_t *v)
{
    fr_sample_u64(o, name, "_total", v, NULL, NULL, v->stats.cold_starts);
}


static void
fr_emit_init(fr_out_t *o, const char *name, const fr_view_t *v)
{
    fr_sample_sec(o, name, "_sum", v, v->stats.start_us);
    fr_sample_u64(o, name, "_count", v, NULL, NULL, v->stats.starts);
}


static void
fr_emit_duration(fr_out_t *o, const char *name, const fr_view_t *v)
{
    int       i;
    char      le[16];
    uint64_t  n;

    n = 0;

    for (i = 0; i <= FR_DURATION_BUCKETS; i++) {
        n += v->stats.duration[i];

        /* OpenMetrics' canonical number, as Prometheus' clients write
         * it too: "1.0", never "1" */
        snprintf(le, sizeof(le), "%s%s",
                 i < FR_DURATION_BUCKETS ? fr_bucket_le[i] : "+Inf",
                 i < FR_DURATION_BUCKETS && !strchr(fr_bucket_le[i], '.')
                 ? ".0" : "");
        fr_sample_u64(o, name, "_bucket", v, "le", le, n);
    }

    fr_sample_sec(o, name, "_sum", v, v->stats.duration_us);
    fr_sample_u64(o, name, "_count", v, NULL, NULL, n);
}


static void
fr_emit_cpu(fr_out_t *o, const char *name, const fr_view_t *v)
{
    fr_sample_sec(o, name, "_total", v, v->cpu_us);
}


static void
fr_emit_peak(fr_out_t *o, const char *name, const fr_view_t *v)
{
    fr_sample_u64(o, name, NULL, v, NULL, NULL,
                  v->peak_kb > 0 ? (uint64_t) v->peak_kb * 1024 : 0);
}


static void
fr_emit_stops(fr_out_t *o, const char *name, const fr_view_t *v)
{
    int  i;

    for (i = FR_STOP_NONE + 1; i < FR_STOP_MAX; i++) {
        fr_sample_u64(o, name, "_total", v, "reason", fr_stop_names[i],
                      v->stats.stops[i]);
    }
}


static void
fr_emit_failures(fr_out_t *o, const char *name, const fr_view_t *v)
{
    fr_sample_u64(o, name, "_total", v, NULL, NULL, v->stats.start_failures);
}


static void
fr_emit_memory(fr_out_t *o, const char *name, const fr_view_t *v)
{
    fr_sample_u64(o, name, NULL, v, NULL, NULL,
                  v->owner ? (uint64_t) v->owner->memory : 0);
}


static void
fr_emit_max_instances(fr_out_t *o, const char *name, const fr_view_t *v)
{
    if (v->owner && v->owner->max_instances) {
        fr_sample_u64(o, name, NULL, v, NULL, NULL,
                      (uint64_t) v->owner->max_instances);
    }
}


static void
fr_emit_max_memory(fr_out_t *o, const char *name, const fr_view_t *v)
{
    if (v->owner && v->owner->max_memory) {
        fr_sample_u64(o, name, NULL, v, NULL, NULL,
                      (uint64_t) v->owner->max_memory);
    }
}


/* what its cgroup says, where it has one and the kernel says it */

static void
fr_emit_cgroup(fr_out_t *o, const char *name, const fr_view_t *v)
{
    int      ooms;
    int64_t  n;

    ooms = (strstr(name, "oom_kills") != NULL);
    n = ooms ? v->cgroup.oom_kills
             : (strstr(name, "peak") ? v->cgroup.peak : v->cgroup.bytes);

    if (v->cgroup.bytes != -1 && n != -1) {
        fr_sample_u64(o, name, ooms ? "_total" : NULL, v, NULL, NULL,
                      (uint64_t) n);
    }
}
