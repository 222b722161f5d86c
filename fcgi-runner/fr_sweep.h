/*
 * Copyright (C) ngx_faas developers
 */

#ifndef FR_SWEEP_H
#define FR_SWEEP_H


void fr_sweep_init(void);


#endif /* FR_SWEEP_H */
