/*
 * Copyright (C) ngx_faas developers
 */

#ifndef FR_PEER_H
#define FR_PEER_H


#include <sys/types.h>


#define FR_PEER_FOUND     0     /* *uid is its owner */
#define FR_PEER_AWAY      1     /* not of this host */
#define FR_PEER_HIDDEN    2     /* of this host, its socket not shown */
#define FR_PEER_UNKNOWN   3     /* sock_diag does not tell */


int fr_peer_uid(int fd, uid_t *uid);


#endif /* FR_PEER_H */
