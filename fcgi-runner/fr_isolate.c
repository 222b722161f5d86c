/*
 * Copyright (C) ngx_faas developers
 *
 * A worker's namespaces (isolation): which ones, what the child sets up
 * in them before it drops root, and faas-init, process 1 of a pid
 * namespace. The child's part runs on the runner's memory between
 * clone and exec: system calls only.
 */

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "fr_log.h"
#include "fr_path.h"
#include "fr_isolate.h"


#define FR_INIT_NAME     "faas-init"
#define FR_INIT_PATH     "/usr/lib/faas/" FR_INIT_NAME

/* what a root runner's functions get unless they say otherwise */
#define FR_ISOLATE_ROOT  (FR_ISOLATE_TMP | FR_ISOLATE_PID | FR_ISOLATE_IPC)


/* the folders anyone may write, each a tmpfs of its own under "tmp" */
static const char  *fr_isolate_tmps[] = {
    "/tmp", "/dev/shm", "/var/tmp", "/run/lock"
};

#define FR_ISOLATE_NTMPS                                                     \
    (int) (sizeof(fr_isolate_tmps) / sizeof(fr_isolate_tmps[0]))


static void fr_isolate_keeps(fr_func_t *f, fr_isolate_t *iso);
static int fr_isolate_under(const char *path, const char *dir);
static int fr_isolate_tmp_of(const char *path);
static void fr_isolate_keep(fr_isolate_t *iso, const char *path, int dir);
static int fr_isolate_tmp(fr_func_t *f, fr_isolate_t *iso);
static int fr_isolate_tmpfs(fr_isolate_t *iso);
static int fr_isolate_tmp_at(int one, int i);
static int fr_isolate_trees(fr_func_t *f, fr_isolate_t *iso, int *tree,
    int *cover);
static int fr_isolate_cover(fr_isolate_t *iso, int cover, int *tree);
static int fr_isolate_loopback(void);


/*
 * faas-init beside the runner's binary (a build tree), else where
 * "make install" puts it. Held open: found once, whatever the runner's
 * own directory lets a function's user traverse.
 */

void
fr_isolate_find_init(void)
{
    int          fd;
    char         self[PATH_MAX], path[PATH_MAX + 16], *slash;
    ssize_t      n;
    struct stat  st;

    fr_runner.init_fd = -1;

    n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    self[n > 0 ? n : 0] = '\0';
    slash = strrchr(self, '/');

    if (slash) {
        *slash = '\0';
        snprintf(path, sizeof(path), "%s/" FR_INIT_NAME, self);

    } else {
        snprintf(path, sizeof(path), FR_INIT_PATH);
    }

    fd = open(path, O_PATH | O_CLOEXEC);

    if (fd == -1 && slash) {
        snprintf(path, sizeof(path), FR_INIT_PATH);
        fd = open(path, O_PATH | O_CLOEXEC);
    }

    if (fd != -1
        && (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)
            || (st.st_mode & 0111) != 0111))
    {
        close(fd);
        fd = -1;
    }

    if (fd == -1) {
        if (fr_runner.is_root) {
            fr_log(FR_LOG_WARN, 0, FR_INIT_NAME " is not beside the runner "
                   "nor at " FR_INIT_PATH ": no function gets \"isolation "
                   "= pid\" by default, and one that asks for it is refused");
        }
        return;
    }

    fr_runner.init_fd = fd;
    free(fr_runner.init_path);
    fr_runner.init_path = strdup(path);
}


/*
 * The function's isolation, once its keys are read: "tmp pid ipc" for
 * a root runner unless it says otherwise, nothing for any other runner
 * (namespaces and mounts need root). A root runner's functions keep at
 * least limit_isolation (by default that same "tmp pid ipc", for a
 * customer's function.conf): one that says nothing gets it too, one
 * asking for less is refused. Returns the problems found.
 */

