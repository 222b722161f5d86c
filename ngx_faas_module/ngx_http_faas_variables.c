
/*
 * Copyright (C) ngx_faas developers
 *
 * $faas_* variables: the routed function, and what the runner measured
 * for this invocation. Durations are milliseconds with three decimals,
 * memory kilobytes; empty where the runner measured nothing.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_faas.h"


typedef enum {
    ngx_http_faas_var_function = 0,
    ngx_http_faas_var_tenant,
    ngx_http_faas_var_status,
    ngx_http_faas_var_duration,
    ngx_http_faas_var_billed_duration,
    ngx_http_faas_var_init_duration,
    ngx_http_faas_var_cold,
    ngx_http_faas_var_queue_duration,
    ngx_http_faas_var_cpu_time,
    ngx_http_faas_var_max_memory,
    ngx_http_faas_var_memory_size,
    ngx_http_faas_var_worker
} ngx_http_faas_var_e;


static ngx_int_t ngx_http_faas_nv_next(u_char **pos, u_char *last,
    u_char **name, size_t *nlen, u_char **value, size_t *vlen);
static ngx_int_t ngx_http_faas_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_http_faas_ctx_t *ngx_http_faas_late_route(ngx_http_request_t *r);
static void ngx_http_faas_meter_add(ngx_http_faas_meter_t *m,
    ngx_http_faas_meter_t *e);
static ngx_int_t ngx_http_faas_outcome(ngx_http_request_t *r,
    ngx_http_faas_ctx_t *ctx, ngx_http_variable_value_t *v);
static ngx_int_t ngx_http_faas_msec(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, int64_t usec, ngx_uint_t round_up);
static ngx_int_t ngx_http_faas_number(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, int64_t n);
static ngx_int_t ngx_http_faas_invocation_id(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);


#define ngx_http_faas_var(name, id)                                          \
    { ngx_string(name), NULL, ngx_http_faas_variable, id,                    \
      NGX_HTTP_VAR_NOCACHEABLE, 0 }

static ngx_http_variable_t  ngx_http_faas_vars[] = {
    ngx_http_faas_var("faas_function", ngx_http_faas_var_function),
    ngx_http_faas_var("faas_tenant", ngx_http_faas_var_tenant),
    ngx_http_faas_var("faas_status", ngx_http_faas_var_status),
    ngx_http_faas_var("faas_duration", ngx_http_faas_var_duration),
    ngx_http_faas_var("faas_billed_duration",
                      ngx_http_faas_var_billed_duration),
    ngx_http_faas_var("faas_init_duration", ngx_http_faas_var_init_duration),
    ngx_http_faas_var("faas_cold", ngx_http_faas_var_cold),
    ngx_http_faas_var("faas_queue_duration",
                      ngx_http_faas_var_queue_duration),
    ngx_http_faas_var("faas_cpu_time", ngx_http_faas_var_cpu_time),
    ngx_http_faas_var("faas_max_memory", ngx_http_faas_var_max_memory),
    ngx_http_faas_var("faas_memory_size", ngx_http_faas_var_memory_size),
    ngx_http_faas_var("faas_worker", ngx_http_faas_var_worker),
    { ngx_string("faas_invocation_id"), NULL, ngx_http_faas_invocation_id,
      0, NGX_HTTP_VAR_NOCACHEABLE, 0 },
    ngx_http_null_variable
};


ngx_int_t
ngx_http_faas_add_variables(ngx_conf_t *cf)
{
    ngx_http_variable_t  *var, *v;

    for (v = ngx_http_faas_vars; v->name.len; v++) {
        var = ngx_http_add_variable(cf, &v->name, v->flags);
        if (var == NULL) {
            return NGX_ERROR;
        }

        var->get_handler = v->get_handler;
        var->data = v->data;
    }

    return NGX_OK;
}


/* a measured $faas_* is read somewhere: a log format, a map, a param */

ngx_flag_t
ngx_http_faas_meter_used(ngx_conf_t *cf)
{
    ngx_uint_t                  i;
    ngx_http_variable_t        *v;
    ngx_http_core_main_conf_t  *cmcf;

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    v = cmcf->variables.elts;

    for (i = 0; i < cmcf->variables.nelts; i++) {
        if (v[i].name.len > 5
            && ngx_strncmp(v[i].name.data, "faas_", 5) == 0
            && !(v[i].name.len == 13
                 && ngx_strncmp(v[i].name.data, "faas_function", 13) == 0)
            && !(v[i].name.len == 18
                 && ngx_strncmp(v[i].name.data, "faas_invocation_id", 18)
                    == 0))
        {
            return 1;
        }
    }

    return 0;
}


/* the record's name-value pairs into ctx->meter */

