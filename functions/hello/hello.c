/*
 * Copyright (C) ngx_faas developers
 *
 * The smallest function: a FastCGI responder on libfcgi.
 */

#include <fcgiapp.h>


int
main(void)
{
    FCGX_Request  req;

    FCGX_Init();
    FCGX_InitRequest(&req, 0, 0);

    while (FCGX_Accept_r(&req) >= 0) {
        FCGX_PutS("Content-Type: text/plain\r\n\r\nHello, world\n", req.out);
        FCGX_Finish_r(&req);
    }

    return 0;
}
