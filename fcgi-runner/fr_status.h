/*
 * Copyright (C) ngx_faas developers
 */

#ifndef FR_STATUS_H
#define FR_STATUS_H


#include "fr_stats.h"


typedef struct {
    int                    status;          /* HTTP status */
    const char            *content_type;
    const char            *headers;         /* more, each "...\r\n" */
    fr_buf_t               body;
} fr_status_reply_t;


void fr_status_render(const u_char *query, size_t len,
    const u_char *accept, size_t accept_len, const u_char *only_tenant,
    size_t only_len, fr_status_reply_t *reply);


#endif /* FR_STATUS_H */
