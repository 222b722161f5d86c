/*
 * Copyright (C) ngx_faas developers
 *
 * The sweep of a prototype's pid namespace: what its ended workers
 * left there, found, stopped and killed (fr_proto.c calls it through
 * fr_proto_sweep, set by fr_sweep_init); and, outside a pid namespace,
 * of what a worker's user left that came to the runner (fr_sweep_host).
 */

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fr_log.h"
#include "fr_pids.h"
#include "fr_proto.h"
#include "fr_sweep.h"


#define FR_SWEEP_STRAYS     256       /* processes stopped at once */
#define FR_SWEEP_ROUNDS     4         /* of a host sweep, at most */
#define FR_SWEEP_SPARE_CPU  500       /* ms a waiting spare may use */


static int fr_sweep(fr_proto_t *p);
static int fr_sweep_look(fr_proto_t *p, pid_t parent, int top, pid_t *pid,
    int *pfd, int *n);
static int fr_sweep_spare(fr_proto_t *p, pid_t sid);
static int fr_sweep_pass(fr_proto_t *p, int top, pid_t *pid, int *pfd,
    int *n);
static void fr_sweep_known(void);
static char *fr_sweep_children(pid_t pid);
static void fr_sweep_spares(char *buf, pid_t parent);
static int fr_sweep_unknown(void);
static int fr_sweep_kill(const char *name, pid_t *pid, int *pfd, int n);
static int fr_sweep_escaped(fr_proto_t *z, char *children, pid_t *pid,
    int *pfd, int n);
static int fr_sweep_own(fr_proto_t *z, pid_t *pid, int *pfd, int n);
static const char *fr_sweep_memcg(pid_t pid, char *buf, size_t size);


/* for one sweep: the runner's known children, sorted; p's namespace, or
 * (none: fr_sweep_host) the user whose worker w ended */
static pid_t         *fr_known;
static size_t         fr_nknown;
static size_t         fr_known_size;
static ino_t          fr_sweep_ns;
static uid_t          fr_sweep_uid;
static fr_worker_t   *fr_sweep_ended;


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
    int    n, top, found, pfd[FR_SWEEP_STRAYS];
    pid_t  pid[FR_SWEEP_STRAYS];

    n = 0;

    /*
     * The runner's own children in the namespace are strays too: a
     * worker's clone(CLONE_PARENT) makes its child the runner's, out of
     * process 1's reach. Known ones (workers, prototypes, their 1s) are
     * skipped in memory, the others looked at.
     */
    fr_sweep_known();
    fr_sweep_ended = NULL;
    fr_sweep_ns = fr_pid_ns(p->init);

    for (top = 1; top <= (fr_sweep_ns ? 2 : 1); top++) {
        do {
            found = fr_sweep_pass(p, top, pid, pfd, &n);
        } while (found > 0 && n < FR_SWEEP_STRAYS);
    }

    if (fr_sweep_kill(p->name, pid, pfd, n) != FR_OK) {
        fr_log(FR_LOG_ERR, 0, "more than %d processes left behind in the "
               "pid namespace of \"%s\": retiring its prototype",
               FR_SWEEP_STRAYS, p->name);
        return FR_ERROR;
    }

    return FR_OK;
}


/*
 * Outside a pid namespace, what the user of w (a worker that ended)
 * left and holds nothing of it: the runner is a subreaper, so what the
 * user double-forked away comes to it as an orphan, and a
 * clone(CLONE_PARENT) makes one of its children at once. A child of
 * the runner's of that user that no worker, prototype or zygote is, in
 * the session of no other live worker nor of a zygote (its spare), is
 * stopped with all under it, then all are killed. First a count: the
 * runner's children against those it knows, so that most ends cost a
 * read and a walk of its lists.
 */

