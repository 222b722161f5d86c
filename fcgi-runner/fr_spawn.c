/*
 * Copyright (C) ngx_faas developers
 *
 * A worker's process: its environment, descriptors, credentials and
 * limits, clone and exec; and the processes it leaves behind. Where
 * isolation grows. Knows nothing of queues or requests: it is given
 * the function, the descriptors and, for a CGI process, the request's
 * parameters.
 */

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fr_fcgi.h"
#include "fr_log.h"
#include "fr_path.h"
#include "fr_cgroup.h"
#include "fr_isolate.h"
#include "fr_proto.h"
#include "fr_proto_room.h"
#include "fr_spawn.h"
#include "init/faas-sys.h"


#define FR_DEFAULT_PATH    "PATH=" FR_SEARCH_PATH
#define FR_STRAYS_MAX      256        /* processes stopped at once */


/* a process a worker left behind, stopped, pinned */
typedef struct {
    pid_t                  pid;
    int                    pfd;
} fr_stray_t;


static int fr_env_has(fr_func_t *f, const char *name);
static char **fr_spawn_env(fr_func_t *f, const fr_buf_t *params);
static int fr_spawn_child(void *data);
static int fr_spawn_kill_pass(fr_worker_t *w, fr_stray_t *strays, int *n);
static int fr_spawn_chdir(fr_func_t *f);
static fr_proto_t *fr_spawn_proto(fr_func_t *f);
static pid_t fr_spawn_clone(fr_func_t *f, char **env, int fd[3],
    int *exec_fd, int proto);


/* what the child needs, on the runner's memory while it runs */
typedef struct {
    fr_func_t             *func;
    fr_isolate_t          *iso;
    char                 **env;
    pid_t                  runner;
    int                    fd[3];
    int                    errfd;
    int                    null;
    int                    cgroup;          /* its cgroup.procs, or -1 */
} fr_child_t;


/* a runtime's zygote for f, set by fr_runtime.c (higher up) */
fr_proto_t  *(*fr_spawn_zygote)(fr_func_t *f);


/*
 * The child runs on the runner's memory (CLONE_VM) while the runner
 * waits (CLONE_VFORK) until it has exec'ed: only one child at a time
 * uses this stack.
 */
static u_char  fr_child_stack[64 * 1024] __attribute__((aligned(16)));


/*
 * A pipe for a worker: both ends close on exec (the child gets its end
 * by dup2), ours (0: the read end, 1: the write end) non-blocking. Its
 * inode is kept: processes a worker leaves behind are found by it.
 */

int
fr_spawn_pipe(int p[2], int ours, ino_t *ino)
{
    struct stat  st;

    if (pipe2(p, O_CLOEXEC) == -1) {
        fr_log(FR_LOG_ALERT, errno, "pipe2() failed");
        p[0] = p[1] = -1;
        return FR_ERROR;
    }

    (void) fcntl(p[ours], F_SETFL, O_NONBLOCK);

    if (fstat(p[0], &st) == 0) {
        *ino = st.st_ino;
    }

    return FR_OK;
}


void
fr_spawn_close(int *fd, int n)
{
    int  i;

    for (i = 0; i < n; i++) {
        if (fd[i] != -1) {
            close(fd[i]);
            fd[i] = -1;
        }
    }
}


/*
 * Starts the function's program with fd[0..2] as its 0, 1 and 2 (-1:
 * /dev/null; the runner's stderr for 2). params: a CGI request's
 * parameters, its meta-variables; NULL for a kept FastCGI worker.
 * *exec_fd is closed when the program runs, or carries the errno of a
 * failed exec. A worker is forked by its function's prototype (*proto,
 * fr_proto.c: a root runner's, for a user not root); when that cannot
 * be, the runner starts it itself, as it does every other, and as it
 * does when asked to (direct). Returns the pid, or -1; FR_PROTO_GIVEN:
 * fd[] went to a prototype that failed, start the worker again on new
 * ones (direct).
 */

