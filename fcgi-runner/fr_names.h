/*
 * Copyright (C) ngx_faas developers
 */

#ifndef FR_NAMES_H
#define FR_NAMES_H


#include <sys/stat.h>

#include "fr_runner.h"


typedef void (*fr_names_add_pt)(const char *name, const char *dir,
    const char *from, const struct stat *st, int test, int *problems);


int fr_names_load(void);
int fr_names_other(const char *name, const char *dir,
    const struct stat *st);
int fr_names_met(const char *name);
void fr_names_defer(const char *name, const char *dir, const char *from,
    const struct stat *st);
void fr_names_undefer(fr_names_add_pt add, int test, int *problems);
void fr_names_save(void);
void fr_names_free(void);


#endif /* FR_NAMES_H */
