/*
 * Copyright (C) ngx_faas developers
 *
 * Memory cgroups: what a function's processes use in all, counted and
 * bounded by the kernel, whatever holds it (an address space, a memfd
 * written and kept open, SysV shared memory, its /tmp, its children
 * and theirs). RLIMIT_AS bounds one process's address space only.
 *
 * Under the runner's own cgroup, one of its own, fcgi-runner.PID; in it
 * one per tenant, t.NAME, limited to the tenant's max_memory; in that
 * one per function, f.NAME, limited to its memory times max_instances
 * and two (fr_cgroup_func_limit()). A worker or a
 * prototype joins its function's in the child, still root, before it
 * runs anything of the function's: what it forks is born there. A
 * worker forked by its prototype is born in it.
 *
 * cgroup v2 (the memory controller in the unified hierarchy): the
 * runner moves itself into a leaf of its cgroup, fcgi-runner.self
 * (a cgroup with controllers for its children holds no process), as
 * systemd's Delegate=memory lets it. cgroup v1: the memory hierarchy.
 * Neither writable (not root, a container's read-only cgroupfs): the
 * runner says so, and goes on without.
 *
 * Only root's files, none a tenant controls: the runner's own paths.
 */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <time.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "fr_log.h"
#include "fr_event.h"
#include "fr_pids.h"
#include "fr_cgroup_host.h"
#include "fr_cgroup.h"


#define FR_CGROUP_PREFIX "fcgi-runner."
#define FR_CGROUP_EXIT_MSEC  2000


typedef struct fr_cgroup_gone_s  fr_cgroup_gone_t;

/* a function's cgroup to remove once its processes are gone */
struct fr_cgroup_gone_s {
    fr_cgroup_gone_t      *next;
    char                   dir[1];
};


static int fr_cgroup_set(const char *dir, int64_t *have, int64_t want);
static int fr_cgroup_limit(const char *dir, int64_t bytes);
static int fr_cgroup_tenant(fr_tenant_t *t);
static int64_t fr_cgroup_func_limit(fr_func_t *f);
static void fr_cgroup_stale(int dfd);
static int fr_cgroup_rmtree(int dfd, const char *name, int depth);
static int fr_cgroup_kill(int dfd, const char *name);
static int fr_pids_in(const pid_t *pids, int n, pid_t pid);
static int fr_cgroup_alive(int dfd, const char *name);
static uint64_t fr_cgroup_msec(void);
static void fr_cgroup_keep(const char *dir);


static int                fr_cgroup_version;    /* 0: none */
static int                fr_cgroup_fd = -1;    /* fcgi-runner.PID */
static char               fr_cgroup_path[PATH_MAX + 32];
static char               fr_cgroup_name[32];
static int                fr_cgroup_parent = -1;
static fr_cgroup_gone_t  *fr_cgroup_gone;
static uint64_t           fr_cgroup_until;      /* ms: kills end */


/*
 * At start: the memory controller of the runner's cgroup, and a cgroup
 * of the runner's own under it. Those of runners that ended without
 * removing theirs (killed) are removed first.
 */

