/*
 * Copyright (C) ngx_faas developers
 */

#ifndef FR_FASTCGI_WORKER_H
#define FR_FASTCGI_WORKER_H


#include "fr_pool.h"


void fr_fastcgi_worker_init(void);


#endif /* FR_FASTCGI_WORKER_H */
