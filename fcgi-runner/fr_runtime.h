/*
 * Copyright (C) ngx_faas developers
 */

#ifndef FR_RUNTIME_H
#define FR_RUNTIME_H


#include "fr_runner.h"


void fr_runtime_init(void);
int fr_runtime_configure(fr_func_t *f);
fr_proto_t *fr_runtime_proto(fr_func_t *f);
int fr_runtime_awaited(fr_func_t *f);


#endif /* FR_RUNTIME_H */
