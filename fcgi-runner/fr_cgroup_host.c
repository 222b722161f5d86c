/*
 * Copyright (C) ngx_faas developers
 *
 * Where the runner's memory cgroup is: the memory controller of the
 * unified hierarchy (cgroup v2) when the runner's cgroup has it, else
 * the v1 memory hierarchy, each found in /proc/self/cgroup and
 * /proc/self/mountinfo; and, for v2, the runner's move into a leaf of
 * its cgroup. What a cgroup's files say: its processes, its memory;
 * whether the runner a cgroup is named after is gone. The files it
 * reads and writes are the kernel's.
 */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "fr_core.h"
#include "fr_pids.h"
#include "fr_cgroup_host.h"


static int fr_cgroup_own(const char *mount_root, const char *mount_point,
    const char *path, char *out, size_t size);
static int64_t fr_cgroup_number(int dfd, const char *file, const char *key);
static int64_t fr_cgroup_v1_ooms(int dfd);


/*
 * The runner's memory cgroup's folder: the unified hierarchy's when
 * its cgroup has the memory controller, else the v1 memory hierarchy's.
 */

int
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

int
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

int
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


int
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


/* the pids a cgroup.procs lists, sorted: how many (at most max) */

int
fr_cgroup_pids(int dfd, const char *file, pid_t *pids, int max)
{
    int      fd, n;
    char     buf[4096], *p, *end;
    size_t   have;
    ssize_t  len;

    fd = openat(dfd, file, O_RDONLY | O_CLOEXEC);
    if (fd == -1) {
        return 0;
    }

    n = 0;
    have = 0;

    /* a line cut by a read's end is carried to the next */
    while (n < max
           && (len = read(fd, buf + have, sizeof(buf) - 1 - have)) > 0)
    {
        have += len;
        buf[have] = '\0';

        for (p = buf; n < max && (end = strchr(p, '\n')) != NULL;
             p = end + 1)
        {
            pids[n] = (pid_t) strtol(p, NULL, 10);
            n += pids[n] > 1;
        }

        have = strlen(p);
        memmove(buf, p, have);
    }

    close(fd);

    fr_pids_sort(pids, n);

    return n;
}


/*
 * What a cgroup (dfd, its folder) says of its memory, its children's
 * with it: held now, the most it held, processes the OOM killer ended
 * in it. -1 for what the kernel does not say (v2's memory.peak: 5.19).
 */

void
fr_cgroup_use(int dfd, int version, fr_cgroup_use_t *u)
{
    if (version == 2) {
        u->bytes = fr_cgroup_number(dfd, "memory.current", NULL);
        u->peak = fr_cgroup_number(dfd, "memory.peak", NULL);
        /* hierarchical, as memory.current is */
        u->oom_kills = fr_cgroup_number(dfd, "memory.events", "oom_kill");
        return;
    }

    u->bytes = fr_cgroup_number(dfd, "memory.usage_in_bytes", NULL);
    u->peak = fr_cgroup_number(dfd, "memory.max_usage_in_bytes", NULL);
    u->oom_kills = fr_cgroup_v1_ooms(dfd);
}


/*
 * v1 counts a kill in the cgroup of the process killed, not in those
 * above it: a tenant's are its own and its functions' (those that
 * still are: a function removed takes its count with its cgroup)
 */

static int64_t
fr_cgroup_v1_ooms(int dfd)
{
    int             fd;
    DIR            *d;
    int64_t         n, all;
    struct dirent  *de;

    all = fr_cgroup_number(dfd, "memory.oom_control", "oom_kill");
    fd = (all == -1) ? -1 : openat(dfd, ".", O_RDONLY | O_DIRECTORY
                                             | O_CLOEXEC);
    d = (fd == -1) ? NULL : fdopendir(fd);

    if (d == NULL) {
        if (fd != -1) {
            close(fd);
        }

        return all;
    }

    while ((de = readdir(d)) != NULL) {
        if (de->d_type != DT_DIR || de->d_name[0] == '.') {
            continue;
        }

        fd = openat(dfd, de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        if (fd != -1) {
            n = fr_cgroup_number(fd, "memory.oom_control", "oom_kill");
            all += (n > 0) ? n : 0;
            close(fd);
        }
    }

    closedir(d);

    return all;
}


/* a cgroup file's number, or its line "key N"'s; -1: none */

static int64_t
fr_cgroup_number(int dfd, const char *file, const char *key)
{
    int          fd;
    char         buf[1024], *p, *end;
    size_t       len;
    ssize_t      n;
    long long    v;

    fd = openat(dfd, file, O_RDONLY | O_CLOEXEC);
    if (fd == -1) {
        return -1;
    }

    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);

    if (n <= 0) {
        return -1;
    }

    buf[n] = '\0';
    p = buf;

    if (key) {
        len = strlen(key);

        for ( ;; ) {
            if (strncmp(p, key, len) == 0 && p[len] == ' ') {
                p += len + 1;
                break;
            }

            p = strchr(p, '\n');

            if (p == NULL) {
                return -1;
            }

            p++;
        }
    }

    errno = 0;
    v = strtoll(p, &end, 10);

    if (end == p || errno || v < 0 || (*end != '\n' && *end != '\0')) {
        return -1;
    }

    return (int64_t) v;
}


/*
 * 1: no runner has pid now: no process, a zombie (a runner killed that
 * its parent has not reaped: its cgroup was left for good), or one that
 * is no fcgi-runner (its pid taken by another: the same). A runner of
 * another pid namespace, whose pid here may be anyone's, holds its
 * cgroup's flock: the caller asks that too.
 */

int
fr_cgroup_runner_gone(pid_t pid)
{
    int      fd;
    char     path[32], buf[64], *comm, *end;
    ssize_t  n;

    snprintf(path, sizeof(path), "/proc/%d/stat", (int) pid);

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd == -1) {
        return errno == ENOENT;
    }

    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);

    if (n <= 0) {
        return 0;
    }

    buf[n] = '\0';

    /* "pid (comm) S ppid ...": comm at most 15 bytes, any of them;
     * its end is the last ')' (none in what follows) */
    comm = strchr(buf, '(');
    end = strrchr(buf, ')');

    if (comm == NULL || end == NULL || end < comm || end[1] != ' ') {
        return 0;
    }

    return end[2] == 'Z'
           || strncmp(comm + 1, "fcgi-runner", sizeof("fcgi-runner") - 1)
              != 0;
}
