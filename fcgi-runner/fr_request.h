/*
 * Copyright (C) ngx_faas developers
 */

#ifndef FR_REQUEST_H
#define FR_REQUEST_H


#include "fr_runner.h"


void fr_request_init(void);
void fr_req_start(fr_req_t *r);
int fr_req_stdin_ready(fr_req_t *r);
void fr_req_answer(fr_req_t *r, int status);
int fr_req_reject(fr_req_t *r, int status);
void fr_req_fail(fr_req_t *r, fr_outcome_e outcome);
void fr_req_done(fr_req_t *r);
void fr_req_free(fr_req_t *r);
int fr_req_orphan(fr_req_t *r);

/* what a request its client left used, to meter_log (fr_async.c's) */
void fr_req_reply(fr_req_t *r, int status, const char *headers,
    const char *content_type, const u_char *body, size_t len);

/* asynchronous invocations: the body is kept, then handed to the store */
extern void (*fr_req_async_accept)(fr_req_t *r);
void fr_req_async_end(fr_req_t *r);


#endif /* FR_REQUEST_H */