void
ngx_http_faas_meter_parse(ngx_http_request_t *r, ngx_http_faas_ctx_t *ctx)
{
    u_char                 *p, *last, *name, *value;
    size_t                  nlen, vlen, i;
    int64_t                 n, *num;
    ngx_http_faas_meter_t  *m;

    static const struct {
        ngx_str_t   name;
        size_t      offset;
    } fields[] = {
        { ngx_string(FAAS_METER_DURATION),
          offsetof(ngx_http_faas_meter_t, duration) },
        { ngx_string(FAAS_METER_INIT),
          offsetof(ngx_http_faas_meter_t, init) },
        { ngx_string(FAAS_METER_COLD),
          offsetof(ngx_http_faas_meter_t, cold) },
        { ngx_string(FAAS_METER_QUEUE),
          offsetof(ngx_http_faas_meter_t, queue) },
        { ngx_string(FAAS_METER_CPU),
          offsetof(ngx_http_faas_meter_t, cpu) },
        { ngx_string(FAAS_METER_MAX_MEMORY),
          offsetof(ngx_http_faas_meter_t, max_memory) },
        { ngx_string(FAAS_METER_MEMORY_SIZE),
          offsetof(ngx_http_faas_meter_t, memory_size) },
        { ngx_string(FAAS_METER_WORKER),
          offsetof(ngx_http_faas_meter_t, worker) }
    };

    m = &ctx->meter;

    m->duration = m->init = m->cold = m->queue = m->cpu = -1;
    m->max_memory = m->memory_size = m->worker = -1;

    p = ctx->meter_buf;
    last = p + ctx->meter_len;

    while (ngx_http_faas_nv_next(&p, last, &name, &nlen, &value, &vlen)
           == NGX_OK)
    {
        if (nlen == sizeof(FAAS_METER_OUTCOME) - 1
            && ngx_strncmp(name, FAAS_METER_OUTCOME, nlen) == 0)
        {
            m->outcome.data = ngx_pstrdup(r->pool,
                                   &(ngx_str_t) { vlen, value });
            m->outcome.len = m->outcome.data ? vlen : 0;
            continue;
        }

        if (nlen == sizeof(FAAS_METER_TENANT) - 1
            && ngx_strncmp(name, FAAS_METER_TENANT, nlen) == 0)
        {
            m->tenant.data = ngx_pstrdup(r->pool,
                                  &(ngx_str_t) { vlen, value });
            m->tenant.len = m->tenant.data ? vlen : 0;
            continue;
        }

        for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
            if (fields[i].name.len == nlen
                && ngx_strncmp(fields[i].name.data, name, nlen) == 0)
            {
                n = ngx_atoof(value, vlen);
                num = (int64_t *) ((u_char *) m + fields[i].offset);
                *num = (n == NGX_ERROR) ? -1 : n;
                break;
            }
        }
    }

    if (ctx->retried) {
        ngx_http_faas_meter_add(m, &ctx->earlier);
    }

    ctx->metered = 1;
    ctx->meter_len = 0;
}


/*
 * The runs of one request that nginx sent to another runner after the
 * first broke: their times and CPU summed, the larger peak and cold;
 * tenant, outcome, worker and memory size the last run's.
 */

static void
ngx_http_faas_meter_add(ngx_http_faas_meter_t *m, ngx_http_faas_meter_t *e)
{
    int64_t  *a, *b;
    size_t    i;

    static const size_t  sums[] = {
        offsetof(ngx_http_faas_meter_t, duration),
        offsetof(ngx_http_faas_meter_t, init),
        offsetof(ngx_http_faas_meter_t, queue),
        offsetof(ngx_http_faas_meter_t, cpu)
    };

    for (i = 0; i < sizeof(sums) / sizeof(sums[0]); i++) {
        a = (int64_t *) ((u_char *) m + sums[i]);
        b = (int64_t *) ((u_char *) e + sums[i]);

        if (*b >= 0) {
            *a = (*a < 0) ? *b
                 : (*a > INT64_MAX - *b) ? INT64_MAX
                 : *a + *b;
        }
    }

    m->cold = ngx_max(m->cold, e->cold);
    m->max_memory = ngx_max(m->max_memory, e->max_memory);
}


/*
 * One FastCGI name-value pair at *pos: lengths of one byte (under 128)
 * or of four (high bit set), as the specification allows both.
 */

