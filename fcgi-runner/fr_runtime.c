/*
 * Copyright (C) ngx_faas developers
 *
 * Runtimes: functions that name an application rather than a program.
 * "runtime = php" serves the function's PHP scripts with faas-php
 * (fcgi-runtime/runtimes/php), our PHP SAPI: found at start beside the
 * runner's binary, ../lib/faas from it or /usr/lib/faas, held open and
 * exec'd by that descriptor (fr_spawn.c, faas-init), so it need not be
 * where the function's user may look. The PHP ini values it is given:
 * memory_limit (half the function's memory) and max_execution_time
 * (its timeout) as defaults, each php.NAME as one the code may not
 * change. "runtime = python" serves the WSGI application "app" with
 * our driver (fcgi-runner/runtimes/python/faas_wsgi.py), read once at
 * start from where faas-php is looked for, and given to /usr/bin/python3
 * on its command line: no path of the runner need be the function's.
 *
 * A worker started as any other (by the prototype, or the runner)
 * imports the application itself: a cold start. So the first spawn of
 * such a function also starts its zygote: the same driver, started as
 * a worker is (the function's user, limits, namespaces and folder) but
 * on a SOCK_SEQPACKET socket, which imports the application once and
 * then forks each worker the runner asks for, as a prototype does
 * (fr_proto.c, with the same messages and checks): its workers start
 * with the application loaded. The zygote is the runner's child, its
 * workers too (CLONE_PARENT): reaped, metered, killed as every worker.
 * Until it says it is ready, the function's workers wait for it (a
 * cold one would pay the same start, and its pages would be its own):
 * the requests that came meanwhile are queued (fr_runtime_awaited). One
 * that cannot import the application, starts threads while importing
 * it, or takes longer than the function's timeout is not tried again
 * until the function changes, and its workers start cold.
 */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fr_folder.h"
#include "fr_log.h"
#include "fr_pids.h"
#include "fr_proto.h"
#include "fr_runtime.h"
#include "fr_spawn.h"
#include "fr_sweep.h"


#define FR_RUNTIME_NAME    "faas_wsgi.py"
#define FR_RUNTIME_PATH    "/usr/lib/faas/" FR_RUNTIME_NAME
#define FR_RUNTIME_PYTHON  "/usr/bin/python3"
#define FR_RUNTIME_MAX     (100 * 1024)     /* under MAX_ARG_STRLEN */

/*
 * A ready zygote only forks: its CPU (its function's idle CPU) is
 * looked at every FR_RUNTIME_CHECK ms, and may grow by a fork's worth
 * for each fork, 1% of its life and a little more; beyond, it is the
 * function's code at work for no invocation, and it goes.
 */
#define FR_RUNTIME_CHECK       10000
#define FR_RUNTIME_FORK_CPU    50       /* ms */
#define FR_RUNTIME_SLACK_CPU   500      /* ms */
#define FR_RUNTIME_STARTS      5        /* zygotes a function's change */


static int fr_runtime_find(const char *name, int flags, char *path,
    size_t size);
static int fr_runtime_python_conf(fr_func_t *f);
static int fr_runtime_name(const char *s, size_t len);
static int fr_runtime_argv(fr_func_t *f);
static int fr_runtime_room(fr_func_t *f);
static fr_proto_t *fr_runtime_idlest(fr_proto_t *a, fr_proto_t *b);
static void fr_runtime_start(fr_func_t *f);
static void fr_runtime_ready(fr_io_t *io, uint32_t events);
static void fr_runtime_late(fr_timer_t *t);
static void fr_runtime_check(fr_timer_t *t);
static int fr_runtime_strays(fr_proto_t *z);
static void fr_runtime_failed(fr_proto_t *p, const char *why);
static void fr_runtime_free_args(char **args);
static void fr_runtime_wake(fr_proto_t *z);


static char  *fr_runtime_python;    /* the driver's source */
static int    fr_runtime_null = -1;
int           fr_runtime_php = -1;  /* faas-php, O_PATH */
char         *fr_runtime_php_path;


