/*
 * Copyright (C) ngx_faas developers
 *
 * The CGI hello of the benchmarks: a small C binary.
 */

#include <stdio.h>


int
main(void)
{
    fputs("Content-Type: text/plain\r\n\r\nHello, world\n", stdout);
    return 0;
}
