/*
 * Copyright (C) ngx_faas developers
 *
 * What a worker's live descendants use. A child a worker forks and does
 * not wait for (one that serves the worker's connection while the
 * worker stops itself, a helper that lives as long as it) is billed
 * only when it is reaped, which a worker kept by min_instances and
 * max_requests = 0 may never be. So each meter_idle_interval look reads
 * the CPU of every live descendant of every worker (its reaped children
 * in) and bills what it used since the look before, in advance: as its
 * function's idle CPU, or, while the worker serves, with its invocation
 * (a child it waits for stays on that invocation's line); at an
 * invocation's start and end the known ones are read again. What was
 * so billed of one that ended is not billed again: a credit for whoever
 * reaped it, the worker (its next figures are less by it), the
 * descendant that was its parent (its own figure), or, for one that
 * left the worker's tree alive (its parent ended, or the worker), the
 * namespace's process 1 (its orphans' figure). Without a pid namespace
 * the runner reaps those (fr_meter_stray): billed again, as before.
 */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "fr_meter.h"
#include "fr_proto.h"


#define FR_METER_KIN_MAX  256     /* descendants of a worker, looked at */


struct fr_meter_kin_s {
    pid_t       pid;
    pid_t       ppid;
    int         state;      /* R, S, ... Z */
    int         threads;
    uint64_t    start;      /* ticks from boot: that pid's process */
    long long   billed;     /* ticks: its CPU, its reaped children's in */
};


static size_t fr_meter_kin_find(fr_worker_t *w, fr_meter_kin_t *k);
static size_t fr_meter_kin_known(fr_worker_t *w, fr_meter_kin_t *now);
static size_t fr_meter_kin_scan(pid_t top, fr_meter_kin_t *kin);
static size_t fr_meter_kin_children(pid_t pid, fr_meter_kin_t *kin,
    size_t n);
static int fr_meter_kin_read(pid_t pid, fr_meter_kin_t *k);
static int fr_meter_kin_alive(const fr_meter_kin_t *o);
static void fr_meter_kin_left(fr_worker_t *w, long long ticks);


/* a /proc read failed for want of a resource, not of the process: the
 * look is void (else its descendants were taken for gone) */
static int  fr_meter_kin_failed;


/*
 * A look at w's descendants (full: every one, else those known, each
 * re-read): what they used since the last one, in microseconds; what
 * was billed of those that ended goes to w->cpu_credit or to their
 * parent's figure, of those that left its tree (their parent ended) to
 * the namespace's process 1 that reaps them. A worker that ended (a
 * zombie, reaped): its descendants settled so, their list emptied.
 */

int64_t
fr_meter_kin_look(fr_worker_t *w, int full)
{
    int              ended;
    size_t           i, j, n;
    long long        grown, credit, left;
    fr_meter_kin_t  *o, *k, self, now[FR_METER_KIN_MAX];

    if (w->per_request || w->proc_pid <= 0 || (w->nkin == 0 && !full)) {
        return 0;
    }

    fr_meter_kin_failed = 0;
    n = 0;

    if (!w->reaped && fr_meter_kin_read(w->proc_pid, &self) != FR_OK) {
        /* not read: the list is kept for a look that can */
        return 0;
    }

    /* a zombie's children went to its reaper (a leader whose threads
     * live on, pthread_exit() in main, is no zombie of a process) */
    ended = w->reaped
            || ((self.state == 'Z' || self.state == 'X')
                && self.threads <= 1);

    if (!ended) {
        n = full ? fr_meter_kin_scan(w->proc_pid, now)
                 : fr_meter_kin_known(w, now);

        if (fr_meter_kin_failed) {
            return 0;
        }
    }

    credit = 0;
    left = 0;

    /* those gone, children before parents (a scan lists parents first):
     * what was billed of each is in its reaper's figure now */
    for (j = w->nkin; j-- > 0; ) {
        o = &w->kin[j];

        for (i = 0; i < n; i++) {
            if (now[i].pid == o->pid && now[i].start == o->start) {
                break;
            }
        }

        if (i < n) {
            continue;
        }

        if (ended || fr_meter_kin_alive(o)) {
            /* out of the tree, alive, or killed with the worker: its
             * namespace's process 1 reaps it (one the worker reaped
             * since the last look is billed again: its credit lost) */
            left += o->billed;
            continue;
        }

        if (o->ppid == w->proc_pid) {
            credit += o->billed;
            continue;
        }

        for (i = 0; i < j; i++) {
            if (w->kin[i].pid == o->ppid) {
                w->kin[i].billed += o->billed;
                break;
            }
        }
    }

    grown = 0;

    for (i = 0; i < n; i++) {
        k = &now[i];
        j = fr_meter_kin_find(w, k);

        if (j == w->nkin) {
            /* new: all it used, none of it billed yet */
            grown += k->billed;

        } else if (k->billed > w->kin[j].billed) {
            grown += k->billed - w->kin[j].billed;

        } else {
            /* a credit its figure has not caught up with */
            k->billed = w->kin[j].billed;
        }
    }

    if (n != w->nkin) {
        free(w->kin);
        w->kin = n ? malloc(n * sizeof(fr_meter_kin_t)) : NULL;
    }

    w->nkin = (w->kin != NULL) ? n : 0;

    if (w->nkin) {
        memcpy(w->kin, now, n * sizeof(fr_meter_kin_t));
    }

    w->cpu_credit += fr_meter_ticks_us(credit);
    fr_meter_kin_left(w, left);

    return fr_meter_ticks_us(grown);
}


/*
 * The worker freed: its descendants settled (fr_meter_kin_look), its
 * credit left, if any, nobody's figure holds any more.
 */

