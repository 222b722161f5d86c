/*
 * Copyright (C) ngx_faas developers
 *
 * The sweep of a prototype's pid namespace: what its ended workers
 * left there, found, stopped and killed (fr_proto.c calls it through
 * fr_proto_sweep, set by fr_sweep_init).
 */

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fr_log.h"
#include "fr_pids.h"
#include "fr_proto.h"
#include "fr_sweep.h"


#define FR_SWEEP_STRAYS     256       /* processes stopped at once */
#define FR_SWEEP_KNOWN      4096      /* the runner's children it knows */


static int fr_sweep(fr_proto_t *p);
static int fr_sweep_look(fr_proto_t *p, pid_t parent, int top, pid_t *pid,
    int *pfd, int *n);
static int fr_sweep_spare(fr_proto_t *p, pid_t sid);


/* for one sweep: the runner's known children, sorted; p's namespace */
static pid_t   fr_known[FR_SWEEP_KNOWN];
static size_t  fr_nknown;
static ino_t   fr_sweep_ns;


void
fr_sweep_init(void)
{
    fr_proto_sweep = fr_sweep;
}


/*
 * What ended workers left in the pid namespace: every orphan comes to
 * its process 1. An orphan of a session that is no live worker's, and
 * everything under it, is a stray. As fr_spawn_kill_pass does, each is
 * pinned by a pidfd and stopped as found (a stopped process cannot
 * fork), the tree looked at again until nothing new is found, then all
 * are killed at once. One that does not end so (more strays than a
 * sweep holds) retires the prototype: its namespace ends with its last
 * worker.
 */

static int
fr_sweep(fr_proto_t *p)
{
    int           i, n, found, pfd[FR_SWEEP_STRAYS];
    pid_t         pid[FR_SWEEP_STRAYS];

    int           top;
    fr_link_t    *l;

    n = 0;

    /*
     * The runner's own children in the namespace are strays too: a
     * worker's clone(CLONE_PARENT) makes its child the runner's, out of
     * process 1's reach. Known ones (workers, prototypes, their 1s) are
     * skipped in memory, the others looked at.
     */
    fr_nknown = 0;
    fr_sweep_ns = 0;

    for (l = fr_list_first(&fr_runner.workers);
         l != &fr_runner.workers && fr_nknown < FR_SWEEP_KNOWN; l = l->next)
    {
        fr_known[fr_nknown++] = fr_list_data(l, fr_worker_t, all)->pid;
    }

    for (l = fr_list_first(&fr_runner.protos);
         l != &fr_runner.protos && fr_nknown + 2 <= FR_SWEEP_KNOWN;
         l = l->next)
    {
        fr_known[fr_nknown++] = fr_list_data(l, fr_proto_t, link)->pid;
        fr_known[fr_nknown++] = fr_list_data(l, fr_proto_t, link)->init;
    }

    fr_pids_sort(fr_known, fr_nknown);
    fr_sweep_ns = fr_pid_ns(p->init);

    for (top = 1; top <= (fr_sweep_ns ? 2 : 1); top++) {
        do {
            /* each look at the runner's children counts the spares anew */
            for (l = fr_list_first(&fr_runner.protos);
                 l != &fr_runner.protos; l = l->next)
            {
                fr_list_data(l, fr_proto_t, link)->spares = 0;
            }

            found = fr_sweep_look(p, top == 1 ? p->init : getpid(), top,
                                  pid, pfd, &n);
        } while (found > 0 && n < FR_SWEEP_STRAYS);
    }

    for (i = 0; i < n; i++) {
        fr_log(FR_LOG_INFO, 0, "killing process %d left behind in the pid "
               "namespace of \"%s\"", (int) pid[i], p->name);
        (void) syscall(SYS_pidfd_send_signal, pfd[i], SIGKILL, NULL, 0);
        close(pfd[i]);
    }

    if (n == FR_SWEEP_STRAYS) {
        fr_log(FR_LOG_ERR, 0, "more than %d processes left behind in the "
               "pid namespace of \"%s\": retiring its prototype",
               FR_SWEEP_STRAYS, p->name);
        return FR_ERROR;
    }

    return FR_OK;
}


