/*
 * Copyright (C) ngx_faas developers
 */

#ifndef FR_PARAMS_H
#define FR_PARAMS_H

#include "fr_runner.h"


#define FR_HEADER_MAX_MAX  (16 * 1024 * 1024)   /* FAAS_HEADER_MAX, at most */

int fr_params_scan(fr_req_t *r);


#endif /* FR_PARAMS_H */