void
fr_runtime_init(void)
{
    int          fd;
    char         path[PATH_MAX + 32];
    struct stat  st;

    fr_spawn_zygote = fr_runtime_proto;

    fd = fr_runtime_find(FR_RUNTIME_NAME, O_RDONLY, path, sizeof(path));

    if (fd == -1 || fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)
        || st.st_size <= 0 || st.st_size > FR_RUNTIME_MAX
        || (fr_runtime_python = malloc(st.st_size + 1)) == NULL
        || read(fd, fr_runtime_python, st.st_size) != st.st_size)
    {
        free(fr_runtime_python);
        fr_runtime_python = NULL;

    } else {
        fr_runtime_python[st.st_size] = '\0';
    }

    if (fd != -1) {
        close(fd);
    }

    /* faas-php: held, exec'd by this descriptor; anyone may run it */
    fd = fr_runtime_find(FR_RUNTIME_PHP, O_PATH, path, sizeof(path));

    if (fd != -1
        && (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)
            || (st.st_mode & 0111) != 0111
            || (fr_runtime_php_path = strdup(path)) == NULL))
    {
        close(fd);
        fd = -1;
    }

    if (fr_runtime_php != -1) {
        close(fr_runtime_php);
    }

    fr_runtime_php = fd;
}


/* name beside the runner's binary, in ../lib/faas from it, or in
 * /usr/lib/faas: a build tree, an install under a prefix, a package */

static int
fr_runtime_find(const char *name, int flags, char *path, size_t size)
{
    int      fd;
    char     self[PATH_MAX], *slash;
    ssize_t  n;

    n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    self[n > 0 ? n : 0] = '\0';
    slash = strrchr(self, '/');

    flags |= O_CLOEXEC | O_NOFOLLOW;

    if (slash) {
        *slash = '\0';
        snprintf(path, size, "%s/%s", self, name);
        fd = open(path, flags);

        if (fd != -1) {
            return fd;
        }

        snprintf(path, size, "%s/../lib/faas/%s", self, name);
        fd = open(path, flags);

        if (fd != -1) {
            return fd;
        }
    }

    snprintf(path, size, "/usr/lib/faas/%s", name);

    return open(path, flags);
}


/*
 * The keys of a function with a runtime; its command line. Returns
 * the problems found.
 */

int
fr_runtime_configure(fr_func_t *f, int test)
{
    fr_fconf_t  *fc;

    fc = &f->conf;

    if (fc->runtime == NULL) {
        if (fc->nphp_own == 0) {
            fr_log(FR_LOG_ERR, 0, "%s/function.conf:%d: app and python.path "
                   "are for runtime = python", f->dir,
                   fr_fconf_line(fc, "app") ? fr_fconf_line(fc, "app")
                   : fr_fconf_line(fc, "python.path"));
            return 1;
        }

        fr_log(FR_LOG_ERR, 0, "%s/function.conf:%d: php.NAME is for runtime "
               "= php (php-cgi takes -d NAME=VALUE in exec)", f->dir,
               fc->php_line);
        return 1;
    }

    if (strcmp(fc->runtime, "python") == 0) {
        return fr_runtime_python_conf(f);
    }

    if (strcmp(fc->runtime, "php") == 0) {
        return fr_runtime_php_conf(f, test);
    }

    fr_log(FR_LOG_ERR, 0, "%s/function.conf:%d: unknown runtime \"%s\": "
           "php or python", f->dir, fr_fconf_line(fc, "runtime"),
           fc->runtime);

    return 1;
}


