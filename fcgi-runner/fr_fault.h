/*
 * Copyright (C) ngx_faas developers
 */

#ifndef FR_FAULT_H
#define FR_FAULT_H


#include "fr_pool.h"


void fr_worker_failed(fr_worker_t *w, const char *what);
void fr_worker_lost(fr_worker_t *w, const char *what, int unread);
int fr_worker_retryable(fr_worker_t *w);
void fr_worker_lost_written(fr_worker_t *w, const char *what, int reset);
void fr_worker_await_expired(fr_worker_t *w);
int fr_worker_retired(fr_worker_t *w);


#endif /* FR_FAULT_H */