void
fr_sweep_host(fr_worker_t *w)
{
    int    n, round, found, pfd[FR_SWEEP_STRAYS];
    pid_t  pid[FR_SWEEP_STRAYS];

    if (!fr_runner.is_root || w->uid == 0 || !fr_sweep_unknown()) {
        /* a runner not root: its users are its own (and a new runner of
         * a binary upgrade is one of its children) */
        return;
    }

    fr_sweep_known();
    fr_sweep_ended = w;
    fr_sweep_ns = 0;
    fr_sweep_uid = w->uid;

    /* more than a sweep holds: those go, then the rest, a few rounds
     * (what is still dying is found again; the next end sees the rest) */
    for (round = 0; round < FR_SWEEP_ROUNDS; round++) {
        n = 0;

        do {
            found = fr_sweep_pass(NULL, 2, pid, pfd, &n);
        } while (found > 0 && n < FR_SWEEP_STRAYS);

        if (fr_sweep_kill(w->func->name, pid, pfd, n) == FR_OK) {
            break;
        }
    }

    /* w may be the caller's, on its stack (fr_runtime.c) */
    fr_sweep_ended = NULL;
}


/*
 * A zygote's session holds the zygote and its spare (the runner's
 * child, unknown until it answers): one. More are processes its app
 * made the runner's children while it was imported
 * (clone(CLONE_PARENT)), which no worker is, and so are, before it
 * is ready, those made so out of its session (fr_sweep_escaped): all
 * are stopped with what is under them, then killed, the spare too (the
 * caller retires the zygote). So is a spare alone that works while
 * it waits, or has a child that may (an app that patched the driver:
 * the spare runs its code until asked for a worker, which a function
 * at its max_instances never asks): blocked in its read it uses
 * nothing and has none, and nobody bills a zygote's session (nor
 * does its zygote's CPU count it: it is the runner's child; nor do the
 * sweeps look under it).
 * Returns how many.
 */

int
fr_sweep_zygote(fr_proto_t *z)
{
    int      i, n, f, cand, stray, found, kids, pfd[FR_SWEEP_STRAYS];
    char    *buf, *s, *end;
    pid_t    self, child, ppid, pid[FR_SWEEP_STRAYS];
    int64_t  cpu;

    self = getpid();
    buf = fr_sweep_children(self);

    if (buf == NULL) {
        return 0;
    }

    fr_sweep_known();
    n = 0;

    for (s = buf; n < FR_SWEEP_STRAYS; s = end) {
        child = (pid_t) strtol(s, &end, 10);

        if (end == s) {
            break;
        }

        if (fr_pids_has(fr_known, fr_nknown, child)
            || fr_proc_session(child, &ppid) != z->pid || ppid != self
            || (f = (int) syscall(SYS_pidfd_open, child, 0)) == -1)
        {
            continue;
        }

        /* pinned: a child of ours is that pid until we reap it */
        pid[n] = child;
        pfd[n++] = f;
    }

    cand = n;

    if (!z->ready) {
        n = fr_sweep_escaped(z, buf, pid, pfd, n);
    }

    free(buf);
    n = fr_sweep_own(z, pid, pfd, n);
    stray = (cand > 1 || n > cand);

    if (cand == 1) {
        /* a spare only waits: no CPU to speak of, no child */
        cpu = fr_proc_cpu_ms(pid[0]);
        s = fr_proc_children(pid[0]);      /* its threads' too */
        kids = (s && s[0] >= '0' && s[0] <= '9');
        free(s);

        if (cpu > FR_SWEEP_SPARE_CPU) {
            fr_log(FR_LOG_ERR, 0, "spare %d of zygote %d of \"%s\" used "
                   "%lld ms of CPU while it waited to become a worker (its "
                   "app's code at work, which nobody bills)", (int) pid[0],
                   (int) z->pid, z->name, (long long) cpu);
            stray = 1;
            cand = 0;

        } else if (kids) {
            fr_log(FR_LOG_ERR, 0, "spare %d of zygote %d of \"%s\" has a "
                   "child while it waits to become a worker (its app's code "
                   "at work, which nobody bills)", (int) pid[0],
                   (int) z->pid, z->name);
            stray = 1;
            cand = 0;
        }
    }

    if (stray) {
        found = n;

        for (i = 0; i < found; i++) {
            (void) syscall(SYS_pidfd_send_signal, pfd[i], SIGSTOP, NULL, 0);
        }

        for (i = 0; i < found; i++) {
            while (fr_sweep_look(NULL, pid[i], 0, pid, pfd, &n) > 0
                   && n < FR_SWEEP_STRAYS)
            {
                /* what it forked before its stop */
            }
        }
    }

    for (i = 0; i < n; i++) {
        if (stray) {
            fr_log(FR_LOG_INFO, 0, "killing process %d, made by zygote %d "
                   "of \"%s\"", (int) pid[i], (int) z->pid, z->name);
            (void) syscall(SYS_pidfd_send_signal, pfd[i], SIGKILL, NULL, 0);
        }

        close(pfd[i]);
    }

    /* (a spare alone, not at fault, is not counted: it was honest) */
    return stray ? n - (cand == 1) : 0;
}


