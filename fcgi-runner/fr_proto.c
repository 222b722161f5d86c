/*
 * Copyright (C) ngx_faas developers
 *
 * Prototypes: a process per function, made once, already in the
 * function's namespaces, mounts and folder (faas-init prototype,
 * init/faas-proto.c), that forks its workers on the runner's word. A
 * worker then costs a fork and an exec, not namespaces, mounts and path
 * lookups, and is billed its own memory, never the runner's. The
 * worker is spawned with CLONE_PARENT: the runner's own child, reaped,
 * metered and killed as any other; the prototype only says its pid,
 * which is checked.
 *
 * The runner waits for the prototype's answer (a spawn: well under a
 * millisecond, sent before the worker's exec) with a bound; one that
 * does not answer in time, answers what it was not asked, or names a
 * process that is not a new child of the runner is retired, and the
 * function's next worker makes a new one. A prototype is kept while its
 * function has workers from it and for prototype_idle_timeout after;
 * retired when its function changes or goes. Its pid namespace lives
 * until its last worker has ended: what they leave in it is killed.
 */

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "init/faas-proto.h"
#include "fr_log.h"
#include "fr_path.h"
#include "fr_pids.h"
#include "fr_proto.h"


#define FR_PROTO_WAIT_MSEC  1000      /* for an answer: a fork */
#define FR_PROTO_ZYGOTE_MSEC  200     /* a zygote's spare: a recv */
#define FR_PROTO_SLOW_USEC  1000      /* an answer slower is counted */
#define FR_PROTO_SLOW_ALL   500000    /* us: a zygote's slow ones, at most */
#define FR_PROTO_SLOW_DRAIN   100     /* 1/100 of the time between drains */
#define FR_PROTO_LIVED_MSEC  60000    /* a zygote idle after it: no fault */


static int fr_proto_moved(fr_func_t *f);
static void fr_proto_put(char *msg, size_t *len, const char *s);
static int fr_proto_answer(fr_proto_t *p, int32_t r[2]);
static void fr_proto_fault(fr_proto_t *p, int misbehaved);
static int fr_proto_new_child(fr_proto_t *p, pid_t pid);
static uint64_t fr_proto_usec(void);
static void fr_proto_idle_again(fr_proto_t *p);
static void fr_proto_init_close(fr_proto_t *p);
static void fr_proto_free(fr_proto_t *p);


static int  fr_proto_null = -1;

/* what ended workers left in a pid namespace, killed (fr_sweep.c) */
int  (*fr_proto_sweep)(fr_proto_t *p);
/* its process 1 reaped (wait4()'s us), or -1: the meter keeps it till then */
void (*fr_proto_meter_end)(fr_proto_t *p, int64_t reaped_us);
/* a process 1 of a prototype kept so by the meter */
int  (*fr_proto_meter_holds)(pid_t pid);
/* a prototype or zygote killed, not yet reaped: its session's not billed */
void (*fr_proto_meter_killed)(fr_proto_t *p);


/*
 * Every function run as a user not root has one, "isolation = none"
 * too: what a prototype saves is isolation, and the runner's memory.
 * A process that execs leaves its old memory's peak in its own (the
 * kernel keeps the larger), so a worker the runner spawned itself
 * would be billed the runner's peak as its own; the prototype's is a
 * few pages. A runner not root has none: its prototypes would run as
 * its functions do, counted in their user's max_processes.
 */

int
fr_proto_wanted(fr_func_t *f)
{
    return fr_runner.is_root && f->set_user && f->uid != 0
           && fr_runner.init_fd != -1;
}


/* the function's prototype, alive and of its present settings, or NULL */

fr_proto_t *
fr_proto_current(fr_func_t *f)
{
    int          n;
    dev_t        dev[FR_ISOLATE_KEPT];
    ino_t        ino[FR_ISOLATE_KEPT];
    fr_proto_t  *p;

    p = f->proto;

    if (p && (p->pid == 0 || p->generation != f->generation)) {
        fr_proto_retire(p);
        p = NULL;
    }

    /* its mounts of the function's paths are still those */
    if (p && p->nkept) {
        n = fr_isolate_kept(f, dev, ino);

        if (n != p->nkept || n < 0
            || memcmp(dev, p->kept_dev, n * sizeof(dev_t))
            || memcmp(ino, p->kept_ino, n * sizeof(ino_t)))
        {
            fr_log(FR_LOG_INFO, 0, "the paths of \"%s\" changed: a new "
                   "prototype", f->name);
            fr_proto_retire(p);
            p = NULL;
        }
    }

    /* a folder made again (even with the old inode number): a new one
     * looks at it as it starts (and fails till the next reload) */
    if (p && fr_proto_moved(f)) {
        fr_log(FR_LOG_WARN, 0, "the folder of \"%s\" is not the one it was "
               "loaded from: a new prototype", f->name);
        fr_proto_retire(p);
        p = NULL;
    }

    if (p) {
        fr_timer_del(&p->timer);
    }

    return p;
}


