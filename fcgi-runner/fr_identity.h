/*
 * Copyright (C) ngx_faas developers
 */

#ifndef FR_IDENTITY_H
#define FR_IDENTITY_H


#include "fr_runner.h"


int fr_identity(fr_func_t *f, int test);


#endif /* FR_IDENTITY_H */
