/*
 * Copyright (C) ngx_faas developers
 */

#ifndef FR_RUNTIME_H
#define FR_RUNTIME_H


#include "fr_runner.h"


#define FR_RUNTIME_PHP       "faas-php"
#define FR_RUNTIME_PHP_PATH  "/usr/lib/faas/" FR_RUNTIME_PHP


void fr_runtime_init(void);
int fr_runtime_configure(fr_func_t *f, int test);
fr_proto_t *fr_runtime_proto(fr_func_t *f);
int fr_runtime_awaited(fr_func_t *f);
int fr_runtime_coming(fr_func_t *f);
int fr_runtime_php_conf(fr_func_t *f, int test);


extern int    fr_runtime_php;
extern char  *fr_runtime_php_path;


#endif /* FR_RUNTIME_H */