static int
fr_runtime_python_conf(fr_func_t *f)
{
    int          problems;
    char        *colon, **paths;
    size_t       i;
    fr_fconf_t  *fc;

    fc = &f->conf;
    problems = 0;

    if (fc->nphp_own) {
        fr_log(FR_LOG_ERR, 0, "%s/function.conf:%d: php.NAME is for "
               "runtime = php", f->dir, fc->php_line);
        problems++;
    }

    if (fc->exec || fc->script || fc->document_root
        || fc->mode != FR_MODE_FASTCGI)
    {
        fr_log(FR_LOG_ERR, 0, "%s/function.conf:%d: runtime = python "
               "runs its app: no exec, script, document_root, nor mode = cgi",
               f->dir, fr_fconf_line(fc, "runtime"));
        problems++;
    }

    colon = fc->app ? strchr(fc->app, ':') : NULL;

    if (fc->app == NULL
        || !fr_runtime_name(fc->app, colon ? (size_t) (colon - fc->app)
                                           : strlen(fc->app))
        || (colon && !fr_runtime_name(colon + 1, strlen(colon + 1))))
    {
        fr_log(FR_LOG_ERR, 0, "%s/function.conf:%d: runtime = python needs "
               "app = module:callable (a dotted module of the function's "
               "folder; its WSGI application)", f->dir,
               fr_fconf_line(fc, fc->app ? "app" : "runtime"));
        problems++;
    }

    if (fc->python_path) {
        if (fr_split_args(fc->python_path, &paths) < 0) {
            paths = NULL;
        }

        for (i = 0; paths == NULL || paths[i]; i++) {
            if (paths == NULL || paths[i][0] == '/'
                || strcmp(paths[i], "..") == 0
                || strncmp(paths[i], "../", 3) == 0
                || strstr(paths[i], "/../")
                || (strlen(paths[i]) >= 3
                    && strcmp(paths[i] + strlen(paths[i]) - 3, "/..") == 0))
            {
                fr_log(FR_LOG_ERR, 0, "%s/function.conf:%d: python.path: "
                       "folders of the function's, relative to it, never "
                       "above it", f->dir, fr_fconf_line(fc, "python.path"));
                problems++;
                break;
            }
        }

        fr_runtime_free_args(paths);
    }

    if (fr_runtime_python == NULL) {
        fr_log(FR_LOG_ERR, 0, "function \"%s\": runtime = python needs "
               FR_RUNTIME_NAME " beside the runner or at " FR_RUNTIME_PATH,
               f->name);
        problems++;
    }

    if (problems == 0 && fr_runtime_argv(f) != FR_OK) {
        fr_log(FR_LOG_ALERT, errno, "malloc() failed");
        problems++;
    }

    /* a close() of the app's iterable that takes long: the driver ends
     * the response first, its END_REQUEST comes when close() returns
     * (fr_fastcgi_worker.c), as faas-php's fastcgi_finish_request() */
    f->ends_early = 1;

    return problems;
}


/* a dotted name of Python identifiers (ASCII) */

static int
fr_runtime_name(const char *s, size_t len)
{
    size_t  i;
    int     first;

    first = 1;

    for (i = 0; i < len; i++) {
        if (s[i] == '.' && !first && i + 1 < len) {
            first = 1;
            continue;
        }

        if (!(s[i] == '_' || (s[i] >= 'a' && s[i] <= 'z')
              || (s[i] >= 'A' && s[i] <= 'Z')
              || (!first && s[i] >= '0' && s[i] <= '9')))
        {
            return 0;
        }

        first = 0;
    }

    return len > 0 && !first;
}


static void
fr_runtime_free_args(char **args)
{
    size_t  i;

    for (i = 0; args && args[i]; i++) {
        free(args[i]);
    }

    free(args);
}

/* python3 -I -c DRIVER -p|- APP [PATH...] */

static int
fr_runtime_argv(fr_func_t *f)
{
    int     n, i;
    char  **paths, **argv;

    paths = NULL;

    if (f->conf.python_path && fr_split_args(f->conf.python_path, &paths) < 0)
    {
        return FR_ERROR;
    }

    for (n = 0; paths && paths[n]; n++) { /* void */ }

    argv = calloc(n + 7, sizeof(char *));

    if (argv == NULL) {
        fr_runtime_free_args(paths);
        return FR_ERROR;
    }

    argv[0] = strdup(FR_RUNTIME_PYTHON);
    argv[1] = strdup("-I");
    argv[2] = strdup("-c");
    argv[3] = strdup(fr_runtime_python);
    argv[4] = strdup(geteuid() == 0 ? "-p" : "-");    /* not dumpable */
    argv[5] = strdup(f->conf.app);

    if (n) {
        memcpy(&argv[6], paths, n * sizeof(char *));
    }

    free(paths);
    f->argv = argv;

    for (i = 0; i < 6; i++) {
        if (argv[i] == NULL) {
            return FR_ERROR;
        }
    }

    return FR_OK;
}


/*
 * The zygote to fork f's next worker from: alive, of its present
 * settings and ready; else NULL (a worker starts cold), and one is
 * started if there is none.
 */