pid_t
fr_spawn(fr_func_t *f, const fr_buf_t *params, int fd[3], int *exec_fd,
    fr_proto_t **proto, int direct)
{
    char        **env;
    pid_t         pid;
    fr_proto_t   *p;

    *proto = NULL;

    if (f->exec_path == NULL) {
        fr_log(FR_LOG_ERR, 0, "function \"%s\" cannot start: exec \"%s\" "
               "is not an executable file", f->name, f->argv[0]);
        return -1;
    }

    if (fr_runner.is_root && !f->set_user) {
        /* never the runner's own identity by default */
        fr_log(FR_LOG_ALERT, 0, "function \"%s\" has no user to run as",
               f->name);
        return -1;
    }

    env = fr_spawn_env(f, params);
    if (env == NULL) {
        fr_log(FR_LOG_ALERT, errno, "malloc() failed");
        return -1;
    }

    /* a runtime's worker forks from its zygote, the app loaded */
    p = (fr_spawn_zygote && !direct) ? fr_spawn_zygote(f) : NULL;
    pid = p ? fr_proto_fork(p, env, fd, exec_fd) : -1;

    if (pid == -1) {
        p = (fr_proto_wanted(f) && !direct) ? fr_spawn_proto(f) : NULL;
        pid = p ? fr_proto_fork(p, env, fd, exec_fd) : -1;
    }

    if (pid == -1 && p && f->proto == NULL) {
        /* it was retired: once more, from a new one */
        p = fr_spawn_proto(f);
        pid = p ? fr_proto_fork(p, env, fd, exec_fd) : -1;
    }

    if (pid > 0) {
        *proto = p;

        if (p->zygote) {
            fr_cgroup_oom_above(p->pid, pid);
        }

    } else if (pid == -1) {
        pid = fr_spawn_clone(f, env, fd, exec_fd, 0);
    }

    free(env);

    return pid;
}


/* the function's prototype, started if it has none: or NULL */

static fr_proto_t *
fr_spawn_proto(fr_func_t *f)
{
    int          fd[3], exec_fd;
    pid_t        pid;
    fr_proto_t  *p;

    static char  *noenv[] = { NULL };

    p = fr_proto_current(f);

    if (p == NULL) {
        fr_proto_room(f);
    }

    if (p == NULL && (p = fr_proto_new(f, &fd[0])) != NULL) {
        fd[1] = fd[2] = exec_fd = -1;
        pid = fr_spawn_clone(f, noenv, fd, &exec_fd, 1);
        close(fd[0]);

        if (fr_proto_started(p, pid, exec_fd) != FR_OK) {
            p = NULL;
        }
    }

    return p;
}


/* a worker, or a prototype (proto), started by the runner */

static pid_t
fr_spawn_clone(fr_func_t *f, char **env, int fd[3], int *exec_fd, int proto)
{
    int            pexec[2];
    pid_t          pid;
    fr_child_t     child;
    fr_isolate_t   iso;

    /* never waited on: faas-init keeps it until the function runs */
    if (pipe2(pexec, O_CLOEXEC | O_NONBLOCK) == -1) {
        fr_log(FR_LOG_ALERT, errno, "pipe2() failed");
        return -1;
    }

    if (fr_isolate_prepare(f, &iso, proto) != FR_OK) {
        fr_log(FR_LOG_ALERT, errno, "malloc() failed");
        close(pexec[0]);
        close(pexec[1]);
        return -1;
    }

    if (fr_cgroup_procs(f, &child.cgroup) != FR_OK) {
        fr_isolate_done(&iso);
        close(pexec[0]);
        close(pexec[1]);
        return -1;
    }

    child.func = f;
    child.iso = &iso;
    child.env = env;
    child.runner = getpid();
    child.errfd = pexec[1];
    memcpy(child.fd, fd, sizeof(child.fd));

    /*
     * As posix_spawn() does it: no copy of the runner's page tables and
     * no copy-on-write faults while the child execs; the runner goes on
     * once the child has exec'ed or failed.
     */
    pid = clone(fr_spawn_child, fr_child_stack + sizeof(fr_child_stack),
                CLONE_VM | CLONE_VFORK | SIGCHLD | iso.flags, &child);

    fr_isolate_done(&iso);
    close(pexec[1]);

    if (child.cgroup != -1) {
        close(child.cgroup);
    }

    if (pid == -1) {
        fr_log(FR_LOG_ALERT, errno, "clone() failed while spawning \"%s\"",
               f->name);
        close(pexec[0]);
        return -1;
    }

    *exec_fd = pexec[0];

    return pid;
}


