/*
 * Copyright (C) ngx_faas developers
 */

#ifndef FR_METRICS_H
#define FR_METRICS_H


#include "fr_stats.h"


void fr_metrics_render(fr_out_t *o, fr_view_t *fv, int nf, fr_view_t *tv,
    int nt);


#endif /* FR_METRICS_H */
