/*
 * Copyright (C) ngx_faas developers
 */

#ifndef FR_STATE_H
#define FR_STATE_H


#include "fr_runner.h"


/* a binary upgrade's new runner gets the old one's lock there */
#define FR_STATE_UPGRADE_FD  5


int fr_state_dir_check(void);


#endif /* FR_STATE_H */
