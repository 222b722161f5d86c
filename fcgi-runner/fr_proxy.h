/*
 * Copyright (C) ngx_faas developers
 */

#ifndef FR_PROXY_H
#define FR_PROXY_H


#include "fr_runner.h"


void fr_proxy_init(void);


#endif /* FR_PROXY_H */
