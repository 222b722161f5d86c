/*
 * Copyright (C) ngx_faas developers
 *
 * A function's prototype: faas-init started as
 *
 *     faas-init prototype RUNNER UID GID NPROC MEMORY NOFILE UMASK NS
 *
 * by the runner, once per function, already inside the function's
 * namespaces and mounts, in its folder, with no new privileges. It
 * keeps root, so that the function, which runs as another user, can
 * neither signal, trace nor read it; it does nothing with a path.
 *
 * Its socket to the runner is on 0 (SOCK_SEQPACKET). Each message is
 * one worker to fork: strings, each NUL-ended: the count N of its
 * arguments, the program's path, its N arguments and its environment;
 * and, as SCM_RIGHTS, its 0, 1 and 2 and the exec report pipe. (The
 * program is not on the prototype's own command line: nothing that
 * looks for the function's processes by their command takes it for
 * one.) The worker is
 * spawned with CLONE_PARENT: it is the runner's child, as a worker
 * spawned by the runner is, so the runner reaps it, meters it and kills
 * it by its own rights. The child takes the function's limits and
 * credentials and execs PATH; a failure goes to the report pipe. The
 * reply is the worker's pid (sent at once, before its exec), or an errno.
 *
 * NS: 1, a pid namespace is made (below); 2, the prototype is in an ipc
 * namespace of the function's own, where its workers' IPC objects outlive
 * them: shared memory goes with its last user (shm_rmid_forced), no more
 * of it than the function's memory, and few message queues.
 *
 * With a pid namespace the workers share it of the function's
 * own, whose process 1 is a reaper forked (CLONE_PARENT too) before
 * the first worker: it mounts the namespace's /proc and reaps its
 * orphans. Its pid is the first reply. The runner ends it (SIGTERM),
 * and it everything in the namespace, when the prototype is retired and
 * its last worker has ended.
 *
 * The OOM killer takes its workers before it (below): killed, it would
 * free nothing of theirs, and the next worker would pay a new one.
 *
 * The prototype ends when the runner closes the socket or dies.
 */

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "faas-proto.h"
#include "faas-sys.h"


#define FP_FDS      4
#define FP_STACK    (64 * 1024)
#define FP_PENDING  64          /* spawned, not yet exec'd */
/* ms, a worker's setsid() waited for: well within the runner's wait for
 * our answer (FR_PROTO_WAIT_MSEC, 1 s, from its message) */
#define FP_SETSID_WAIT  200


typedef struct {
    pid_t          runner;
    uid_t          uid;
    gid_t          gid;
    rlim_t         nproc;
    rlim_t         memory;
    rlim_t         nofile;
    mode_t         umask;
    int            pidns;
    int            dir;         /* the function's folder */
    int            oom;         /* its own oom_score_adj, or -1 */
    int            oom_raised;  /* 1: a worker's score is ours too */
    char           oom_own[12];     /* the runner's */
    char           oom_worker[12];  /* each worker's: 100 more */
} fp_conf_t;


static void fp_reaper(int ready, pid_t runner);
static pid_t fp_spawn(fp_conf_t *c, int *fd, const char *msg, size_t len,
    int nargs);
static int fp_worker(void *data);
static int fp_pending_wait(void);
static void fp_pending_byte(int slot, int ms);
static pid_t fp_fork(void);
static int fp_ipc_limits(rlim_t memory);
static int fp_sysctl(const char *name, unsigned long long value);
static int fp_reply(pid_t pid, int err);
static int fp_share(void);
static void fp_oom_init(fp_conf_t *c);
static void fp_oom_restore(fp_conf_t *c);
static int fp_oom_worker(fp_conf_t *c);


/* what a worker runs on until its exec: all in its own mapping */
typedef struct {
    fp_conf_t     *conf;
    int            fd[FP_FDS + 1];  /* and the program, or -1 */
    int            done;        /* closes at its exec, or its end */
    char         **argv;        /* the path, then the arguments */
    char         **env;
} fp_job_t;


