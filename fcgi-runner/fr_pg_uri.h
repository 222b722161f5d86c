/*
 * Copyright (C) ngx_faas developers
 */

#ifndef FR_PG_URI_H
#define FR_PG_URI_H


#include "fr_pq.h"


int fr_pg_uri_ok(const char *uri, const char *where, int level);


#endif /* FR_PG_URI_H */
