/*
 * Copyright (C) ngx_faas developers
 */

#ifndef FR_CGROUP_HOST_H
#define FR_CGROUP_HOST_H


#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>


/* the runner's leaf in its cgroup (v2) */
#define FR_CGROUP_SELF   "fcgi-runner.self"


/* what a cgroup says of its memory; -1: not said */
typedef struct {
    int64_t                bytes;           /* held now */
    int64_t                peak;            /* the most held */
    int64_t                oom_kills;       /* processes the OOM killer
                                               ended in it */
} fr_cgroup_use_t;


int fr_cgroup_find(char *path, size_t size, int *version);
int fr_cgroup_v2_leaf(char *path, size_t size);
int fr_cgroup_has(int dfd, const char *file, const char *what);
int fr_cgroup_write(int dfd, const char *file, const char *value);
void fr_cgroup_use(int dfd, int version, fr_cgroup_use_t *u);
int fr_cgroup_pids(int dfd, const char *file, pid_t *pids, int max);
int fr_cgroup_runner_gone(pid_t pid);


#endif /* FR_CGROUP_HOST_H */
