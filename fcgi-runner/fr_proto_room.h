/*
 * Copyright (C) ngx_faas developers
 */

#ifndef FR_PROTO_ROOM_H
#define FR_PROTO_ROOM_H


#include "fr_runner.h"


/* idle prototypes a tenant keeps at most; the host: 4 a max_workers */
#define FR_PROTO_IDLE_TENANT  16
#define FR_PROTO_IDLE_HOST    4


void fr_proto_room(fr_func_t *f);


#endif /* FR_PROTO_ROOM_H */