fr_proto_t *
fr_runtime_proto(fr_func_t *f)
{
    fr_proto_t  *z;

    /* nor in a pid namespace of its own, no prototype's (user root):
     * faas-init's child, its forks never the runner's, it serves none */
    if (f->conf.runtime == NULL || f->zygote_spawning
        || (!fr_proto_wanted(f) && fr_runner.is_root
            && (f->conf.isolation & FR_ISOLATE_PID)))
    {
        return NULL;
    }

    z = f->zygote;

    /* its prototype's namespace, kept paths and settings still hold */
    if (z && fr_proto_wanted(f) && z->parent != fr_proto_current(f)) {
        fr_log(FR_LOG_INFO, 0, "the prototype of \"%s\" changed: a new "
               "zygote", f->name);
        fr_proto_retire(z);
        z = NULL;
    }

    if (z && (z->pid == 0 || z->generation != f->generation)) {
        fr_proto_retire(z);
        z = NULL;
    }

    if (f->zygote_generation != f->generation) {
        f->zygote_generation = f->generation;
        f->zygote_starts = 0;
    }

    /* one that dies is replaced, not forever: each costs an import */
    /* (once a tick: a start that failed before its spawn is not tried
     * again by the same dispatch) */
    if (z == NULL && f->zygote_failed != f->generation + 1
        && f->zygote_starts < FR_RUNTIME_STARTS
        && f->zygote_tried != fr_current_msec + 1)
    {
        f->zygote_tried = fr_current_msec + 1;

        if (fr_runtime_room(f)) {
            f->zygote_starts++;
            fr_runtime_start(f);
        }

        return NULL;
    }

    if (z == NULL || !z->ready) {
        return NULL;
    }

    fr_timer_del(&z->timer);

    return z;
}


/*
 * A zygote of f is on its way (started here if f may have one): its
 * workers wait for it, rather than each start PHP or import the app.
 */

int
fr_runtime_awaited(fr_func_t *f)
{
    fr_proto_t  *z;

    if (f->conf.runtime == NULL || f->zygote_spawning) {
        return 0;
    }

    z = f->zygote;

    if (z == NULL || z->pid == 0 || z->generation != f->generation) {
        (void) fr_runtime_proto(f);
        z = f->zygote;
    }

    return z != NULL && z->pid != 0 && !z->ready
           && z->generation == f->generation;
}


/*
 * The workers a zygote on its way will give, as many as could start now
 * (its function's, tenant's and the host's limits), for the queue's
 * bound (fr_pool.c): a look, which starts nothing.
 */

int
fr_runtime_coming(fr_func_t *f)
{
    int64_t       room, n;
    fr_proto_t   *z;
    fr_tenant_t  *t;

    z = f->zygote;

    if (z == NULL || z->ready || z->pid == 0 || z->generation != f->generation
        || fr_current_msec < f->throttled_until)
    {
        return 0;
    }

    room = f->conf.max_instances - f->nworkers;
    t = f->owner;

    if (t && t->max_instances) {
        n = (int64_t) t->max_instances - t->nworkers;
        room = (n < room) ? n : room;
    }

    if (t && t->max_memory && f->conf.memory > 0) {
        n = (t->max_memory - t->memory) / f->conf.memory;
        room = (n < room) ? n : room;
    }

    if (fr_runner.conf.max_workers) {
        n = (int64_t) fr_runner.conf.max_workers - fr_runner.nworkers;
        room = (n < room) ? n : room;
    }

    return room > 0 ? (int) room : 0;
}


/* its function's queue and min_instances, looked at again (fr_pool.c) */

static void
fr_runtime_wake(fr_proto_t *z)
{
    fr_func_t  *f;

    f = z->func;

    if (f && f->zygote == z && f->timer.handler) {
        fr_timer_add(&f->timer, 0);
    }
}


/*
 * Room for one more zygote (an app loaded, serving nobody): a tenant
 * has no more than its max_instances, the host than max_workers; at
 * the bound the one idle the longest (no worker of it alive) goes for
 * this one, none idle: the workers start cold. One of the tenant's own
 * retired counts among its function's few starts; another's does not.
 */

static int
fr_runtime_room(fr_func_t *f)
{
    int           nt, nh;
    fr_link_t    *l;
    fr_proto_t   *p, *idle_t, *idle_h;
    fr_tenant_t  *t;

    t = f->owner;
    nt = nh = 0;
    idle_t = idle_h = NULL;

    for (l = fr_list_first(&fr_runner.protos); l != &fr_runner.protos;
         l = l->next)
    {
        p = fr_list_data(l, fr_proto_t, link);

        if (!p->zygote || p->retired || p->func == NULL) {
            continue;
        }

        nh++;
        idle_h = fr_runtime_idlest(idle_h, p);

        if (t && p->func->owner == t) {
            nt++;
            idle_t = fr_runtime_idlest(idle_t, p);
        }
    }

    if (t && t->max_instances && nt >= t->max_instances) {
        if (idle_t == NULL) {
            return 0;
        }

        fr_log(FR_LOG_INFO, 0, "zygote %d of \"%s\" retired: tenant \"%s\" "
               "has %d, its max_instances", (int) idle_t->pid, idle_t->name,
               t->name, nt);
        idle_h = (idle_h == idle_t) ? NULL : idle_h;
        fr_proto_retire(idle_t);
        nh--;
    }

    if (fr_runner.conf.max_workers && nh >= fr_runner.conf.max_workers) {
        if (idle_h == NULL) {
            return 0;
        }

        fr_log(FR_LOG_INFO, 0, "zygote %d of \"%s\" retired: the host has "
               "%d, max_workers", (int) idle_h->pid, idle_h->name, nh);

        /* room for another tenant's: not a start of its own to count */
        if (idle_h->func->owner != t) {
            fr_proto_unfault(idle_h);
        }

        fr_proto_retire(idle_h);
    }

    return 1;
}