int
fr_isolate_resolve(fr_func_t *f)
{
    int          iso, limit;
    fr_fconf_t  *fc;

    fc = &f->conf;
    iso = fc->isolation;
    limit = fr_runner.conf.limit_isolation;

    if (!fr_runner.is_root) {
        limit = 0;

    } else if (limit & FR_ISOLATE_DEFAULT) {
        /*
         * The default floor holds a customer's function.conf; the
         * operator's own word (a function.conf only root may write, or
         * the runner config's isolation) is what it says. A floor the
         * operator set holds every function.
         */
        limit = (f->operators || fr_fconf_line(fc, "isolation") == 0)
                ? 0 : FR_ISOLATE_ROOT;

        if (fr_runner.init_fd == -1) {
            limit &= ~FR_ISOLATE_PID;
        }
    }

    if (iso & FR_ISOLATE_DEFAULT) {
        iso = fr_runner.is_root ? (FR_ISOLATE_ROOT | limit) : 0;

        if (fr_runner.init_fd == -1) {
            iso &= ~FR_ISOLATE_PID;
        }

        fc->isolation = iso;

        if ((iso & limit) == limit) {
            return 0;
        }
    }

    if (iso && !fr_runner.is_root) {
        fr_log(FR_LOG_ERR, 0, "%s/function.conf:%d: \"isolation\" needs a "
               "runner started as root", f->dir,
               fr_fconf_line(fc, "isolation"));
        return 1;
    }

    if ((iso & FR_ISOLATE_PID) && fr_runner.init_fd == -1) {
        fr_log(FR_LOG_ERR, 0, "%s/function.conf:%d: \"isolation = pid\" "
               "needs " FR_INIT_NAME ", which is not beside the runner nor "
               "at " FR_INIT_PATH, f->dir, fr_fconf_line(fc, "isolation"));
        return 1;
    }

    if ((iso & limit) != limit) {
        fr_log(FR_LOG_ERR, 0, "%s/function.conf:%d: \"isolation\" drops "
               "namespaces the runner's \"limit_isolation\" keeps for "
               "every function", f->dir, fr_fconf_line(fc, "isolation"));
        return 1;
    }

    return 0;
}


/*
 * Before the clone: the namespaces, what /tmp must keep, faas-init's
 * argv: process 1 of a worker's pid namespace, or (proto) the
 * function's prototype, which makes the pid namespace its workers share.
 */

int
fr_isolate_prepare(fr_func_t *f, fr_isolate_t *iso, int proto)
{
    int  m, argc, n;

    m = f->conf.isolation;

    iso->flags = 0;
    iso->nkeep = 0;
    iso->argv = NULL;
    iso->proto = proto;
    iso->unshare_pid = proto && (m & FR_ISOLATE_PID);

    if (m & (FR_ISOLATE_PID | FR_ISOLATE_TMP)) {
        /* pid: for a /proc of its own processes; tmp: for its /tmp */
        iso->flags |= CLONE_NEWNS;
    }

    if ((m & FR_ISOLATE_PID) || proto) {
        iso->flags |= proto ? 0 : CLONE_NEWPID;

        for (argc = 0; f->argv[argc]; argc++) { /* void */ }

        iso->argv = malloc((argc + 12) * sizeof(char *));
        if (iso->argv == NULL) {
            return FR_ERROR;
        }

        /* "faas-init MAX_PROCESSES PATH ARGV0 ...", or "faas-init
         * prototype RUNNER UID GID NPROC MEMORY NOFILE UMASK NS"
         * (init/faas-proto.c) */
        n = 0;
        iso->argv[n++] = FR_INIT_NAME;

        if (proto) {
            iso->argv[n++] = "prototype";
            snprintf(iso->num[0], 24, "%d", (int) getpid());
            snprintf(iso->num[1], 24, "%ld",
                     f->set_user ? (long) f->uid : -1L);
            snprintf(iso->num[2], 24, "%ld",
                     f->set_user ? (long) f->gid : -1L);
        }

        snprintf(iso->num[3], 24, "%d", f->conf.max_processes);

        if (proto) {
            snprintf(iso->num[4], 24, "%lld", (long long) f->conf.memory);
            snprintf(iso->num[5], 24, "%d", f->conf.max_files);
            snprintf(iso->num[6], 24, "%o", (unsigned) fr_runner.umask);
            snprintf(iso->num[7], 24, "%d", iso->unshare_pid
                     | ((m & FR_ISOLATE_IPC) ? 2 : 0));
        }

        for (argc = proto ? 0 : 3; argc < (proto ? 8 : 4); argc++) {
            iso->argv[n++] = iso->num[argc];
        }

        if (!proto) {
            /* a prototype is told them with each worker; a program
             * held by the runner is on 5, its path left empty */
            iso->argv[n++] = f->exec_by_fd ? "" : fr_func_exec(f);

            for (argc = 0; f->argv[argc]; argc++) {
                iso->argv[n++] = f->argv[argc];
            }
        }

        iso->argv[n] = NULL;
    }

    fr_isolate_keeps(f, iso);

    if (m & FR_ISOLATE_TMP) {
        /* no bigger than the memory it may use, all of them */
        snprintf(iso->tmpfs, sizeof(iso->tmpfs), "mode=1777,size=%lld",
                 (long long) f->conf.memory);
        snprintf(iso->tmp_size, sizeof(iso->tmp_size), "%lld",
                 (long long) f->conf.memory);
    }

    iso->flags |= (m & FR_ISOLATE_IPC) ? CLONE_NEWIPC : 0;
    iso->flags |= (m & FR_ISOLATE_NET) ? CLONE_NEWNET : 0;
    iso->flags |= (m & FR_ISOLATE_UTS) ? CLONE_NEWUTS : 0;

    return FR_OK;
}


