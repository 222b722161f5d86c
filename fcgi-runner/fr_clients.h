/*
 * Copyright (C) ngx_faas developers
 */

#ifndef FR_CLIENTS_H
#define FR_CLIENTS_H


/* 1: a connection accepted on TCP is closed unread (said) */
int fr_clients_refused(int fd);


#endif /* FR_CLIENTS_H */