/*
 * The children of parent not yet stopped (of process 1: those of no
 * live worker's session), stopped and pinned into pid and pfd, and
 * theirs in turn. Returns how many were found.
 */

static int
fr_sweep_look(fr_proto_t *p, pid_t parent, int top, pid_t *pid, int *pfd,
    int *n)
{
    int           fd, found, k, i, f;
    char          path[64], small[4096], *buf, *s, *end;
    pid_t         child, sid, ppid;
    size_t        size;
    ssize_t       len;
    fr_link_t    *l;
    fr_worker_t  *w;

    snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int) parent,
             (int) parent);

    /* the runner's children may be many */
    size = (top == 2) ? 65536 : sizeof(small);
    buf = (top == 2) ? malloc(size) : small;
    fd = (buf == NULL) ? -1 : open(path, O_RDONLY | O_CLOEXEC);
    len = (fd == -1) ? -1 : read(fd, buf, size - 1);

    if (fd != -1) {
        close(fd);
    }

    if (len <= 0) {
        if (buf != small) {
            free(buf);
        }

        return 0;
    }

    buf[len] = '\0';
    found = 0;

    for (s = buf; *n < FR_SWEEP_STRAYS; s = end) {
        child = (pid_t) strtol(s, &end, 10);

        if (end == s) {
            break;
        }

        if (top == 2
            && (child == p->init || fr_pids_has(fr_known, fr_nknown, child)
                || fr_pid_ns(child) != fr_sweep_ns))
        {
            /* a child of the runner it knows, or not in p's namespace */
            continue;
        }

        sid = fr_proc_session(child, &ppid);

        if (sid <= 0 || ppid != parent || (top == 2 && fr_sweep_spare(p, sid)))
        {
            continue;
        }

        for (i = 0; i < *n && pid[i] != child; i++) { /* void */ }

        if (i < *n) {
            /* stopped already: what it had forked may be new */
            found += fr_sweep_look(p, child, 0, pid, pfd, n);
            continue;
        }

        if (top) {
            for (l = fr_list_first(&fr_runner.workers);
                 l != &fr_runner.workers; l = l->next)
            {
                w = fr_list_data(l, fr_worker_t, all);

                if ((w->proto == p || (w->proto && w->proto->parent == p))
                    && !w->reaped && w->pid == sid)
                {
                    break;
                }
            }

            if (l != &fr_runner.workers) {
                /* a live worker's: its own */
                continue;
            }
        }

        /* pinned, then checked again: still parent's child */
        f = (int) syscall(SYS_pidfd_open, child, 0);

        if (f == -1) {
            continue;
        }

        k = (fr_proc_session(child, &ppid) == sid && ppid == parent
             && syscall(SYS_pidfd_send_signal, f, SIGSTOP, NULL, 0) == 0);

        if (!k) {
            close(f);
            continue;
        }

        pid[*n] = child;
        pfd[(*n)++] = f;
        found++;

        found += fr_sweep_look(p, child, 0, pid, pfd, n);
    }

    if (buf != small) {
        free(buf);
    }

    return found;
}


/* in the session of a zygote of p's: its spare (fr_runtime.c) */

static int
fr_sweep_spare(fr_proto_t *p, pid_t sid)
{
    fr_link_t   *l;
    fr_proto_t  *q;

    for (l = fr_list_first(&fr_runner.protos); l != &fr_runner.protos;
         l = l->next)
    {
        q = fr_list_data(l, fr_proto_t, link);

        if (q->parent == p && q->pid == sid) {
            /* one: the spare; more in its session are strays */
            return q->spares++ == 0;
        }
    }

    return 0;
}
