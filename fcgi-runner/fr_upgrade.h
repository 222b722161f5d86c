/*
 * Copyright (C) ngx_faas developers
 */

#ifndef FR_UPGRADE_H
#define FR_UPGRADE_H


#include "fr_runner.h"


int fr_upgrade_init(char **argv);
void fr_upgrade_start(void);
void fr_upgrade_ready(void);
void fr_upgrade_abandon(void);
int fr_upgrade_done(void);


#endif /* FR_UPGRADE_H */