/* of a and b, the ready one idle the longest: none of its workers alive */

static fr_proto_t *
fr_runtime_idlest(fr_proto_t *a, fr_proto_t *b)
{
    if (!b->ready || b->refs) {
        return a;
    }

    return (a == NULL || b->timer.when < a->timer.when) ? b : a;
}


static void
fr_runtime_start(fr_func_t *f)
{
    int          fd[3], exec_fd;
    pid_t        pid;
    fr_proto_t  *z;

    if (fr_runtime_null == -1) {
        fr_runtime_null = open("/dev/null", O_RDWR | O_CLOEXEC);
    }

    z = fr_proto_new(f, &fd[0]);

    if (z == NULL) {
        return;
    }

    z->zygote = 1;
    z->nkept = 0;

    if (setsockopt(z->fd, SOL_SOCKET, SO_PASSCRED, &(int) { 1 }, sizeof(int))
        == -1)
    {
        fr_log(FR_LOG_ALERT, errno, "setsockopt(SO_PASSCRED) failed");
        close(fd[0]);
        fr_proto_retire(z);
        return;
    }

    /* its own output goes nowhere: a cold worker's shows the same */
    fd[1] = fd[2] = fr_runtime_null;

    if (strcmp(f->conf.runtime, "php") == 0) {
        fr_runtime_php_sessions(f);
    }

    f->zygote_spawning = 1;
    pid = fr_spawn(f, NULL, fd, &exec_fd, &z->parent, 0);
    f->zygote_spawning = 0;

    close(fd[0]);

    if (pid < 0) {
        f->zygote_failed = f->generation + 1;
        fr_proto_retire(z);
        return;
    }

    /* a failed exec ends it: its socket says so */
    close(exec_fd);

    z->pid = pid;
    z->io.fd = z->fd;
    z->io.handler = fr_runtime_ready;
    z->io.data = z;
    z->timer.handler = fr_runtime_late;
    f->zygote = z;
    fr_runner.proto_starts++;

    if (fr_io_set(&z->io, EPOLLIN) != FR_OK) {
        fr_runtime_failed(z, "could not be watched");
        return;
    }

    fr_timer_add(&z->timer, f->conf.timeout);

    fr_log(FR_LOG_INFO, 0, "zygote %d of \"%s\" started, %s %s",
           (int) pid, f->name, f->conf.app ? "importing" : "starting",
           f->conf.app ? f->conf.app : "PHP");
}


/* its first word: ready, or why not */

static void
fr_runtime_ready(fr_io_t *io, uint32_t events)
{
    ssize_t      n;
    int32_t      r[2];
    fr_proto_t  *z;

    (void) events;

    z = io->data;

    n = recv(z->fd, r, sizeof(r), MSG_DONTWAIT | MSG_TRUNC);

    if (n == -1 && (errno == EAGAIN || errno == EINTR)) {
        return;
    }

    if (n != (ssize_t) sizeof(r) || r[0] != 0 || r[1] != 0) {
        fr_runtime_failed(z, n == 0 || n == -1
                             ? "exited while importing its app"
                             : n != (ssize_t) sizeof(r) || r[0] != -1
                             ? "answered garbage"
                             : r[1] == ENOEXEC
                             ? (z->func && z->func->conf.app == NULL
                                ? "could not start PHP (a worker's log "
                                  "shows why)"
                                : "could not import its app (a worker's log "
                                  "shows why)")
                             : r[1] == EBUSY
                             ? "found threads running after importing its "
                               "app: a fork copies only one"
                             : "cannot fork here");
        return;
    }

    if (fr_runtime_strays(z)) {
        return;
    }

    /* from now on it speaks when spoken to, as a prototype does */
    fr_io_forget(&z->io);
    fr_timer_del(&z->timer);
    z->timer.handler = fr_proto_idle;
    z->ready = 1;

    if (z->refs == 0) {
        fr_timer_add(&z->timer, fr_runner.conf.prototype_idle_timeout);
    }

    z->cpu_base = fr_proc_cpu_ms(z->pid);
    z->ready_at = fr_current_msec;
    z->check.handler = fr_runtime_check;
    z->check.data = z;
    fr_timer_add(&z->check, FR_RUNTIME_CHECK);

    fr_log(FR_LOG_INFO, 0, "zygote %d of \"%s\" ready: its workers fork "
           "from it", (int) z->pid, z->name);

    fr_runtime_wake(z);
}


