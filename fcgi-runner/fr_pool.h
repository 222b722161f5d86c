/*
 * Copyright (C) ngx_faas developers
 */

#ifndef FR_POOL_H
#define FR_POOL_H


#include "fr_queue.h"


#define FR_KILL_GRACE      1000       /* ms from SIGTERM to SIGKILL */
#define FR_REAP_WAIT       (FR_KILL_GRACE + 1000)  /* a dead one's request */
#define FR_STOP_GRACE      3000


/* room for a worker at its tenant's and the host's limits (fr_room.c) */
extern int   (*fr_pool_can_spawn)(fr_func_t *f);
extern void  (*fr_pool_room)(fr_func_t *f);


void fr_pool_init(const fr_req_ops_t *ops);
void fr_pool_mode(int mode, const fr_mode_t *m);
void fr_funcs_dispatch(void);

void fr_func_enqueue(fr_func_t *f, fr_req_t *r);
void fr_func_dispatch(fr_func_t *f);

void fr_worker_set_state(fr_worker_t *w, fr_worker_state_e state);
void fr_worker_ready(fr_worker_t *w);
void fr_worker_release(fr_worker_t *w);
void fr_worker_stop(fr_worker_t *w, fr_stop_e why, int sig,
    uint64_t grace);
void fr_worker_free(fr_worker_t *w);
void fr_worker_stdin(fr_worker_t *w, const u_char *p, size_t n);
int fr_worker_stdin_ready(fr_worker_t *w);
void fr_worker_stdout_ready(fr_worker_t *w);
void fr_worker_abandon(fr_worker_t *w);


#endif /* FR_POOL_H */
