
/*
 * Copyright (C) ngx_faas developers
 *
 * FastCGI to the runner on nginx's upstream framework: the request is
 * encoded in two passes (measure, then write); the response goes through
 * a record parser that can stop at any byte.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_faas.h"


typedef struct {
    ngx_str_t                      key;
    ngx_str_t                      value;
} ngx_http_faas_pair_t;


typedef struct {
    ngx_str_t                      key;
    ngx_str_t                      variable;
    ngx_uint_t                     skip_empty;
} ngx_http_faas_builtin_t;


static void ngx_http_faas_record_error(ngx_log_t *log,
    ngx_http_faas_ctx_t *ctx);
static ngx_buf_t *ngx_http_faas_encode_params(ngx_http_request_t *r,
    ngx_array_t *pairs);
static u_char *ngx_http_faas_write_pair(u_char *p,
    ngx_http_faas_pair_t *pair);
static ngx_int_t ngx_http_faas_create_request(ngx_http_request_t *r);
static ngx_int_t ngx_http_faas_reinit_request(ngx_http_request_t *r);
static ngx_int_t ngx_http_faas_process_header(ngx_http_request_t *r);
static ngx_int_t ngx_http_faas_input_filter_init(void *data);
static ngx_int_t ngx_http_faas_input_filter(ngx_event_pipe_t *p,
    ngx_buf_t *buf);
static void ngx_http_faas_abort_request(ngx_http_request_t *r);
static void ngx_http_faas_abort(ngx_http_request_t *r,
    ngx_http_faas_ctx_t *ctx);
static void ngx_http_faas_finalize_request(ngx_http_request_t *r,
    ngx_int_t rc);

static ngx_array_t *ngx_http_faas_collect_params(ngx_http_request_t *r,
    ngx_http_faas_loc_conf_t *flcf, ngx_http_faas_ctx_t *ctx);
static ngx_uint_t ngx_http_faas_param_set(ngx_http_faas_loc_conf_t *flcf,
    ngx_str_t *key);
static ngx_int_t ngx_http_faas_add_pair(ngx_array_t *a, ngx_str_t *key,
    ngx_str_t *value, ngx_http_faas_loc_conf_t *params);
static ngx_int_t ngx_http_faas_add_headers(ngx_http_request_t *r,
    ngx_array_t *a, ngx_http_faas_loc_conf_t *params);
static ngx_flag_t ngx_http_faas_async(ngx_http_request_t *r,
    ngx_http_faas_loc_conf_t *flcf);
static ngx_int_t ngx_http_faas_encode_body(ngx_http_request_t *r,
    ngx_chain_t *body, ngx_chain_t **ll);
static ngx_int_t ngx_http_faas_header_block(ngx_http_request_t *r,
    ngx_http_faas_ctx_t *ctx, u_char *data, size_t size, u_char **rest);
static ngx_int_t ngx_http_faas_header_line(ngx_http_request_t *r);
static ngx_uint_t ngx_http_faas_accel_unknown(u_char *name, size_t len);
static off_t ngx_http_faas_pipe_length(ngx_http_faas_ctx_t *ctx);
static ngx_flag_t ngx_http_faas_header_only(ngx_http_request_t *r);
static void ngx_http_faas_record_start(ngx_http_faas_ctx_t *ctx);
static void ngx_http_faas_record_content(ngx_http_request_t *r,
    ngx_http_faas_ctx_t *ctx, u_char *data, size_t size);
static void ngx_http_faas_record_end(ngx_http_request_t *r,
    ngx_http_faas_ctx_t *ctx);


/* the CGI/1.1 meta-variables every request carries */

static ngx_http_faas_builtin_t  ngx_http_faas_builtins[] = {
    { ngx_string("QUERY_STRING"), ngx_string("query_string"), 0 },
    { ngx_string("REQUEST_METHOD"), ngx_string("request_method"), 0 },
    { ngx_string("CONTENT_TYPE"), ngx_string("content_type"), 0 },
    { ngx_string("CONTENT_LENGTH"), ngx_string("content_length"), 0 },
    { ngx_string("REQUEST_URI"), ngx_string("request_uri"), 0 },
    { ngx_string("DOCUMENT_URI"), ngx_string("document_uri"), 0 },
    { ngx_string("DOCUMENT_ROOT"), ngx_string("document_root"), 0 },
    { ngx_string("SERVER_PROTOCOL"), ngx_string("server_protocol"), 0 },
    { ngx_string("REQUEST_SCHEME"), ngx_string("scheme"), 0 },
    { ngx_string("HTTPS"), ngx_string("https"), 1 },
    { ngx_string("REMOTE_ADDR"), ngx_string("remote_addr"), 0 },
    /* RFC 3875 4.1.9: the address when no name is looked up */
    { ngx_string("REMOTE_HOST"), ngx_string("remote_addr"), 0 },
    { ngx_string("REMOTE_PORT"), ngx_string("remote_port"), 0 },
    { ngx_string("REMOTE_USER"), ngx_string("remote_user"), 1 },
    { ngx_string("SERVER_ADDR"), ngx_string("server_addr"), 0 },
    { ngx_string("SERVER_PORT"), ngx_string("server_port"), 0 },
    { ngx_string("SERVER_NAME"), ngx_string("server_name"), 0 },
    /* as Debian's fastcgi_params: the request's host, not the raw
     * header (an absolute request target names another) */
    { ngx_string("HTTP_HOST"), ngx_string("host"), 0 },
    { ngx_string("FAAS_REQUEST_ID"), ngx_string("request_id"), 0 },
    { ngx_null_string, ngx_null_string, 0 }
};


