/*
 * Copyright (C) ngx_faas developers
 */

#ifndef FR_CGI_H
#define FR_CGI_H


#include "fr_pool.h"


void fr_cgi_init(void);

/* a response's header block as it passes, either mode: its status */
void fr_cgi_header_reset(fr_req_t *r);
void fr_cgi_scan_header(fr_req_t *r, const u_char *p, size_t n);
size_t fr_cgi_bodiless(fr_req_t *r);
int fr_cgi_header_ended(fr_req_t *r);


#endif /* FR_CGI_H */