static int
fr_env_has(fr_func_t *f, const char *name)
{
    int     i;
    size_t  len;

    len = strlen(name);

    for (i = 0; i < f->conf.nenv; i++) {
        if (strncmp(f->conf.env[i], name, len) == 0
            && f->conf.env[i][len] == '=')
        {
            return 1;
        }
    }

    return 0;
}


/*
 * Nothing of the runner's own environment: PATH, the function's env.*
 * and, for cgi mode, the request's meta-variables, which win over an
 * env.* of the same name (what nginx and the runner say of the request
 * and its invocation, FAAS_TRIGGER, FAAS_ATTEMPT, REMOTE_ADDR, is not
 * the function's to set), as PHP's getenv() has them.
 */

static char **
fr_spawn_env(fr_func_t *f, const fr_buf_t *params)
{
    int            i, j, n, request, has_path;
    char         **env, *e, *s;
    size_t         nlen, vlen, size, len;
    const u_char  *pos, *last, *name, *value;

    n = f->conf.nenv + 8;
    size = 0;

    if (params) {
        pos = fr_buf_pos(params);
        last = pos + params->len;

        while (fr_fcgi_nv_next(&pos, last, &name, &nlen, &value, &vlen)
               == FR_OK)
        {
            n++;
            size += nlen + vlen + 2;
        }
    }

    size += 512 + (f->script_path ? strlen(f->script_path) : 0);

    env = malloc(n * sizeof(char *) + size);
    if (env == NULL) {
        return NULL;
    }

    s = (char *) (env + n);
    n = 0;

    if (params) {
        pos = fr_buf_pos(params);
        last = pos + params->len;

        while (fr_fcgi_nv_next(&pos, last, &name, &nlen, &value, &vlen)
               == FR_OK)
        {
            if (nlen == 0 || memchr(name, '=', nlen) || memchr(name, 0, nlen)
                || (nlen == 4 && memcmp(name, "PATH", 4) == 0)
                || (nlen == 10 && memcmp(name, "HTTP_PROXY", 10) == 0)
                || (nlen > 3 && memcmp(name, "LD_", 3) == 0)
                || (f->script_path && nlen == 15
                    && memcmp(name, "SCRIPT_FILENAME", 15) == 0))
            {
                continue;
            }

            e = s;
            memcpy(s, name, nlen);
            s += nlen;
            *s++ = '=';
            len = strnlen((char *) value, vlen);
            memcpy(s, value, len);
            s += len;
            *s++ = '\0';
            env[n++] = e;
        }

        env[n++] = "GATEWAY_INTERFACE=CGI/1.1";
        env[n++] = "REDIRECT_STATUS=200";

        if (f->script_path) {
            env[n++] = s;
            s += sprintf(s, "SCRIPT_FILENAME=%s", f->script_path) + 1;
        }
    }

    request = n;
    has_path = 0;

    for (i = 0; i < f->conf.nenv; i++) {
        e = f->conf.env[i];
        nlen = strchr(e, '=') - e + 1;

        for (j = 0; j < request; j++) {
            if (strncmp(env[j], e, nlen) == 0) {
                break;
            }
        }

        if (j == request) {
            env[n++] = e;
            has_path |= (strncmp(e, "PATH=", 5) == 0);
        }
    }

    if (!has_path) {
        env[n++] = FR_DEFAULT_PATH;
    }

    if (params == NULL && !fr_env_has(f, "PHP_FCGI_MAX_REQUESTS")) {
        /* php-cgi retires itself after this many: in step with us */
        env[n++] = s;
        s += sprintf(s, "PHP_FCGI_MAX_REQUESTS=%d", f->conf.max_requests) + 1;
    }

    env[n] = NULL;

    return env;
}


