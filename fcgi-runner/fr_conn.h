/*
 * Copyright (C) ngx_faas developers
 */

#ifndef FR_CONN_H
#define FR_CONN_H


#include "fr_runner.h"


/* fr_conn_record */
#define FR_CONN_PAST  1      /* past a held response: STDERR */
#define FR_CONN_OURS  2      /* the runner's own short answer */


/* the proxy's, registered at startup */
typedef struct {
    /* parse [*pos, last); *pos: what was used */
    void  (*process)(fr_conn_t *c, const u_char **pos, const u_char *last);
    /* the connection closes with a request on it */
    void  (*closed)(fr_conn_t *c);
} fr_conn_handlers_t;


void fr_conn_init(const fr_conn_handlers_t *handlers);
void fr_conn_accept(int fd);
void fr_conn_accept_own(int fd);
void fr_conn_read(fr_conn_t *c);
int fr_conn_control(fr_conn_t *c, const void *p, size_t n);
void fr_conn_flush(fr_conn_t *c);
void fr_conn_update(fr_conn_t *c);
void fr_conn_close(fr_conn_t *c);
void fr_conn_end_request(fr_conn_t *c, uint16_t id, uint32_t app,
    u_char status);
int fr_conns_drain(int fast);
int fr_conn_holding(fr_conn_t *c);
void fr_conn_spool_free(fr_conn_t *c);
void fr_conn_unhold(fr_conn_t *c);
int fr_conn_record(fr_conn_t *c, const u_char *h, const u_char *p, size_t n,
    int flags);


#endif /* FR_CONN_H */