/*
 * Before a zygote is ready, what its import made the runner's children
 * out of its session (clone(CLONE_PARENT), then setsid(): no spare is
 * there, and the sweeps of its namespace come later, billing it idle):
 * an unknown child of the runner's in its pid namespace (outside one,
 * of its user) started since the zygote, in the session of no live
 * worker nor zygote (a spare's). Nothing else forks there meanwhile
 * but the runner's own spawns, whose answers it waits for: a child of
 * theirs is known or in its worker's session. With memory cgroups (a
 * root runner), it is in the zygote's: one of another function of its
 * user (isolation = none) retired an honest zygote. Each is pinned
 * into pid and pfd after n; returns the new n.
 */

static int
fr_sweep_escaped(fr_proto_t *z, char *children, pid_t *pid, int *pfd, int n)
{
    int           f;
    char         *s, *end, buf[1024], its[1024];
    const char   *cg, *at;
    pid_t         self, child, sid, ppid;
    ino_t         ns;
    uid_t         uid;
    uint64_t      born;
    fr_link_t    *l;
    fr_proto_t   *q;
    fr_worker_t  *w;

    self = getpid();
    ns = fr_pid_ns(z->pid);
    uid = fr_proc_owner(z->pid);
    born = fr_proc_start(z->pid);

    /* a runner not root, no namespace: its users are its own (as for
     * fr_sweep_host), an honest job another function left its own */
    if (ns == 0 || born == 0
        || (!fr_runner.is_root && ns == fr_pid_ns(self)))
    {
        return n;
    }

    /* its memory cgroup (its function's, a root runner's): none of its
     * processes can leave it */
    cg = fr_sweep_memcg(z->pid, buf, sizeof(buf));

    for (s = children; n < FR_SWEEP_STRAYS; s = end) {
        child = (pid_t) strtol(s, &end, 10);

        if (end == s) {
            break;
        }

        if (fr_pids_has(fr_known, fr_nknown, child)
            || (sid = fr_proc_session(child, &ppid)) <= 0 || ppid != self
            || sid == z->pid || fr_pid_ns(child) != ns
            || (ns == fr_pid_ns(self) && fr_proc_owner(child) != uid)
            || fr_proc_start(child) < born)
        {
            continue;
        }

        for (l = fr_list_first(&fr_runner.workers);
             l != &fr_runner.workers; l = l->next)
        {
            w = fr_list_data(l, fr_worker_t, all);

            if (!w->reaped && w->pid == sid) {
                break;
            }
        }

        if (l != &fr_runner.workers) {
            continue;
        }

        for (l = fr_list_first(&fr_runner.protos); l != &fr_runner.protos;
             l = l->next)
        {
            q = fr_list_data(l, fr_proto_t, link);

            if (q->zygote && q->pid == sid) {
                break;
            }
        }

        if (l != &fr_runner.protos) {
            continue;
        }

        /* in another: another function's (isolation = none, one user's),
         * whose worker's end sweeps it, not this import's */
        if (cg && ((at = fr_sweep_memcg(child, its, sizeof(its))) == NULL
                   || strcmp(at, cg) != 0))
        {
            continue;
        }

        /* pinned: a child of ours is that pid until we reap it */
        f = (int) syscall(SYS_pidfd_open, child, 0);

        if (f == -1) {
            continue;
        }

        fr_log(FR_LOG_INFO, 0, "process %d, made the runner's child outside "
               "the session of zygote %d of \"%s\" while it imported its "
               "app", (int) child, (int) z->pid, z->name);
        pid[n] = child;
        pfd[n++] = f;
    }

    return n;
}