ngx_int_t
ngx_http_faas_builtins_init(ngx_conf_t *cf, ngx_http_faas_main_conf_t *fmcf)
{
    ngx_int_t                 *index;
    ngx_http_faas_builtin_t   *b;

    if (ngx_array_init(&fmcf->builtins, cf->pool, 20, sizeof(ngx_int_t))
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    for (b = ngx_http_faas_builtins; b->key.len; b++) {
        index = ngx_array_push(&fmcf->builtins);
        if (index == NULL) {
            return NGX_ERROR;
        }

        *index = ngx_http_get_variable_index(cf, &b->variable);
        if (*index == NGX_ERROR) {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_faas_upstream_start(ngx_http_request_t *r,
    ngx_http_faas_loc_conf_t *flcf)
{
    ngx_int_t             rc;
    ngx_http_upstream_t  *u;
    ngx_http_faas_ctx_t  *ctx;

    if (ngx_http_upstream_create(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    u = r->upstream;

    ngx_str_set(&u->schema, "faas://");
    u->output.tag = (ngx_buf_tag_t) &ngx_http_faas_module;

    u->conf = &flcf->upstream;

    u->create_request = ngx_http_faas_create_request;
    u->reinit_request = ngx_http_faas_reinit_request;
    u->process_header = ngx_http_faas_process_header;
    u->abort_request = ngx_http_faas_abort_request;
    u->finalize_request = ngx_http_faas_finalize_request;
    r->state = 0;

    ctx = ngx_http_get_module_ctx(r, ngx_http_faas_module);
    ctx->running = 1;

    u->buffering = 1;

    u->pipe = ngx_pcalloc(r->pool, sizeof(ngx_event_pipe_t));
    if (u->pipe == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    u->pipe->input_filter = ngx_http_faas_input_filter;
    u->pipe->input_ctx = r;

    u->input_filter_init = ngx_http_faas_input_filter_init;

    rc = ngx_http_read_client_request_body(r, ngx_http_upstream_init);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    return NGX_DONE;
}


/*
 * BEGIN_REQUEST, PARAMS, the end of PARAMS, then the body as STDIN
 * records and the end of STDIN.
 */

static ngx_int_t
ngx_http_faas_create_request(ngx_http_request_t *r)
{
    ngx_buf_t                 *b;
    ngx_chain_t               *cl, *body;
    ngx_array_t               *pairs;
    ngx_http_faas_ctx_t       *ctx;
    ngx_http_faas_loc_conf_t  *flcf;

    ctx = ngx_http_get_module_ctx(r, ngx_http_faas_module);
    flcf = ngx_http_get_module_loc_conf(r, ngx_http_faas_module);

    pairs = ngx_http_faas_collect_params(r, flcf, ctx);
    if (pairs == NULL) {
        return NGX_ERROR;
    }

    b = ngx_http_faas_encode_params(r, pairs);
    if (b == NULL) {
        return NGX_ERROR;
    }

    cl = ngx_alloc_chain_link(r->pool);
    if (cl == NULL) {
        return NGX_ERROR;
    }

    cl->buf = b;
    cl->next = NULL;

    body = r->upstream->conf->pass_request_body ? r->upstream->request_bufs
                                                : NULL;

    if (ngx_http_faas_encode_body(r, body, &cl->next) != NGX_OK) {
        return NGX_ERROR;
    }

    r->upstream->request_bufs = cl;

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "http faas request for \"%V\": %uz params",
                   &ctx->function, pairs->nelts);

    return NGX_OK;
}


/*
 * BEGIN_REQUEST and the pairs as PARAMS records, in one buffer: the
 * pairs are measured, encoded at the end of the buffer, and moved
 * forward behind each record header.
 */

static ngx_buf_t *
ngx_http_faas_encode_params(ngx_http_request_t *r, ngx_array_t *pairs)
{
    u_char                         *p, *start;
    size_t                          size, len, chunk;
    ngx_buf_t                      *b;
    ngx_uint_t                      i;
    ngx_http_faas_pair_t           *pair;
    ngx_http_faas_begin_request_t  *begin;

    size = 0;
    pair = pairs->elts;

    for (i = 0; i < pairs->nelts; i++) {
        size += (pair[i].key.len > 127 ? 4 : 1)
                + (pair[i].value.len > 127 ? 4 : 1)
                + pair[i].key.len + pair[i].value.len;
    }

    len = NGX_HTTP_FAAS_HEADER_LEN + sizeof(ngx_http_faas_begin_request_t)
          + (size / NGX_HTTP_FAAS_RECORD_MAX + 1) * NGX_HTTP_FAAS_HEADER_LEN
          + size
          + NGX_HTTP_FAAS_HEADER_LEN;

    b = ngx_create_temp_buf(r->pool, len);
    if (b == NULL) {
        return NULL;
    }

    p = ngx_http_faas_write_header(b->last, NGX_HTTP_FAAS_BEGIN_REQUEST,
                                   sizeof(ngx_http_faas_begin_request_t));
    begin = (ngx_http_faas_begin_request_t *) p;
    ngx_memzero(begin, sizeof(ngx_http_faas_begin_request_t));
    begin->role_lo = NGX_HTTP_FAAS_RESPONDER;
    begin->flags = NGX_HTTP_FAAS_KEEP_CONN;
    p += sizeof(ngx_http_faas_begin_request_t);

    start = b->end - size;
    len = 0;

    for (i = 0; i < pairs->nelts; i++) {
        len = ngx_http_faas_write_pair(start + len, &pair[i]) - start;
    }

    /* the pairs sit at the end of the buffer; records move them forward */

    while (size) {
        chunk = ngx_min(size, NGX_HTTP_FAAS_RECORD_MAX);

        p = ngx_http_faas_write_header(p, NGX_HTTP_FAAS_PARAMS, chunk);

        p = ngx_movemem(p, start, chunk);
        start += chunk;
        size -= chunk;
    }

    b->last = ngx_http_faas_write_header(p, NGX_HTTP_FAAS_PARAMS, 0);

    return b;
}


/* a FastCGI name-value pair: lengths over 127 take four bytes */

static u_char *
ngx_http_faas_write_pair(u_char *p, ngx_http_faas_pair_t *pair)
{
    if (pair->key.len > 127) {
        *p++ = (u_char) ((pair->key.len >> 24) | 0x80);
        *p++ = (u_char) (pair->key.len >> 16);
        *p++ = (u_char) (pair->key.len >> 8);
    }
    *p++ = (u_char) pair->key.len;

    if (pair->value.len > 127) {
        *p++ = (u_char) ((pair->value.len >> 24) | 0x80);
        *p++ = (u_char) (pair->value.len >> 16);
        *p++ = (u_char) (pair->value.len >> 8);
    }
    *p++ = (u_char) pair->value.len;

    p = ngx_cpymem(p, pair->key.data, pair->key.len);

    return ngx_cpymem(p, pair->value.data, pair->value.len);
}


/*
 * The body as STDIN records over the body's own memory or file, then the
 * end of STDIN. Each chunk's start is its own first byte and file chunks
 * follow each other, as ngx_http_upstream_reinit() expects on a retry.
 */

static ngx_int_t
ngx_http_faas_encode_body(ngx_http_request_t *r, ngx_chain_t *body,
    ngx_chain_t **ll)
{
    off_t         pos, end;
    size_t        chunk;
    ngx_buf_t    *b, *hb;
    ngx_chain_t  *cl;

    for ( /* void */ ; body; body = body->next) {

        if (body->buf->in_file) {
            pos = body->buf->file_pos;
            end = body->buf->file_last;

        } else {
            pos = 0;
            end = body->buf->last - body->buf->pos;
        }

        while (pos < end) {
            chunk = (size_t) ngx_min(end - pos, NGX_HTTP_FAAS_RECORD_MAX);

            hb = ngx_create_temp_buf(r->pool, NGX_HTTP_FAAS_HEADER_LEN);
            b = ngx_alloc_buf(r->pool);
            if (hb == NULL || b == NULL) {
                return NGX_ERROR;
            }

            hb->last = ngx_http_faas_write_header(hb->last,
                                                  NGX_HTTP_FAAS_STDIN, chunk);

            ngx_memcpy(b, body->buf, sizeof(ngx_buf_t));

            if (b->in_file) {
                b->file_pos = pos;
                b->file_last = pos + chunk;

            } else {
                b->start = body->buf->pos + pos;
                b->pos = b->start;
                b->last = b->start + chunk;
            }

            b->last_buf = 0;
            b->last_in_chain = 0;
            b->flush = 0;
            b->shadow = NULL;

            cl = ngx_alloc_chain_link(r->pool);
            if (cl == NULL) {
                return NGX_ERROR;
            }

            cl->buf = hb;
            *ll = cl;
            ll = &cl->next;

            cl = ngx_alloc_chain_link(r->pool);
            if (cl == NULL) {
                return NGX_ERROR;
            }

            cl->buf = b;
            *ll = cl;
            ll = &cl->next;

            pos += chunk;
        }
    }

    hb = ngx_create_temp_buf(r->pool, NGX_HTTP_FAAS_HEADER_LEN);
    cl = ngx_alloc_chain_link(r->pool);
    if (hb == NULL || cl == NULL) {
        return NGX_ERROR;
    }

    hb->last = ngx_http_faas_write_header(hb->last, NGX_HTTP_FAAS_STDIN, 0);
    hb->last_buf = 1;

    cl->buf = hb;
    cl->next = NULL;
    *ll = cl;

    return NGX_OK;
}


/*
 * Every pair for the runner: the built-in meta-variables, SCRIPT_NAME
 * and PATH_INFO of the route, the function, faas_param (which replaces a
 * built-in or a header of the same name), and the request headers.
 */

static ngx_array_t *
ngx_http_faas_collect_params(ngx_http_request_t *r,
    ngx_http_faas_loc_conf_t *flcf, ngx_http_faas_ctx_t *ctx)
{
    ngx_str_t                   key, value;
    ngx_int_t                  *index;
    ngx_uint_t                  i;
    ngx_array_t                *a;
    ngx_http_faas_loc_conf_t   *params;
    ngx_http_faas_param_t      *param;
    ngx_http_variable_value_t  *vv;
    ngx_http_faas_main_conf_t  *fmcf;

    fmcf = ngx_http_get_module_main_conf(r, ngx_http_faas_module);
    params = flcf->params ? flcf : NULL;     /* faas_param overrides */

    a = ngx_array_create(r->pool, 48, sizeof(ngx_http_faas_pair_t));
    if (a == NULL) {
        return NULL;
    }

    index = fmcf->builtins.elts;

    for (i = 0; i < fmcf->builtins.nelts; i++) {
        /* flushed: $content_length read before a chunked body came in
         * is cached empty */
        vv = ngx_http_get_flushed_variable(r, index[i]);

        if (vv == NULL || vv->not_found) {
            ngx_str_null(&value);

        } else {
            value.data = vv->data;
            value.len = vv->len;
        }

        if (value.len == 0 && ngx_http_faas_builtins[i].skip_empty) {
            continue;
        }

        if (ngx_http_faas_add_pair(a, &ngx_http_faas_builtins[i].key, &value,
                                   params)
            != NGX_OK)
        {
            return NULL;
        }
    }

#define ngx_http_faas_add(k, v)                                              \
    ngx_str_set(&key, k);                                                    \
    if (ngx_http_faas_add_pair(a, &key, v, params) != NGX_OK) {              \
        return NULL;                                                         \
    }

    ngx_str_set(&value, "CGI/1.1");
    ngx_http_faas_add("GATEWAY_INTERFACE", &value);

    ngx_str_set(&value, NGINX_VER);
    ngx_http_faas_add("SERVER_SOFTWARE", &value);

    ngx_str_set(&value, "200");
    ngx_http_faas_add("REDIRECT_STATUS", &value);

    ngx_http_faas_add("SCRIPT_NAME", &ctx->script_name);
    ngx_http_faas_add("PATH_INFO", &ctx->path_info);

    ngx_http_faas_add("FAAS_HEADER_MAX", &flcf->header_max);

    /* stderr as the function wrote it: escaped here, a line a log line */
    ngx_str_set(&value, "raw");
    ngx_http_faas_add("FAAS_STDERR", &value);

    if (ctx->mount) {
        /* the URI is SCRIPT_NAME, where the route mounts the function
         * (document_root redirects it to its slash) */
        ngx_str_set(&value, "1");
        ngx_http_faas_add("FAAS_MOUNT", &value);
    }

    if (flcf->tenant) {
        /* the runner runs a function only if it is this tenant's (else
         * 404), and shows a status of this tenant's alone */
        if (ngx_http_complex_value(r, flcf->tenant, &value) != NGX_OK) {
            return NULL;
        }

        ngx_http_faas_add("FAAS_ONLY_TENANT", &value);
    }

    if (flcf->status) {
        ngx_str_set(&value, "1");
        ngx_http_faas_add("FAAS_STATUS", &value);

    } else {
        ngx_http_faas_add("FAAS_FUNCTION", &ctx->function);

        ctx->async = ngx_http_faas_async(r, flcf);

        if (ctx->async) {
            ngx_str_set(&value, "async");
            ngx_http_faas_add("FAAS_INVOCATION", &value);
        }
    }

    if (fmcf->meter) {
        /*
         * a subrequest (auth_request, mirror, an SSI include) has no
         * line of its own in the access log unless log_subrequest is
         * on: the runner meters it in meter_log ("log"), and its line
         * here, if any, has no outcome: never in both. So is a run
         * after an internal redirect (error_page) when the request's
         * line bills an earlier one
         */
        if (r != r->main || ctx->logged != ctx) {
            ngx_str_set(&value, "log");

        } else {
            ngx_str_set(&value, "1");
            ctx->meter_asked = 1;
        }

        ngx_http_faas_add(FAAS_METER_PARAM, &value);
    }

#undef ngx_http_faas_add

    if (flcf->params) {
        param = flcf->params->elts;

        for (i = 0; i < flcf->params->nelts; i++) {
            if (ngx_http_complex_value(r, &param[i].value, &value) != NGX_OK) {
                return NULL;
            }

            if (value.len == 0 && param[i].skip_empty) {
                continue;
            }

            if (ngx_http_faas_add_pair(a, &param[i].key, &value, NULL)
                != NGX_OK)
            {
                return NULL;
            }
        }
    }

    if (ngx_http_faas_add_headers(r, a, params) != NGX_OK) {
        return NULL;
    }

    return a;
}


/*
 * Whether the request is stored and answered 202: faas_invocation async,
 * or a client's "Faas-Invocation: async" where faas_invocation_header is
 * on. The runner takes it from FAAS_INVOCATION alone, never from the
 * header (HTTP_FAAS_INVOCATION), which any client may send.
 */

static ngx_flag_t
ngx_http_faas_async(ngx_http_request_t *r, ngx_http_faas_loc_conf_t *flcf)
{
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    if (flcf->invocation) {
        return 1;
    }

    if (!flcf->invocation_header) {
        return 0;
    }

    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */ ; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                return 0;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].key.len == sizeof("Faas-Invocation") - 1
            && ngx_strncasecmp(h[i].key.data, (u_char *) "Faas-Invocation",
                               sizeof("Faas-Invocation") - 1) == 0
            && h[i].value.len == sizeof("async") - 1
            && ngx_strncasecmp(h[i].value.data, (u_char *) "async", 5) == 0)
        {
            return 1;
        }
    }
}


/*
 * Whether faas_param sets this name. nginx's hash keeps names in lower
 * case; the name is matched exactly after. The longest names (no
 * faas_param is that long in practice) are compared with each.
 */

static ngx_uint_t
ngx_http_faas_param_set(ngx_http_faas_loc_conf_t *flcf, ngx_str_t *key)
{
    u_char                  lc[NGX_HTTP_FAAS_PARAM_LC];
    ngx_uint_t              i, hash;
    ngx_http_faas_param_t  *param;

    if (key->len > NGX_HTTP_FAAS_PARAM_LC) {
        param = flcf->params->elts;

        for (i = 0; i < flcf->params->nelts; i++) {
            if (param[i].key.len == key->len
                && ngx_strncmp(param[i].key.data, key->data, key->len) == 0)
            {
                return 1;
            }
        }

        return 0;
    }

    hash = ngx_hash_strlow(lc, key->data, key->len);
    param = ngx_hash_find(&flcf->params_hash, hash, lc, key->len);

    return param != NULL
           && ngx_strncmp(param->key.data, key->data, key->len) == 0;
}


static ngx_int_t
ngx_http_faas_add_pair(ngx_array_t *a, ngx_str_t *key, ngx_str_t *value,
    ngx_http_faas_loc_conf_t *params)
{
    ngx_http_faas_pair_t  *pair;

    /* a faas_param of the same name takes this one's place */

    if (params && ngx_http_faas_param_set(params, key)) {
        return NGX_OK;
    }

    pair = ngx_array_push(a);
    if (pair == NULL) {
        return NGX_ERROR;
    }

    pair->key = *key;
    pair->value = *value;

    return NGX_OK;
}


static ngx_int_t
ngx_http_faas_add_headers(ngx_http_request_t *r, ngx_array_t *a,
    ngx_http_faas_loc_conf_t *params)
{
    u_char           *p, c;
    ngx_str_t         key;
    ngx_uint_t        i, n;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    part = &r->headers_in.headers.part;
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

        /* "Proxy:" would become HTTP_PROXY, which CGI programs trust */
        if (h[i].key.len == 5
            && ngx_strncasecmp(h[i].key.data, (u_char *) "proxy", 5) == 0)
        {
            continue;
        }

        /* HTTP_HOST is $host, a built-in */
        if (h[i].key.len == 4
            && ngx_strncasecmp(h[i].key.data, (u_char *) "host", 4) == 0)
        {
            continue;
        }

        key.len = sizeof("HTTP_") - 1 + h[i].key.len;
        key.data = ngx_pnalloc(r->pool, key.len);
        if (key.data == NULL) {
            return NGX_ERROR;
        }

        p = ngx_cpymem(key.data, "HTTP_", sizeof("HTTP_") - 1);

        for (n = 0; n < h[i].key.len; n++) {
            c = h[i].key.data[n];

            if (c >= 'a' && c <= 'z') {
                c &= ~0x20;

            } else if (c == '-') {
                c = '_';

            } else if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) {
                break;
            }

            *p++ = c;
        }

        if (n < h[i].key.len) {
            /* a name CGI cannot carry, or one that could pose as another */
            continue;
        }

        if (ngx_http_faas_add_pair(a, &key, &h[i].value, params) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_faas_reinit_request(ngx_http_request_t *r)
{
    ngx_http_faas_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_faas_module);

    if (ctx == NULL) {
        return NGX_OK;
    }

    if (ctx->metered) {
        /*
         * nginx tries the next runner (the connection broke before a
         * whole header): the run measured is billed with the next
         * one's, never replaced by it
         */
        ctx->earlier = ctx->meter;
        ctx->retried = 1;
    }

    ctx->state = ngx_http_faas_st_header;
    ctx->hlen = 0;
    ctx->content_left = 0;
    ctx->padding_left = 0;
    ctx->header_done = 0;
    ctx->bad_header = 0;
    ctx->cut = 0;
    ctx->ended = 0;
    ctx->measured = 0;
    ctx->drained = 0;

    if (ctx->head) {
        ctx->head->pos = ctx->head->start;
        ctx->head->last = ctx->head->start;
        ctx->head_pos = ctx->head->start;
    }

    r->state = 0;

    return NGX_OK;
}


static ngx_int_t
ngx_http_faas_process_header(ngx_http_request_t *r)
{
    u_char                *data, *rest;
    size_t                 size;
    ngx_int_t              rc;
    ngx_buf_t             *b;
    ngx_http_upstream_t   *u;
    ngx_http_faas_ctx_t   *ctx;
    ngx_http_faas_event_e  ev;

    rest = NULL;
    u = r->upstream;
    b = &u->buffer;
    ctx = ngx_http_get_module_ctx(r, ngx_http_faas_module);

    /*
     * The runner answered on this connection: a kept one was not one it
     * had closed. nginx tries a request once more after an error on a
     * kept connection (ngx_http_upstream_next): after a header block it
     * refused and then a close (a function that crashed or hung after
     * it), the function ran again, each run up to its timeout
     */
    u->peer.cached = 0;

    for ( ;; ) {

        ev = ngx_http_faas_parse(ctx, &b->pos, b->last, &data, &size);

        switch (ev) {

        case ngx_http_faas_ev_again:
            /* all of it consumed: the header block is kept in ctx->head */
            b->pos = b->start;
            b->last = b->start;
            return NGX_AGAIN;

        case ngx_http_faas_ev_error:
            ngx_http_faas_record_error(r->connection->log, ctx);
            return NGX_HTTP_UPSTREAM_INVALID_HEADER;

        case ngx_http_faas_ev_header:
            if (ctx->type == NGX_HTTP_FAAS_END_REQUEST && !ctx->header_done
                && !ctx->bad_header)
            {
                ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                              "upstream ended the request without a "
                              "response for function \"%V\"",
                              &ctx->function);
                return NGX_HTTP_UPSTREAM_INVALID_HEADER;
            }

            ngx_http_faas_record_start(ctx);
            continue;

        case ngx_http_faas_ev_end:
            ngx_http_faas_record_end(r, ctx);

            if (ctx->ended && ctx->bad_header) {
                /* its measurements read: now the 502 */
                return ctx->bad_header;
            }

            if (ctx->ended) {
                /* read whole before the header goes: nothing after it */
                u->keepalive = (b->pos == b->last);
                b->pos = b->last;
                return NGX_OK;
            }

            if (ctx->measured && ctx->header_done && !ctx->bad_header
                && b->pos == b->last)
            {
                /*
                 * A body nginx will not send, and the measurements with
                 * nothing after them: the runner cut the response (a
                 * timeout, a crash) and closes the connection. The
                 * header it had is the answer, now: nginx would take
                 * the close for a runner that broke and run the
                 * function again (a kept connection is tried once more)
                 */
                return NGX_OK;
            }

            continue;

        default: /* ngx_http_faas_ev_content */
            break;
        }

        if (ctx->type == NGX_HTTP_FAAS_STDOUT && ctx->header_done
            && !ctx->bad_header)
        {
            ctx->drained += size;

            if (ctx->drained > NGX_HTTP_FAAS_DRAIN_MAX) {
                /*
                 * A body without end (a HEAD to a stream): the header
                 * goes now and nginx closes the upstream; the runner
                 * meters the run in meter_log, as for a client that left
                 */
                ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                               "http faas stopped reading a response "
                               "without body at %O bytes", ctx->drained);
                b->pos = b->last;
                return NGX_OK;
            }
        }

        if (ctx->type != NGX_HTTP_FAAS_STDOUT || ctx->header_done
            || ctx->bad_header)
        {
            /* stderr, measurements; a body nobody will read */
            ngx_http_faas_record_content(r, ctx, data, size);
            continue;
        }

        rc = ngx_http_faas_header_block(r, ctx, data, size, &rest);

        if (rc == NGX_AGAIN) {
            continue;
        }

        if (rc == NGX_HTTP_UPSTREAM_INVALID_HEADER) {
            /*
             * Garbage, but read on to the end first: the invocation is
             * metered (a function must not escape its bill by ending in
             * a bad header), and the upstream is closed after it
             */
            ctx->bad_header = rc;
            continue;
        }

        if (rc != NGX_OK) {
            return rc;
        }

        if (ngx_http_faas_header_only(r)) {
            /*
             * nginx will send no body and, once the header is out, close
             * the upstream unread: the rest of the response, and with it
             * the measurements, is read here first, so that the
             * invocation is metered and the connection can be kept.
             */
            ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                           "http faas reading a response without body");
            continue;
        }

        /* the body begins inside this slice: leave it for the filter */
        ctx->content_left += (data + size) - rest;
        b->pos = rest;

        return NGX_OK;
    }
}