void
fr_isolate_done(fr_isolate_t *iso)
{
    free(iso->argv);
    iso->argv = NULL;
}


/*
 * What the kept folders are now, looked up as the function would: a
 * prototype mounts them once, and is replaced when one changes. Fills
 * dev and ino; returns how many, or -1 if one is not found.
 */

int
fr_isolate_kept(fr_func_t *f, dev_t *dev, ino_t *ino)
{
    int           i, fd;
    char          path[PATH_MAX];
    struct stat   st;
    fr_isolate_t  iso;

    fd = -1;

    fr_isolate_keeps(f, &iso);

    if (iso.nkeep && f->set_user) {
        fr_path_as(f->uid, f->gid);
    }

    for (i = 0; i < iso.nkeep; i++) {
        fd = fr_path_open(AT_FDCWD, iso.keep[i], O_PATH | O_DIRECTORY, path);

        if (fd == -1 || fstat(fd, &st) == -1) {
            break;
        }

        close(fd);
        dev[i] = st.st_dev;
        ino[i] = st.st_ino;
    }

    if (iso.nkeep && f->set_user) {
        fr_path_as_runner();
    }

    if (i < iso.nkeep) {
        if (fd != -1) {
            close(fd);
        }

        return -1;
    }

    return iso.nkeep;
}


/*
 * What a worker's mounts keep as it was when it started, under "tmp":
 * the function's folder, its program's and its script's, where they
 * are under one of the tmps (which the worker's own tmpfs covers) or
 * under the folder's parent, the functions folder, which a tmpfs of the
 * worker's covers too (the cover). Either way each is a clone mounted
 * on a tmpfs nobody else reaches: the host's rmdir of the folder and
 * another customer's folder made under its name leave the worker's
 * view alone (a bind mount of the folder over itself would not hold:
 * the host's rmdir detaches it), and the folders beside it are not
 * there. A parent that is not a plain absolute path, or that holds one
 * of the tmps (/, /var, /run, /dev), is not covered.
 */

static void
fr_isolate_keeps(fr_func_t *f, fr_isolate_t *iso)
{
    int          i;
    char        *c, *slash;
    size_t       len;
    const char  *file;

    iso->nkeep = 0;
    c = iso->cover;
    c[0] = '\0';

    if (!(f->conf.isolation & FR_ISOLATE_TMP)) {
        return;
    }

    len = strlen(f->dir);

    if (fr_isolate_tmp_of(f->dir) == -1 && f->dir[0] == '/' && len < PATH_MAX
        && strstr(f->dir, "/./") == NULL && strstr(f->dir, "/../") == NULL)
    {
        /* its name is no "." nor ".." and has no slash */
        strcpy(c, f->dir);
        slash = strrchr(c, '/');
        *slash = '\0';

        while (slash > c && slash[-1] == '/') {
            *--slash = '\0';
        }

        for (i = 0; i < FR_ISOLATE_NTMPS; i++) {
            if (c[0] == '\0' || fr_isolate_under(fr_isolate_tmps[i], c)) {
                c[0] = '\0';
                break;
            }
        }

        /* a program or script right in the functions folder would be
         * covered too (its folder cannot be kept): no cover then */
        for (i = 0; c[0] != '\0' && i < 2; i++) {
            file = i ? f->script_path : (f->exec_by_fd ? NULL : f->exec_path);

            if (file && fr_isolate_under(file, c)) {
                for (file += strlen(c); *file == '/'; file++) { /* void */ }

                if (strchr(file, '/') == NULL) {
                    c[0] = '\0';
                }
            }
        }
    }

    fr_isolate_keep(iso, f->dir, 1);

    if (!f->exec_by_fd) {
        fr_isolate_keep(iso, f->exec_path, 0);
    }

    if (f->script_path) {
        fr_isolate_keep(iso, f->script_path, 0);
    }
}