/* the memory cgroup of a process, as its /proc/PID/cgroup names it (v1's
 * memory line, else v2's); or NULL */

static const char *
fr_sweep_memcg(pid_t pid, char *buf, size_t size)
{
    char  *p, *e;

    if (fr_proc_read(pid, "cgroup", buf, size) <= 0) {
        return NULL;
    }

    p = strstr(buf, ":memory:");

    if (p == NULL) {
        p = (strncmp(buf, "0::", 3) == 0) ? buf : strstr(buf, "\n0::");
    }

    if (p == NULL) {
        return NULL;
    }

    e = strchr(p + 1, '\n');

    if (e) {
        *e = '\0';
    }

    return p;
}


/*
 * The zygote's own children: none is honest (its spare and workers are
 * the runner's), each what its app forked at import. Each is pinned
 * into pid and pfd after n, to be stopped with what is under it: one
 * killed alone let its children, a daemon's grandchild in a session of
 * its own, come to the runner (outside a pid namespace) after the look,
 * where only a worker's end of its user swept them. Returns the new n.
 */

static int
fr_sweep_own(fr_proto_t *z, pid_t *pid, int *pfd, int n)
{
    int     f;
    char   *buf, *s, *end;
    pid_t   child, ppid;

    buf = fr_proc_children(z->pid);

    for (s = buf; buf && n < FR_SWEEP_STRAYS; s = end) {
        child = (pid_t) strtol(s, &end, 10);

        if (end == s) {
            break;
        }

        f = (int) syscall(SYS_pidfd_open, child, 0);

        if (f == -1) {
            continue;
        }

        /* pinned, then checked: still its child */
        if (fr_proc_session(child, &ppid) == -1 || ppid != z->pid) {
            close(f);
            continue;
        }

        pid[n] = child;
        pfd[n++] = f;
    }

    free(buf);

    return n;
}


/* a look at process 1's children (top 1) or the runner's (2) */

static int
fr_sweep_pass(fr_proto_t *p, int top, pid_t *pid, int *pfd, int *n)
{
    return fr_sweep_look(p, top == 1 ? p->init : getpid(), top, pid, pfd,
                         n);
}


/* the runner's children it knows: prototypes, their 1s, workers, a
 * binary upgrade's new runner (not root, it is every function's user:
 * in a session of its own, born since a zygote, it was taken for what
 * the zygote's import made and killed, the service with it) */

static void
fr_sweep_known(void)
{
    size_t       n;
    pid_t       *k;
    fr_link_t   *l;
    fr_proto_t  *q;

    /* (retired prototypes are on the list while their 1s live; a
     * freed one's 1, ending, is root's, never a worker user's) */
    n = 2 * fr_list_count(&fr_runner.protos)
        + fr_list_count(&fr_runner.workers) + 64;

    if (n > fr_known_size && (k = realloc(fr_known, n * sizeof(pid_t)))) {
        fr_known = k;
        fr_known_size = n;
    }

    fr_nknown = 0;

    for (l = fr_list_first(&fr_runner.protos);
         l != &fr_runner.protos && fr_nknown + 2 <= fr_known_size;
         l = l->next)
    {
        q = fr_list_data(l, fr_proto_t, link);
        fr_known[fr_nknown++] = q->pid;
        fr_known[fr_nknown++] = q->init;
    }

    for (l = fr_list_first(&fr_runner.workers);
         l != &fr_runner.workers && fr_nknown < fr_known_size; l = l->next)
    {
        fr_known[fr_nknown++] = fr_list_data(l, fr_worker_t, all)->pid;
    }

    if (fr_runner.upgrade_pid > 0 && fr_nknown < fr_known_size) {
        fr_known[fr_nknown++] = fr_runner.upgrade_pid;
    }

    fr_pids_sort(fr_known, fr_nknown);
}


