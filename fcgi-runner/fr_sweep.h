/*
 * Copyright (C) ngx_faas developers
 */

#ifndef FR_SWEEP_H
#define FR_SWEEP_H


#include "fr_runner.h"
#include "fr_proto.h"


void fr_sweep_init(void);
void fr_sweep_host(fr_worker_t *w);
int fr_sweep_zygote(fr_proto_t *z);
void fr_sweep_spare_reaped(pid_t pid, pid_t sid, int64_t us);


#endif /* FR_SWEEP_H */