/* whether path is dir or under it */

static int
fr_isolate_under(const char *path, const char *dir)
{
    size_t  len;

    len = strlen(dir);

    return strncmp(path, dir, len) == 0
           && (path[len] == '/' || path[len] == '\0');
}


/* which of the tmps path is under; -1 */

static int
fr_isolate_tmp_of(const char *path)
{
    int  i;

    for (i = 0; i < FR_ISOLATE_NTMPS; i++) {
        if (fr_isolate_under(path, fr_isolate_tmps[i])) {
            return i;
        }
    }

    return -1;
}


/* a folder (or a file's folder) under one of the tmps or the cover, once */

static void
fr_isolate_keep(fr_isolate_t *iso, const char *path, int dir)
{
    int          i;
    char        *p, *slash;
    size_t       len;

    i = fr_isolate_tmp_of(path);

    if ((i == -1
         && (iso->cover[0] == '\0' || !fr_isolate_under(path, iso->cover)))
        || iso->nkeep == FR_ISOLATE_KEEP || strlen(path) >= PATH_MAX)
    {
        return;
    }

    p = iso->keep[iso->nkeep];
    strcpy(p, path);

    if (!dir && (slash = strrchr(p, '/')) != NULL) {
        *slash = '\0';
    }

    if (i == -1) {
        /* never the cover itself */
        for (slash = p + strlen(iso->cover); *slash == '/'; slash++) {
            /* void */
        }

        if (*slash == '\0') {
            return;
        }
    }

    for (i = 0; i < iso->nkeep; i++) {
        len = strlen(iso->keep[i]);

        if (strncmp(p, iso->keep[i], len) == 0
            && (p[len] == '/' || p[len] == '\0'))
        {
            /* under one kept already */
            return;
        }
    }

    iso->nkeep++;
}


/*
 * In the child, still root: a private view of the mounts, a /proc of its
 * own pid namespace, its own /tmp, its loopback, its host name.
 */

int
fr_isolate_child(fr_func_t *f, fr_isolate_t *iso)
{
    if ((iso->flags & CLONE_NEWNS)
        && mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == -1)
    {
        return -1;
    }

    if ((iso->flags & CLONE_NEWPID)
        && mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                 NULL) == -1)
    {
        return -1;
    }

    if ((f->conf.isolation & FR_ISOLATE_TMP) && fr_isolate_tmp(f, iso) == -1)
    {
        return -1;
    }

    if ((iso->flags & CLONE_NEWNET) && fr_isolate_loopback() != 0) {
        return -1;
    }

    if ((iso->flags & CLONE_NEWUTS)
        && sethostname(f->name, strlen(f->name)) == -1)
    {
        return -1;
    }

    return 0;
}


/*
 * An empty tmpfs on the tmps, one for them all: a folder of it at each,
 * so that what a function keeps in all four is no more than its memory
 * (one each held four times that). A kernel that cannot clone a folder
 * of a mount attached nowhere (before 6.x) gets one at each. The kept
 * folders are cloned before they are covered and attached again at
 * their paths (the cover's first: fr_isolate_keeps).
 */