/*
 * a response nginx sends without body: to HEAD, 204, 304, subrequests;
 * or whose body it never reads: an X-Accel-Redirect acted on
 */

static ngx_flag_t
ngx_http_faas_header_only(ngx_http_request_t *r)
{
    ngx_uint_t            status;
    ngx_http_upstream_t  *u;

    u = r->upstream;
    status = u->headers_in.status_n;

    return r->header_only
           || (u->headers_in.x_accel_redirect
               && !(u->conf->ignore_headers
                    & NGX_HTTP_UPSTREAM_IGN_XA_REDIRECT))
           || r->method == NGX_HTTP_HEAD
           || status == NGX_HTTP_NO_CONTENT
           || status == NGX_HTTP_NOT_MODIFIED;
}


static void
ngx_http_faas_record_start(ngx_http_faas_ctx_t *ctx)
{
    if (ctx->type == FAAS_METER_RECORD) {
        ctx->meter_len = 0;
    }
}


/* the content of a record that is no response body */

static void
ngx_http_faas_record_content(ngx_http_request_t *r, ngx_http_faas_ctx_t *ctx,
    u_char *data, size_t size)
{
    if (ctx->type == NGX_HTTP_FAAS_STDERR) {
        ngx_http_faas_stderr(r, ctx, data, size);
        return;
    }

    if (ctx->type == FAAS_METER_RECORD) {
        size = ngx_min(size, sizeof(ctx->meter_buf) - ctx->meter_len);
        ngx_memcpy(ctx->meter_buf + ctx->meter_len, data, size);
        ctx->meter_len += size;
    }
}