typedef struct {
    void          *mem;
    size_t         size;
    int            fd;          /* -1: a free slot */
    unsigned       ended:1;     /* its pipe's end read */
} fp_pending_t;


/* a buffer as big as the runner may send: untouched pages cost nothing */
static char          fp_msg[FAAS_PROTO_MSG_MAX];

static fp_pending_t  fp_pending[FP_PENDING];
static int           fp_npending;


int
faas_prototype(int argc, char **argv)
{
    int              p[2], fd[FP_FDS + 1], nfd, i, n, nargs, err;
    char            *s, c;
    pid_t            pid;
    sigset_t         all, old;
    ssize_t          len;
    fp_conf_t        conf;
    struct iovec     iov;
    struct msghdr    msg;
    struct cmsghdr  *cm;
    union {
        struct cmsghdr  align;
        char            buf[CMSG_SPACE(sizeof(int) * (FP_FDS + 1))];
    } ctl;

    if (argc < 8) {
        return 2;
    }

    /* it forks for a user, never as root (nor as (uid_t) -1, which
     * setuid() would take for "no change") */
    if (strtol(argv[1], NULL, 10) <= 0
        || strtoul(argv[1], NULL, 10) >= (unsigned long) (uid_t) -1
        || strtoul(argv[2], NULL, 10) >= (unsigned long) (gid_t) -1)
    {
        return fp_reply(-1, EPERM);
    }

    conf.runner = (pid_t) atoi(argv[0]);
    conf.uid = (uid_t) strtoul(argv[1], NULL, 10);
    conf.gid = (gid_t) strtoul(argv[2], NULL, 10);
    conf.nproc = (rlim_t) strtoull(argv[3], NULL, 10);
    conf.memory = (rlim_t) strtoull(argv[4], NULL, 10);
    conf.nofile = (rlim_t) strtoull(argv[5], NULL, 10);
    conf.umask = (mode_t) strtoul(argv[6], NULL, 8);
    conf.pidns = atoi(argv[7]) & 1;

    if ((atoi(argv[7]) & 2) && fp_ipc_limits(conf.memory) != 0) {
        return fp_reply(-1, errno);
    }

    /* not the function's to trace or read, whoever it runs as */
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1) {
        return fp_reply(-1, errno);
    }

    /* before the reaper's fork and its /proc */
    fp_oom_init(&conf);

    /* its folder held, not stood in: not one of its processes */
    conf.dir = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);

    if (conf.dir == -1 || chdir("/") == -1) {
        return fp_reply(-1, errno);
    }

    pid = 0;

    if (conf.pidns) {
        if (pipe2(p, O_CLOEXEC) == -1) {
            return fp_reply(-1, errno);
        }

        /* born with every signal blocked: the runner's word to end
         * (SIGTERM, which process 1 takes only blocked) is never lost */
        sigfillset(&all);
        (void) sigprocmask(SIG_BLOCK, &all, &old);

        pid = fp_fork();

        if (pid == 0) {
            close(p[0]);
            fp_reaper(p[1], conf.runner);
        }

        (void) sigprocmask(SIG_SETMASK, &old, NULL);
        close(p[1]);

        /* its pid first: whatever happens next, the runner can end it */
        if (pid == -1 || fp_reply(pid, 0) != 0) {
            return pid == -1 ? fp_reply(-1, errno) : 1;
        }

        /* its /proc mounted, or it failed: we go, and the runner sees */
        if (read(p[0], &c, 1) != 1) {
            return 1;
        }

        close(p[0]);

    } else if (fp_reply(0, 0) != 0) {
        return 1;
    }

    for (i = 0; i < FP_PENDING; i++) {
        fp_pending[i].fd = -1;
    }

    for ( ;; ) {
        /* every worker exec'd: none shares our memory, nor our score */
        if (fp_npending == 0 && conf.oom_raised) {
            fp_oom_restore(&conf);
        }

        /* the runner's next word, or a worker's exec (its mapping goes);
         * all slots taken, a slot first */
        if (fp_npending && fp_pending_wait() == 0) {
            continue;
        }

        iov.iov_base = fp_msg;
        iov.iov_len = sizeof(fp_msg) - 1;

        memset(&msg, 0, sizeof(msg));
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        msg.msg_control = ctl.buf;
        msg.msg_controllen = sizeof(ctl.buf);

        len = recvmsg(0, &msg, MSG_CMSG_CLOEXEC);

        if (len == -1 && errno == EINTR) {
            continue;
        }

        if (len <= 0) {
            /* the runner is done with us */
            return 0;
        }

        nfd = 0;

        for (cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
            if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS) {
                n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);

                for (i = 0; i < n; i++) {
                    if (nfd < FP_FDS + 1) {
                        memcpy(&fd[nfd++], CMSG_DATA(cm) + i * sizeof(int),
                               sizeof(int));

                    } else {
                        int  extra;

                        memcpy(&extra, CMSG_DATA(cm) + i * sizeof(int),
                               sizeof(int));
                        close(extra);
                    }
                }
            }
        }

        err = 0;
        nargs = 0;

        if (nfd < FP_FDS || (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC))) {
            err = EPROTO;

        } else {
            fp_msg[len] = '\0';

            for (n = 0, s = fp_msg; s < fp_msg + len; s += strlen(s) + 1) {
                n++;
            }

            /* "N", the path, N arguments, the environment; an empty
             * path: the program is the fifth descriptor */
            nargs = (int) strtol(fp_msg, NULL, 10);
            s = fp_msg + strlen(fp_msg) + 1;
            err = (nargs >= 1 && n >= nargs + 2
                   && (nfd == FP_FDS + 1) == (s < fp_msg + len && *s == '\0'))
                  ? 0 : EPROTO;
        }

        if (nfd == FP_FDS) {
            fd[FP_FDS] = -1;
        }

        pid = -1;

        if (err == 0) {
            pid = fp_spawn(&conf, fd, fp_msg, (size_t) len, nargs);
            err = (pid == -1) ? errno : 0;
        }

        for (i = 0; i < nfd; i++) {
            close(fd[i]);
        }

        if (fp_reply(pid, err) != 0) {
            return 1;
        }
    }
}


