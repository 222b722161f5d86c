
/*
 * Copyright (C) ngx_faas developers
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_faas.h"


static ngx_int_t ngx_http_faas_route_match(ngx_http_request_t *r,
    ngx_http_faas_route_t *route, ngx_http_faas_ctx_t *ctx);


/* faas_route REGEX FUNCTION */

char *
ngx_http_faas_route_directive(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_faas_loc_conf_t *flcf = conf;

    u_char                            *p;
    ngx_str_t                         *value;
    ngx_uint_t                         i;
    ngx_regex_compile_t                rc;
    ngx_http_faas_route_t             *route;
    ngx_http_compile_complex_value_t   ccv;
    u_char                             errstr[NGX_MAX_CONF_ERRSTR];

    value = cf->args->elts;

    ngx_http_faas_needs_pass(cf, flcf, "faas_route");

    if (flcf->routes == NULL) {
        flcf->routes = ngx_array_create(cf->pool, 2,
                                        sizeof(ngx_http_faas_route_t));
        if (flcf->routes == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    route = ngx_array_push(flcf->routes);
    if (route == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(&rc, sizeof(ngx_regex_compile_t));

    rc.pattern = value[1];
    rc.err.len = NGX_MAX_CONF_ERRSTR;
    rc.err.data = errstr;

    /* checked first, so that the message names the directive */
    if (ngx_regex_compile(&rc) != NGX_OK) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid regex in \"faas_route\": %V", &rc.err);
        return NGX_CONF_ERROR;
    }

    rc.err.len = NGX_MAX_CONF_ERRSTR;

    route->regex = ngx_http_regex_compile(cf, &rc);
    if (route->regex == NULL) {
        return NGX_CONF_ERROR;
    }

    route->path_info = -1;

    p = rc.names;

    for (i = 0; i < (ngx_uint_t) rc.named_captures; i++, p += rc.name_size) {
        if (ngx_strcmp(&p[2], "path_info") == 0) {
            route->path_info = 2 * ((p[0] << 8) + p[1]);
            break;
        }
    }

    ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));

    ccv.cf = cf;
    ccv.value = &value[2];
    ccv.complex_value = &route->function;

    if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    if (ccv.complex_value->lengths == NULL
        && ngx_http_faas_name_valid(&value[2]) != NGX_OK)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid function name \"%V\" in \"faas_route\"",
                           &value[2]);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/*
 * Names the function of this request: the first matching route, else
 * faas_function. NGX_OK, or NGX_HTTP_NOT_FOUND when no route matches or
 * the name is not a valid function name.
 */

ngx_int_t
ngx_http_faas_route(ngx_http_request_t *r, ngx_http_faas_loc_conf_t *flcf,
    ngx_http_faas_ctx_t *ctx)
{
    u_char                 *last, name[NGX_HTTP_FAAS_NAME_MAX * 4];
    ngx_int_t               rc;
    ngx_uint_t              i;
    ngx_http_faas_route_t  *route;

    ctx->script_name = r->uri;
    ngx_str_null(&ctx->path_info);

    rc = NGX_DECLINED;

    if (flcf->routes) {
        route = flcf->routes->elts;

        for (i = 0; i < flcf->routes->nelts; i++) {
            rc = ngx_http_faas_route_match(r, &route[i], ctx);

            if (rc != NGX_DECLINED) {
                break;
            }
        }
    }

    if (rc == NGX_DECLINED && flcf->function) {
        rc = ngx_http_complex_value(r, flcf->function, &ctx->function)
             == NGX_OK ? NGX_OK : NGX_ERROR;
    }

    if (rc == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (rc == NGX_DECLINED) {
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "http faas no route for \"%V\"", &r->uri);
        return NGX_HTTP_NOT_FOUND;
    }

    if (ngx_http_faas_name_valid(&ctx->function) != NGX_OK) {
        /* escaped: a client's %0a is no line of the log's */
        last = ngx_http_faas_escape(name, ctx->function.data,
                                    ngx_min(ctx->function.len,
                                            NGX_HTTP_FAAS_NAME_MAX));
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "invalid function name \"%*s\"", last - name, name);
        ngx_str_null(&ctx->function);
        return NGX_HTTP_NOT_FOUND;
    }

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "http faas function \"%V\" path_info \"%V\"",
                   &ctx->function, &ctx->path_info);

    return NGX_OK;
}


static ngx_int_t
ngx_http_faas_route_match(ngx_http_request_t *r, ngx_http_faas_route_t *route,
    ngx_http_faas_ctx_t *ctx)
{
    int        *cap;
    ngx_int_t   rc;

    rc = ngx_http_regex_exec(r, route->regex, &r->uri);

    if (rc != NGX_OK) {
        return rc;    /* NGX_DECLINED: no match */
    }

    if (route->path_info >= 0 && r->captures) {
        cap = r->captures;

        if (cap[route->path_info] >= 0) {
            ctx->script_name.len = cap[route->path_info];

            ctx->path_info.data = r->uri.data + cap[route->path_info];
            ctx->path_info.len = cap[route->path_info + 1]
                                 - cap[route->path_info];
        }

        /* "/fn/NAME": where the function is mounted, no path after it */
        ctx->mount = (ctx->path_info.len == 0);
    }

    if (ngx_http_complex_value(r, &route->function, &ctx->function)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* 1-64 of A-Z a-z 0-9 _ -, starting with a letter or digit */

ngx_int_t
ngx_http_faas_name_valid(ngx_str_t *name)
{
    u_char      c;
    ngx_uint_t  i;

    if (name->len == 0 || name->len > NGX_HTTP_FAAS_NAME_MAX) {
        return NGX_DECLINED;
    }

    for (i = 0; i < name->len; i++) {
        c = name->data[i];

        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
            || (c >= '0' && c <= '9'))
        {
            continue;
        }

        if (i > 0 && (c == '_' || c == '-')) {
            continue;
        }

        return NGX_DECLINED;
    }

    return NGX_OK;
}