static void
ngx_http_faas_record_end(ngx_http_request_t *r, ngx_http_faas_ctx_t *ctx)
{
    if (ctx->type == FAAS_METER_RECORD) {
        ngx_http_faas_meter_parse(r, ctx);
        ctx->measured = 1;
        return;
    }

    if (ctx->type == NGX_HTTP_FAAS_END_REQUEST) {
        ctx->ended = 1;
    }
}


/*
 * Gathers STDOUT payload into ctx->head and parses header lines there:
 * a line may be split across records. NGX_OK with *rest at the first
 * body byte of this slice, NGX_AGAIN for more, or an error status.
 */

static ngx_int_t
ngx_http_faas_header_block(ngx_http_request_t *r, ngx_http_faas_ctx_t *ctx,
    u_char *data, size_t size, u_char **rest)
{
    u_char                *p, *last, line[NGX_HTTP_FAAS_BAD_HEADER_LOG * 4];
    size_t                 used, n;
    ngx_int_t              rc;
    ngx_buf_t              hb;
    ngx_http_upstream_t   *u;

    u = r->upstream;

    if (ctx->head == NULL) {
        ctx->head = ngx_create_temp_buf(r->pool, u->conf->buffer_size);
        if (ctx->head == NULL) {
            return NGX_ERROR;
        }
        ctx->head_pos = ctx->head->pos;
    }

    /* what fits: the body that may follow the header is no header */
    n = ngx_min(size, (size_t) (ctx->head->end - ctx->head->last));

    used = ctx->head->last - ctx->head->start;
    ctx->head->last = ngx_cpymem(ctx->head->last, data, n);

    ngx_memzero(&hb, sizeof(ngx_buf_t));
    hb.start = ctx->head->start;
    hb.pos = ctx->head_pos;
    hb.last = ctx->head->last;
    hb.end = ctx->head->end;

    for ( ;; ) {
        rc = ngx_http_parse_header_line(r, &hb, 1);
        ctx->head_pos = hb.pos;

        if (rc == NGX_OK) {
            rc = ngx_http_faas_header_line(r);

            if (rc != NGX_OK) {
                return rc;
            }

            continue;
        }

        if (rc == NGX_AGAIN && ctx->head->last == ctx->head->end) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "upstream sent too big header for function "
                          "\"%V\"", &ctx->function);
            return NGX_HTTP_UPSTREAM_INVALID_HEADER;
        }

        if (rc == NGX_AGAIN) {
            return NGX_AGAIN;
        }

        if (rc == NGX_HTTP_PARSE_HEADER_DONE) {
            break;
        }

        /* what it sent, escaped: its bytes are no text of ours */
        n = ngx_min((size_t) (r->header_end - r->header_name_start) + 1,
                    NGX_HTTP_FAAS_BAD_HEADER_LOG);
        last = ngx_http_faas_escape(line, r->header_name_start, n);

        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "upstream sent invalid header: \"%*s...\" for "
                      "function \"%V\"", last - line, line,
                      &ctx->function);

        return NGX_HTTP_UPSTREAM_INVALID_HEADER;
    }

    /* the end of the header block is in this slice */
    *rest = data + ((hb.pos - ctx->head->start) - used);

    if (u->headers_in.status) {
        rc = ngx_atoi(u->headers_in.status->value.data, 3);
        p = u->headers_in.status->value.data;

        /*
         * three digits, alone or before the reason: "2000" is no 200;
         * and a final one: after a 1xx nginx frames no body, and what
         * followed would be read by the client as the next response
         */
        if (rc == NGX_ERROR || rc < 200 || rc > 999
            || (u->headers_in.status->value.len > 3
                && p[3] != ' ' && p[3] != '\t'))
        {
            /* escaped: "200x\" for function \"other" is no text of ours */
            n = ngx_min(u->headers_in.status->value.len,
                        NGX_HTTP_FAAS_BAD_HEADER_LOG);
            last = ngx_http_faas_escape(line, p, n);

            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "upstream sent invalid status \"%*s\" for "
                          "function \"%V\"", last - line, line,
                          &ctx->function);
            return NGX_HTTP_UPSTREAM_INVALID_HEADER;
        }

        u->headers_in.status_n = rc;
        u->headers_in.status_line = u->headers_in.status->value;

        if (rc == NGX_HTTP_NO_CONTENT) {
            /*
             * its body is dropped, and a 204 has no Content-Length
             * (RFC 9110, 8.6): nginx clears it only for a status line
             * of its own
             */
            u->headers_in.content_length_n = -1;
        }

    } else if (u->headers_in.location) {
        u->headers_in.status_n = 302;
        ngx_str_set(&u->headers_in.status_line, "302 Moved Temporarily");

    } else {
        u->headers_in.status_n = 200;
        ngx_str_set(&u->headers_in.status_line, "200 OK");
    }

    if (u->state && u->state->status == 0) {
        u->state->status = u->headers_in.status_n;
    }

    /* only now: a header block refused above is garbage, its outcome
     * an error in $faas_status */
    ctx->header_done = 1;

    return NGX_OK;
}