/* the ipc namespace's own limits (never the host's: only in its own) */

static int
fp_ipc_limits(rlim_t memory)
{
    unsigned long long  bytes;

    bytes = memory ? (unsigned long long) memory : 1ULL << 30;

    return (fp_sysctl("shm_rmid_forced", 1) != 0
            || fp_sysctl("shmmax", bytes) != 0
            || fp_sysctl("shmall", bytes / (unsigned long long)
                                   sysconf(_SC_PAGESIZE)) != 0
            || fp_sysctl("msgmni", 64) != 0) ? -1 : 0;
}


static int
fp_sysctl(const char *name, unsigned long long value)
{
    int      fd, rc;
    char     path[64], buf[32];
    ssize_t  len;

    snprintf(path, sizeof(path), "/proc/sys/kernel/%s", name);
    len = snprintf(buf, sizeof(buf), "%llu\n", value);

    fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd == -1) {
        return -1;
    }

    rc = (write(fd, buf, len) == len) ? 0 : -1;
    close(fd);

    return rc;
}


/*
 * A child of the runner, not of ours: a fork by the raw system call,
 * so it touches nothing of libc's state but what it calls after.
 */

static pid_t
fp_fork(void)
{
    return (pid_t) syscall(SYS_clone, CLONE_PARENT | SIGCHLD, 0, NULL, NULL,
                           0);
}


