/*
 * Copyright (C) ngx_faas developers
 */

#ifndef FR_CGROUP_HOST_H
#define FR_CGROUP_HOST_H


#include <stddef.h>


/* the runner's leaf in its cgroup (v2) */
#define FR_CGROUP_SELF   "fcgi-runner.self"


int fr_cgroup_find(char *path, size_t size, int *version);
int fr_cgroup_v2_leaf(char *path, size_t size);
int fr_cgroup_has(int dfd, const char *file, const char *what);
int fr_cgroup_write(int dfd, const char *file, const char *value);


#endif /* FR_CGROUP_HOST_H */