static ngx_int_t
ngx_http_faas_header_line(ngx_http_request_t *r)
{
    ngx_table_elt_t                *h;
    ngx_http_faas_ctx_t            *ctx;
    ngx_http_upstream_header_t     *hh;
    ngx_http_upstream_main_conf_t  *umcf;

    ctx = ngx_http_get_module_ctx(r, ngx_http_faas_module);
    umcf = ngx_http_get_module_main_conf(r, ngx_http_upstream_module);

    if (r->header_name_end - r->header_name_start == 14
        && ngx_strncasecmp(r->header_name_start, (u_char *) "Content-Length",
                           14) == 0
        && (r->upstream->headers_in.content_length
            || ngx_atoof(r->header_start, r->header_end - r->header_start)
               == NGX_ERROR))
    {
        /* two, or no number: which one the body keeps is not known */
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "upstream sent a duplicate or invalid Content-Length "
                      "for function \"%V\"", &ctx->function);
        return NGX_HTTP_UPSTREAM_INVALID_HEADER;
    }

    if (ngx_http_faas_accel_unknown(r->header_name_start,
                                    r->header_name_end
                                    - r->header_name_start))
    {
        /* stock fastcgi_pass passes X-Accel-Foo on: never a function's */
        return NGX_OK;
    }

    h = ngx_list_push(&r->upstream->headers_in.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->key.len = r->header_name_end - r->header_name_start;
    h->value.len = r->header_end - r->header_start;

    h->key.data = ngx_pnalloc(r->pool,
                              h->key.len + 1 + h->value.len + 1 + h->key.len);
    if (h->key.data == NULL) {
        h->hash = 0;
        return NGX_ERROR;
    }

    h->value.data = h->key.data + h->key.len + 1;
    h->lowcase_key = h->key.data + h->key.len + 1 + h->value.len + 1;

    ngx_memcpy(h->key.data, r->header_name_start, h->key.len);
    h->key.data[h->key.len] = '\0';
    ngx_memcpy(h->value.data, r->header_start, h->value.len);
    h->value.data[h->value.len] = '\0';

    if (h->key.len == r->lowcase_index) {
        ngx_memcpy(h->lowcase_key, r->lowcase_header, h->key.len);

    } else {
        ngx_strlow(h->lowcase_key, h->key.data, h->key.len);
    }

    h->hash = r->header_hash;

    hh = ngx_hash_find(&umcf->headers_in_hash, h->hash, h->lowcase_key,
                       h->key.len);

    if (hh && hh->handler(r, h, hh->offset) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "http faas header: \"%V: %V\"", &h->key, &h->value);

    return NGX_OK;
}