/* the children of pid (a single-threaded one), whole: malloc()ed, or
 * NULL */

static char *
fr_sweep_children(pid_t pid)
{
    int      fd;
    char     path[64], *buf, *b;
    size_t   size, len;
    ssize_t  n;

    snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int) pid,
             (int) pid);

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd == -1) {
        return NULL;
    }

    size = 16384;
    len = 0;
    buf = malloc(size);

    while (buf) {
        n = read(fd, buf + len, size - len - 1);

        if (n <= 0) {
            break;
        }

        len += n;

        if (size - len - 1 == 0) {
            b = realloc(buf, size * 2);

            if (b == NULL) {
                break;
            }

            buf = b;
            size *= 2;
        }
    }

    close(fd);

    if (buf) {
        buf[len] = '\0';
    }

    return buf;
}


/* 1: the runner has more children than it knows of (and a spare each
 * of its zygotes) */

static int
fr_sweep_unknown(void)
{
    int          fd;
    char         path[64], buf[8192], *s, *end;
    size_t       children, known;
    ssize_t      len;
    fr_link_t   *l;
    fr_proto_t  *q;

    snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int) getpid(),
             (int) getpid());

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd == -1) {
        return 0;
    }

    children = 0;

    while ((len = read(fd, buf, sizeof(buf) - 1)) > 0) {
        buf[len] = '\0';

        /* each pid is followed by a space */
        for (s = buf; (end = strchr(s, ' ')) != NULL; s = end + 1) {
            children++;
        }
    }

    close(fd);

    known = 0;

    for (l = fr_list_first(&fr_runner.workers); l != &fr_runner.workers;
         l = l->next)
    {
        known += !fr_list_data(l, fr_worker_t, all)->reaped;
    }

    for (l = fr_list_first(&fr_runner.protos); l != &fr_runner.protos;
         l = l->next)
    {
        q = fr_list_data(l, fr_proto_t, link);
        known += (q->pid > 0) + (q->init > 0) + (q->zygote && q->pid > 0);
    }

    return children > known;
}


