/*
 * Copyright (C) ngx_faas developers
 */

#ifndef FR_STATS_H
#define FR_STATS_H


#include "fr_buf.h"
#include "fr_runner.h"
#include "fr_cgroup_host.h"


typedef enum {
    FR_FORMAT_JSON = 0,
    FR_FORMAT_PROMETHEUS,
    FR_FORMAT_OPENMETRICS,
    FR_FORMAT_TABLE,
    FR_FORMAT_HTML
} fr_format_e;


/* one function, or one tenant (the sums of its functions) */
typedef struct {
    const char            *name;
    const char            *tenant;
    const char            *mode;
    fr_tenant_t           *owner;
    const fr_fconf_t      *conf;            /* a function's; NULL: tenant */
    char                   labels[256];     /* function="…",tenant="…" */
    int                    nfuncs;
    int64_t                workers[4];      /* starting idle busy stopping */
    int64_t                queue;
    int64_t                queue_limit;
    uint64_t               cpu_us;          /* ended and live workers */
    int64_t                peak_kb;
    fr_cgroup_use_t        cgroup;          /* a tenant's, -1: none */
    fr_stats_t             stats;
} fr_view_t;


typedef struct {
    fr_buf_t              *b;
    int                    failed;
    fr_format_e            format;
    unsigned               scoped:1;        /* a tenant's view: no figure
                                               of the host's (fr_out_host) */
} fr_out_t;


extern const uint64_t  fr_bucket_us[FR_DURATION_BUCKETS];
extern const char     *fr_bucket_le[FR_DURATION_BUCKETS];
extern const char     *fr_state_names[4];
extern const char     *fr_stop_names[FR_STOP_MAX];


void fr_status_count(fr_req_t *r);
int fr_views(fr_view_t **funcs, int *nfuncs, fr_view_t **tenants,
    int *ntenants, const char *only, const char *tenant);

void fr_out(fr_out_t *o, const char *s, size_t n);
void fr_outs(fr_out_t *o, const char *s);
void fr_out_u64(fr_out_t *o, uint64_t v);
void fr_out_i64(fr_out_t *o, int64_t v);
void fr_out_host(fr_out_t *o, uint64_t v);
void fr_out_sec(fr_out_t *o, uint64_t usec);
void fr_out_esc(fr_out_t *o, const char *s, int json);


void fr_view_add(fr_view_t *t, const fr_view_t *v);
uint64_t fr_uptime_usec(void);


#endif /* FR_STATS_H */