/*
 * An X-Accel-* header other than the five nginx acts on (or hides, with
 * faas_accel_headers off): no one acts on it, and no X-Accel-* header
 * of a function's reaches the client (faas_accel_headers).
 */

static ngx_uint_t
ngx_http_faas_accel_unknown(u_char *name, size_t len)
{
    ngx_uint_t  i;

    static ngx_str_t  known[] = {
        ngx_string("expires"),
        ngx_string("redirect"),
        ngx_string("limit-rate"),
        ngx_string("buffering"),
        ngx_string("charset")
    };

    if (len < 8 || ngx_strncasecmp(name, (u_char *) "x-accel-", 8) != 0) {
        return 0;
    }

    for (i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
        if (len - 8 == known[i].len
            && ngx_strncasecmp(name + 8, known[i].data, known[i].len) == 0)
        {
            return 0;
        }
    }

    return 1;
}


/*
 * Bytes of a function's output as text of a log line: printable ASCII as
 * is, quotes, backslashes and all else as \xNN. dst holds 4 * n.
 */

u_char *
ngx_http_faas_escape(u_char *dst, u_char *src, size_t n)
{
    u_char  *last;

    static u_char  hex[] = "0123456789abcdef";

    for (last = src + n; src < last; src++) {
        if (*src >= 0x20 && *src < 0x7f && *src != '"' && *src != '\\') {
            *dst++ = *src;
            continue;
        }

        *dst++ = '\\';
        *dst++ = 'x';
        *dst++ = hex[*src >> 4];
        *dst++ = hex[*src & 0xf];
    }

    return dst;
}


