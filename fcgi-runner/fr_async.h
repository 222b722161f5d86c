/*
 * Copyright (C) ngx_faas developers
 */

#ifndef FR_ASYNC_H
#define FR_ASYNC_H


#include "fr_runner.h"


int fr_async_init(void);


#endif /* FR_ASYNC_H */
