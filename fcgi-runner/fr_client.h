/*
 * Copyright (C) ngx_faas developers
 */

#ifndef FR_CLIENT_H
#define FR_CLIENT_H


#include "fr_buf.h"
#include "fr_core.h"


int fr_client_main(int argc, char **argv, const char *listen);


#endif /* FR_CLIENT_H */
