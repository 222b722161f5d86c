/*
 * Copyright (C) ngx_faas developers
 */

#ifndef FR_SCHED_H
#define FR_SCHED_H


#include "fr_runner.h"


int fr_sched_init(void);


#endif /* FR_SCHED_H */
