/*
 * Copyright (C) ngx_faas developers
 */

#ifndef FR_SPAWN_H
#define FR_SPAWN_H


#include "fr_runner.h"


/* where a bare exec is looked for, and a function's default PATH */
#define FR_SEARCH_PATH     "/usr/local/bin:/usr/bin:/bin"


int fr_spawn_pipe(int p[2], int ours, ino_t *ino);
void fr_spawn_close(int *fd, int n);
extern fr_proto_t  *(*fr_spawn_zygote)(fr_func_t *f);

pid_t fr_spawn(fr_func_t *f, const fr_buf_t *params, int fd[3],
    int *exec_fd, fr_proto_t **proto, int direct);
void fr_spawn_kill_strays(fr_worker_t *w);
void fr_spawn_exec_handler(fr_io_t *io, uint32_t events);
void fr_worker_exec_check(fr_worker_t *w);


#endif /* FR_SPAWN_H */
