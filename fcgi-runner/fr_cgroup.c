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
 * and one (its prototype, or a worker on its way out). A worker or a
 * prototype joins its function's in the child, still root, before it
 * runs anything of the function's: what it forks is born there. A
 * worker forked by its prototype is born in it.
 *
 * cgroup v2 (the memory controller in the unified hierarchy): the
 * runner moves itself into a leaf of its cgroup, fcgi-runner.self
 * (a cgroup with controllers for its children holds no process), as
 * systemd's Delegate=yes lets it. cgroup v1: the memory hierarchy.
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
#include <sys/stat.h>

#include "fr_log.h"
#include "fr_cgroup.h"


#define FR_CGROUP_SELF   "fcgi-runner.self"
#define FR_CGROUP_PREFIX "fcgi-runner."
#define FR_CGROUP_EXIT_MSEC  2000


typedef struct fr_cgroup_gone_s  fr_cgroup_gone_t;

/* a function's cgroup to remove once its processes are gone */
struct fr_cgroup_gone_s {
    fr_cgroup_gone_t      *next;
    char                   dir[1];
};


static int fr_cgroup_find(char *path, size_t size, int *version);
static int fr_cgroup_own(const char *mount_root, const char *mount_point,
    const char *path, char *out, size_t size);
static int fr_cgroup_v2_leaf(char *path, size_t size);
static int fr_cgroup_has(int dfd, const char *file, const char *what);
static int fr_cgroup_write(int dfd, const char *file, const char *value);
static int fr_cgroup_limit(const char *dir, int64_t bytes);
static int fr_cgroup_tenant(fr_tenant_t *t);
static int64_t fr_cgroup_func_limit(fr_func_t *f);
static void fr_cgroup_stale(int dfd);
static int fr_cgroup_rmtree(int dfd, const char *name, int depth);
static void fr_cgroup_keep(const char *dir);


static int                fr_cgroup_version;    /* 0: none */
static int                fr_cgroup_fd = -1;    /* fcgi-runner.PID */
static char               fr_cgroup_path[PATH_MAX + 32];
static char               fr_cgroup_name[32];
static int                fr_cgroup_parent = -1;
static fr_cgroup_gone_t  *fr_cgroup_gone;


/*
 * At start: the memory controller of the runner's cgroup, and a cgroup
 * of the runner's own under it. Those of runners that ended without
 * removing theirs (killed) are removed first.
 */

