/*
 * Copyright (C) ngx_faas developers
 *
 * A wall clock set back or forward, for one process and its tests only
 * (LD_PRELOAD; the machine's clock is never touched): CLOCK_REALTIME
 * of clock_gettime(), gettimeofday() and time() are shifted by the
 * seconds written in the file named by FAKECLOCK_FILE, read again at
 * each call. The monotonic clock is left alone.
 */

#define _GNU_SOURCE

#include <dlfcn.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>


typedef int (*fr_clock_gettime_pt)(clockid_t id, struct timespec *ts);


static long fr_fake_offset(void);
int clock_gettime(clockid_t id, struct timespec *ts);
int gettimeofday(struct timeval *tv, void *tz);
time_t time(time_t *t);


static long
fr_fake_offset(void)
{
    int          fd;
    char         buf[32];
    ssize_t      n;
    const char  *file;

    file = getenv("FAKECLOCK_FILE");

    if (file == NULL) {
        return 0;
    }

    fd = open(file, O_RDONLY | O_CLOEXEC);

    if (fd == -1) {
        return 0;
    }

    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);

    if (n <= 0) {
        return 0;
    }

    buf[n] = '\0';

    return strtol(buf, NULL, 10);
}


int
clock_gettime(clockid_t id, struct timespec *ts)
{
    int  rc;

    static fr_clock_gettime_pt  real;

    if (real == NULL) {
        real = (fr_clock_gettime_pt) dlsym(RTLD_NEXT, "clock_gettime");
    }

    rc = real(id, ts);

    if (rc == 0 && (id == CLOCK_REALTIME || id == CLOCK_REALTIME_COARSE)) {
        ts->tv_sec += fr_fake_offset();
    }

    return rc;
}


int
gettimeofday(struct timeval *tv, void *tz)
{
    struct timespec  ts;

    (void) tz;

    clock_gettime(CLOCK_REALTIME, &ts);
    tv->tv_sec = ts.tv_sec;
    tv->tv_usec = ts.tv_nsec / 1000;

    return 0;
}


time_t
time(time_t *t)
{
    struct timespec  ts;

    clock_gettime(CLOCK_REALTIME, &ts);

    if (t) {
        *t = ts.tv_sec;
    }

    return ts.tv_sec;
}