void
fr_meter_kin_end(fr_worker_t *w)
{
    free(w->kin);
    w->kin = NULL;
    w->nkin = 0;
    w->cpu_credit = 0;
}


/* billed of those that left w's tree alive: not again by their reaper */

static void
fr_meter_kin_left(fr_worker_t *w, long long ticks)
{
    fr_proto_t  *p;

    p = fr_meter_reaper(w);

    if (ticks > 0 && p != NULL && p->orphans_mark != LLONG_MAX) {
        p->orphans_mark += ticks;
    }
}


/* of us, what a credit takes: us less it, the credit less what it took */

int64_t
fr_meter_credit(fr_worker_t *w, int64_t us)
{
    int64_t  take;

    if (us <= 0 || w->cpu_credit <= 0) {
        return us;
    }

    take = (w->cpu_credit < us) ? w->cpu_credit : us;
    w->cpu_credit -= take;

    return us - take;
}


static size_t
fr_meter_kin_find(fr_worker_t *w, fr_meter_kin_t *k)
{
    size_t  j;

    for (j = 0; j < w->nkin; j++) {
        if (w->kin[j].pid == k->pid && w->kin[j].start == k->start) {
            break;
        }
    }

    return j;
}


/* the known ones re-read, those still in w's tree (parents first) */

static size_t
fr_meter_kin_known(fr_worker_t *w, fr_meter_kin_t *now)
{
    size_t  i, j, n;

    n = 0;

    for (i = 0; i < w->nkin; i++) {
        if (fr_meter_kin_read(w->kin[i].pid, &now[n]) != FR_OK
            || now[n].start != w->kin[i].start)
        {
            continue;
        }

        for (j = 0; j < n && now[j].pid != now[n].ppid; j++) { /* void */ }

        if (j < n || now[n].ppid == w->proc_pid) {
            n++;
        }
    }

    return n;
}


/* o still runs (its pid is its process's) */

static int
fr_meter_kin_alive(const fr_meter_kin_t *o)
{
    fr_meter_kin_t  k;

    return fr_meter_kin_read(o->pid, &k) == FR_OK && k.start == o->start;
}


/* top's descendants, parents first, FR_METER_KIN_MAX at most */

static size_t
fr_meter_kin_scan(pid_t top, fr_meter_kin_t *kin)
{
    size_t  i, n;

    n = fr_meter_kin_children(top, kin, 0);

    for (i = 0; i < n; i++) {
        n = fr_meter_kin_children(kin[i].pid, kin, n);
    }

    return n;
}


/*
 * pid's children (those of each of its threads) appended to kin[n..]:
 * the new n. One that is not pid's child by the time its stat is read
 * (it ended, the number went to another) is left out.
 */

static size_t
fr_meter_kin_children(pid_t pid, fr_meter_kin_t *kin, size_t n)
{
    int             fd;
    DIR            *dir;
    char            path[64], buf[4096], *p, *e;
    long            child;
    ssize_t         len;
    struct dirent  *de;

    snprintf(path, sizeof(path), "/proc/%d/task", (int) pid);

    dir = opendir(path);
    if (dir == NULL) {
        fr_meter_kin_failed |= (errno != ENOENT && errno != ESRCH);
        return n;
    }

    while (n < FR_METER_KIN_MAX && (de = readdir(dir)) != NULL) {
        if (de->d_name[0] < '0' || de->d_name[0] > '9') {
            continue;
        }

        snprintf(path, sizeof(path), "/proc/%d/task/%.16s/children",
                 (int) pid, de->d_name);

        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd == -1) {
            fr_meter_kin_failed |= (errno != ENOENT && errno != ESRCH);
            continue;
        }

        len = read(fd, buf, sizeof(buf) - 1);
        close(fd);

        /* a list longer than the buffer: its first (a bound, as is
         * FR_METER_KIN_MAX) */
        buf[len > 0 ? len : 0] = '\0';

        for (p = buf; n < FR_METER_KIN_MAX; p = e) {
            child = strtol(p, &e, 10);

            if (e == p || child <= 0) {
                break;
            }

            if (fr_meter_kin_read((pid_t) child, &kin[n]) == FR_OK
                && kin[n].ppid == pid)
            {
                n++;
            }
        }
    }

    closedir(dir);

    return n;
}


/* "pid (comm) state ppid ...": its parent, start, and CPU in ticks */

static int
fr_meter_kin_read(pid_t pid, fr_meter_kin_t *k)
{
    int                 fd, i;
    char                path[64], buf[1024], *p;
    ssize_t             len;
    unsigned long long  v[20];

    snprintf(path, sizeof(path), "/proc/%d/stat", (int) pid);

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd == -1) {
        fr_meter_kin_failed |= (errno != ENOENT && errno != ESRCH);
        return FR_ERROR;
    }

    len = read(fd, buf, sizeof(buf) - 1);
    close(fd);

    if (len <= 0) {
        return FR_ERROR;
    }

    buf[len] = '\0';

    /* comm may hold anything but its end; then the state; v[0] is
     * field 4, ppid */
    p = strrchr(buf, ')');
    if (p == NULL || p[1] != ' ' || (p = strchr(p + 2, ' ')) == NULL) {
        return FR_ERROR;
    }

    k->state = p[-1];

    for (i = 0; i < 19; i++) {
        v[i] = strtoull(p, &p, 10);

        if (*p != ' ') {
            return FR_ERROR;
        }
    }

    k->pid = pid;
    k->ppid = (pid_t) v[0];
    /* utime, stime, cutime, cstime: fields 14 to 17; num_threads, 20;
     * starttime, 22 */
    k->billed = (long long) (v[10] + v[11] + v[12] + v[13]);
    k->start = v[18];
    k->threads = (int) v[16];

    return FR_OK;
}