static int
fr_sweep_kill(const char *name, pid_t *pid, int *pfd, int n)
{
    int  i;

    for (i = 0; i < n; i++) {
        if (fr_sweep_ended == NULL) {
            fr_log(FR_LOG_INFO, 0, "killing process %d left behind in the "
                   "pid namespace of \"%s\"", (int) pid[i], name);

        } else {
            fr_log(FR_LOG_INFO, 0, "killing process %d left behind by a "
                   "worker of \"%s\" (uid %ld)", (int) pid[i], name,
                   (long) fr_sweep_uid);
        }

        (void) syscall(SYS_pidfd_send_signal, pfd[i], SIGKILL, NULL, 0);
        close(pfd[i]);
    }

    return n == FR_SWEEP_STRAYS ? FR_ERROR : FR_OK;
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
    int           found, k, i, f;
    char         *buf, *s, *end;
    pid_t         child, sid, ppid;
    fr_link_t    *l;
    fr_worker_t  *w;

    /* the runner's children may be many: all of them; a stray's, what
     * each of its threads forked (a thread's child is that thread's) */
    buf = (top == 2) ? fr_sweep_children(parent) : fr_proc_children(parent);

    if (buf == NULL || buf[0] == '\0') {
        free(buf);
        return 0;
    }

    found = 0;

    if (top == 2) {
        fr_sweep_spares(buf, parent);
    }

    for (s = buf; *n < FR_SWEEP_STRAYS; s = end) {
        child = (pid_t) strtol(s, &end, 10);

        if (end == s) {
            break;
        }

        if (top == 2
            && ((p && child == p->init)
                || fr_pids_has(fr_known, fr_nknown, child)
                || (p ? fr_pid_ns(child) != fr_sweep_ns
                      : fr_proc_owner(child) != fr_sweep_uid)))
        {
            /* a child of the runner it knows, not in p's namespace, or
             * (outside one) not of the user */
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

                if ((p ? (w->proto == p
                          || (w->proto && w->proto->parent == p))
                       : w != fr_sweep_ended)
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

        if (fr_proc_ending(child)) {
            /* killed already (a retired zygote, its spare): not named,
             * but what is under it is its own while it is held so */
            found += fr_sweep_look(p, child, 0, pid, pfd, n);
            continue;
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

    free(buf);

    return found;
}


/*
 * The runner's children it does not know, counted in each zygote's
 * session: one there is its spare (fr_runtime.c), which says its pid
 * only when it becomes a worker; more are strays, and so is the spare
 * then (which of them the app made is not known).
 */

static void
fr_sweep_spares(char *buf, pid_t parent)
{
    char        *s, *end;
    pid_t        child, sid, ppid;
    fr_link_t   *l;
    fr_proto_t  *q;

    for (l = fr_list_first(&fr_runner.protos); l != &fr_runner.protos;
         l = l->next)
    {
        fr_list_data(l, fr_proto_t, link)->spares = 0;
    }

    for (s = buf; ; s = end) {
        child = (pid_t) strtol(s, &end, 10);

        if (end == s) {
            break;
        }

        if (fr_pids_has(fr_known, fr_nknown, child)
            || (sid = fr_proc_session(child, &ppid)) <= 0 || ppid != parent)
        {
            continue;
        }

        for (l = fr_list_first(&fr_runner.protos); l != &fr_runner.protos;
             l = l->next)
        {
            q = fr_list_data(l, fr_proto_t, link);

            if (q->zygote && q->pid == sid) {
                q->spares++;
            }
        }
    }
}


/* in the session of a zygote of p's (NULL: any): its spare */

static int
fr_sweep_spare(fr_proto_t *p, pid_t sid)
{
    fr_link_t   *l;
    fr_proto_t  *q;

    for (l = fr_list_first(&fr_runner.protos); l != &fr_runner.protos;
         l = l->next)
    {
        q = fr_list_data(l, fr_proto_t, link);

        if ((p ? q->parent == p : q->zygote) && q->pid == sid) {
            /* one: the spare; more in its session are strays */
            return q->spares == 1;
        }
    }

    return 0;
}


/*
 * A child of the runner in a live zygote's session, no worker, reaped:
 * its spare, which only waits for the runner's message and ends when
 * its zygote does. One that ended on its own ran the app's code (an
 * app that patched the driver: a spare that works a while and leaves,
 * the zygote forking the next, each under the look at a spare's CPU,
 * fr_sweep_zygote(), and nobody bills a zygote's session): the zygote
 * is retired, as a zygote that misbehaves is (a new one at most
 * FR_RUNTIME_STARTS times a change).
 */

void
fr_sweep_spare_reaped(pid_t pid, pid_t sid, int64_t us)
{
    fr_link_t   *l;
    fr_proto_t  *p;

    if (sid <= 0) {
        return;
    }

    for (l = fr_list_first(&fr_runner.protos); l != &fr_runner.protos;
         l = l->next)
    {
        p = fr_list_data(l, fr_proto_t, link);

        if (p->zygote && p->ready && !p->retired && p->pid == sid) {
            fr_log(FR_LOG_ERR, 0, "spare %d of zygote %d of \"%s\" ended on "
                   "its own, having used %lld ms of CPU (its app's code at "
                   "work, which nobody bills): the zygote retired",
                   (int) pid, (int) p->pid, p->name,
                   (long long) (us / 1000));
            fr_proto_retire(p);
            return;
        }
    }
}
