/*
 * Copyright (C) ngx_faas developers
 */

#ifndef FR_QUEUE_H
#define FR_QUEUE_H


#include "fr_runner.h"


/*
 * What the pool needs of a request's client side, registered by the
 * proxy at startup (as nginx's upstream calls its protocol module
 * through u->create_request, u->input_filter): the pool and the worker
 * modes reach requests only through these.
 */
typedef struct {
    /* a worker took the request */
    void  (*assigned)(fr_req_t *r);
    /* response bytes (STDOUT or STDERR); FR_AGAIN: the client is full */
    int   (*output)(fr_req_t *r, u_char type, const u_char *p, size_t n);
    /* the client can take no more output now */
    int   (*output_full)(fr_req_t *r);
    /* the invocation ended with this application status */
    void  (*end)(fr_req_t *r, uint32_t app_status);
    /* its response ended, not the invocation: the client is answered */
    void  (*respond)(fr_req_t *r);
    /* no answer from a worker: the runner's own */
    void  (*fail)(fr_req_t *r, fr_outcome_e outcome);
    /* the worker took some of the body: more may be read */
    void  (*resume)(fr_req_t *r);
    /* may be sent again whole to another worker */
    int   (*retryable)(fr_req_t *r);
} fr_req_ops_t;


extern const fr_req_ops_t  *fr_req_ops;

void fr_func_unqueue(fr_req_t *r);
void fr_func_requeue(fr_func_t *f, fr_req_t *r);
void fr_func_waits(fr_func_t *f, fr_req_t *r);
void fr_func_fail_queue(fr_func_t *f);
void fr_req_queue_timeout(fr_timer_t *t);
void fr_func_start_failed(fr_func_t *f, int crashed);
void fr_func_stalled(fr_func_t *f);


#endif /* FR_QUEUE_H */