static int
fr_isolate_tmp(fr_func_t *f, fr_isolate_t *iso)
{
    int          i, one, cover, tree[FR_ISOLATE_KEEP];
    char        *p;
    mode_t       mask;
    struct stat  st;

    if (fr_isolate_trees(f, iso, tree, &cover) == -1) {
        return -1;
    }

    if (cover != -1) {
        i = fr_isolate_cover(iso, cover, tree);
        close(cover);

        if (i == -1) {
            return -1;
        }
    }

    one = fr_isolate_tmpfs(iso);

    for (i = 0; i < FR_ISOLATE_NTMPS; i++) {
        /* one that is not there, or is a symlink (/var/run), is left */
        if (lstat(fr_isolate_tmps[i], &st) == -1 || !S_ISDIR(st.st_mode)) {
            continue;
        }

        if (one != -1 && fr_isolate_tmp_at(one, i) == 0) {
            continue;
        }

        if (mount("tmpfs", fr_isolate_tmps[i], "tmpfs",
                  MS_NOSUID | MS_NODEV, iso->tmpfs) == -1)
        {
            return -1;
        }
    }

    if (one != -1) {
        close(one);
    }

    /* the way to them traversable, whatever the operator's umask (077
     * under the systemd unit): they are the function's own paths */
    mask = umask(022);

    for (i = 0; i < iso->nkeep; i++) {
        if (fr_isolate_tmp_of(iso->keep[i]) == -1) {
            /* the cover's, mounted */
            continue;
        }

        for (p = iso->keep[i] + 1; *p; p++) {
            if (*p == '/') {
                *p = '\0';
                (void) mkdir(iso->keep[i], 0755);
                *p = '/';
            }
        }

        if ((mkdir(iso->keep[i], 0755) == -1 && errno != EEXIST)
            || move_mount(tree[i], "", AT_FDCWD, iso->keep[i],
                          MOVE_MOUNT_F_EMPTY_PATH) == -1)
        {
            (void) umask(mask);
            return -1;
        }

        close(tree[i]);
    }

    (void) umask(mask);

    return 0;
}


/*
 * The cover: a small tmpfs of root's (0755, read-only once made) over
 * the functions folder, the kept folders under it mounted at their
 * names. By descriptors only: no path of the customer's is followed as
 * root, and the folder covered is the one the function's own rights
 * found. Takes the trees it mounts.
 */

static int
fr_isolate_cover(fr_isolate_t *iso, int cover, int *tree)
{
    int                i, fs, mnt, rc;
    char              *rel, *p;
    struct mount_attr  attr;

    fs = fsopen("tmpfs", FSOPEN_CLOEXEC);
    if (fs == -1) {
        return -1;
    }

    mnt = -1;

    if (fsconfig(fs, FSCONFIG_SET_STRING, "size", "64k", 0) == 0
        && fsconfig(fs, FSCONFIG_SET_STRING, "mode", "0755", 0) == 0
        && fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) == 0)
    {
        mnt = fsmount(fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID
                      | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
    }

    close(fs);

    if (mnt == -1) {
        return -1;
    }

    rc = move_mount(mnt, "", cover, "",
                    MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);

    for (i = 0; rc == 0 && i < iso->nkeep; i++) {
        if (fr_isolate_tmp_of(iso->keep[i]) != -1) {
            continue;
        }

        for (rel = iso->keep[i] + strlen(iso->cover); *rel == '/'; rel++) {
            /* void */
        }

        /* the folders on its way, root's */
        for (p = rel; rc == 0 && *p; p++) {
            if (*p == '/') {
                *p = '\0';
                rc = (mkdirat(mnt, rel, 0755) == -1 && errno != EEXIST) ? -1
                                                                       : 0;
                *p = '/';
            }
        }

        if (rc == 0
            && ((mkdirat(mnt, rel, 0755) == -1 && errno != EEXIST)
                || move_mount(tree[i], "", mnt, rel, MOVE_MOUNT_F_EMPTY_PATH)
                   == -1))
        {
            rc = -1;
        }

        close(tree[i]);
        tree[i] = -1;
    }

    if (rc == 0) {
        memset(&attr, 0, sizeof(attr));
        attr.attr_set = MOUNT_ATTR_RDONLY;
        rc = mount_setattr(mnt, "", AT_EMPTY_PATH, &attr, sizeof(attr));
    }

    close(mnt);

    return rc;
}


/* the tmpfs of all the tmps, attached nowhere: its mount; -1 */