static int
fp_reply(pid_t pid, int err)
{
    int32_t  r[2];

    r[0] = pid;
    r[1] = err;

    return send(0, r, sizeof(r), MSG_NOSIGNAL) == (ssize_t) sizeof(r) ? 0 : 1;
}


/*
 * Process 1 of the function's pid namespace: its /proc, then nothing
 * but reaping what the workers orphan, until the runner's SIGTERM.
 * Dies with the runner.
 */

static void
fp_reaper(int ready, pid_t runner)
{
    sigset_t   all;
    siginfo_t  si;

    (void) runner;

    sigfillset(&all);
    (void) sigprocmask(SIG_SETMASK, &all, NULL);

    /* out of the prototype's group: the runner reaping it kills that */
    (void) setsid();
    (void) !chdir("/");

    if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) == -1
        || mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                 NULL) == -1)
    {
        _exit(1);
    }

    (void) !write(ready, "", 1);
    (void) faas_close_range(0, ~0U, 0);

    for ( ;; ) {
        /* the runner's is from outside: no pid of ours (si_pid 0) */
        if (sigwaitinfo(&all, &si) == SIGTERM && si.si_code == SI_USER
            && si.si_pid == 0)
        {
            faas_ns_end(FAAS_NS_END_WAIT);
            _exit(0);
        }

        while (waitpid(-1, NULL, __WALL | WNOHANG) > 0) {
            /* void */
        }
    }
}


/*
 * A pid namespace's end, by its process 1: everything in it killed and
 * reaped by us, so that what each process used is in our children's
 * times, which the runner's wait4() reads as we end. A process the
 * kernel kills as process 1 dies is reaped without a trace, and one
 * orphaned after that too. We wait for the runner to reap its workers
 * here, and for the orphans they leave; "msec" at most, then the
 * kernel has the rest. kill(-1) walks the host's every process: once a
 * round, a round when a child ends or every 10 ms.
 */

void
faas_ns_end(int msec)
{
    sigset_t         chld;
    struct timespec  tick, now, end;

    if (getpid() != 1) {
        /* kill(-1) is the namespace's only for its process 1 */
        return;
    }

    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);

    tick.tv_sec = 0;
    tick.tv_nsec = 10 * 1000 * 1000;

    (void) clock_gettime(CLOCK_MONOTONIC, &end);
    end.tv_sec += msec / 1000;
    end.tv_nsec += (msec % 1000) * 1000000L;

    if (end.tv_nsec >= 1000000000L) {
        end.tv_sec++;
        end.tv_nsec -= 1000000000L;
    }

    for ( ;; ) {
        while (waitpid(-1, NULL, __WALL | WNOHANG) > 0) {
            /* void */
        }

        /* all but us, zombies too (a worker the runner has not reaped
         * yet): none left, we are done */
        if (kill(-1, SIGKILL) == -1 && errno == ESRCH) {
            return;
        }

        (void) clock_gettime(CLOCK_MONOTONIC, &now);

        if (now.tv_sec > end.tv_sec
            || (now.tv_sec == end.tv_sec && now.tv_nsec >= end.tv_nsec))
        {
            return;
        }

        (void) sigtimedwait(&chld, NULL, &tick);
    }
}


/*
 * A worker is not a copy of the prototype: it shares our memory, as
 * posix_spawn()'s child does, until its exec (CLONE_VM), so that a cold
 * start makes one address space, the program's, not two. It runs on a
 * mapping of its own (its stack, its copy of the message, its argv and
 * environment), which it never shares with another worker, and writes
 * nothing of ours but the errno it shares with us; it is a child of
 * the runner (CLONE_PARENT). We answer the runner as soon as it has
 * left our process group (its first act; 200 ms at most), not after
 * its exec: a worker stopped before its exec (by another process of
 * its user, once it has its uid) holds up nobody but itself. Its
 * mapping is unmapped when the pipe it holds closes (at its exec, or
 * its end).
 */

