/*
 * Copyright (C) ngx_faas developers
 *
 * Sets of pids (sorted, searched without a system call) and a process's
 * pid namespace: what a sweep of a function's namespace checks the
 * runner's own children against (fr_proto.c).
 */

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "fr_pids.h"


static int fr_pid_cmp(const void *a, const void *b);


void
fr_pids_sort(pid_t *pids, size_t n)
{
    qsort(pids, n, sizeof(pid_t), fr_pid_cmp);
}


int
fr_pids_has(const pid_t *pids, size_t n, pid_t pid)
{
    return bsearch(&pid, pids, n, sizeof(pid_t), fr_pid_cmp) != NULL;
}


/* the inode of its pid namespace; 0: gone, or not ours to see */

ino_t
fr_pid_ns(pid_t pid)
{
    char         path[64];
    struct stat  st;

    snprintf(path, sizeof(path), "/proc/%d/ns/pid", (int) pid);

    return (stat(path, &st) == 0) ? st.st_ino : 0;
}


static int
fr_pid_cmp(const void *a, const void *b)
{
    pid_t  x = *(const pid_t *) a, y = *(const pid_t *) b;

    return (x > y) - (x < y);
}
