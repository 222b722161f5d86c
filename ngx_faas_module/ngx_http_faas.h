
/*
 * Copyright (C) ngx_faas developers
 */


#ifndef _NGX_HTTP_FAAS_H_INCLUDED_
#define _NGX_HTTP_FAAS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "faas_protocol.h"


#define NGX_HTTP_FAAS_NAME_MAX           64

#define NGX_HTTP_FAAS_VERSION_1          1
#define NGX_HTTP_FAAS_HEADER_LEN         8
#define NGX_HTTP_FAAS_REQUEST_ID         1     /* one request a connection */
#define NGX_HTTP_FAAS_PARAM_LC           256   /* names looked up hashed */


/* a record's header and BEGIN_REQUEST's body, as the specification */
typedef struct {
    u_char                         version;
    u_char                         type;
    u_char                         request_id_hi;
    u_char                         request_id_lo;
    u_char                         content_length_hi;
    u_char                         content_length_lo;
    u_char                         padding_length;
    u_char                         reserved;
} ngx_http_faas_header_t;

typedef struct {
    u_char                         role_hi;
    u_char                         role_lo;
    u_char                         flags;
    u_char                         reserved[5];
} ngx_http_faas_begin_request_t;
#define NGX_HTTP_FAAS_RECORD_MAX         32768

/* a body nginx will not send (HEAD) is read for its measurements, up to */
#define NGX_HTTP_FAAS_DRAIN_MAX          (16 * 1024 * 1024)

#define NGX_HTTP_FAAS_BEGIN_REQUEST      1
#define NGX_HTTP_FAAS_ABORT_REQUEST      2
#define NGX_HTTP_FAAS_END_REQUEST        3
#define NGX_HTTP_FAAS_PARAMS             4
#define NGX_HTTP_FAAS_STDIN              5
#define NGX_HTTP_FAAS_STDOUT             6
#define NGX_HTTP_FAAS_STDERR             7

/* escaped bytes of stderr a log line holds: with its prefix and the
 * function's name, within nginx's NGX_MAX_ERROR_STR */
#define NGX_HTTP_FAAS_STDERR_LINE        1800
#define NGX_HTTP_FAAS_STDERR_MAX         8192  /* logged a request */
#define NGX_HTTP_FAAS_BAD_HEADER_LOG     64

#define NGX_HTTP_FAAS_RESPONDER          1
#define NGX_HTTP_FAAS_KEEP_CONN          1


typedef struct {
    ngx_http_regex_t              *regex;
    ngx_http_complex_value_t       function;
    ngx_int_t                      path_info;     /* capture, or -1 */
} ngx_http_faas_route_t;


typedef struct {
    ngx_str_t                      key;
    ngx_http_complex_value_t       value;
    ngx_uint_t                     skip_empty;
} ngx_http_faas_param_t;


typedef struct {
    ngx_array_t                    builtins;     /* ngx_int_t var index */
    ngx_flag_t                     meter;        /* a $faas_* is used */
} ngx_http_faas_main_conf_t;


/* what the runner measured; -1 where it said nothing */
typedef struct {
    ngx_str_t                      tenant;
    ngx_str_t                      outcome;
    int64_t                        duration;     /* usec */
    int64_t                        init;         /* usec */
    int64_t                        cold;
    int64_t                        queue;        /* usec */
    int64_t                        cpu;          /* usec */
    int64_t                        max_memory;   /* KB */
    int64_t                        memory_size;  /* KB */
    int64_t                        worker;
} ngx_http_faas_meter_t;


typedef struct {
    ngx_http_upstream_conf_t       upstream;

    ngx_array_t                   *routes;       /* ngx_http_faas_route_t */
    ngx_http_complex_value_t      *function;
    ngx_http_complex_value_t      *tenant;       /* faas_tenant: only its */
    ngx_array_t                   *params;       /* ngx_http_faas_param_t */
    ngx_hash_t                     params_hash;  /* their names */
    ngx_flag_t                     status;
    ngx_uint_t                     invocation;   /* 0 sync, 1 async */
    ngx_flag_t                     invocation_header;
    ngx_str_t                      status_format;
    ngx_flag_t                     accel_headers;
    ngx_str_t                      header_max;   /* buffer_size, decimal */

    /* a location's first directive that does nothing without faas_pass */
    const char                    *needs_pass;
    u_char                        *needs_pass_file;
    ngx_uint_t                     needs_pass_line;
} ngx_http_faas_loc_conf_t;


typedef enum {
    ngx_http_faas_ev_again = 0,     /* all input consumed, need more */
    ngx_http_faas_ev_header,        /* a record starts */
    ngx_http_faas_ev_content,       /* a slice of its content */
    ngx_http_faas_ev_end,           /* the record, padding too, is whole */
    ngx_http_faas_ev_error          /* not FastCGI: version is not 1 */
} ngx_http_faas_event_e;