void
fr_cgroup_init(void)
{
    int   err, i, n;
    char  path[PATH_MAX];

    if (fr_cgroup_find(path, sizeof(path), &fr_cgroup_version) != FR_OK) {
        fr_log(FR_LOG_NOTICE, 0, "no memory cgroup controller found: "
               "memory is bounded by each process's address space only");
        fr_cgroup_version = 0;
        return;
    }

    if (fr_cgroup_version == 2
        && fr_cgroup_v2_leaf(path, sizeof(path)) != FR_OK)
    {
        err = errno;
        goto failed;
    }

    fr_cgroup_parent = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

    if (fr_cgroup_parent == -1) {
        err = errno;
        goto failed;
    }

    fr_cgroup_until = fr_cgroup_msec() + FR_CGROUP_EXIT_MSEC;
    fr_cgroup_stale(fr_cgroup_parent);

    /*
     * Its own, locked for its life (flock: a runner of another pid
     * namespace with the same pid holds its own); one of its name that
     * nobody holds was a runner's killed: what it left ends first
     */
    for (i = 0; i < 10; i++) {
        n = snprintf(fr_cgroup_name, sizeof(fr_cgroup_name),
                     FR_CGROUP_PREFIX "%d", (int) getpid());

        if (i) {
            snprintf(fr_cgroup_name + n, sizeof(fr_cgroup_name) - n, ".%d",
                     i);
        }

        if (mkdirat(fr_cgroup_parent, fr_cgroup_name, 0700) == -1) {
            if (errno != EEXIST) {
                break;
            }

            if (fr_cgroup_alive(fr_cgroup_parent, fr_cgroup_name)
                || fr_cgroup_rmtree(fr_cgroup_parent, fr_cgroup_name, 0)
                   != FR_OK
                || mkdirat(fr_cgroup_parent, fr_cgroup_name, 0700) == -1)
            {
                continue;
            }
        }

        fr_cgroup_fd = openat(fr_cgroup_parent, fr_cgroup_name,
                              O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        if (fr_cgroup_fd != -1 && flock(fr_cgroup_fd, LOCK_EX | LOCK_NB) == 0)
        {
            break;
        }

        err = errno;
        goto failed;
    }

    if (fr_cgroup_version == 1 && fr_cgroup_fd != -1) {
        /* an old kernel's: limits of a cgroup bound those in it */
        (void) fr_cgroup_write(fr_cgroup_fd, "memory.use_hierarchy", "1");
    }

    if (fr_cgroup_fd == -1
        || (fr_cgroup_version == 2
            && fr_cgroup_write(fr_cgroup_fd, "cgroup.subtree_control",
                               "+memory") != FR_OK))
    {
        err = errno;
        goto failed;
    }

    snprintf(fr_cgroup_path, sizeof(fr_cgroup_path), "%s/%s", path,
             fr_cgroup_name);

    fr_log(FR_LOG_NOTICE, 0, "memory cgroups (v%d) in \"%s\"",
           fr_cgroup_version, fr_cgroup_path);
    return;

failed:

    fr_log(fr_runner.is_root ? FR_LOG_WARN : FR_LOG_NOTICE, err,
           "no memory cgroup of the runner's own under \"%s\": memory is "
           "bounded by each process's address space only", path);

    if (fr_cgroup_fd != -1) {
        close(fr_cgroup_fd);
        (void) unlinkat(fr_cgroup_parent, fr_cgroup_name, AT_REMOVEDIR);
        fr_cgroup_fd = -1;
    }

    if (fr_cgroup_parent != -1) {
        close(fr_cgroup_parent);
        fr_cgroup_parent = -1;
    }

    fr_cgroup_version = 0;
}




/*
 * The function's cgroup, made and limited as its function and tenant
 * say now (a reload may have changed either): *fd, its cgroup.procs
 * opened, for the child to join it by (the caller closes it); -1
 * without cgroups. FR_ERROR: it cannot be (logged), nothing may start
 * unbounded.
 */

int
fr_cgroup_procs(fr_func_t *f, int *fd)
{
    int   again;
    char  dir[2 * NAME_MAX + 8], file[sizeof(dir) + 16];

    *fd = -1;

    if (fr_cgroup_version == 0) {
        return FR_OK;
    }

    if ((size_t) (f->owner
                  ? snprintf(dir, sizeof(dir), "t.%s/f.%s", f->owner->name,
                             f->name)
                  : snprintf(dir, sizeof(dir), "f.%s", f->name))
        >= sizeof(dir))
    {
        errno = ENAMETOOLONG;
        goto failed;
    }

    if (f->cgroup_dir && strcmp(f->cgroup_dir, dir) != 0) {
        /* its tenant changed: the old one goes with its processes */
        fr_cgroup_func_free(f);
    }

    snprintf(file, sizeof(file), "%s/cgroup.procs", dir);

    for (again = 1; /* void */; again = 0) {
        if (f->cgroup_dir == NULL) {
            fr_cgroup_keep(dir);
            f->cgroup_limit = -1;
        }

        /* cgroup.procs opened for each spawn: none held per function */
        if ((f->owner == NULL || fr_cgroup_tenant(f->owner) == FR_OK)
            && (f->cgroup_dir
                || ((mkdirat(fr_cgroup_fd, dir, 0700) == 0 || errno == EEXIST)
                    && (f->cgroup_dir = strdup(dir)) != NULL))
            && fr_cgroup_set(dir, &f->cgroup_limit, fr_cgroup_func_limit(f))
               == FR_OK
            && (*fd = openat(fr_cgroup_fd, file, O_WRONLY | O_CLOEXEC)) != -1)
        {
            return FR_OK;
        }

        if (errno != ENOENT || !again) {
            goto failed;
        }

        /* removed under it (by hand, a runner of another pid namespace
         * that took it for its own): made again, its tenant's too */
        free(f->cgroup_dir);
        f->cgroup_dir = NULL;

        if (f->owner) {
            f->owner->cgroup_made = 0;
        }
    }

failed:

    fr_log(FR_LOG_ALERT, errno, "function \"%s\" cannot start: its memory "
           "cgroup \"%s/%s\" cannot be made or limited", f->name,
           fr_cgroup_path, dir);

    return FR_ERROR;
}


/* a tenant's cgroup: its processes' memory up to its max_memory */

static int
fr_cgroup_tenant(fr_tenant_t *t)
{
    char  dir[NAME_MAX + 8], file[sizeof(dir) + 32];

    if ((size_t) snprintf(dir, sizeof(dir), "t.%s", t->name) >= sizeof(dir))
    {
        errno = ENAMETOOLONG;
        return FR_ERROR;
    }

    if (!t->cgroup_made) {
        /* v2: its functions' cgroups have the controller */
        snprintf(file, sizeof(file), "%s/cgroup.subtree_control", dir);

        if ((mkdirat(fr_cgroup_fd, dir, 0700) == -1 && errno != EEXIST)
            || (fr_cgroup_version == 2
                && fr_cgroup_write(fr_cgroup_fd, file, "+memory") != FR_OK))
        {
            return FR_ERROR;
        }

        t->cgroup_made = 1;
        t->cgroup_limit = -1;
    }

    return fr_cgroup_set(dir, &t->cgroup_limit, t->max_memory);
}


/*
 * What a tenant's cgroup says of its memory (-1 each: no cgroup). Five
 * or more files a tenant, about 60 us on the runner's thread: read at
 * most once a second, whoever asks (the dashboard's tabs, Prometheus,
 * the command line)
 */

void
fr_cgroup_tenant_use(fr_tenant_t *t, fr_cgroup_use_t *u)
{
    int   dfd;
    char  dir[NAME_MAX + 8];

    u->bytes = -1;
    u->peak = -1;
    u->oom_kills = -1;

    if (t == NULL || !t->cgroup_made || fr_cgroup_fd == -1
        || (size_t) snprintf(dir, sizeof(dir), "t.%s", t->name)
           >= sizeof(dir))
    {
        return;
    }

    if (t->cgroup_read && fr_current_msec + 1 < t->cgroup_read + 1000) {
        u->bytes = t->cgroup_use[0];
        u->peak = t->cgroup_use[1];
        u->oom_kills = t->cgroup_use[2];
        return;
    }

    dfd = openat(fr_cgroup_fd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

    if (dfd != -1) {
        fr_cgroup_use(dfd, fr_cgroup_version, u);
        close(dfd);
    }

    t->cgroup_use[0] = u->bytes;
    t->cgroup_use[1] = u->peak;
    t->cgroup_use[2] = u->oom_kills;
    t->cgroup_read = fr_current_msec + 1;
}


/*
 * Its memory for each of its instances and two more: its prototype (a
 * runtime's zygote with the app loaded, as much as a worker), and its
 * /tmp (a tmpfs of its memory's size) or a worker on its way out while
 * another starts. 0: no limit (memory = 0, where limit_memory allows).
 */

static int64_t
fr_cgroup_func_limit(fr_func_t *f)
{
    int64_t  n;

    n = (int64_t) f->conf.max_instances + 2;

    if (f->conf.memory <= 0 || n <= 2) {
        return 0;
    }

    /* past what the kernel keeps: as good as none, said as a number */
    return f->conf.memory > INT64_MAX / 2 / n ? INT64_MAX / 2
                                              : f->conf.memory * n;
}


/*
 * A cgroup's limit, written when it is not what it was. One that
 * cannot be lowered under what its processes hold (v1: EBUSY) keeps
 * the one it has, said, tried again at the next start or reload;
 * FR_ERROR: none of the runner's yet, or the cgroup is gone (errno).
 */

static int
fr_cgroup_set(const char *dir, int64_t *have, int64_t want)
{
    char  was[32], now[32];

    if (*have == want || fr_cgroup_limit(dir, want) == FR_OK) {
        *have = want;
        return FR_OK;
    }

    if (*have == -1 || errno == ENOENT) {
        return FR_ERROR;
    }

    /* bytes, as its file says them; 0: none ("max", "-1") */
    snprintf(was, sizeof(was), "%lld", (long long) *have);
    snprintf(now, sizeof(now), "%lld", (long long) want);

    fr_log(FR_LOG_WARN, errno, "memory cgroup \"%s/%s\": its limit stays "
           "%s, %s cannot be set now", fr_cgroup_path, dir,
           *have ? was : "none", want ? now : "none");

    return FR_OK;
}


/*
 * A cgroup's memory limit (0: none). v1: its swap with it (memsw,
 * where the kernel counts swap), which may never be below the
 * memory's; v2: no swap.
 */

static int
fr_cgroup_limit(const char *dir, int64_t bytes)
{
    int   dfd, rc;
    char  num[24];

    dfd = openat(fr_cgroup_fd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd == -1) {
        return FR_ERROR;
    }

    if (bytes > 0) {
        snprintf(num, sizeof(num), "%lld", (long long) bytes);

    } else {
        snprintf(num, sizeof(num), "%s", fr_cgroup_version == 2 ? "max"
                                                                : "-1");
    }

    if (fr_cgroup_version == 2) {
        rc = fr_cgroup_write(dfd, "memory.max", num);

        if (rc == FR_OK && fr_cgroup_write(dfd, "memory.swap.max", "0")
                           != FR_OK && errno != ENOENT)
        {
            rc = FR_ERROR;
        }

    } else if (fr_cgroup_write(dfd, "memory.limit_in_bytes", num) == FR_OK) {
        /* no higher than its swap's: that one after, never unbounded */
        rc = (fr_cgroup_write(dfd, "memory.memsw.limit_in_bytes", num)
              == FR_OK || errno == ENOENT) ? FR_OK : FR_ERROR;

    } else {
        /* higher than its swap's (EINVAL): that one first */
        rc = (errno == EINVAL
              && fr_cgroup_write(dfd, "memory.memsw.limit_in_bytes", num)
                 == FR_OK
              && fr_cgroup_write(dfd, "memory.limit_in_bytes", num) == FR_OK)
             ? FR_OK : FR_ERROR;
    }

    close(dfd);

    return rc;
}


/*
 * After a reload: the limits of the cgroups made, as the functions and
 * tenants say now. What runs on (a worker of a function unchanged, its
 * prototype) is held to them at once, not at its function's next
 * start; one that cannot be lowered under what is in use (v1: EBUSY)
 * is said, and tried again at the function's next start.
 */

void
fr_cgroup_reload(void)
{
    char          dir[NAME_MAX + 8];
    fr_link_t    *l;
    fr_func_t    *f;
    fr_tenant_t  *t;

    if (fr_cgroup_version == 0) {
        return;
    }

    for (l = fr_list_first(&fr_runner.tenants); l != &fr_runner.tenants;
         l = l->next)
    {
        t = fr_list_data(l, fr_tenant_t, link);
        snprintf(dir, sizeof(dir), "t.%s", t->name);

        if (t->cgroup_made) {
            (void) fr_cgroup_set(dir, &t->cgroup_limit, t->max_memory);
        }
    }

    for (l = fr_list_first(&fr_runner.funcs); l != &fr_runner.funcs;
         l = l->next)
    {
        f = fr_list_data(l, fr_func_t, link);

        if (f->cgroup_dir) {
            (void) fr_cgroup_set(f->cgroup_dir, &f->cgroup_limit,
                                 fr_cgroup_func_limit(f));
        }
    }
}


/*
 * A function freed (removed by a reload, or at exit), or given another
 * tenant: its cgroup goes once its last process has (fr_cgroup_sweep).
 */

void
fr_cgroup_func_free(fr_func_t *f)
{
    size_t             n;
    fr_link_t         *l;
    fr_func_t         *o;
    fr_cgroup_gone_t  *g;

    if (f->cgroup_dir == NULL) {
        return;
    }

    n = strlen(f->cgroup_dir);
    g = malloc(sizeof(fr_cgroup_gone_t) + n);

    /* one of the name removed then added while it ran has it too */
    for (l = fr_list_first(&fr_runner.funcs);
         g && l != &fr_runner.funcs; l = l->next)
    {
        o = fr_list_data(l, fr_func_t, link);

        if (o != f && o->cgroup_dir && strcmp(o->cgroup_dir, f->cgroup_dir)
                                       == 0)
        {
            free(g);
            g = NULL;
        }
    }

    if (g) {
        memcpy(g->dir, f->cgroup_dir, n + 1);
        g->next = fr_cgroup_gone;
        fr_cgroup_gone = g;
    }

    free(f->cgroup_dir);
    f->cgroup_dir = NULL;

    fr_cgroup_sweep();
}


/* made again before it went: kept */

static void
fr_cgroup_keep(const char *dir)
{
    fr_cgroup_gone_t  *g, **prev;

    for (prev = &fr_cgroup_gone; *prev; prev = &(*prev)->next) {
        g = *prev;

        if (strcmp(g->dir, dir) == 0) {
            *prev = g->next;
            free(g);
            return;
        }
    }
}


/* the cgroups of functions gone whose processes have all ended */

void
fr_cgroup_sweep(void)
{
    fr_cgroup_gone_t  *g, **prev;

    prev = &fr_cgroup_gone;

    while (*prev) {
        g = *prev;

        if (unlinkat(fr_cgroup_fd, g->dir, AT_REMOVEDIR) == 0
            || errno != EBUSY)
        {
            *prev = g->next;
            free(g);
            continue;
        }

        prev = &g->next;
    }
}


/*
 * At exit: the runner's cgroup and all in it, once the processes that
 * were stopped have ended (a moment for those still on their way out).
 */

void
fr_cgroup_exit(void)
{
    int               rc;
    fr_cgroup_gone_t  *g;

    if (fr_cgroup_version == 0) {
        return;
    }

    while (fr_cgroup_gone) {
        g = fr_cgroup_gone;
        fr_cgroup_gone = g->next;
        free(g);
    }

    close(fr_cgroup_fd);
    fr_cgroup_fd = -1;
    fr_cgroup_until = fr_cgroup_msec() + FR_CGROUP_EXIT_MSEC;

    while ((rc = fr_cgroup_rmtree(fr_cgroup_parent, fr_cgroup_name, 0))
           != FR_OK && errno == EBUSY && fr_cgroup_msec() < fr_cgroup_until)
    {
        (void) usleep(10000);
    }

    if (rc != FR_OK && errno == EBUSY) {
        fr_log(FR_LOG_WARN, EBUSY, "memory cgroup \"%s\" left: processes "
               "in it did not end", fr_cgroup_path);
    }

    close(fr_cgroup_parent);
    fr_cgroup_parent = -1;
    fr_cgroup_version = 0;
}


/* those of runners gone (fcgi-runner.PID of no process): removed */

static void
fr_cgroup_stale(int dfd)
{
    int             fd;
    long            pid;
    DIR            *d;
    char           *end;
    struct dirent  *de;

    fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    d = fd == -1 ? NULL : fdopendir(fd);

    if (d == NULL) {
        if (fd != -1) {
            close(fd);
        }
        return;
    }

    while ((de = readdir(d)) != NULL) {
        if (strncmp(de->d_name, FR_CGROUP_PREFIX, sizeof(FR_CGROUP_PREFIX) - 1)
            != 0)
        {
            continue;
        }

        pid = strtol(de->d_name + sizeof(FR_CGROUP_PREFIX) - 1, &end, 10);

        /* no runner of its pid here, nor a runner that holds it (one
         * of another pid namespace), nor an older runner (unlocked) */
        if ((*end != '\0' && *end != '.') || pid <= 0
            || pid == (long) getpid() || !fr_cgroup_runner_gone((pid_t) pid)
            || fr_cgroup_alive(dfd, de->d_name))
        {
            continue;
        }

        if (fr_cgroup_rmtree(dfd, de->d_name, 0) == FR_OK) {
            fr_log(FR_LOG_NOTICE, 0, "memory cgroup \"%s\" of a runner "
                   "that is gone removed", de->d_name);
        }
    }

    closedir(d);
}


/* 1: a runner holds this cgroup of its own (its flock) */

static int
fr_cgroup_alive(int dfd, const char *name)
{
    int  fd, alive;

    fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd == -1) {
        return 0;
    }

    alive = (flock(fd, LOCK_EX | LOCK_NB) == -1 && errno == EWOULDBLOCK);
    close(fd);

    return alive;
}


static uint64_t
fr_cgroup_msec(void)
{
    struct timespec  ts;

    (void) clock_gettime(CLOCK_MONOTONIC, &ts);

    return (uint64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}


/* a cgroup and those in it (three levels: the runner's, t., f.) */

static int
fr_cgroup_rmtree(int dfd, const char *name, int depth)
{
    int             fd, err, i;
    DIR            *d;
    struct dirent  *de;

    if (depth < 2) {
        fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        d = fd == -1 ? NULL : fdopendir(fd);

        if (d == NULL) {
            err = errno;
            if (fd != -1) {
                close(fd);
            }
            errno = err;
            return FR_ERROR;
        }

        while ((de = readdir(d)) != NULL) {
            if (de->d_type == DT_DIR && de->d_name[0] != '.') {
                (void) fr_cgroup_rmtree(dirfd(d), de->d_name, depth + 1);
            }
        }

        closedir(d);
    }

    /* what a function left there (a daemon of an isolation = none
     * worker, a runner's run killed) ends with it, as its workers did */
    for (i = 0; i < 50 && fr_cgroup_msec() < fr_cgroup_until
                && fr_cgroup_kill(dfd, name) > 0; i++)
    {
        (void) usleep(2000);
    }

    return unlinkat(dfd, name, AT_REMOVEDIR) == 0 ? FR_OK : FR_ERROR;
}


/*
 * Every process in a cgroup ended, by pidfd, as fr_sweep.c ends
 * strays: each pinned, the cgroup read again and one still listed
 * stopped (a pid read once may be another process's by then; a stopped
 * one forks no more), until a look finds none new; then all killed.
 * How many were found.
 */

#define FR_CGROUP_KILL_MAX  1024

static int
fr_cgroup_kill(int dfd, const char *name)
{
    int    n, i, k, round, fresh, fd, pfd[FR_CGROUP_KILL_MAX];
    char   file[NAME_MAX + 16];
    pid_t  pinned[FR_CGROUP_KILL_MAX], now[FR_CGROUP_KILL_MAX];

    snprintf(file, sizeof(file), "%s/cgroup.procs", name);
    n = 0;

    for (round = 0; round < 20; round++) {
        k = fr_cgroup_pids(dfd, file, now, FR_CGROUP_KILL_MAX);
        fresh = 0;

        for (i = 0; i < k && n < FR_CGROUP_KILL_MAX; i++) {
            if (now[i] == getpid() || fr_pids_in(pinned, n, now[i])
                || (fd = (int) syscall(SYS_pidfd_open, now[i], 0)) == -1)
            {
                continue;
            }

            pinned[n] = now[i];
            pfd[n++] = fd;
            fresh++;
        }

        k = fr_cgroup_pids(dfd, file, now, FR_CGROUP_KILL_MAX);

        for (i = n - fresh; i < n; i++) {
            if (fr_pids_has(now, k, pinned[i])) {
                (void) syscall(SYS_pidfd_send_signal, pfd[i], SIGSTOP, NULL,
                               0);

            } else {
                /* not the process that was listed: left alone */
                close(pfd[i]);
                pfd[i] = -1;
            }
        }

        if (fresh == 0) {
            break;
        }
    }

    for (i = 0; i < n; i++) {
        if (pfd[i] != -1) {
            (void) syscall(SYS_pidfd_send_signal, pfd[i], SIGKILL, NULL, 0);
            close(pfd[i]);
        }
    }

    return n;
}


static int
fr_pids_in(const pid_t *pids, int n, pid_t pid)
{
    while (n--) {
        if (pids[n] == pid) {
            return 1;
        }
    }

    return 0;
}


/*
 * A zygote's worker scores 100 above its zygote in the OOM killer's
 * choice, as the zygote does above its prototype (init/faas-proto.c): a
 * worker that holds its memory where none of it is resident (socket
 * buffers) is smaller than the zygote, which went in its place at each
 * request. Written by the runner, as root, before the worker is given
 * anything to do (a zygote's forks are not dumpable: their /proc files
 * are root's); where root has CAP_SYS_RESOURCE it is also the lowest
 * the worker may set. pid: our child, not yet waited for.
 */

void
fr_cgroup_oom_above(pid_t parent, pid_t pid)
{
    int      fd, adj;
    char     path[64], buf[16];
    ssize_t  n;

    if (fr_proc_read(parent, "oom_score_adj", buf, sizeof(buf)) <= 0) {
        return;
    }

    adj = atoi(buf) + 100;
    n = snprintf(buf, sizeof(buf), "%d", adj > 1000 ? 1000 : adj);

    snprintf(path, sizeof(path), "/proc/%d/oom_score_adj", (int) pid);
    fd = open(path, O_WRONLY | O_CLOEXEC);

    if (fd != -1) {
        (void) !write(fd, buf, n);
        close(fd);
    }
}
