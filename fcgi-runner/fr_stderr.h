/*
 * Copyright (C) ngx_faas developers
 */

#ifndef FR_STDERR_H
#define FR_STDERR_H


#include "fr_runner.h"


/* an invocation's stderr that the runner logs (fr_stderr_invocation) */
typedef struct {
    size_t                 logged;          /* bytes of log */
    fr_stderr_tail_t       tail;            /* past them, its last */
} fr_stderr_run_t;


void fr_stderr_handler(fr_io_t *io, uint32_t events);
void fr_stderr_log(fr_worker_t *w, const u_char *p, size_t n);
void fr_stderr_resume(fr_timer_t *t);
void fr_stderr_drain(fr_worker_t *w);
void fr_stderr_done(fr_worker_t *w);
void fr_stderr_invocation(const char *id, const char *function,
    fr_stderr_run_t *s, const u_char *p, size_t n);
void fr_stderr_invocation_end(const char *id, const char *function,
    fr_stderr_run_t *s);
size_t fr_stderr_client(fr_req_t *r, const u_char **p, size_t n);
size_t fr_stderr_chunk(fr_req_t *r, u_char type, const u_char *p,
    size_t n);
void fr_stderr_client_end(fr_req_t *r);
void fr_stderr_client_free(fr_req_t *r);


#endif /* FR_STDERR_H */
