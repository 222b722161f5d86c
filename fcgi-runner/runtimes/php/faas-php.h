/*
 * Copyright (C) ngx_faas developers
 *
 * faas-php: the PHP runtime of ngx_faas (runtime = php). faas-php.c is
 * the process (a worker, or the function's zygote) and its FastCGI
 * connection; faas-php-sapi.c is PHP's side, a SAPI on libphp.
 */

#ifndef FAAS_PHP_H
#define FAAS_PHP_H


#include <stddef.h>
#include <stdint.h>


#define FP_OUT_MAX     65528        /* a record's content, a multiple of 8 */
#define FP_PARAMS_MAX  (1024 * 1024)


typedef struct {
    const char  *name;
    const char  *value;
    size_t       value_len;
} fp_param_t;


typedef struct {
    int          fd;
    uint16_t     id;                /* the request's; 0 between them */
    unsigned     keep:1;            /* FCGI_KEEP_CONN */
    unsigned     stdin_done:1;      /* its empty STDIN came */
    unsigned     aborted:1;         /* ABORT_REQUEST, or the peer left */
    unsigned     broken:1;          /* a write failed: no more requests */
    unsigned     answered:1;        /* its STDOUT ended: the response */
    unsigned     finished:1;        /* END_REQUEST sent */
    unsigned     sent:1;            /* some of its STDOUT went */
    unsigned     client_left:1;     /* the runner's ABORT_REQUEST: its
                                       output goes nowhere */

    char        *params;            /* "name\0value\0" ... */
    size_t       params_len;
    fp_param_t  *vars;
    size_t       nvars;

    unsigned char  *in;               /* what was read, not yet taken */
    size_t       in_pos;
    size_t       in_len;

    unsigned char  *body;              /* the STDIN record being read */
    size_t       body_len;

    unsigned char  *out;              /* STDOUT not yet sent */
    size_t       out_len;
} fp_conn_t;


/* faas-php.c, for the SAPI */
const char *fp_param(fp_conn_t *c, const char *name);
size_t fp_read_body(fp_conn_t *c, char *buf, size_t size);
int fp_write(fp_conn_t *c, const void *data, size_t len);
int fp_flush(fp_conn_t *c);
int fp_answer(fp_conn_t *c);
int fp_finish(fp_conn_t *c, int status);

/* faas-php-sapi.c */
int fp_php_startup(char **defaults, char **admin, char **tenant);
int fp_php_check(char **defaults, char **admin, char **tenant);
int fp_php_request(fp_conn_t *c);
void fp_php_sessions_sweep(const char *dir);


#endif /* FAAS_PHP_H */
