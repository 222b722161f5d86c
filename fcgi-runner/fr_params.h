/*
 * Copyright (C) ngx_faas developers
 */

#ifndef FR_PARAMS_H
#define FR_PARAMS_H

#include "fr_runner.h"


int fr_params_scan(fr_req_t *r);


#endif /* FR_PARAMS_H */
