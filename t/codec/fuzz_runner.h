/*
 * Copyright (C) ngx_faas developers
 *
 * What the runner's libFuzzer targets share: a runner in this process,
 * listening on a unix socket in a folder of their own.
 */

#ifndef FUZZ_RUNNER_H
#define FUZZ_RUNNER_H


#include <limits.h>


/* the socket's path, once fuzz_runner_start() has run */
extern char  fuzz_runner_sock[PATH_MAX];

int fuzz_runner_dir(char *dir, size_t size, const char *name);
int fuzz_runner_start(const char *dir, const char *functions);


#endif /* FUZZ_RUNNER_H */
