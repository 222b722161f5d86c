/*
 * Copyright (C) ngx_faas developers
 *
 * The physical floor of a cold start: posix_spawn() + wait of a program,
 * N times; prints the median and the 99th percentile in microseconds.
 */

#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>


extern char **environ;


static int
cmp(const void *a, const void *b)
{
    double  x = *(const double *) a, y = *(const double *) b;

    return (x > y) - (x < y);
}


int
main(int argc, char **argv)
{
    int              i, n, status;
    pid_t            pid;
    double          *t;
    char            *args[2];
    struct timespec  a, b;

    if (argc < 3) {
        fprintf(stderr, "usage: spawn-floor PROGRAM COUNT\n");
        return 2;
    }

    n = atoi(argv[2]);
    t = malloc(sizeof(double) * n);
    args[0] = argv[1];
    args[1] = NULL;

    for (i = 0; i < n; i++) {
        clock_gettime(CLOCK_MONOTONIC, &a);

        if (posix_spawn(&pid, argv[1], NULL, NULL, args, environ) != 0) {
            perror("posix_spawn");
            return 1;
        }

        waitpid(pid, &status, 0);
        clock_gettime(CLOCK_MONOTONIC, &b);

        t[i] = (b.tv_sec - a.tv_sec) * 1e6 + (b.tv_nsec - a.tv_nsec) / 1e3;
    }

    qsort(t, n, sizeof(double), cmp);
    printf("%.0f %.0f\n", t[n / 2], t[n * 99 / 100]);

    return 0;
}