static int
fr_isolate_tmpfs(fr_isolate_t *iso)
{
    int  fs, mnt;

    fs = fsopen("tmpfs", FSOPEN_CLOEXEC);
    if (fs == -1) {
        return -1;
    }

    mnt = -1;

    if (fsconfig(fs, FSCONFIG_SET_STRING, "size", iso->tmp_size, 0) == 0
        && fsconfig(fs, FSCONFIG_SET_STRING, "mode", "0700", 0) == 0
        && fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) == 0)
    {
        mnt = fsmount(fs, FSMOUNT_CLOEXEC,
                      MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV);
    }

    close(fs);

    return mnt;
}


/* its folder "i", anyone's (1777), at the i-th of the tmps; -1 */

static int
fr_isolate_tmp_at(int one, int i)
{
    int   sub, rc;
    char  name[2];

    name[0] = (char) ('0' + i);
    name[1] = '\0';

    if ((mkdirat(one, name, 0700) == -1 && errno != EEXIST)
        || fchmodat(one, name, 01777, 0) == -1)
    {
        return -1;
    }

    sub = open_tree(one, name, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
    if (sub == -1) {
        return -1;
    }

    rc = move_mount(sub, "", AT_FDCWD, fr_isolate_tmps[i],
                    MOVE_MOUNT_F_EMPTY_PATH);
    close(sub);

    return rc;
}


/*
 * The kept folders are the customer's paths: each is looked up with
 * the function's own rights and the symlink rule (fr_path.c), never
 * root's, and cloned from the descriptor found; they are where the
 * function was loaded from, with no symlink, so the same path holds.
 */

static int
fr_isolate_trees(fr_func_t *f, fr_isolate_t *iso, int *tree, int *cover)
{
    int   i, fd, err;
    char  path[PATH_MAX];

    err = 0;

    if (f->set_user) {
        fr_path_as(f->uid, f->gid);
    }

    *cover = (iso->cover[0] == '\0') ? -1
             : fr_path_open(AT_FDCWD, iso->cover, O_PATH | O_DIRECTORY, path);
    err = errno;

    for (i = 0; (*cover != -1 || iso->cover[0] == '\0') && i < iso->nkeep;
         i++)
    {
        fd = fr_path_open(AT_FDCWD, iso->keep[i], O_PATH | O_DIRECTORY, path);

        tree[i] = (fd == -1) ? -1
                  : open_tree(fd, "", AT_EMPTY_PATH | OPEN_TREE_CLONE
                                      | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
        err = errno;

        if (fd != -1) {
            close(fd);
        }

        if (tree[i] == -1) {
            break;
        }
    }

    if (f->set_user) {
        fr_path_as_runner();
    }

    if (i < iso->nkeep || (*cover == -1 && iso->cover[0] != '\0')) {
        while (i > 0) {
            close(tree[--i]);
        }

        if (*cover != -1) {
            close(*cover);
        }

        errno = err;
        return -1;
    }

    return 0;
}


/* a new network namespace's loopback is down until set up */

static int
fr_isolate_loopback(void)
{
    int           fd, rc;
    struct ifreq  ifr;

    fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd == -1) {
        return -1;
    }

    memset(&ifr, 0, sizeof(ifr));
    memcpy(ifr.ifr_name, "lo", 3);

    rc = ioctl(fd, SIOCGIFFLAGS, &ifr);

    if (rc == 0) {
        ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
        rc = ioctl(fd, SIOCSIFFLAGS, &ifr);
    }

    close(fd);

    return rc;
}


/*
 * The last step: the function's program, or faas-init (held on fd 4 by
 * the child) with the exec report pipe on 3 left open for the function.
 * Returns only on failure.
 */

void
fr_isolate_exec(fr_func_t *f, fr_isolate_t *iso, char **env)
{
    if (iso->argv == NULL) {
        if (f->exec_by_fd) {
            execveat(5, "", f->argv, env, AT_EMPTY_PATH);

        } else {
            execve(fr_func_exec(f), f->argv, env);
        }

        return;
    }

    if (iso->proto) {
        /* its report pipe closes on exec: it answers on its socket */
        execveat(4, "", iso->argv, env, AT_EMPTY_PATH);
        return;
    }

    if (fcntl(3, F_SETFD, 0) == -1) {
        return;
    }

    execveat(4, "", iso->argv, env, AT_EMPTY_PATH);
    (void) fcntl(3, F_SETFD, FD_CLOEXEC);
}