static void
fr_runtime_check(fr_timer_t *t)
{
    int64_t       cpu, allowed;
    fr_proto_t   *z;
    fr_worker_t   w;

    z = t->data;

    if (fr_runtime_strays(z)) {
        return;
    }

    /*
     * What it made the runner's child after it was ready, in a session
     * of its own: outside a pid namespace none of its looks nor the
     * idle look's sweeps find it, a worker's end of its user alone
     * does, and its function's may live on. Swept so here (whose, it or
     * a worker, is not known: the zygote stays).
     */
    if (z->func && z->func->set_user
        && fr_pid_ns(z->pid) == fr_pid_ns(getpid()))
    {
        memset(&w, 0, sizeof(fr_worker_t));
        w.uid = z->func->uid;
        w.func = z->func;
        fr_sweep_host(&w);
    }

    cpu = fr_proc_cpu_ms(z->pid);

    if (cpu < 0 && errno == ENOENT) {
        /* gone: reaped in a moment */
        return;
    }

    if (cpu < 0 || z->cpu_base < 0) {
        /* not read this time (descriptors out?): the next look */
        z->cpu_base = (z->cpu_base < 0) ? cpu : z->cpu_base;
        fr_timer_add(&z->check, FR_RUNTIME_CHECK);
        return;
    }

    allowed = z->cpu_base + ((int64_t) z->forks + 2) * FR_RUNTIME_FORK_CPU
              + (int64_t) (fr_current_msec - z->ready_at) / 100
              + FR_RUNTIME_SLACK_CPU;

    if (cpu <= allowed) {
        fr_timer_add(&z->check, FR_RUNTIME_CHECK);
        return;
    }

    fr_log(FR_LOG_ERR, 0, "zygote %d of \"%s\" used %lld ms of CPU since "
           "its app was imported, for %llu forks (at most %lld)", (int) z->pid,
           z->name, (long long) (cpu - z->cpu_base),
           (unsigned long long) z->forks, (long long) (allowed - z->cpu_base));

    /* what it started goes with its namespace */
    if (z->parent) {
        fr_proto_retire(z->parent);
    }

    fr_runtime_failed(z, "worked for nobody's bill");
}


/*
 * A zygote has no child of its own: its spare and workers are the
 * runner's (CLONE_PARENT). One it has the app made (a fork at import):
 * nobody bills, limits or ends it; so is more than one unknown child of
 * the runner's in its session (fr_sweep.c). Each is killed with what is
 * under it (fr_sweep_zygote), the zygote retired: its workers start
 * cold, each importing the app itself. 1: found.
 */

static int
fr_runtime_strays(fr_proto_t *z)
{
    int  n;

    n = fr_sweep_zygote(z);

    if (n == 0) {
        return 0;
    }

    fr_log(FR_LOG_ERR, 0, "zygote %d of \"%s\" has %d process(es) of its "
           "own, which its app started: killed", (int) z->pid, z->name, n);

    /* what those started goes with its namespace */
    if (z->parent) {
        fr_proto_retire(z->parent);
    }

    fr_runtime_failed(z, "started processes nobody bills");

    return 1;
}


static void
fr_runtime_late(fr_timer_t *t)
{
    fr_runtime_failed(t->data, "was not ready within the function's "
                      "timeout");
}


static void
fr_runtime_failed(fr_proto_t *z, const char *why)
{
    fr_log(FR_LOG_ERR, 0, "zygote %d of \"%s\" %s; its workers start cold "
           "until the function changes", (int) z->pid, z->name, why);

    if (z->func && z->func->zygote == z) {
        z->func->zygote_failed = z->generation + 1;
        fr_runtime_wake(z);
    }

    fr_proto_retire(z);
}
