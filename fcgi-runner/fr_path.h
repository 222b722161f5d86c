/*
 * Copyright (C) ngx_faas developers
 */

#ifndef FR_PATH_H
#define FR_PATH_H


#include <sys/types.h>
#include <limits.h>


/* symlinks followed in one lookup, as the kernel's MAXSYMLINKS */
#define FR_PATH_MAX_LINKS  40


void fr_path_as(uid_t uid, gid_t gid);
void fr_path_as_runner(void);
int fr_path_open(int dirfd, const char *path, int flags,
    char resolved[PATH_MAX]);


#endif /* FR_PATH_H */
