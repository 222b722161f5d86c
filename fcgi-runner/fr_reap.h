/*
 * Copyright (C) ngx_faas developers
 */

#ifndef FR_REAP_H
#define FR_REAP_H


int fr_workers_reap(void);
void fr_workers_stop_all(int sig);


#endif /* FR_REAP_H */
