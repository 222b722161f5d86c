/*
 * Copyright (C) ngx_faas developers
 */

#ifndef FR_PIDS_H
#define FR_PIDS_H


#include <stdint.h>
#include <sys/types.h>


void fr_pids_sort(pid_t *pids, size_t n);
int fr_pids_has(const pid_t *pids, size_t n, pid_t pid);
void fr_pids_kill(pid_t pid, int group);
ino_t fr_pid_ns(pid_t pid);
uid_t fr_proc_owner(pid_t pid);
pid_t fr_proc_stat(pid_t pid, char *state, pid_t *ppid);
int fr_proc_ending(pid_t pid);
pid_t fr_proc_session(pid_t pid, pid_t *ppid);
ssize_t fr_proc_read(pid_t pid, const char *file, char *buf, size_t size);
ssize_t fr_pid_recv(int fd, void *buf, size_t len, pid_t *pid);
int64_t fr_proc_cpu_ms(pid_t pid);
uint64_t fr_proc_start(pid_t pid);
char *fr_proc_children(pid_t pid);


#endif /* FR_PIDS_H */