/*
 * How much the pipe should hold before it calls the input filter. Zero
 * would tell the pipe that the response is over: that is so only once
 * END_REQUEST was read. Between records, or at the end of a record whose
 * last bytes were the header block, more is still to come.
 */

static off_t
ngx_http_faas_pipe_length(ngx_http_faas_ctx_t *ctx)
{
    off_t  n;

    if (ctx->ended) {
        return 0;
    }

    if (ctx->state == ngx_http_faas_st_header) {
        n = NGX_HTTP_FAAS_HEADER_LEN - ctx->hlen;

    } else {
        n = ctx->content_left + ctx->padding_left;
    }

    return n ? n : 1;
}


static ngx_int_t
ngx_http_faas_input_filter_init(void *data)
{
    ngx_http_request_t   *r = data;
    ngx_http_faas_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_faas_module);

    r->upstream->pipe->length = ngx_http_faas_pipe_length(ctx);
    ctx->rest = r->upstream->headers_in.content_length_n;

    return NGX_OK;
}


/*
 * STDOUT payload becomes body buffers pointing into the raw buffer, as
 * its shadows; STDERR goes to the error log; END_REQUEST ends the
 * response, and only then may the connection be kept.
 */

static ngx_int_t
ngx_http_faas_input_filter(ngx_event_pipe_t *p, ngx_buf_t *buf)
{
    u_char                *data;
    size_t                 size;
    ngx_buf_t             *b, **prev;
    ngx_chain_t           *cl;
    ngx_http_request_t    *r;
    ngx_http_faas_ctx_t   *ctx;
    ngx_http_faas_event_e  ev;

    if (buf->pos == buf->last) {
        return NGX_OK;
    }

    r = p->input_ctx;
    ctx = ngx_http_get_module_ctx(r, ngx_http_faas_module);

    if (ctx->ended) {
        /* bytes after END_REQUEST, in a later buffer: none to keep */
        r->upstream->keepalive = 0;
        buf->pos = buf->last;
    }

    b = NULL;
    prev = &buf->shadow;

    while (!ctx->ended) {

        ev = ngx_http_faas_parse(ctx, &buf->pos, buf->last, &data, &size);

        if (ev == ngx_http_faas_ev_again) {
            break;
        }

        if (ev == ngx_http_faas_ev_error) {
            ngx_http_faas_record_error(p->log, ctx);
            return NGX_ERROR;
        }

        if (ev == ngx_http_faas_ev_end) {
            ngx_http_faas_record_end(r, ctx);

            if (ctx->ended && ctx->rest > 0) {
                /*
                 * Less than its Content-Length: an error, so that nginx
                 * closes the client's connection; kept, the client
                 * would take what comes next on it for the rest
                 */
                ngx_log_error(NGX_LOG_ERR, p->log, 0, "upstream sent %O "
                              "bytes less than its Content-Length for "
                              "function \"%V\"", ctx->rest,
                              &ctx->function);
                p->upstream_error = 1;
                r->upstream->keepalive = 0;

            } else if (ctx->ended) {
                p->upstream_done = 1;

                /* anything after END_REQUEST: not a connection to keep */
                r->upstream->keepalive = (buf->pos == buf->last);
            }
            continue;
        }

        if (ev == ngx_http_faas_ev_header) {
            ngx_http_faas_record_start(ctx);
            continue;
        }

        if (ctx->type != NGX_HTTP_FAAS_STDOUT) {
            ngx_http_faas_record_content(r, ctx, data, size);
            continue;
        }

        if (ctx->rest >= 0 && (off_t) size > ctx->rest) {
            /* more than its Content-Length: the rest would be read by
             * the client as the next response on its connection */
            if (!ctx->cut) {
                ctx->cut = 1;
                ngx_log_error(NGX_LOG_WARN, p->log, 0, "upstream sent more "
                              "data than its Content-Length for function "
                              "\"%V\": cut", &ctx->function);
            }

            size = (size_t) ctx->rest;
        }

        if (ctx->rest >= 0) {
            ctx->rest -= size;
        }

        if (size == 0) {
            continue;
        }

        cl = ngx_chain_get_free_buf(p->pool, &p->free);
        if (cl == NULL) {
            return NGX_ERROR;
        }

        b = cl->buf;

        ngx_memzero(b, sizeof(ngx_buf_t));

        b->pos = data;
        b->last = data + size;
        b->start = buf->start;
        b->end = buf->end;
        b->tag = p->tag;
        b->temporary = 1;
        b->recycled = 1;
        b->num = buf->num;

        *prev = b;
        prev = &b->shadow;

        if (p->in) {
            *p->last_in = cl;

        } else {
            p->in = cl;
        }

        p->last_in = &cl->next;
    }

    /* a length of 0 would make it "done", not the error it is */
    p->length = p->upstream_error ? 1 : ngx_http_faas_pipe_length(ctx);

    if (b) {
        b->shadow = buf;
        b->last_shadow = 1;
        return NGX_OK;
    }

    /* no body in this buffer: it is free again */

    return ngx_event_pipe_add_free_buf(p, buf);
}