void
fr_cgroup_init(void)
{
    int   err;
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

    fr_cgroup_stale(fr_cgroup_parent);

    snprintf(fr_cgroup_name, sizeof(fr_cgroup_name), FR_CGROUP_PREFIX "%d",
             (int) getpid());

    if (mkdirat(fr_cgroup_parent, fr_cgroup_name, 0755) == -1
        && errno != EEXIST)
    {
        err = errno;
        goto failed;
    }

    fr_cgroup_fd = openat(fr_cgroup_parent, fr_cgroup_name,
                          O_RDONLY | O_DIRECTORY | O_CLOEXEC);

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
 * The runner's memory cgroup's folder: the unified hierarchy's when
 * its cgroup has the memory controller, else the v1 memory hierarchy's.
 */

static int
fr_cgroup_find(char *path, size_t size, int *version)
{
    int     v, rc;
    char   *line, *p, *f[6], *dash, v1[PATH_MAX], v2[PATH_MAX];
    char    own1[PATH_MAX], own2[PATH_MAX];
    FILE   *fp;
    size_t  cap, i;

    line = NULL;
    cap = 0;
    own1[0] = own2[0] = v1[0] = v2[0] = '\0';

    fp = fopen("/proc/self/cgroup", "re");
    if (fp == NULL) {
        return FR_ERROR;
    }

    /* "ID:CONTROLLERS:PATH" */
    while (getline(&line, &cap, fp) > 0) {
        line[strcspn(line, "\n")] = '\0';
        p = strchr(line, ':');
        dash = p ? strchr(p + 1, ':') : NULL;

        if (dash == NULL) {
            continue;
        }

        *dash++ = '\0';

        if (strcmp(line, "0:") == 0) {
            snprintf(own2, sizeof(own2), "%s", dash);
            continue;
        }

        for (p = strtok(p + 1, ","); p; p = strtok(NULL, ",")) {
            if (strcmp(p, "memory") == 0) {
                snprintf(own1, sizeof(own1), "%s", dash);
            }
        }
    }

    fclose(fp);

    fp = fopen("/proc/self/mountinfo", "re");
    if (fp == NULL) {
        free(line);
        return FR_ERROR;
    }

    /* "ID PARENT MAJ:MIN ROOT POINT OPTIONS ... - TYPE SOURCE SUPER" */
    while (getline(&line, &cap, fp) > 0) {
        line[strcspn(line, "\n")] = '\0';
        dash = strstr(line, " - ");

        if (dash == NULL) {
            continue;
        }

        *dash = '\0';
        dash += 3;

        for (i = 0, p = strtok(line, " "); p && i < 5;
             p = strtok(NULL, " "))
        {
            f[i++] = p;
        }

        if (i < 5) {
            continue;
        }

        f[5] = strtok(dash, " ");
        (void) strtok(NULL, " ");
        p = strtok(NULL, " ");

        if (f[5] == NULL) {
            continue;
        }

        if (strcmp(f[5], "cgroup2") == 0 && own2[0] && v2[0] == '\0') {
            (void) fr_cgroup_own(f[3], f[4], own2, v2, sizeof(v2));
        }

        if (strcmp(f[5], "cgroup") == 0 && own1[0] && v1[0] == '\0' && p) {
            for (p = strtok(p, ","); p; p = strtok(NULL, ",")) {
                if (strcmp(p, "memory") == 0) {
                    (void) fr_cgroup_own(f[3], f[4], own1, v1, sizeof(v1));
                }
            }
        }
    }

    fclose(fp);
    free(line);

    rc = FR_ERROR;
    v = 0;

    if (v2[0]) {
        /* its parent's, when it is the runner's leaf already */
        p = strrchr(v2, '/');

        if (p && strcmp(p + 1, FR_CGROUP_SELF) == 0) {
            *p = '\0';
        }

        i = strlen(v2);

        if (i + sizeof("/cgroup.controllers") <= sizeof(v2)) {
            memcpy(v2 + i, "/cgroup.controllers",
                   sizeof("/cgroup.controllers"));

            if (fr_cgroup_has(AT_FDCWD, v2, "memory")) {
                v = 2;
            }

            v2[i] = '\0';
        }
    }

    if (v == 2 || v1[0]) {
        v = v ? v : 1;
        snprintf(path, size, "%s", v == 2 ? v2 : v1);
        rc = FR_OK;
    }

    *version = v;

    return rc;
}


/* a cgroup's folder from its mount's root and point: or FR_ERROR */

static int
fr_cgroup_own(const char *mount_root, const char *mount_point,
    const char *path, char *out, size_t size)
{
    size_t  n;

    if (strchr(mount_point, '\\')) {
        /* an escaped name: not one of the usual ones */
        return FR_ERROR;
    }

    n = strcmp(mount_root, "/") == 0 ? 0 : strlen(mount_root);

    if (n && (strncmp(path, mount_root, n) != 0
              || (path[n] != '/' && path[n] != '\0')))
    {
        /* a cgroup namespace's other part: not reachable here */
        return FR_ERROR;
    }

    path += n;

    if ((size_t) snprintf(out, size, "%s%s", mount_point,
                          strcmp(path, "/") == 0 ? "" : path)
        >= size)
    {
        return FR_ERROR;
    }

    return FR_OK;
}


/*
 * cgroup v2: a cgroup whose children have the memory controller holds
 * no process of its own (but the root): the runner goes to a leaf of
 * its cgroup first, and its children (fcgi-runner.PID) get the
 * controller. A cgroup that holds other processes too (a login shell's)
 * cannot: EBUSY, said.
 */

static int
fr_cgroup_v2_leaf(char *path, size_t size)
{
    int  dfd, self, rc, err;

    (void) size;

    dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd == -1) {
        return FR_ERROR;
    }

    rc = FR_OK;

    if (!fr_cgroup_has(dfd, "cgroup.subtree_control", "memory")) {
        if (mkdirat(dfd, FR_CGROUP_SELF, 0755) == -1 && errno != EEXIST) {
            close(dfd);
            return FR_ERROR;
        }

        self = openat(dfd, FR_CGROUP_SELF, O_RDONLY | O_DIRECTORY
                      | O_CLOEXEC);

        rc = (self != -1
              && fr_cgroup_write(self, "cgroup.procs", "0") == FR_OK
              && fr_cgroup_write(dfd, "cgroup.subtree_control", "+memory")
                 == FR_OK)
             ? FR_OK : FR_ERROR;

        if (rc != FR_OK) {
            /* back where it was, the leaf removed: nothing left */
            err = errno;
            (void) fr_cgroup_write(dfd, "cgroup.procs", "0");
            (void) unlinkat(dfd, FR_CGROUP_SELF, AT_REMOVEDIR);
            errno = err;
        }

        if (self != -1) {
            close(self);
        }
    }

    err = errno;
    close(dfd);
    errno = err;

    return rc;
}


/* 1: a cgroup file's words have this one */

static int
fr_cgroup_has(int dfd, const char *file, const char *what)
{
    int      fd;
    char     buf[512], *p, *save;
    ssize_t  n;

    fd = openat(dfd, file, O_RDONLY | O_CLOEXEC);
    if (fd == -1) {
        return 0;
    }

    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);

    if (n <= 0) {
        return 0;
    }

    buf[n] = '\0';

    for (p = strtok_r(buf, " \n", &save); p; p = strtok_r(NULL, " \n", &save))
    {
        if (strcmp(p, what) == 0) {
            return 1;
        }
    }

    return 0;
}