static ngx_int_t
ngx_http_faas_nv_next(u_char **pos, u_char *last, u_char **name,
    size_t *nlen, u_char **value, size_t *vlen)
{
    u_char     *p;
    size_t      len[2];
    ngx_uint_t  i;

    p = *pos;

    for (i = 0; i < 2; i++) {
        if (p == last) {
            return NGX_DONE;
        }

        if (*p < 0x80) {
            len[i] = *p++;
            continue;
        }

        if (last - p < 4) {
            return NGX_ERROR;
        }

        len[i] = ((size_t) (p[0] & 0x7f) << 24) | ((size_t) p[1] << 16)
                 | ((size_t) p[2] << 8) | p[3];
        p += 4;
    }

    if ((size_t) (last - p) < len[0] || (size_t) (last - p) - len[0] < len[1])
    {
        return NGX_ERROR;
    }

    *name = p;
    *nlen = len[0];
    *value = p + len[0];
    *vlen = len[1];
    *pos = p + len[0] + len[1];

    return NGX_OK;
}


static ngx_int_t
ngx_http_faas_variable(ngx_http_request_t *r, ngx_http_variable_value_t *v,
    uintptr_t data)
{
    ngx_http_faas_ctx_t    *ctx;
    ngx_http_faas_meter_t  *m;

    /*
     * while a run goes on, its own (an upstream's hash key, a header
     * added to its response); once over, the run the line bills: an
     * earlier one's, after an error_page into another function
     */
    ctx = ngx_http_faas_get_ctx(r);

    if (ctx && !ctx->running) {
        ctx = ctx->logged;
    }

    v->not_found = 1;

    if (ctx == NULL && data == ngx_http_faas_var_function) {
        ctx = ngx_http_faas_late_route(r);
    }

    if (ctx == NULL) {
        return NGX_OK;
    }

    m = &ctx->meter;

    switch (data) {

    case ngx_http_faas_var_function:
        if (ctx->function.len) {
            v->data = ctx->function.data;
            v->len = ctx->function.len;
            v->valid = 1;
            v->not_found = 0;
        }
        return NGX_OK;

    case ngx_http_faas_var_status:
        return ngx_http_faas_outcome(r, ctx, v);
    }

    if (!ctx->metered) {
        return NGX_OK;
    }

    switch (data) {

    case ngx_http_faas_var_tenant:
        if (m->tenant.len) {
            v->data = m->tenant.data;
            v->len = m->tenant.len;
            v->valid = 1;
            v->not_found = 0;
        }
        return NGX_OK;

    case ngx_http_faas_var_duration:
        return ngx_http_faas_msec(r, v, m->duration, 0);

    case ngx_http_faas_var_billed_duration:
        return ngx_http_faas_msec(r, v, m->duration, 1);

    case ngx_http_faas_var_init_duration:
        return ngx_http_faas_msec(r, v, m->init, 0);

    case ngx_http_faas_var_queue_duration:
        return ngx_http_faas_msec(r, v, m->queue, 0);

    case ngx_http_faas_var_cpu_time:
        return ngx_http_faas_msec(r, v, m->cpu, 0);

    case ngx_http_faas_var_cold:
        return ngx_http_faas_number(r, v, m->cold);

    case ngx_http_faas_var_max_memory:
        return ngx_http_faas_number(r, v, m->max_memory);

    case ngx_http_faas_var_memory_size:
        return ngx_http_faas_number(r, v, m->memory_size);

    default: /* ngx_http_faas_var_worker */
        return ngx_http_faas_number(r, v, m->worker);
    }
}


/*
 * A request nginx answered before the module's handler ran in a
 * faas_pass location (413 for a body over client_max_body_size, a
 * limit_req 503, a deny): its function named all the same, by the
 * location's routes, for the log line. The runner is not asked; the
 * request keeps no context of it, nor the routes' numbered captures.
 */

static ngx_http_faas_ctx_t *
ngx_http_faas_late_route(ngx_http_request_t *r)
{
    int                       *captures;
    u_char                    *captures_data;
    unsigned                   realloc_captures;
    ngx_uint_t                 ncaptures;
    ngx_http_faas_ctx_t       *ctx;
    ngx_http_faas_loc_conf_t  *flcf;

    flcf = ngx_http_get_module_loc_conf(r, ngx_http_faas_module);

    if (flcf == NULL || flcf->upstream.upstream == NULL || flcf->status) {
        return NULL;
    }

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_faas_ctx_t));
    if (ctx == NULL) {
        return NULL;
    }

    /* the routes' matches in an array of their own: nginx fills the
     * request's in place */
    captures = r->captures;
    ncaptures = r->ncaptures;
    captures_data = r->captures_data;
    realloc_captures = r->realloc_captures;
    r->captures = NULL;

    if (ngx_http_faas_route(r, flcf, ctx) != NGX_OK) {
        ngx_str_null(&ctx->function);
    }

    r->captures = captures;
    r->ncaptures = ncaptures;
    r->captures_data = captures_data;
    r->realloc_captures = realloc_captures;

    return ctx;
}


/*
 * The runner's word when it measured; else what nginx saw: a 404 of
 * routing, or the runner unreachable or too slow.
 */

