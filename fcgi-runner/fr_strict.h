/*
 * Copyright (C) ngx_faas developers
 */

#ifndef FR_STRICT_H
#define FR_STRICT_H


#include "fr_runner.h"


int fr_strict_folder(fr_func_t *f, int dfd);
int fr_strict_outside(fr_func_t *f, const char *what, const char *path);


#endif /* FR_STRICT_H */