static void
ngx_http_faas_abort_request(ngx_http_request_t *r)
{
    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "abort http faas request");
}


static void
ngx_http_faas_finalize_request(ngx_http_request_t *r, ngx_int_t rc)
{
    ngx_http_faas_ctx_t  *ctx;

    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "finalize http faas request");

    /* also after a filter's finalization emptied the contexts */
    ctx = ngx_http_faas_get_ctx(r);

    if (ctx) {
        ngx_http_faas_stderr_flush(r, ctx);

        /* what $faas_status says of it, whatever comes after (an
         * error_page's own status) */
        ctx->final_rc = rc;
        ctx->body_sent = r->upstream->request_body_sent;
        ctx->running = 0;
        ctx->finalized = 1;

        ngx_http_faas_abort(r, ctx);
    }
}


/*
 * nginx stops reading an answer before its measurements came: its
 * client left, or a filter answered in its place (image_filter's 415).
 * The runner may have sent all of it already and take it for read:
 * ABORT_REQUEST tells it that nginx's line will not bill the run, so
 * that meter_log does. Only between whole records: the request went
 * whole, and the runner began its answer.
 */

static void
ngx_http_faas_abort(ngx_http_request_t *r, ngx_http_faas_ctx_t *ctx)
{
    u_char                rec[NGX_HTTP_FAAS_HEADER_LEN];
    ngx_connection_t     *c;
    ngx_http_upstream_t  *u;

    u = r->upstream;
    c = u->peer.connection;

    if (c == NULL || !ctx->meter_asked || ctx->measured || ctx->ended
        || !ctx->header_done || !u->request_body_sent)
    {
        return;
    }

    /*
     * The runner closed it (a fast stop, its end) and there is nobody
     * to tell: the send would be nginx's "send() failed (32: Broken
     * pipe)" error. A close not yet read fails the same way, at info:
     * the connection is closed after this, never kept
     */
    if (c->read->eof || c->read->error || c->write->error) {
        return;
    }

    c->log_error = NGX_ERROR_INFO;

    ngx_memzero(rec, sizeof(rec));
    rec[0] = NGX_HTTP_FAAS_VERSION_1;
    rec[1] = NGX_HTTP_FAAS_ABORT_REQUEST;
    rec[3] = NGX_HTTP_FAAS_REQUEST_ID;

    if (c->send(c, rec, sizeof(rec)) != (ssize_t) sizeof(rec)) {
        ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "http faas abort not sent");
    }
}


/* the record parser's error: a version or a request id not ours */

static void
ngx_http_faas_record_error(ngx_log_t *log, ngx_http_faas_ctx_t *ctx)
{
    if (ctx->header[0] != NGX_HTTP_FAAS_VERSION_1) {
        ngx_log_error(NGX_LOG_ERR, log, 0, "upstream sent a record of "
                      "FastCGI version %d for function \"%V\"",
                      ctx->header[0], &ctx->function);
        return;
    }

    ngx_log_error(NGX_LOG_ERR, log, 0, "upstream sent a record for FastCGI "
                  "request %ui, not %d, for function \"%V\"",
                  ctx->request_id, NGX_HTTP_FAAS_REQUEST_ID, &ctx->function);
}
