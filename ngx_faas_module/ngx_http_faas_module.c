
/*
 * Copyright (C) ngx_faas developers
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_faas.h"


static ngx_int_t ngx_http_faas_handler(ngx_http_request_t *r);
static void ngx_http_faas_ctx_cleanup(void *data);
static ngx_int_t ngx_http_faas_preconfiguration(ngx_conf_t *cf);
static void *ngx_http_faas_create_main_conf(ngx_conf_t *cf);
static char *ngx_http_faas_init_main_conf(ngx_conf_t *cf, void *conf);
static void *ngx_http_faas_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_faas_merge_loc_conf(ngx_conf_t *cf,
    void *parent, void *child);
static char *ngx_http_faas_pass(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_faas_function(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static ngx_int_t ngx_http_faas_params_hash(ngx_conf_t *cf,
    ngx_http_faas_loc_conf_t *conf);
static char *ngx_http_faas_param(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_faas_status(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);


static ngx_str_t  ngx_http_faas_hide_headers[] = {
    ngx_string("Status"),
    ngx_string("X-Accel-Expires"),
    ngx_string("X-Accel-Redirect"),
    ngx_string("X-Accel-Limit-Rate"),
    ngx_string("X-Accel-Buffering"),
    ngx_string("X-Accel-Charset"),
    ngx_null_string
};


/*
 * Responses buffered to disk go beside fastcgi's temporary files (on
 * Debian /var/lib/nginx/fastcgi_faas), in a folder of their own: one
 * path with two sets of levels is a configuration error, and a
 * fastcgi_temp_path of the same name as fastcgi's default is allowed.
 */
static ngx_path_init_t  ngx_http_faas_temp_path = {
    ngx_string(NGX_HTTP_FASTCGI_TEMP_PATH "_faas"), { 1, 2, 0 }
};


/* faas_invocation: sync answers the request; async stores it, 202 */
static ngx_conf_enum_t  ngx_http_faas_invocations[] = {
    { ngx_string("sync"), 0 },
    { ngx_string("async"), 1 },
    { ngx_null_string, 0 }
};