/*
 * Whether the function's folder, looked up with its user's rights, is
 * no longer the one it was loaded from (swapped by a user who may write
 * there): what a prototype holds by descriptor no path reaches.
 */

static int
fr_proto_moved(fr_func_t *f)
{
    int   fd, moved;
    char  path[PATH_MAX];

    fr_path_as(f->uid, f->gid);
    fd = fr_path_open(AT_FDCWD, f->dir, O_PATH | O_DIRECTORY, path);
    fr_path_as_runner();

    moved = (fd == -1
             || !fr_path_is(fd, f->dir_dev, f->dir_ino, &f->dir_handle));

    if (fd != -1) {
        close(fd);
    }

    return moved;
}


/* a prototype to be: its socket; *child_fd is the end it is started on */

fr_proto_t *
fr_proto_new(fr_func_t *f, int *child_fd)
{
    int          sv[2], size;
    size_t       len;
    fr_proto_t  *p;

    if (fr_proto_null == -1) {
        fr_proto_null = open("/dev/null", O_RDWR | O_CLOEXEC);
    }

    p = calloc(1, sizeof(fr_proto_t));
    len = strlen(f->name) + 1;

    if (p == NULL
        || (p->name = malloc(len + strlen(f->tenant) + 1)) == NULL)
    {
        fr_log(FR_LOG_ALERT, errno, "malloc() failed");
        free(p);
        return NULL;
    }

    memcpy(p->name, f->name, len);
    p->tenant = p->name + len;
    strcpy(p->tenant, f->tenant);
    p->memory = f->conf.memory;

    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1) {
        fr_log(FR_LOG_ALERT, errno, "socketpair() failed");
        free(p->name);
        free(p);
        return NULL;
    }

    /* a CGI request's environment in one message */
    size = FAAS_PROTO_MSG_MAX + 65536;
    (void) setsockopt(sv[0], SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(int));
    (void) setsockopt(sv[1], SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(int));

    p->func = f;
    p->init_stat = -1;
    p->generation = f->generation;
    p->nkept = fr_isolate_kept(f, p->kept_dev, p->kept_ino);
    p->fd = sv[0];
    p->io.fd = -1;
    p->timer.handler = fr_proto_idle;
    p->timer.data = p;
    fr_list_insert_tail(&fr_runner.protos, &p->link);
    fr_runner.nprotos++;

    *child_fd = sv[1];

    return p;
}


/*
 * Started (pid, or -1): its exec checked, then its first word, the pid
 * of its namespace's process 1. FR_ERROR: it is retired.
 */

int
fr_proto_started(fr_proto_t *p, pid_t pid, int exec_fd)
{
    int      err, pidns;
    char     path[64];
    int32_t  r[2];

    p->pid = (pid > 0) ? pid : 0;
    err = 0;

    if (pid > 0 && exec_fd != -1
        && read(exec_fd, &err, sizeof(int)) == (ssize_t) sizeof(int))
    {
        /* its folder (ESTALE: not the one loaded), mounts or faas-init */
        fr_log(FR_LOG_ERR, err == ESTALE ? 0 : err, "the prototype of \"%s\" "
               "could not start%s", p->name, err == ESTALE ? ": its folder is "
               "not the one it was loaded from" : "");
        err = -1;
    }

    if (exec_fd != -1) {
        close(exec_fd);
    }

    pidns = (p->func->conf.isolation & FR_ISOLATE_PID) != 0;

    if (pid <= 0 || err || fr_proto_answer(p, r) != FR_OK) {
        fr_proto_retire(p);
        return FR_ERROR;
    }

    if (r[0] < 0 || (pidns && !fr_proto_new_child(p, r[0]))
        || (!pidns && r[0] != 0))
    {
        fr_log(FR_LOG_ERR, r[0] < 0 ? r[1] : 0, "prototype %d of \"%s\" "
               "could not start%s", (int) pid, p->name,
               pidns ? " its pid namespace" : "");
        fr_proto_retire(p);
        return FR_ERROR;
    }

    p->init = r[0];
    p->func->proto = p;

    if (p->init) {
        /* held: the orphans it reaps are read at each metered request */
        snprintf(path, sizeof(path), "/proc/%d/stat", (int) p->init);
        p->init_stat = open(path, O_RDONLY | O_CLOEXEC);
        p->init_ns = fr_pid_ns(p->init);
    }
    fr_runner.proto_starts++;

    fr_log(FR_LOG_INFO, 0, "prototype %d of \"%s\" started", (int) pid,
           p->name);

    return FR_OK;
}