static ngx_int_t
ngx_http_faas_outcome(ngx_http_request_t *r, ngx_http_faas_ctx_t *ctx,
    ngx_http_variable_value_t *v)
{
    ngx_str_t  s;

    if (ctx->bad_header && r != r->main) {
        /* a subrequest's run the runner answered: it meters it in
         * meter_log, its line here (log_subrequest on) counts nothing */
        return NGX_OK;

    } else if (ctx->bad_header) {
        /* the runner saw an answer, nginx garbage (read to its end) */
        ngx_str_set(&s, "error");

    } else if (ctx->metered && ctx->meter.outcome.len) {
        s = ctx->meter.outcome;

    } else if (ctx->not_found) {
        ngx_str_set(&s, "not_found");

    } else if (!ctx->finalized) {
        return NGX_OK;

    } else if (ctx->body_sent && !ctx->header_done
               && ctx->final_rc == NGX_HTTP_GATEWAY_TIME_OUT)
    {
        /*
         * nginx gave up waiting (faas_read_timeout) for a request the
         * runner has whole: the runner meters the run, if it ran, in
         * meter_log, never in both (fcgi-runner meter skips this line);
         * other failures (the runner gone mid-request) are nginx's to say
         */
        return NGX_OK;

    } else if (ctx->final_rc >= NGX_HTTP_INTERNAL_SERVER_ERROR
               && !ctx->header_done)
    {
        /* the runner unreachable, gone, or too slow to take the
         * request (a connect or send timeout's 504: nothing ran, so no
         * "timeout", which is a run's) */
        ngx_str_set(&s, "error");

    } else {
        return NGX_OK;
    }

    v->data = s.data;
    v->len = s.len;
    v->valid = 1;
    v->not_found = 0;

    return NGX_OK;
}


static ngx_int_t
ngx_http_faas_msec(ngx_http_request_t *r, ngx_http_variable_value_t *v,
    int64_t usec, ngx_uint_t round_up)
{
    u_char  *p;

    if (usec < 0) {
        return NGX_OK;
    }

    p = ngx_pnalloc(r->pool, NGX_INT64_LEN + 5);
    if (p == NULL) {
        return NGX_ERROR;
    }

    if (round_up) {
        /* billed: whole milliseconds, rounded up */
        v->len = ngx_sprintf(p, "%L.000", (usec + 999) / 1000) - p;

    } else {
        v->len = ngx_sprintf(p, "%L.%03L", usec / 1000, usec % 1000) - p;
    }

    v->data = p;
    v->valid = 1;
    v->not_found = 0;

    return NGX_OK;
}


static ngx_int_t
ngx_http_faas_number(ngx_http_request_t *r, ngx_http_variable_value_t *v,
    int64_t n)
{
    u_char  *p;

    if (n < 0) {
        return NGX_OK;
    }

    p = ngx_pnalloc(r->pool, NGX_INT64_LEN);
    if (p == NULL) {
        return NGX_ERROR;
    }

    v->len = ngx_sprintf(p, "%L", n) - p;
    v->data = p;
    v->valid = 1;
    v->not_found = 0;

    return NGX_OK;
}


/*
 * $faas_invocation_id: the id the runner gave an asynchronous
 * invocation, from its Faas-Invocation-Id header; empty otherwise. Only
 * for a request sent to be stored (the runner answers it, no function),
 * and only its form (32 hex digits): a function's own header of that
 * name would put what it likes in the access log, e.g. fields of a
 * billing line ("x tenant=other").
 */

static ngx_int_t
ngx_http_faas_invocation_id(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_uint_t            i, k;
    ngx_list_part_t      *part;
    ngx_table_elt_t      *h;
    ngx_http_faas_ctx_t  *ctx;

    (void) data;

    /* the response's: the last run's */
    ctx = ngx_http_faas_get_ctx(r);

    if (ctx == NULL || !ctx->async) {
        v->not_found = 1;
        return NGX_OK;
    }

    part = &r->headers_out.headers.part;
    h = part->elts;

    for (i = 0; /* void */ ; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].hash == 0 || h[i].key.len != sizeof("Faas-Invocation-Id") - 1
            || ngx_strncasecmp(h[i].key.data,
                               (u_char *) "Faas-Invocation-Id",
                               h[i].key.len) != 0
            || h[i].value.len != 32)
        {
            continue;
        }

        for (k = 0; k < 32; k++) {
            if (!((h[i].value.data[k] >= '0' && h[i].value.data[k] <= '9')
                  || (h[i].value.data[k] >= 'a' && h[i].value.data[k] <= 'f')))
            {
                break;
            }
        }

        if (k == 32) {
            v->len = h[i].value.len;
            v->data = h[i].value.data;
            v->valid = 1;
            v->no_cacheable = 1;
            v->not_found = 0;
            return NGX_OK;
        }
    }

    v->not_found = 1;

    return NGX_OK;
}