static pid_t
fp_spawn(fp_conf_t *c, int *fd, const char *msg, size_t len, int nargs)
{
    int             i, k, n, pp[2], slot, share;
    char           *copy, *s, **vec;
    size_t          size;
    pid_t           pid;
    fp_job_t       *job;
    unsigned char  *mem;

    for (slot = 0; fp_pending[slot].fd != -1; slot++) {
        /* the caller made room */
    }

    for (n = 0, s = (char *) msg; s < msg + len; s += strlen(s) + 1) {
        n++;
    }

    /* the job, the vectors, the message, the stack (at the top) */
    size = sizeof(fp_job_t) + (n + 2) * sizeof(char *) + len + 1
           + FP_STACK;
    size = (size + 4095) & ~(size_t) 4095;

    mem = mmap(NULL, size, PROT_READ | PROT_WRITE,
               MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);

    if (mem == MAP_FAILED) {
        return -1;
    }

    if (pipe2(pp, O_CLOEXEC) == -1) {
        (void) munmap(mem, size);
        return -1;
    }

    job = (fp_job_t *) mem;
    vec = (char **) (mem + sizeof(fp_job_t));
    copy = (char *) (vec + n + 2);

    memcpy(copy, msg, len);
    copy[len] = '\0';

    /* "N", the path, N arguments: argv and env, each NULL-ended */
    s = copy + strlen(copy) + 1;

    for (i = 0, k = 1; k < n; k++, s += strlen(s) + 1) {
        vec[i++] = s;

        if (k == nargs + 1) {
            vec[i++] = NULL;
        }
    }

    vec[i] = NULL;

    job->conf = c;
    memcpy(job->fd, fd, sizeof(job->fd));
    job->done = pp[1];
    job->argv = vec;
    job->env = vec + nargs + 2;

    share = fp_share();

    /* its score is ours until its exec (fp_oom_init) */
    c->oom_raised = c->oom_raised || (share && c->oom != -1);

    pid = clone(fp_worker, mem + size,
                (share ? CLONE_VM : 0) | CLONE_PARENT | SIGCHLD, job);

    close(pp[1]);

    if (pid == -1) {
        close(pp[0]);
        (void) munmap(mem, size);
        return -1;
    }

    fp_pending[slot].mem = mem;
    fp_pending[slot].size = size;
    fp_pending[slot].fd = pp[0];
    fp_pending[slot].ended = 0;
    fp_npending++;

    /*
     * Answered once it is out of our process group (its first byte on
     * the pipe, 200 ms at most): the runner kills a prototype's group
     * as it reaps it, which must never take a worker it has just been
     * told of (a function changed at that moment)
     */
    fp_pending_byte(slot, FP_SETSID_WAIT);

    return pid;
}


/* the byte a pending worker writes after its setsid(), if within ms;
 * or the end of its pipe (its exec, its end): its mapping is free */

static void
fp_pending_byte(int slot, int ms)
{
    int            n;
    char           b;
    struct pollfd  pfd;

    pfd.fd = fp_pending[slot].fd;
    pfd.events = POLLIN;

    do {
        pfd.revents = 0;
        n = poll(&pfd, 1, ms);
    } while (n == -1 && errno == EINTR);

    if (n == 1) {
        fp_pending[slot].ended = (read(pfd.fd, &b, 1) != 1);
    }
}


/*
 * Whether a worker may share our memory until its exec. Once it has
 * taken the function's uid, the memory it shares with us (root) must
 * stay out of reach of the function's other processes: ptrace and
 * /proc/PID/mem need the memory dumpable, and ours is not (prctl at
 * start), as setuid() leaves it with fs.suid_dumpable 0 or 2. With 1
 * (debug) setuid() would make it dumpable: then a copy, as fork does.
 * Read at each spawn: the operator may change it at any time.
 */