static int
fr_cgroup_write(int dfd, const char *file, const char *value)
{
    int      fd, err;
    ssize_t  n;

    fd = openat(dfd, file, O_WRONLY | O_CLOEXEC);
    if (fd == -1) {
        return FR_ERROR;
    }

    n = write(fd, value, strlen(value));
    err = errno;
    close(fd);
    errno = err;

    return n == (ssize_t) strlen(value) ? FR_OK : FR_ERROR;
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
    char      dir[2 * NAME_MAX + 8], file[sizeof(dir) + 16];
    int64_t   limit;

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

    if (f->owner && fr_cgroup_tenant(f->owner) != FR_OK) {
        goto failed;
    }

    if (f->cgroup_dir == NULL) {
        fr_cgroup_keep(dir);

        if (mkdirat(fr_cgroup_fd, dir, 0755) == -1 && errno != EEXIST) {
            goto failed;
        }

        f->cgroup_dir = strdup(dir);
        if (f->cgroup_dir == NULL) {
            goto failed;
        }

        f->cgroup_limit = -1;
    }

    limit = fr_cgroup_func_limit(f);

    if (limit != f->cgroup_limit) {
        if (fr_cgroup_limit(dir, limit) != FR_OK) {
            goto failed;
        }

        f->cgroup_limit = limit;
    }

    /* opened for each spawn: no descriptor held per function */
    snprintf(file, sizeof(file), "%s/cgroup.procs", dir);
    *fd = openat(fr_cgroup_fd, file, O_WRONLY | O_CLOEXEC);

    if (*fd == -1) {
        goto failed;
    }

    return FR_OK;

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

        if ((mkdirat(fr_cgroup_fd, dir, 0755) == -1 && errno != EEXIST)
            || (fr_cgroup_version == 2
                && fr_cgroup_write(fr_cgroup_fd, file, "+memory") != FR_OK))
        {
            return FR_ERROR;
        }

        t->cgroup_made = 1;
        t->cgroup_limit = -1;
    }

    if (t->cgroup_limit != t->max_memory) {
        if (fr_cgroup_limit(dir, t->max_memory) != FR_OK) {
            return FR_ERROR;
        }

        t->cgroup_limit = t->max_memory;
    }

    return FR_OK;
}


/*
 * Its memory for each of its instances and one more: its prototype (a
 * runtime's zygote with the app loaded), or a worker on its way out
 * while another starts. 0: no limit (no memory limit, or no bound on
 * its instances).
 */

static int64_t
fr_cgroup_func_limit(fr_func_t *f)
{
    int64_t  n;

    n = f->conf.max_instances > 0 ? f->conf.max_instances
                                  : fr_runner.conf.max_workers;

    if (f->conf.memory <= 0 || n <= 0 || f->conf.memory > INT64_MAX / (n + 1))
    {
        return 0;
    }

    return f->conf.memory * (n + 1);
}


/*
 * A cgroup's memory limit (0: none). v1: its swap with it (memsw,
 * where the kernel counts swap), raised first so that it is never
 * below the memory's; v2: no swap.
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

    } else {
        (void) fr_cgroup_write(dfd, "memory.memsw.limit_in_bytes", "-1");
        rc = fr_cgroup_write(dfd, "memory.limit_in_bytes", num);

        if (rc == FR_OK
            && fr_cgroup_write(dfd, "memory.memsw.limit_in_bytes", num)
               != FR_OK && errno != ENOENT)
        {
            rc = FR_ERROR;
        }
    }

    close(dfd);

    return rc;
}


/*
 * A function freed (removed by a reload, or at exit), or given another
 * tenant: its cgroup goes once its last process has (fr_cgroup_sweep).
 */

void
fr_cgroup_func_free(fr_func_t *f)
{
    size_t             n;
    fr_cgroup_gone_t  *g;

    if (f->cgroup_dir == NULL) {
        return;
    }

    n = strlen(f->cgroup_dir);
    g = malloc(sizeof(fr_cgroup_gone_t) + n);

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
    int               i;
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

    for (i = 0; i < FR_CGROUP_EXIT_MSEC / 10; i++) {
        if (fr_cgroup_rmtree(fr_cgroup_parent, fr_cgroup_name, 0) == FR_OK
            || errno != EBUSY)
        {
            break;
        }

        (void) usleep(10000);
    }

    if (i == FR_CGROUP_EXIT_MSEC / 10) {
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

        if (*end != '\0' || pid <= 0 || pid == (long) getpid()
            || kill((pid_t) pid, 0) == 0 || errno != ESRCH)
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


/* a cgroup and those in it (three levels: the runner's, t., f.) */

static int
fr_cgroup_rmtree(int dfd, const char *name, int depth)
{
    int             fd, err;
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

    return unlinkat(dfd, name, AT_REMOVEDIR) == 0 ? FR_OK : FR_ERROR;
}