/*
 * In the child, on the runner's memory: only system calls, no libc state
 * (raw set*id: glibc's would signal the runner's threads); never returns.
 */

static int
fr_spawn_child(void *data)
{
    int             err, fd[3], i, first, init, prog;
    fr_child_t     *c;
    fr_func_t      *f;
    sigset_t        set;
    struct rlimit   rl;

    c = data;
    f = c->func;

    /* the runner's 077 keeps state_dir its own; a function gets the
     * operator's umask */
    (void) umask(fr_runner.umask);

    sigemptyset(&set);
    (void) syscall(SYS_rt_sigprocmask, SIG_SETMASK, &set, NULL, _NSIG / 8);

    /* exec resets caught signals; the one the runner ignores, we reset */
    (void) signal(SIGPIPE, SIG_DFL);

    (void) setsid();

    /* into its function's memory cgroup before anything of its runs */
    if (c->cgroup != -1 && write(c->cgroup, "0", 1) != 1) {
        err = errno;
        goto failed;
    }

    c->null = open("/dev/null", O_RDWR | O_CLOEXEC);

    /* above the fds we are about to fill, then into place */
    c->errfd = fcntl(c->errfd, F_DUPFD_CLOEXEC, 10);
    init = c->iso->argv ? fcntl(fr_runner.init_fd, F_DUPFD_CLOEXEC, 10)
                        : 0;
    prog = (f->exec_by_fd && !c->iso->proto)
           ? fcntl(f->exec_fd, F_DUPFD_CLOEXEC, 10) : 0;

    for (i = 0; i < 3; i++) {
        fd[i] = c->fd[i] != -1 ? c->fd[i] : (i == 2 ? STDERR_FILENO : c->null);
        fd[i] = fcntl(fd[i], F_DUPFD, 10);
    }

    if (c->errfd == -1 || init == -1 || prog == -1
        || fd[0] == -1 || fd[1] == -1 || fd[2] == -1
        || dup2(fd[0], 0) == -1 || dup2(fd[1], 1) == -1
        || dup2(fd[2], 2) == -1 || dup2(c->errfd, 3) == -1)
    {
        err = errno;
        goto failed;
    }

    (void) fcntl(3, F_SETFD, FD_CLOEXEC);
    c->errfd = 3;
    first = 4;

    if (c->iso->argv) {
        /* faas-init, on 4 for the exec */
        if (dup3(init, 4, O_CLOEXEC) == -1) {
            err = errno;
            goto failed;
        }

        first = 5;
    }

    /* a runtime's own program, on 5: faas-init's to exec, or ours */
    if (f->exec_by_fd && !c->iso->proto) {
        if (dup3(prog, 5, c->iso->argv ? 0 : O_CLOEXEC) == -1
            || (first == 4 && close(4) == -1 && errno != EBADF))
        {
            err = errno;
            goto failed;
        }

        first = 6;
    }

    if (close_range(first, ~0U, 0) == -1) {
        err = errno;
        goto failed;
    }

    if (f->conf.memory > 0 && !c->iso->proto) {
        rl.rlim_cur = rl.rlim_max = (rlim_t) f->conf.memory;
        (void) setrlimit(RLIMIT_AS, &rl);
    }

    /*
     * Processes count per user (RLIMIT_NPROC is the user's, so the
     * tenant's with dynamic users), descriptors per process; no core
     * dumps of customers' memory. faas-init is not held to the count
     * (its one fork must not fail because the tenant's other functions
     * are busy); it sets the limit for the function it starts. Nor is
     * a prototype, which sets them for each worker it forks.
     */
    rl.rlim_cur = rl.rlim_max = c->iso->argv ? RLIM_INFINITY
                                             : (rlim_t) f->conf.max_processes;
    (void) setrlimit(RLIMIT_NPROC, &rl);

    if (!c->iso->proto) {
        rl.rlim_cur = rl.rlim_max = (rlim_t) f->conf.max_files;
        (void) setrlimit(RLIMIT_NOFILE, &rl);
    }

    rl.rlim_cur = rl.rlim_max = 0;
    (void) setrlimit(RLIMIT_CORE, &rl);

    if (fr_isolate_child(f, c->iso) == -1) {
        err = errno;
        goto failed;
    }

    /* a prototype keeps root, for the function not to reach it; its
     * workers share a pid namespace it makes for them */
    if (c->iso->unshare_pid && unshare(CLONE_NEWPID) == -1) {
        err = errno;
        goto failed;
    }

    if (f->set_user && !c->iso->proto) {
        if (syscall(FAAS_SYS_SETGROUPS, 1, &f->gid) == -1
            || syscall(FAAS_SYS_SETGID, f->gid) == -1
            || syscall(FAAS_SYS_SETUID, f->uid) == -1)
        {
            err = errno;
            goto failed;
        }
    }

    if (f->set_user && c->iso->proto) {
        fr_path_as(f->uid, f->gid);
    }

    /*
     * Its folder, looked up with its own rights (and in its own mounts),
     * must still be the one its identity was taken from; setuid
     * programs gain it nothing.
     */
    i = fr_spawn_chdir(f);
    err = errno;

    if (f->set_user && c->iso->proto) {
        fr_path_as_runner();
    }

    if (i == -1 || syscall(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
    {
        err = (i == -1) ? err : errno;
        goto failed;
    }

    /*
     * Dies with the runner, however the runner dies; set last, as a
     * change of credentials clears it. The runner is single-threaded,
     * so its only thread is the parent that counts.
     */
    if (syscall(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) == -1
        || getppid() != ((c->iso->flags & CLONE_NEWPID) ? 0 : c->runner))
    {
        err = ESRCH;
        goto failed;
    }

    fr_isolate_exec(f, c->iso, c->env);
    err = errno;

failed:

    (void) !write(c->errfd, &err, sizeof(int));
    _exit(127);
}


/* in the child: into the function's folder, by descriptor */

static int
fr_spawn_chdir(fr_func_t *f)
{
    int   fd, rc;
    char  path[PATH_MAX];

    fd = fr_path_open(AT_FDCWD, f->dir, O_PATH | O_DIRECTORY, path);

    if (fd == -1) {
        /* removed, or swapped for a link it may not follow: said as
         * such (fr_reap.c), not as its program's exec */
        errno = (errno == ENOENT || errno == ELOOP || errno == ENOTDIR)
                ? ESTALE : errno;
        return -1;
    }

    if (fr_path_is(fd, f->dir_dev, f->dir_ino, &f->dir_handle)) {
        rc = fchdir(fd);

    } else {
        /* replaced since it was loaded: the next reload looks again */
        errno = ESTALE;
        rc = -1;
    }

    close(fd);

    return rc;
}


/*
 * Processes a worker left behind outside its process group (setsid, a
 * double fork) are found by what they still hold of it: its pipes or
 * its listening socket. They are not killed as they are found: one
 * killed while another still runs lets that one see it die and fork a
 * replacement (a "phoenix" pair) before its own turn. Each is pinned
 * with a pidfd, its descriptors read, and then stopped (SIGSTOP): a
 * stopped process runs no code, so it can neither fork (a signal
 * pending aborts a fork in progress) nor see the others go. The /proc
 * look is made again until it finds none not yet stopped (what they
 * forked before their stop), then all are killed at once; SIGKILL
 * ends a stopped process without letting it run again. The stopped
 * still count against the user's max_processes, so strays cannot fork
 * without bound meanwhile.
 *
 * What no /proc look can catch is a chain of processes each of which
 * forks and exits faster than a look: only a pid namespace (the
 * default isolation of a root runner: all ends with its process 1) or
 * a cgroup would end it by construction.
 */

static int
fr_spawn_kill_pass(fr_worker_t *w, fr_stray_t *strays, int *n)
{
    int             i, j, nw, pfd, found, stopped;
    char            path[64], link[64], want[3][40];
    DIR            *proc, *fds;
    pid_t           pid, self;
    ssize_t         len;
    struct stat     st;
    struct dirent  *de, *fe;

    nw = 0;

    for (i = 0; i < 3; i++) {
        if (w->ino[i]) {
            snprintf(want[nw++], sizeof(want[0]), "%s:[%llu]",
                     (i == 0 && w->ino_socket) ? "socket" : "pipe",
                     (unsigned long long) w->ino[i]);
        }
    }

    proc = (nw == 0) ? NULL : opendir("/proc");
    if (proc == NULL) {
        return 0;
    }

    stopped = 0;

    self = getpid();

    while (*n < FR_STRAYS_MAX && (de = readdir(proc)) != NULL) {
        if (!isdigit((u_char) de->d_name[0])) {
            continue;
        }

        pid = (pid_t) atoi(de->d_name);
        snprintf(path, sizeof(path), "/proc/%d", (int) pid);

        for (j = 0; j < *n && strays[j].pid != pid; j++) {
            /* void */
        }

        if (j < *n || pid == self || stat(path, &st) == -1
            || st.st_uid != w->uid
            || (!w->reaped && getpgid(pid) == w->pid))
        {
            /* stopped already, not its user's, or in its group:
             * signalled with it */
            continue;
        }

        pfd = (int) syscall(SYS_pidfd_open, pid, 0);
        if (pfd == -1) {
            continue;
        }

        snprintf(path, sizeof(path), "/proc/%d/fd", (int) pid);
        fds = opendir(path);
        found = 0;

        while (fds && !found && (fe = readdir(fds)) != NULL) {
            len = readlinkat(dirfd(fds), fe->d_name, link, sizeof(link) - 1);

            for (i = 0; len > 0 && i < nw; i++) {
                link[len] = '\0';
                found |= (strcmp(link, want[i]) == 0);
            }
        }

        if (fds) {
            closedir(fds);
        }

        if (found
            && syscall(SYS_pidfd_send_signal, pfd, SIGSTOP, NULL, 0) == 0)
        {
            strays[*n].pid = pid;
            strays[(*n)++].pfd = pfd;
            stopped++;
            continue;
        }

        close(pfd);
    }

    closedir(proc);

    return stopped;
}


void
fr_spawn_kill_strays(fr_worker_t *w)
{
    int         i, n;
    fr_stray_t  strays[FR_STRAYS_MAX];

    if (w->init) {
        /* process 1 of its own pid namespace: all in it ended with it */
        return;
    }

    if (w->reaped && w->proto
        && (w->proto->parent ? w->proto->parent : w->proto)->init)
    {
        /* what it left is in its function's pid namespace, orphaned to
         * the process 1 there: no look at every process of the host
         * (while it lives, what it left may still be its child) */
        (void) fr_proto_strays(w->proto);
        w->swept = 1;
        return;
    }

    do {
        n = 0;

        while (fr_spawn_kill_pass(w, strays, &n) > 0 && n < FR_STRAYS_MAX) {
            /* void */
        }

        for (i = 0; i < n; i++) {
            fr_log(FR_LOG_INFO, 0, "killing process %d left behind by "
                   "worker %d of \"%s\"", (int) strays[i].pid,
                   (int) w->pid, w->func->name);
            (void) syscall(SYS_pidfd_send_signal, strays[i].pfd, SIGKILL,
                           NULL, 0);
            close(strays[i].pfd);
        }

        /* more than one stop holds: those go, then the rest */
    } while (n == FR_STRAYS_MAX);
}




/* the exec report pipe: closed on exec, or the errno of a failed one */

void
fr_spawn_exec_handler(fr_io_t *io, uint32_t events)
{
    int           err;
    ssize_t       n;
    fr_worker_t  *w;

    (void) events;

    w = io->data;

    n = read(io->fd, &err, sizeof(int));

    if (n == -1 && errno == EAGAIN) {
        return;
    }

    if (n == (ssize_t) sizeof(int)) {
        w->exec_failed = 1;
        w->exec_errno = err;

    } else if (w->per_request) {
        /* closed on exec: the program of the request runs */
        w->ready_at = fr_current_usec;
    }

    fr_io_close(io);
}


/* exec and output may come in one batch: readiness is seen first */

void
fr_worker_exec_check(fr_worker_t *w)
{
    if (w->exec.fd != -1) {
        fr_spawn_exec_handler(&w->exec, EPOLLIN);
    }
}