static int
fp_share(void)
{
    int      fd;
    char     c;
    ssize_t  n;

    fd = open("/proc/sys/fs/suid_dumpable", O_RDONLY | O_CLOEXEC);
    n = (fd == -1) ? -1 : read(fd, &c, 1);

    if (fd != -1) {
        close(fd);
    }

    return n == 1 && (c == '0' || c == '2');
}


/*
 * The OOM killer's choice in a function's memory cgroup is by resident
 * memory. A worker that holds its memory where none of it is resident
 * (socket buffers, an unmapped memfd) is smaller than its prototype,
 * and the prototype went first, at each request, freeing nothing. So
 * each worker scores 100 above the runner (oom_score_adj), the
 * prototype and its reaper: taken before them, and before the host's
 * own processes of its size. Written by the worker as root, its score
 * is also the lowest the function may set (the kernel's
 * oom_score_adj_min) where root has CAP_SYS_RESOURCE; without it, the
 * floor is the runner's own, which it inherited. A runtime's workers
 * score 100 above its zygote (fr_cgroup_oom_above).
 *
 * A worker shares our memory until its exec (CLONE_VM), and a score
 * written for one process is written for every process of its memory:
 * its write is ours too. We take ours back when no worker shares our
 * memory any more, through the file opened at our start (a pid
 * namespace's /proc has no "self" for us).
 */

static void
fp_oom_init(fp_conf_t *c)
{
    int      adj;
    char     buf[16];
    ssize_t  n;

    c->oom_raised = 0;
    c->oom = open("/proc/self/oom_score_adj", O_RDWR | O_CLOEXEC);

    n = (c->oom == -1) ? -1 : pread(c->oom, buf, sizeof(buf) - 1, 0);

    if (n <= 0) {
        if (c->oom != -1) {
            close(c->oom);
            c->oom = -1;
        }

        return;
    }

    buf[n] = '\0';
    adj = atoi(buf);

    snprintf(c->oom_own, sizeof(c->oom_own), "%d", adj);
    snprintf(c->oom_worker, sizeof(c->oom_worker), "%d",
             adj + 100 > 1000 ? 1000 : adj + 100);
}


static void
fp_oom_restore(fp_conf_t *c)
{
    size_t  len;

    len = strlen(c->oom_own);
    c->oom_raised = (pwrite(c->oom, c->oom_own, len, 0) != (ssize_t) len);
}


/* in the worker, as root */

static int
fp_oom_worker(fp_conf_t *c)
{
    int     fd, rc;
    size_t  len;

    if (c->oom == -1) {
        return 0;
    }

    fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
    if (fd == -1) {
        return -1;
    }

    len = strlen(c->oom_worker);
    rc = (write(fd, c->oom_worker, len) == (ssize_t) len) ? 0 : -1;
    close(fd);

    return rc;
}


/*
 * Waits for the runner's socket (0) or a pending worker's exec, whose
 * mapping is then given back; with every slot taken, for an exec only.
 * 1: the runner's socket is readable (or gone); 0: not yet.
 */

static int
fp_pending_wait(void)
{
    int            i, n;
    struct pollfd  pfd[FP_PENDING + 1];

    for (i = 0; i < FP_PENDING; i++) {
        pfd[i].fd = fp_pending[i].fd;
        pfd[i].events = POLLIN;
        pfd[i].revents = 0;
    }

    pfd[FP_PENDING].fd = (fp_npending < FP_PENDING) ? 0 : -1;
    pfd[FP_PENDING].events = POLLIN;
    pfd[FP_PENDING].revents = 0;

    n = poll(pfd, FP_PENDING + 1, -1);

    if (n <= 0) {
        return 0;
    }

    for (i = 0; i < FP_PENDING; i++) {
        if (pfd[i].fd != -1 && pfd[i].revents && !fp_pending[i].ended) {
            /* its setsid()'s byte, late; or the end of its pipe */
            fp_pending_byte(i, 0);
        }

        if (pfd[i].fd != -1 && pfd[i].revents && fp_pending[i].ended) {
            close(fp_pending[i].fd);
            (void) munmap(fp_pending[i].mem, fp_pending[i].size);
            fp_pending[i].fd = -1;
            fp_npending--;
        }
    }

    return pfd[FP_PENDING].revents != 0;
}


