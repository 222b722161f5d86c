/*
 * Copyright (C) ngx_faas developers
 *
 * System calls made by number, by the runner and by faas-init alike:
 * the raw ones change one thread's credentials (glibc's wrappers would
 * signal every thread), or musl's headers lack a wrapper. Where an
 * architecture (i386, arm) still has the 16-bit uid calls under the
 * plain names, the 32-bit ones: uid 65536 must never become 0.
 */

#ifndef FAAS_SYS_H
#define FAAS_SYS_H


#include <sys/syscall.h>
#include <unistd.h>


#ifdef SYS_setuid32
#define FAAS_SYS_SETUID     SYS_setuid32
#define FAAS_SYS_SETGID     SYS_setgid32
#define FAAS_SYS_SETGROUPS  SYS_setgroups32
#define FAAS_SYS_SETFSUID   SYS_setfsuid32
#define FAAS_SYS_SETFSGID   SYS_setfsgid32
#define FAAS_SYS_GETEGID    SYS_getegid32
#define FAAS_SYS_GETEUID    SYS_geteuid32
#else
#define FAAS_SYS_SETUID     SYS_setuid
#define FAAS_SYS_SETGID     SYS_setgid
#define FAAS_SYS_SETGROUPS  SYS_setgroups
#define FAAS_SYS_SETFSUID   SYS_setfsuid
#define FAAS_SYS_SETFSGID   SYS_setfsgid
#define FAAS_SYS_GETEGID    SYS_getegid
#define FAAS_SYS_GETEUID    SYS_geteuid
#endif


static inline int
faas_execveat(int dir, const char *path, char *const argv[],
    char *const envp[], int flags)
{
    return (int) syscall(SYS_execveat, dir, path, argv, envp, flags);
}

static inline int
faas_close_range(unsigned first, unsigned last, int flags)
{
    return (int) syscall(SYS_close_range, first, last, flags);
}


#endif /* FAAS_SYS_H */