/*
 * A worker forked by the prototype with fd[0..2] as its 0, 1 and 2 (-1:
 * /dev/null; the runner's stderr for 2) and env. *exec_fd as for
 * fr_spawn(). Returns its pid; -1: the caller spawns it itself (the
 * prototype is retired if it was at fault); FR_PROTO_GIVEN: the same,
 * but not on fd[], which the prototype, retired, had.
 */

pid_t
fr_proto_fork(fr_proto_t *p, char **env, int fd[3], int *exec_fd)
{
    int              i, argc, err, nfds, pexec[2], fds[5];
    char            *msg, count[16];
    const char      *path;
    fr_func_t       *f;
    size_t           len;
    ssize_t          n;
    int32_t          r[2];
    struct iovec     iov;
    struct msghdr    mh;
    struct cmsghdr  *cm;
    union {
        struct cmsghdr  align;
        char            buf[CMSG_SPACE(sizeof(fds))];
    } ctl;

    /* nothing it was not asked: one that talks on its own is not ours */
    n = recv(p->fd, r, sizeof(r), MSG_DONTWAIT);

    if (n != -1 || errno != EAGAIN) {
        fr_log(FR_LOG_ERR, 0, "prototype %d of \"%s\" %s, retiring it",
               (int) p->pid, p->name,
               (n == 0 || (n == -1 && errno == ECONNRESET)) ? "exited"
                                                           : "spoke unasked");
        fr_proto_fault(p, n > 0);
        return -1;
    }

    /* "N", the path, its N arguments, the environment */
    f = p->func;

    /* a zygote runs no program: it is one */
    for (argc = 0; !p->zygote && f->argv[argc]; argc++) { /* void */ }

    /* a program held by the runner is sent, its path left empty */
    path = (f->exec_by_fd && !p->zygote) ? "" : fr_func_exec(f);

    snprintf(count, sizeof(count), "%d", argc);
    len = strlen(count) + strlen(path) + 2;

    for (i = 0; i < argc; i++) {
        len += strlen(f->argv[i]) + 1;
    }

    for (i = 0; env[i]; i++) {
        len += strlen(env[i]) + 1;
    }

    if (len >= FAAS_PROTO_MSG_MAX || (msg = malloc(len)) == NULL) {
        fr_proto_idle_again(p);
        return -1;
    }

    len = 0;
    fr_proto_put(msg, &len, count);
    fr_proto_put(msg, &len, path);

    for (i = 0; i < argc; i++) {
        fr_proto_put(msg, &len, f->argv[i]);
    }

    for (i = 0; env[i]; i++) {
        fr_proto_put(msg, &len, env[i]);
    }

    /* read at each of the worker's stderr events and when it is reaped:
     * a zygote's worker never execs, and what it runs may keep it open */
    if (pipe2(pexec, O_CLOEXEC | O_NONBLOCK) == -1) {
        fr_log(FR_LOG_ALERT, errno, "pipe2() failed");
        free(msg);
        return -1;
    }

    fds[0] = fd[0] != -1 ? fd[0] : fr_proto_null;
    fds[1] = fd[1] != -1 ? fd[1] : fr_proto_null;
    fds[2] = fd[2] != -1 ? fd[2] : STDERR_FILENO;
    fds[3] = pexec[1];
    fds[4] = f->exec_fd;
    nfds = (path[0] == '\0') ? 5 : 4;

    iov.iov_base = msg;
    iov.iov_len = len;

    memset(&mh, 0, sizeof(mh));
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    mh.msg_control = ctl.buf;
    mh.msg_controllen = sizeof(ctl.buf);

    cm = CMSG_FIRSTHDR(&mh);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(nfds * sizeof(int));
    memcpy(CMSG_DATA(cm), fds, nfds * sizeof(int));
    mh.msg_controllen = CMSG_SPACE(nfds * sizeof(int));

    /* never waited for: one it did not read is still in its socket */
    n = sendmsg(p->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
    i = (n == (ssize_t) len) ? FR_OK : FR_ERROR;
    err = (n == -1) ? errno : EMSGSIZE;

    free(msg);
    close(pexec[1]);

    if (i != FR_OK && err == EAGAIN) {
        fr_log(FR_LOG_ERR, 0, "prototype %d of \"%s\" did not read what the "
               "runner sent, retiring it", (int) p->pid, p->name);
        close(pexec[0]);
        fr_proto_fault(p, 1);
        return -1;
    }

    if (i != FR_OK && err != EPIPE && err != ECONNRESET) {
        /* the runner's want (memory, a message too big), not its fault */
        fr_log(FR_LOG_ERR, err, "sendmsg() to prototype %d of \"%s\" failed",
               (int) p->pid, p->name);
        close(pexec[0]);
        fr_proto_idle_again(p);
        return -1;
    }

    if (i != FR_OK) {
        fr_log(FR_LOG_ERR, 0, "prototype %d of \"%s\" exited, retiring it",
               (int) p->pid, p->name);
    }

    /*
     * From here its descriptors are with it: a process it made may hold
     * them (a zygote's spare that answered late serves on the worker's
     * socket), so a worker of the function must not start on them.
     */
    if (i != FR_OK || fr_proto_answer(p, r) != FR_OK) {
        close(pexec[0]);
        fr_proto_fault(p, i == FR_OK);
        return (i == FR_OK) ? FR_PROTO_GIVEN : -1;
    }

    if (r[0] <= 0) {
        /* it could not fork: the runner could not either */
        fr_log(FR_LOG_ERR, r[1], "prototype %d of \"%s\": fork failed",
               (int) p->pid, p->name);
        close(pexec[0]);

        if (p->zygote) {
            fr_proto_fault(p, 1);
            return FR_PROTO_GIVEN;
        }

        fr_proto_idle_again(p);
        return -1;
    }

    if (!fr_proto_new_child(p, r[0])) {
        fr_log(FR_LOG_ERR, 0, "prototype %d of \"%s\" named process %d, "
               "not a new child of the runner, retiring it", (int) p->pid,
               p->name, (int) r[0]);
        close(pexec[0]);
        fr_proto_fault(p, 1);
        return FR_PROTO_GIVEN;
    }

    p->refs++;
    p->forks++;
    fr_runner.proto_forks++;

    *exec_fd = pexec[0];

    return r[0];
}


static void
fr_proto_put(char *msg, size_t *len, const char *s)
{
    size_t  n;

    n = strlen(s) + 1;
    memcpy(msg + *len, s, n);
    *len += n;
}


/* its answer, within the bound */

static int
fr_proto_answer(fr_proto_t *p, int32_t r[2])
{
    int            n, gone;
    pid_t          sender;
    uint64_t       start, now, drained;
    ssize_t        len;
    struct pollfd  pfd;

    pfd.fd = p->fd;
    pfd.events = POLLIN;
    start = fr_proto_usec();

    do {
        n = poll(&pfd, 1, p->zygote ? FR_PROTO_ZYGOTE_MSEC
                                    : FR_PROTO_WAIT_MSEC);
    } while (n == -1 && errno == EINTR);

    if (n != 1) {
        fr_log(FR_LOG_ERR, 0, "prototype %d of \"%s\" did not answer within "
               "%d ms, retiring it", (int) p->pid, p->name,
               p->zygote ? FR_PROTO_ZYGOTE_MSEC : FR_PROTO_WAIT_MSEC);
        return FR_ERROR;
    }

    /*
     * The runner waits for a zygote's spare, which answers at once.
     * An answer slower than a spawn of the runner's own (1 ms) is
     * counted, all of it, in a bucket that drains at 1% of the time: a
     * zygote holds up the runner 500 ms at once, then 1% of its time.
     */
    now = fr_proto_usec();
    drained = (now - p->slow_at) / FR_PROTO_SLOW_DRAIN;
    p->slow = (p->slow > drained) ? p->slow - drained : 0;
    p->slow_at = now;
    p->slow += (now - start > FR_PROTO_SLOW_USEC) ? now - start : 0;

    if (p->zygote && p->slow > FR_PROTO_SLOW_ALL) {
        fr_log(FR_LOG_ERR, 0, "prototype %d of \"%s\" held up the runner for "
               "%llu ms, retiring it", (int) p->pid, p->name,
               (unsigned long long) p->slow / 1000);
        return FR_ERROR;
    }

    /* a zygote's worker answers itself: its pid as the runner sees it
     * is the one the kernel attaches (SO_PASSCRED), not its own */
    len = fr_pid_recv(p->fd, r, 2 * sizeof(int32_t), &sender);

    if (p->zygote && len == (ssize_t) (2 * sizeof(int32_t)) && r[0] > 0) {
        r[0] = sender;
    }

    if (len != (ssize_t) (2 * sizeof(int32_t))) {
        gone = (len == 0 || (len == -1 && errno == ECONNRESET));
        fr_log(FR_LOG_ERR, len == -1 && !gone ? errno : 0, "prototype %d of "
               "\"%s\" %s, retiring it", (int) p->pid, p->name,
               gone ? "exited" : "answered garbage");
        return FR_ERROR;
    }

    return FR_OK;
}


/*
 * A child of the runner not yet waited for, and none it knows: the
 * prototype cannot make the runner take another process for a worker.
 */

static int
fr_proto_new_child(fr_proto_t *p, pid_t pid)
{
    fr_link_t    *l;
    fr_worker_t  *w;
    fr_proto_t   *q;
    siginfo_t     si;

    if (pid <= 0 || pid == p->pid || pid == p->init) {
        return 0;
    }

    si.si_pid = 0;

    if (waitid(P_PID, pid, &si, WEXITED | WNOHANG | WNOWAIT) == -1) {
        return 0;
    }

    for (l = fr_list_first(&fr_runner.workers); l != &fr_runner.workers;
         l = l->next)
    {
        w = fr_list_data(l, fr_worker_t, all);

        if (w->pid == pid && !w->reaped) {
            return 0;
        }
    }

    for (l = fr_list_first(&fr_runner.protos); l != &fr_runner.protos;
         l = l->next)
    {
        q = fr_list_data(l, fr_proto_t, link);

        if (q->pid == pid || q->init == pid) {
            return 0;
        }
    }

    return fr_proto_meter_holds == NULL || !fr_proto_meter_holds(pid);
}


/* a worker it forked has ended */

void
fr_proto_release(fr_proto_t *p, int sweep)
{
    if (p == NULL) {
        return;
    }

    p->refs--;

    if (sweep && fr_proto_strays(p) != FR_OK) {
        return;
    }

    if (p->refs) {
        return;
    }

    if (p->retired) {
        fr_proto_free(p);
        return;
    }

    fr_timer_add(&p->timer, fr_runner.conf.prototype_idle_timeout);
}


/*
 * Called as a worker of p is reaped (what it left may hold its stdout
 * open) and as it is freed. FR_ERROR: p is retired, its namespace ends
 * with its last worker.
 */

int
fr_proto_strays(fr_proto_t *p)
{
    fr_proto_t  *root;

    /* a zygote's workers are in its prototype's namespace */
    root = p->parent ? p->parent : p;

    if (root->init == 0) {
        return FR_OK;
    }

    if (fr_proto_sweep(root) != FR_OK) {
        /* the root first: the zygote, freed, may free it */
        fr_proto_retire(root);

        if (p != root) {
            fr_proto_retire(p);
        }

        return FR_ERROR;
    }

    return FR_OK;
}


/*
 * Retired for what it did (misbehaved) or for its end. A zygote is the
 * function's code: one that misbehaves is not made again until the
 * function changes (a hung answer held up the runner), and its
 * prototype goes with it (what it forked may be anywhere in there).
 */

static void
fr_proto_fault(fr_proto_t *p, int misbehaved)
{
    if (p->zygote && misbehaved) {
        if (p->func && p->func->zygote == p) {
            p->func->zygote_failed = p->generation + 1;
        }

        if (p->parent) {
            fr_proto_retire(p->parent);
        }
    }

    fr_proto_retire(p);
}


/* now, in us: the loop's time stands still while the runner waits */

static uint64_t
fr_proto_usec(void)
{
    struct timespec  ts;

    (void) clock_gettime(CLOCK_MONOTONIC, &ts);

    return (uint64_t) ts.tv_sec * 1000000 + (uint64_t) ts.tv_nsec / 1000;
}


/* a fork it could not make: its idle time goes on */

static void
fr_proto_idle_again(fr_proto_t *p)
{
    if (p->refs == 0) {
        fr_timer_add(&p->timer, fr_runner.conf.prototype_idle_timeout);
    }
}


void
fr_proto_idle(fr_timer_t *t)
{
    fr_proto_t  *p;

    p = t->data;

    if (p->refs == 0) {
        fr_log(FR_LOG_DEBUG, 0, "prototype %d of \"%s\" idle, stopping",
               (int) p->pid, p->name);

        if (fr_current_msec - p->ready_at >= FR_PROTO_LIVED_MSEC) {
            fr_proto_unfault(p);
        }

        fr_proto_retire(p);
    }
}


/*
 * A ready zygote retired for nothing it did (idle after a minute's
 * life, room for another tenant's): its start is not one of the few a
 * function's change allows.
 */

void
fr_proto_unfault(fr_proto_t *p)
{
    if (p->zygote && p->ready && p->func && p->func->zygote == p
        && p->func->zygote_starts > 0)
    {
        p->func->zygote_starts--;
    }
}


/*
 * No more workers from it: the prototype goes now (the runner's child,
 * not waited for: its pid its own), its namespace with its last worker.
 */

void
fr_proto_retire(fr_proto_t *p)
{
    if (p->func && p->func->proto == p) {
        p->func->proto = NULL;
    }

    if (p->func && p->func->zygote == p) {
        p->func->zygote = NULL;
    }

    if (p->io.fd != -1) {
        fr_io_forget(&p->io);
    }

    p->func = NULL;
    fr_timer_del(&p->timer);
    fr_timer_del(&p->check);

    if (!p->retired) {
        p->retired = 1;
        fr_runner.nprotos--;
    }

    if (p->fd != -1) {
        close(p->fd);
        p->fd = -1;
    }

    if (p->pid) {
        fr_pids_kill(p->pid, p->zygote);

        if (fr_proto_meter_killed) {
            fr_proto_meter_killed(p);
        }

        p->pid = 0;
    }

    if (p->refs == 0) {
        fr_proto_free(p);
    }
}


static void
fr_proto_init_close(fr_proto_t *p)
{
    if (p->init_stat != -1) {
        close(p->init_stat);
        p->init_stat = -1;
    }
}


static void
fr_proto_free(fr_proto_t *p)
{
    int  ends;

    /* held until its reap even with no stat read: its pid no worker's */
    ends = (p->init != 0 && fr_proto_meter_end != NULL);

    if (p->init) {
        /* it kills and reaps the rest: their CPU in its wait4() figure */
        (void) kill(p->init, SIGTERM);
    }

    fr_list_remove(&p->link);

    /* the namespace its workers were in lives no longer for them */
    fr_proto_release(p->parent, 0);
    p->parent = NULL;

    if (ends) {
        /* what its process 1 reaped so far is read before its close */
        fr_proto_meter_end(p, -1);
        fr_proto_init_close(p);
        return;
    }

    fr_proto_init_close(p);
    free(p->name);
    fr_free_later(p);
}


/* a child of the runner that was no worker: a prototype's or its 1's */

int
fr_proto_reaped(pid_t pid, int status, int64_t us)
{
    fr_link_t   *l;
    fr_proto_t  *p;

    for (l = fr_list_first(&fr_runner.protos); l != &fr_runner.protos;
         l = l->next)
    {
        p = fr_list_data(l, fr_proto_t, link);

        if (p->pid == pid) {
            fr_log(FR_LOG_ERR, 0, "prototype %d of \"%s\" exited (status "
                   "%d): its function's next worker starts a new one",
                   (int) pid, p->name, status);
            p->pid = 0;

            /* a zygote awaited: its function's workers start otherwise */
            if (p->zygote && !p->ready && p->func && p->func->zygote == p
                && p->func->timer.handler)
            {
                fr_timer_add(&p->func->timer, 0);
            }

            fr_proto_retire(p);
            return 1;
        }

        if (p->init == pid) {
            fr_log(p->retired ? FR_LOG_DEBUG : FR_LOG_ERR, 0, "process 1 "
                   "of the pid namespace of \"%s\" exited (status %d)",
                   p->name, status);

            if (fr_proto_meter_end) {
                fr_proto_meter_end(p, us);
            }

            p->init = 0;
            fr_proto_init_close(p);
            fr_proto_retire(p);
            return 1;
        }
    }

    return 0;
}


/* shutdown: each goes, its namespace with its last worker */

void
fr_protos_stop(void)
{
    fr_link_t  *l, *next;

    for (l = fr_list_first(&fr_runner.protos); l != &fr_runner.protos;
         l = next)
    {
        next = l->next;
        fr_proto_retire(fr_list_data(l, fr_proto_t, link));
    }
}