/* the worker: the function's descriptors, limits, credentials, program */

static int
fp_worker(void *data)
{
    int            i, err, prog, hi[FP_FDS + 1];
    sigset_t       none;
    fp_job_t      *job;
    fp_conf_t     *c;
    struct rlimit  rl;
    int           *fd;
    char         **argv, **env;

    job = data;
    c = job->conf;
    fd = job->fd;
    argv = job->argv;        /* the path, then the arguments */
    env = job->env;

    if (fchdir(c->dir) == -1) {
        goto failed;
    }

    /* out of our group, then said (fp_pending_byte) */
    (void) setsid();
    (void) !write(job->done, "", 1);

    sigemptyset(&none);
    (void) sigprocmask(SIG_SETMASK, &none, NULL);
    (void) umask(c->umask);

    /* above the ones they go to, then into place: 0, 1, 2 and 3, and
     * on 4 the pipe that tells the prototype its mapping is free */
    for (i = 0; i < FP_FDS + 1; i++) {
        hi[i] = fcntl(i < FP_FDS ? fd[i] : job->done, F_DUPFD, 10);

        if (hi[i] == -1) {
            goto failed;
        }
    }

    /* a program the runner holds: on 5, exec'd from there */
    prog = (fd[FP_FDS] == -1) ? -1 : fcntl(fd[FP_FDS], F_DUPFD_CLOEXEC, 10);

    if (fd[FP_FDS] != -1 && prog == -1) {
        goto failed;
    }

    for (i = 0; i < FP_FDS; i++) {
        if (dup2(hi[i], i) == -1) {
            goto failed;
        }
    }

    if (dup3(hi[FP_FDS], FP_FDS, O_CLOEXEC) == -1
        || (prog != -1 && dup3(prog, FP_FDS + 1, O_CLOEXEC) == -1)
        || faas_close_range(FP_FDS + (prog == -1 ? 1 : 2), ~0U, 0) == -1)
    {
        goto failed;
    }

    (void) fcntl(3, F_SETFD, FD_CLOEXEC);

    if (c->memory > 0) {
        rl.rlim_cur = rl.rlim_max = c->memory;
        (void) setrlimit(RLIMIT_AS, &rl);
    }

    /* the OOM killer's first choice, before us (fp_oom_init) */
    if (fp_oom_worker(c) == -1) {
        goto failed;
    }

    rl.rlim_cur = rl.rlim_max = c->nproc;
    (void) setrlimit(RLIMIT_NPROC, &rl);
    rl.rlim_cur = rl.rlim_max = c->nofile;
    (void) setrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = rl.rlim_max = 0;
    (void) setrlimit(RLIMIT_CORE, &rl);

    /* the function's user, never root (checked as we started) */
    if (syscall(FAAS_SYS_SETGROUPS, 1, &c->gid) == -1
        || syscall(FAAS_SYS_SETGID, c->gid) == -1
        || syscall(FAAS_SYS_SETUID, c->uid) == -1)
    {
        goto failed;
    }

    /* dies with the runner, its parent; set after the credentials */
    if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) == -1) {
        goto failed;
    }

    /* a parent outside its pid namespace is 0 to it */
    if (getppid() != (c->pidns ? 0 : c->runner)) {
        errno = ESRCH;
        goto failed;
    }

    if (argv[0][0] == '\0') {
        faas_execveat(FP_FDS + 1, "", argv + 1, env, AT_EMPTY_PATH);

    } else {
        execve(argv[0], argv + 1, env);
    }

failed:

    err = errno;
    (void) !write(3, &err, sizeof(int));
    _exit(127);
}
