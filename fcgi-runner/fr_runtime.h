/*
 * Copyright (C) ngx_faas developers
 */

#ifndef FR_RUNTIME_H
#define FR_RUNTIME_H


#include "fr_runner.h"


#define FR_RUNTIME_PHP       "faas-php"
#define FR_RUNTIME_PHP_PATH  "/usr/lib/faas/" FR_RUNTIME_PHP

/* PHP sessions: a folder each user, in root's (faas-php.c: FP_SESSIONS_OWN) */
#define FR_RUNTIME_PHP_LIB   "/var/lib/php"
#define FR_RUNTIME_PHP_SESS  "faas-sessions"


void fr_runtime_init(void);
int fr_runtime_configure(fr_func_t *f, int test);
fr_proto_t *fr_runtime_proto(fr_func_t *f);
int fr_runtime_awaited(fr_func_t *f);
int fr_runtime_coming(fr_func_t *f);
int fr_runtime_php_conf(fr_func_t *f, int test);
void fr_runtime_php_sessions(fr_func_t *f);


extern int    fr_runtime_php;
extern char  *fr_runtime_php_path;


#endif /* FR_RUNTIME_H */