static ngx_command_t  ngx_http_faas_commands[] = {

    { ngx_string("faas_pass"),
      NGX_HTTP_LOC_CONF|NGX_HTTP_LIF_CONF|NGX_CONF_TAKE1,
      ngx_http_faas_pass,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("faas_route"),
      NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE2,
      ngx_http_faas_route_directive,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("faas_function"),
      NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_faas_function,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("faas_param"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE23,
      ngx_http_faas_param,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("faas_connect_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_faas_loc_conf_t, upstream.connect_timeout),
      NULL },

    { ngx_string("faas_send_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_faas_loc_conf_t, upstream.send_timeout),
      NULL },

    { ngx_string("faas_read_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_faas_loc_conf_t, upstream.read_timeout),
      NULL },

    { ngx_string("faas_buffer_size"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_faas_loc_conf_t, upstream.buffer_size),
      NULL },

    { ngx_string("faas_tenant"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_set_complex_value_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_faas_loc_conf_t, tenant),
      NULL },

    { ngx_string("faas_temp_path"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1234,
      ngx_conf_set_path_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_faas_loc_conf_t, upstream.temp_path),
      NULL },

    { ngx_string("faas_status"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_faas_status,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("faas_invocation"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_enum_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_faas_loc_conf_t, invocation),
      &ngx_http_faas_invocations },

    { ngx_string("faas_invocation_header"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_faas_loc_conf_t, invocation_header),
      NULL },

    { ngx_string("faas_accel_headers"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_faas_loc_conf_t, accel_headers),
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_faas_module_ctx = {
    ngx_http_faas_preconfiguration,        /* preconfiguration */
    NULL,                                  /* postconfiguration */

    ngx_http_faas_create_main_conf,        /* create main configuration */
    ngx_http_faas_init_main_conf,          /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_faas_create_loc_conf,         /* create location configuration */
    ngx_http_faas_merge_loc_conf           /* merge location configuration */
};


ngx_module_t  ngx_http_faas_module = {
    NGX_MODULE_V1,
    &ngx_http_faas_module_ctx,             /* module context */
    ngx_http_faas_commands,                /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    NULL,                                  /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    NULL,                                  /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static ngx_int_t
ngx_http_faas_handler(ngx_http_request_t *r)
{
    ngx_int_t                  rc;
    ngx_pool_cleanup_t        *cln;
    ngx_http_faas_ctx_t       *ctx, *earlier;
    ngx_http_faas_loc_conf_t  *flcf;

    flcf = ngx_http_get_module_loc_conf(r, ngx_http_faas_module);

    /* an invocation of this request before an internal redirect */
    earlier = ngx_http_faas_get_ctx(r);
    earlier = earlier ? earlier->logged : NULL;

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_faas_ctx_t));
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /*
     * nginx forgets a request's contexts at an internal redirect (an
     * error_page, X-Accel-Redirect, a named location): the pool keeps
     * this one, so the log line still bills the invocation, as the
     * realip module keeps the client's address
     */
    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cln->handler = ngx_http_faas_ctx_cleanup;
    cln->data = ctx;

    ctx->request = r;

    /* one line bills one run: a later one goes to meter_log */
    ctx->logged = (earlier && earlier->metered) ? earlier : ctx;

    ngx_http_set_ctx(r, ctx, ngx_http_faas_module);

    if (!flcf->status) {
        rc = ngx_http_faas_route(r, flcf, ctx);

        if (rc != NGX_OK) {
            /* no route, or not a function name: the runner is not asked */
            ctx->not_found = (rc == NGX_HTTP_NOT_FOUND);
            ngx_http_discard_request_body(r);
            return rc;
        }
    }

    return ngx_http_faas_upstream_start(r, flcf);
}


/* nothing to free: the context is found by its handler */

static void
ngx_http_faas_ctx_cleanup(void *data)
{
    (void) data;
}


/*
 * The context of the request's last run, also after an internal
 * redirect (or a filter's finalization) emptied the request's
 * contexts; NULL for a request no faas_pass location handled. A
 * subrequest shares its parent's pool: a context is only its own
 * request's.
 */

ngx_http_faas_ctx_t *
ngx_http_faas_get_ctx(ngx_http_request_t *r)
{
    ngx_pool_cleanup_t   *cln;
    ngx_http_faas_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_faas_module);

    if (ctx != NULL || (!r->internal && !r->filter_finalize)) {
        return ctx;
    }

    for (cln = r->pool->cleanup; cln; cln = cln->next) {
        if (cln->handler == ngx_http_faas_ctx_cleanup) {
            ctx = cln->data;

            if (ctx->request == r) {
                return ctx;
            }
        }
    }

    return NULL;
}


static ngx_int_t
ngx_http_faas_preconfiguration(ngx_conf_t *cf)
{
    return ngx_http_faas_add_variables(cf);
}


static void *
ngx_http_faas_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_faas_main_conf_t  *fmcf;

    fmcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_faas_main_conf_t));
    if (fmcf == NULL) {
        return NULL;
    }

    return fmcf;
}


static char *
ngx_http_faas_init_main_conf(ngx_conf_t *cf, void *conf)
{
    ngx_http_faas_main_conf_t  *fmcf = conf;

    if (ngx_http_faas_builtins_init(cf, fmcf) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    /* measurements are asked for only where somebody reads them */
    fmcf->meter = ngx_http_faas_meter_used(cf);

    return NGX_CONF_OK;
}


static void *
ngx_http_faas_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_faas_loc_conf_t  *conf;

    conf = ngx_pcalloc(cf->pool, sizeof(ngx_http_faas_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     conf->upstream.bufs.num = 0;
     *     conf->routes = NULL;
     *     conf->function = NULL;
     *     conf->params = NULL;
     *     conf->params_hash = { NULL, 0 };
     *     conf->status_format = { 0, NULL };
     *     conf->needs_pass = NULL;
     */

    conf->upstream.store = 0;
    conf->upstream.next_upstream_tries = NGX_CONF_UNSET_UINT;
    conf->upstream.buffering = 1;
    conf->upstream.request_buffering = 1;
    conf->upstream.ignore_client_abort = 0;
    conf->upstream.force_ranges = 0;

    conf->upstream.local = NGX_CONF_UNSET_PTR;
    conf->upstream.socket_keepalive = NGX_CONF_UNSET;

    conf->upstream.connect_timeout = NGX_CONF_UNSET_MSEC;
    conf->upstream.send_timeout = NGX_CONF_UNSET_MSEC;
    conf->upstream.read_timeout = NGX_CONF_UNSET_MSEC;
    conf->upstream.next_upstream_timeout = NGX_CONF_UNSET_MSEC;

    conf->upstream.send_lowat = NGX_CONF_UNSET_SIZE;
    conf->upstream.buffer_size = NGX_CONF_UNSET_SIZE;
    conf->upstream.limit_rate = NGX_CONF_UNSET_SIZE;

    conf->upstream.busy_buffers_size_conf = NGX_CONF_UNSET_SIZE;
    conf->upstream.max_temp_file_size_conf = NGX_CONF_UNSET_SIZE;
    conf->upstream.temp_file_write_size_conf = NGX_CONF_UNSET_SIZE;

    conf->upstream.pass_request_headers = 1;
    conf->upstream.pass_request_body = 1;

    conf->upstream.hide_headers = NGX_CONF_UNSET_PTR;
    conf->upstream.pass_headers = NGX_CONF_UNSET_PTR;

    conf->upstream.intercept_errors = 0;
    conf->upstream.cyclic_temp_file = 0;

    /* the input filter is written for the buffered pipe only */
    conf->upstream.change_buffering = 0;

    ngx_str_set(&conf->upstream.module, "faas");

    conf->status = NGX_CONF_UNSET;
    conf->invocation = NGX_CONF_UNSET_UINT;
    conf->invocation_header = NGX_CONF_UNSET;
    conf->tenant = NGX_CONF_UNSET_PTR;
    conf->accel_headers = NGX_CONF_UNSET;

    return conf;
}


/*
 * The names of faas_param, hashed once at configuration: a built-in
 * parameter or a header of the same name gives way to them, and each
 * request looks its names up instead of scanning the list.
 */

static ngx_int_t
ngx_http_faas_params_hash(ngx_conf_t *cf, ngx_http_faas_loc_conf_t *conf)
{
    size_t                  bucket;
    ngx_uint_t              i;
    ngx_array_t             keys;
    ngx_hash_key_t         *k;
    ngx_hash_init_t         hash;
    ngx_http_faas_param_t  *param;

    if (ngx_array_init(&keys, cf->temp_pool, conf->params->nelts,
                       sizeof(ngx_hash_key_t))
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    param = conf->params->elts;
    bucket = 64;

    for (i = 0; i < conf->params->nelts; i++) {
        if (param[i].key.len > NGX_HTTP_FAAS_PARAM_LC) {
            /* looked up by comparing with each */
            continue;
        }

        k = ngx_array_push(&keys);
        if (k == NULL) {
            return NGX_ERROR;
        }

        k->key = param[i].key;
        k->key_hash = ngx_hash_key_lc(k->key.data, k->key.len);
        k->value = &param[i];

        /* an element as ngx_hash_init() lays it out, and the end mark */
        bucket = ngx_max(bucket, sizeof(void *)
                                 + ngx_align(k->key.len + 2, sizeof(void *))
                                 + sizeof(void *));
    }

    hash.hash = &conf->params_hash;
    hash.key = ngx_hash_key_lc;
    hash.max_size = 512;
    hash.bucket_size = ngx_align(bucket, ngx_cacheline_size);
    hash.name = "faas_params_hash";
    hash.pool = cf->pool;
    hash.temp_pool = NULL;

    return ngx_hash_init(&hash, keys.elts, keys.nelts);
}


static char *
ngx_http_faas_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_faas_loc_conf_t *prev = parent;
    ngx_http_faas_loc_conf_t *conf = child;

    size_t                     size;
    ngx_hash_init_t            hash;
    ngx_http_core_loc_conf_t  *clcf;

    ngx_conf_merge_uint_value(conf->upstream.next_upstream_tries,
                              prev->upstream.next_upstream_tries, 0);

    ngx_conf_merge_ptr_value(conf->upstream.local,
                              prev->upstream.local, NULL);

    ngx_conf_merge_value(conf->upstream.socket_keepalive,
                              prev->upstream.socket_keepalive, 0);

    ngx_conf_merge_msec_value(conf->upstream.connect_timeout,
                              prev->upstream.connect_timeout, 60000);

    ngx_conf_merge_msec_value(conf->upstream.send_timeout,
                              prev->upstream.send_timeout, 60000);

    ngx_conf_merge_msec_value(conf->upstream.read_timeout,
                              prev->upstream.read_timeout, 60000);

    ngx_conf_merge_msec_value(conf->upstream.next_upstream_timeout,
                              prev->upstream.next_upstream_timeout, 0);

    ngx_conf_merge_size_value(conf->upstream.send_lowat,
                              prev->upstream.send_lowat, 0);

    ngx_conf_merge_size_value(conf->upstream.buffer_size,
                              prev->upstream.buffer_size,
                              (size_t) ngx_pagesize);

    /* the largest header block nginx takes, for the runner to count a
     * bigger one an error (FAAS_HEADER_MAX) */
    conf->header_max.data = ngx_pnalloc(cf->pool, NGX_SIZE_T_LEN);
    if (conf->header_max.data == NULL) {
        return NGX_CONF_ERROR;
    }

    conf->header_max.len = ngx_sprintf(conf->header_max.data, "%uz",
                                       conf->upstream.buffer_size)
                           - conf->header_max.data;

    ngx_conf_merge_size_value(conf->upstream.limit_rate,
                              prev->upstream.limit_rate, 0);

    /* no directive sets them: a location's own, from its own size (an
     * outer location's, made more for a bigger size, are not inherited) */
    conf->upstream.bufs.num = 8;
    conf->upstream.bufs.size = ngx_pagesize;

    size = conf->upstream.buffer_size;
    if (size < conf->upstream.bufs.size) {
        size = conf->upstream.bufs.size;
    }

    ngx_conf_merge_size_value(conf->upstream.busy_buffers_size_conf,
                              prev->upstream.busy_buffers_size_conf,
                              NGX_CONF_UNSET_SIZE);

    conf->upstream.busy_buffers_size =
        (conf->upstream.busy_buffers_size_conf == NGX_CONF_UNSET_SIZE)
        ? 2 * size : conf->upstream.busy_buffers_size_conf;

    /*
     * Fewer busy bytes than all the buffers but one, as nginx checks
     * for fastcgi_busy_buffers_size (broken from a faas_buffer_size of
     * 14k): from 32k every buffer, the header's too, could be busy at
     * once, and a slow client's pipe then wrote an empty chain to its
     * temporary file (a worker's SIGSEGV) or, the client writable,
     * never flushed them (a worker spinning). More buffers of a page,
     * then, rather than a refusal: faas_buffer_size is the one size a
     * location sets
     */
    if (conf->upstream.busy_buffers_size
        >= (conf->upstream.bufs.num - 1) * conf->upstream.bufs.size)
    {
        conf->upstream.bufs.num = conf->upstream.busy_buffers_size
                                  / conf->upstream.bufs.size + 2;
    }

    ngx_conf_merge_size_value(conf->upstream.temp_file_write_size_conf,
                              prev->upstream.temp_file_write_size_conf,
                              NGX_CONF_UNSET_SIZE);

    conf->upstream.temp_file_write_size =
        (conf->upstream.temp_file_write_size_conf == NGX_CONF_UNSET_SIZE)
        ? 2 * size : conf->upstream.temp_file_write_size_conf;

    ngx_conf_merge_size_value(conf->upstream.max_temp_file_size_conf,
                              prev->upstream.max_temp_file_size_conf,
                              NGX_CONF_UNSET_SIZE);

    conf->upstream.max_temp_file_size =
        (conf->upstream.max_temp_file_size_conf == NGX_CONF_UNSET_SIZE)
        ? 1024 * 1024 * 1024 : conf->upstream.max_temp_file_size_conf;

    conf->upstream.next_upstream = NGX_CONF_BITMASK_SET
                                   |NGX_HTTP_UPSTREAM_FT_ERROR
                                   |NGX_HTTP_UPSTREAM_FT_TIMEOUT;

    /*
     * Functions are untrusted code: unless the deployment trusts them,
     * nginx does not act on their X-Accel-* headers (X-Accel-Redirect
     * would reach any internal location). Passed on they never are.
     */
    ngx_conf_merge_value(conf->accel_headers, prev->accel_headers, 0);

    conf->upstream.ignore_headers = conf->accel_headers
                                    ? 0
                                    : NGX_HTTP_UPSTREAM_IGN_XA_REDIRECT
                                      |NGX_HTTP_UPSTREAM_IGN_XA_EXPIRES
                                      |NGX_HTTP_UPSTREAM_IGN_XA_LIMIT_RATE
                                      |NGX_HTTP_UPSTREAM_IGN_XA_BUFFERING
                                      |NGX_HTTP_UPSTREAM_IGN_XA_CHARSET;

    if (ngx_conf_merge_path_value(cf, &conf->upstream.temp_path,
                                  prev->upstream.temp_path,
                                  &ngx_http_faas_temp_path)
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    hash.max_size = 512;
    hash.bucket_size = ngx_align(64, ngx_cacheline_size);
    hash.name = "faas_hide_headers_hash";

    if (ngx_http_upstream_hide_headers_hash(cf, &conf->upstream,
            &prev->upstream, ngx_http_faas_hide_headers, &hash)
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    if (clcf->noname && conf->upstream.upstream == NULL) {
        conf->upstream.upstream = prev->upstream.upstream;
    }

    if (clcf->lmt_excpt && clcf->handler == NULL && conf->upstream.upstream) {
        clcf->handler = ngx_http_faas_handler;
    }

    /*
     * as nginx's directives are: from the level above where this one
     * has none (an "if", a limit_except, a nested location), but for a
     * level with routes of its own, where no match stays a 404; and a
     * location's own faas_function is not overruled by the server's
     * routes (a route ^/(?<n>[a-z]+)/ would run "api" for /api/users)
     */
    ngx_conf_merge_ptr_value(conf->tenant, prev->tenant, NULL);

    if (conf->routes == NULL && conf->function == NULL) {
        conf->function = prev->function;
        conf->routes = prev->routes;
    }

    if (conf->params == NULL) {
        conf->params = prev->params;
        conf->params_hash = prev->params_hash;
    }

    if (conf->params && conf->params_hash.buckets == NULL
        && ngx_http_faas_params_hash(cf, conf) != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    ngx_conf_merge_value(conf->status, prev->status, 0);
    ngx_conf_merge_uint_value(conf->invocation, prev->invocation, 0);
    ngx_conf_merge_value(conf->invocation_header, prev->invocation_header, 0);

    /*
     * A location that names a function or asks for the status but
     * passes nothing to a runner, and has no location inside that
     * might (an "if", a nested one, inheriting it): nginx would serve
     * a file of its root there instead.
     */
    if (conf->needs_pass && conf->upstream.upstream == NULL
        && clcf->locations == NULL)
    {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "\"%s\" without \"faas_pass\" in location \"%V\" in "
                      "%s:%ui", conf->needs_pass, &clcf->name,
                      conf->needs_pass_file, conf->needs_pass_line);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/* a location's directive that does nothing without faas_pass: where */

void
ngx_http_faas_needs_pass(ngx_conf_t *cf, ngx_http_faas_loc_conf_t *flcf,
    const char *directive)
{
    if (cf->cmd_type != NGX_HTTP_LOC_CONF || flcf->needs_pass) {
        return;
    }

    flcf->needs_pass = directive;
    flcf->needs_pass_file = cf->conf_file->file.name.data;
    flcf->needs_pass_line = cf->conf_file->line;
}


static char *
ngx_http_faas_pass(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_faas_loc_conf_t *flcf = conf;

    ngx_url_t                  u;
    ngx_str_t                 *value;
    ngx_http_core_loc_conf_t  *clcf;

    if (flcf->upstream.upstream) {
        return "is duplicate";
    }

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    clcf->handler = ngx_http_faas_handler;

    if (clcf->name.len && clcf->name.data[clcf->name.len - 1] == '/') {
        clcf->auto_redirect = 1;
    }

    value = cf->args->elts;

    ngx_memzero(&u, sizeof(ngx_url_t));

    u.url = value[1];
    u.no_resolve = 1;

    flcf->upstream.upstream = ngx_http_upstream_add(cf, &u, 0);
    if (flcf->upstream.upstream == NULL) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_faas_function(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_faas_loc_conf_t *flcf = conf;

    ngx_str_t                         *value;
    ngx_http_compile_complex_value_t   ccv;

    if (flcf->function) {
        return "is duplicate";
    }

    ngx_http_faas_needs_pass(cf, flcf, "faas_function");

    value = cf->args->elts;

    if (ngx_http_script_variables_count(&value[1]) == 0
        && ngx_http_faas_name_valid(&value[1]) != NGX_OK)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid function name \"%V\" in \"faas_function\"",
                           &value[1]);
        return NGX_CONF_ERROR;
    }

    flcf->function = ngx_palloc(cf->pool, sizeof(ngx_http_complex_value_t));
    if (flcf->function == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));

    ccv.cf = cf;
    ccv.value = &value[1];
    ccv.complex_value = flcf->function;

    if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_faas_param(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_faas_loc_conf_t *flcf = conf;

    ngx_str_t                         *value;
    ngx_uint_t                         i;
    ngx_http_faas_param_t             *p;
    ngx_http_compile_complex_value_t   ccv;

    /* what the module tells the runner: the function it checked and
     * logs, the async switch, the status page, metering */
    static const char  *own[][2] = {
        { "FAAS_FUNCTION", "\"faas_function\" or \"faas_route\" names "
                           "the function" },
        { "FAAS_INVOCATION", "\"faas_invocation\" sets it" },
        { "FAAS_STATUS", "\"faas_status\" sets it" },
        { "FAAS_ONLY_TENANT", "\"faas_tenant\" sets it" },
        { FAAS_METER_PARAM, "the module sets it for the $faas_* "
                            "variables" },
    };

    value = cf->args->elts;

    for (i = 0; i < sizeof(own) / sizeof(own[0]); i++) {
        if (value[1].len == ngx_strlen(own[i][0])
            && ngx_strncasecmp(value[1].data, (u_char *) own[i][0],
                               value[1].len)
               == 0)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"faas_param\" cannot set \"%V\": %s",
                               &value[1], own[i][1]);
            return NGX_CONF_ERROR;
        }
    }

    if (flcf->params == NULL) {
        flcf->params = ngx_array_create(cf->pool, 4,
                                        sizeof(ngx_http_faas_param_t));
        if (flcf->params == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    if (value[1].len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "empty parameter name in \"faas_param\"");
        return NGX_CONF_ERROR;
    }

    p = ngx_array_push(flcf->params);
    if (p == NULL) {
        return NGX_CONF_ERROR;
    }

    p->key = value[1];
    p->skip_empty = 0;

    if (cf->args->nelts == 4) {
        if (ngx_strcmp(value[3].data, "if_not_empty") != 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid parameter \"%V\" in \"faas_param\"",
                               &value[3]);
            return NGX_CONF_ERROR;
        }

        p->skip_empty = 1;
    }

    ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));

    ccv.cf = cf;
    ccv.value = &value[2];
    ccv.complex_value = &p->value;

    if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_faas_status(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_faas_loc_conf_t *flcf = conf;

    if (flcf->status != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    flcf->status = 1;

    ngx_http_faas_needs_pass(cf, flcf, "faas_status");

    return NGX_CONF_OK;
}
