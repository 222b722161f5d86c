/*
 * Copyright (C) ngx_faas developers
 *
 * What the runner and a function's prototype (faas-init prototype)
 * agree on.
 */

#ifndef FAAS_PROTO_H
#define FAAS_PROTO_H


/* the biggest message: a CGI request's environment */
#define FAAS_PROTO_MSG_MAX  (1024 * 1024)


int faas_prototype(int argc, char **argv);


/* by number: faas-init is built on musl, whose headers lack these */

#include <sys/syscall.h>
#include <unistd.h>

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


#endif /* FAAS_PROTO_H */
