/*
 * Copyright (C) ngx_faas developers
 */

#ifndef FR_ASYNC_H
#define FR_ASYNC_H


#include "fr_runner.h"
#include "fr_store.h"


/* the parameter a runner-made invocation carries its tenant in */
#define FR_ASYNC_TENANT  "FAAS_TENANT"


int fr_async_init(void (*wake)(void));
int fr_async_store(void);
int fr_async_invoke(const char *function, const char *trigger,
    const char *content_type, const u_char *body, size_t len, int64_t tick,
    char *id);
int fr_async_tenant(fr_func_t *f, const fr_inv_t *inv, uint64_t now);


#endif /* FR_ASYNC_H */
