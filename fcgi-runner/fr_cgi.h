/*
 * Copyright (C) ngx_faas developers
 */

#ifndef FR_CGI_H
#define FR_CGI_H


#include "fr_pool.h"


void fr_cgi_init(void);


#endif /* FR_CGI_H */
