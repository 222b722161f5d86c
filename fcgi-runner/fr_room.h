/*
 * Copyright (C) ngx_faas developers
 */

#ifndef FR_ROOM_H
#define FR_ROOM_H


void fr_room_init(void);


#endif /* FR_ROOM_H */
