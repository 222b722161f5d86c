/*
 * Copyright (C) ngx_faas developers
 */

#ifndef FR_DISPATCH_H
#define FR_DISPATCH_H


#include "fr_runner.h"


int fr_dispatch_init(void);
void fr_dispatch_quit(void);


#endif /* FR_DISPATCH_H */
