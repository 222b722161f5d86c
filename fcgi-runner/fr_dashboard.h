/*
 * Copyright (C) ngx_faas developers
 */

#ifndef FR_DASHBOARD_H
#define FR_DASHBOARD_H


#include "fr_stats.h"


void fr_dashboard_render(fr_out_t *o, fr_view_t *fv, int nf, fr_view_t *tv,
    int nt);


#endif /* FR_DASHBOARD_H */
