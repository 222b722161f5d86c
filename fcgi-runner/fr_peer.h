/*
 * Copyright (C) ngx_faas developers
 */

#ifndef FR_PEER_H
#define FR_PEER_H


#include <sys/types.h>


uid_t fr_peer_uid(int fd);


#endif /* FR_PEER_H */
