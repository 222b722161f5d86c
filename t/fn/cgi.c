/*
 * Copyright (C) ngx_faas developers
 *
 * A CGI program for the tests, in C: its environment sorted, then the
 * request body it read, with a status and a header of its choosing
 * (QUERY_STRING "status=NNN").
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>


extern char **environ;


static int
cmp(const void *a, const void *b)
{
    return strcmp(*(char * const *) a, *(char * const *) b);
}


int
main(void)
{
    int          n;
    char       **e, buf[4096];
    size_t       count, got;
    const char  *qs;

    for (count = 0; environ[count]; count++) {
        /* void */
    }

    qsort(environ, count, sizeof(char *), cmp);

    qs = getenv("QUERY_STRING");

    if (qs && strncmp(qs, "status=", 7) == 0) {
        printf("Status: %.3s Chosen\r\n", qs + 7);
    }

    printf("Content-Type: text/plain\r\nX-Cgi: c\r\n\r\n");

    for (e = environ; *e; e++) {
        printf("ENV %s\n", *e);
    }

    got = 0;

    while ((n = (int) fread(buf, 1, sizeof(buf), stdin)) > 0) {
        got += (size_t) n;
        fwrite(buf, 1, (size_t) n, stdout);
    }

    printf("\nBODY %zu\n", got);

    return 0;
}
