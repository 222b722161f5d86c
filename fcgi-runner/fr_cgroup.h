/*
 * Copyright (C) ngx_faas developers
 */

#ifndef FR_CGROUP_H
#define FR_CGROUP_H


#include "fr_runner.h"
#include "fr_cgroup_host.h"


void fr_cgroup_init(void);
int fr_cgroup_procs(fr_func_t *f, int *fd);
void fr_cgroup_reload(void);
void fr_cgroup_func_free(fr_func_t *f);
void fr_cgroup_sweep(void);
void fr_cgroup_exit(void);
void fr_cgroup_oom_above(pid_t parent, pid_t pid);
void fr_cgroup_tenant_use(fr_tenant_t *t, fr_cgroup_use_t *u);


#endif /* FR_CGROUP_H */
