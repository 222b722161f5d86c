/*
 * Copyright (C) ngx_faas developers
 */

#ifndef FR_DOCROOT_H
#define FR_DOCROOT_H


#include "fr_runner.h"


#define FR_DOCROOT_INDEX  "index.php"


int fr_docroot_check(fr_func_t *f, int test);
int fr_docroot_resolve(fr_func_t *f, fr_buf_t *params,
    fr_buf_t *location);


#endif /* FR_DOCROOT_H */
