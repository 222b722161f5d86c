/*
 * Copyright (C) ngx_faas developers
 *
 * A CGI program for the tests, in C: its environment sorted, then the
 * request body it read, with a status and a header of its choosing
 * (QUERY_STRING "status=NNN"). QUERY_STRING "burn=thread&ms=N" or
 * "burn=child&ms=N" burns N ms of CPU in a joined thread or in a child
 * waited for and says what getrusage() counted of it; "&linger=M" then
 * closes stdout and stderr and lives on M ms. "drip=N&us=U": N header
 * lines, a write each, U microseconds apart.
 */

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>


extern char **environ;


static int
cmp(const void *a, const void *b)
{
    return strcmp(*(char * const *) a, *(char * const *) b);
}


static void
burn_ms(long ms)
{
    long             i;
    struct timespec  a, b;
    volatile long    x = 0;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &a);
    do {
        for (i = 0; i < 100000; i++) {
            x += i;
        }
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &b);
    } while ((b.tv_sec - a.tv_sec) * 1000
             + (b.tv_nsec - a.tv_nsec) / 1000000 < ms);
}


static void *
burn_thread(void *arg)
{
    burn_ms(*(long *) arg);
    return NULL;
}


static long
ru_ms(int who)
{
    struct rusage  ru;

    getrusage(who, &ru);

    return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000
           + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000;
}


static int
burn(const char *qs)
{
    long         ms, linger;
    pid_t        pid;
    pthread_t    th;
    const char  *p;

    p = strstr(qs, "ms=");
    ms = p ? atol(p + 3) : 100;
    p = strstr(qs, "linger=");
    linger = p ? atol(p + 7) : 0;

    if (strncmp(qs, "burn=thread", 11) == 0) {
        if (pthread_create(&th, NULL, burn_thread, &ms) == 0) {
            pthread_join(th, NULL);
        }

    } else {
        pid = fork();
        if (pid == 0) {
            burn_ms(ms);
            _exit(0);
        }
        if (pid > 0) {
            waitpid(pid, NULL, 0);
        }
    }

    printf("Content-Type: text/plain\r\n\r\nself_ms=%ld children_ms=%ld\n",
           ru_ms(RUSAGE_SELF), ru_ms(RUSAGE_CHILDREN));

    if (linger) {
        /* the answer ends here; the process lives on */
        fflush(stdout);
        close(1);
        close(2);
        usleep((useconds_t) linger * 1000);
    }

    return 0;
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

    if (qs && strncmp(qs, "burn=", 5) == 0) {
        return burn(qs);
    }

    if (qs && strncmp(qs, "drip=", 5) == 0) {
        /* N header lines "a:", a write each, us microseconds apart */
        for (n = atoi(qs + 5); n > 0; n--) {
            if (write(1, "a:\n", 3) != 3) {
                return 1;
            }

            if (strstr(qs, "us=")) {
                usleep((useconds_t) atoi(strstr(qs, "us=") + 3));
            }
        }

        printf("Content-Type: text/plain\r\n\r\nend\n");
        return 0;
    }

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
