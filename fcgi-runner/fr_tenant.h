/*
 * Copyright (C) ngx_faas developers
 */

#ifndef FR_TENANT_H
#define FR_TENANT_H


#include "fr_runner.h"


fr_tenant_t *fr_tenant_get(const char *name);
void fr_tenant_limits(fr_tenant_t *t);
void fr_tenants_limits(void);
void fr_tenants_unused(void);
int fr_tenant_caps(fr_func_t *f);
int fr_tenant_call_room(fr_tenant_t *t);
void fr_tenant_call(fr_tenant_t *t, int n);
fr_link_t *fr_tenant_funcs_turn(size_t *n);
fr_link_t *fr_tenant_func_next(fr_link_t *l);
size_t fr_tenant_kept(fr_func_t *f, size_t len);
int fr_tenant_dynamic_user(fr_tenant_t *t, int test);
void fr_tenants_free(void);
int fr_state_write(const char *name, const u_char *p, size_t len);


#endif /* FR_TENANT_H */
