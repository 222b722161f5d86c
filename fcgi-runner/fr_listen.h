/*
 * Copyright (C) ngx_faas developers
 */

#ifndef FR_LISTEN_H
#define FR_LISTEN_H


#include "fr_runner.h"


/* the proxy's, registered at startup */
typedef struct {
    int   (*room)(void);            /* FR_OK: one more may be accepted */
    void  (*accepted)(int fd);
} fr_listen_handlers_t;


void fr_listen_on(const fr_listen_handlers_t *handlers);
int fr_listen_open(void);
int fr_listen_check(const char *addr);
int fr_listen_allow(const char *spec, int level);
int fr_listen_ids(uid_t *uid, gid_t *gid);
const char *fr_listen_name(void);
void fr_listen_close(void);
void fr_listen_forget(void);
void fr_listen_pause(void);
void fr_listen_unpause(void);


#endif /* FR_LISTEN_H */
