/*
 * Copyright (C) ngx_faas developers
 */

#ifndef FR_FUNC_H
#define FR_FUNC_H


#include "fr_runner.h"


/* what the pool does about the folder's changes, registered at start */
typedef struct {
    void  (*added)(fr_func_t *f);
    void  (*changed)(fr_func_t *f);     /* new settings, same object */
    void  (*removed)(fr_func_t *f);     /* takes no new requests */
} fr_func_events_t;


void fr_funcs_on(const fr_func_events_t *events);
int fr_funcs_load(int test);
void fr_funcs_free(void);
fr_func_t *fr_func_find(const u_char *name, size_t len);
void fr_func_check(fr_func_t *f);


#endif /* FR_FUNC_H */