typedef enum {
    ngx_http_faas_st_header = 0,
    ngx_http_faas_st_content,
    ngx_http_faas_st_padding
} ngx_http_faas_state_e;


typedef struct ngx_http_faas_ctx_s  ngx_http_faas_ctx_t;

struct ngx_http_faas_ctx_s {
    /*
     * the request it is of, and the context whose invocation its log
     * line bills: itself, or that of an earlier invocation of the same
     * request (an error_page into another faas_pass location)
     */
    ngx_http_request_t            *request;
    ngx_http_faas_ctx_t           *logged;

    /* routing */
    ngx_str_t                      function;
    ngx_str_t                      script_name;
    ngx_str_t                      path_info;

    /* the record parser: resumes at any byte */
    ngx_http_faas_state_e          state;
    ngx_uint_t                     hlen;
    u_char                         header[NGX_HTTP_FAAS_HEADER_LEN];
    ngx_uint_t                     type;
    ngx_uint_t                     request_id;
    size_t                         content_left;
    size_t                         padding_left;

    /* the CGI header block, gathered across STDOUT records */
    ngx_buf_t                     *head;
    u_char                        *head_pos;
    ngx_int_t                      bad_header;   /* its error, once read */

    /* what Content-Length still promises of the body; -1: none said */
    off_t                          rest;

    /* the measurements record, gathered then parsed */
    u_char                         meter_buf[1024];
    size_t                         meter_len;
    ngx_http_faas_meter_t          meter;
    ngx_http_faas_meter_t          earlier;      /* of runs nginx retried */

    /* the function's stderr in the error log */
    ngx_buf_t                     *stderr_line;  /* not yet ended */
    ngx_buf_t                     *stderr_tail;  /* the last lines */
    size_t                         stderr_logged;
    size_t                         stderr_dropped;
    size_t                         stderr_tail_lines;

    /* a body nginx will not send, read for its measurements */
    off_t                          drained;

    unsigned                       mount:1;      /* the URI is its mount */
    unsigned                       header_done:1;
    unsigned                       ended:1;
    unsigned                       metered:1;
    unsigned                       measured:1;   /* this try's record */
    unsigned                       meter_asked:1;  /* FAAS_METER 1 */
    unsigned                       retried:1;    /* "earlier" is a run's */
    unsigned                       not_found:1;  /* routing said 404 */
    unsigned                       async:1;      /* asked to be stored */
    unsigned                       cut:1;        /* past Content-Length */

    /* the run's end as nginx saw it: its status (504: gave up waiting),
     * whether the runner had the whole request */
    ngx_int_t                      final_rc;
    unsigned                       running:1;    /* its upstream is on */
    unsigned                       finalized:1;
    unsigned                       body_sent:1;
};


ngx_int_t ngx_http_faas_route(ngx_http_request_t *r,
    ngx_http_faas_loc_conf_t *flcf, ngx_http_faas_ctx_t *ctx);
char *ngx_http_faas_route_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_int_t ngx_http_faas_name_valid(ngx_str_t *name);
void ngx_http_faas_needs_pass(ngx_conf_t *cf, ngx_http_faas_loc_conf_t *flcf,
    const char *directive);
u_char *ngx_http_faas_escape(u_char *dst, u_char *src, size_t n);

ngx_int_t ngx_http_faas_upstream_start(ngx_http_request_t *r,
    ngx_http_faas_loc_conf_t *flcf);
ngx_int_t ngx_http_faas_builtins_init(ngx_conf_t *cf,
    ngx_http_faas_main_conf_t *fmcf);

ngx_http_faas_event_e ngx_http_faas_parse(ngx_http_faas_ctx_t *ctx,
    u_char **pos, u_char *last, u_char **data, size_t *size);
u_char *ngx_http_faas_write_header(u_char *p, ngx_uint_t type, size_t len);

void ngx_http_faas_stderr(ngx_http_request_t *r, ngx_http_faas_ctx_t *ctx,
    u_char *data, size_t size);
void ngx_http_faas_stderr_flush(ngx_http_request_t *r,
    ngx_http_faas_ctx_t *ctx);

ngx_int_t ngx_http_faas_add_variables(ngx_conf_t *cf);
ngx_http_faas_ctx_t *ngx_http_faas_get_ctx(ngx_http_request_t *r);
ngx_flag_t ngx_http_faas_meter_used(ngx_conf_t *cf);
void ngx_http_faas_meter_parse(ngx_http_request_t *r,
    ngx_http_faas_ctx_t *ctx);


extern ngx_module_t  ngx_http_faas_module;


#endif /* _NGX_HTTP_FAAS_H_INCLUDED_ */
