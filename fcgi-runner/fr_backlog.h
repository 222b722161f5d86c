/*
 * Copyright (C) ngx_faas developers
 */

#ifndef FR_BACKLOG_H
#define FR_BACKLOG_H


#include "fr_runner.h"
#include "fr_store.h"


uint64_t fr_backlog_now(void);
uint64_t fr_backlog_wall(void);
int fr_backlog_outcome(const u_char *record, size_t len,
    const char *outcome);
void fr_backlog_release(const char *id, int attempt, const char *function,
    fr_func_t *f);
int fr_backlog_room(fr_func_t *f);
void fr_backlog_count(const char *function, int n);
void fr_backlog_recount(void);
void fr_backlog_undelay(void);
void fr_backlog_requeue(const char *id, int attempt, uint64_t retry_at);
int fr_backlog_unloaded(const char *function, uint64_t now, int wait);
int fr_backlog_request(fr_buf_t *out, const fr_inv_t *inv, const char **add,
    int nadd);


#endif /* FR_BACKLOG_H */
