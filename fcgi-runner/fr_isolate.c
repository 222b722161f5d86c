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
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>

#include "fr_log.h"
#include "fr_path.h"
#include "fr_isolate.h"


/* statfs() of an mqueue mount (linux/magic.h) */
#define FR_MQUEUE_MAGIC  0x19800202


#define FR_INIT_NAME     "faas-init"
#define FR_INIT_PATH     "/usr/lib/faas/" FR_INIT_NAME

/* what a root runner's functions get unless they say otherwise */
#define FR_ISOLATE_ROOT  (FR_ISOLATE_TMP | FR_ISOLATE_PID | FR_ISOLATE_IPC)


/*
 * landlock(7) from ABI 6 scopes abstract unix sockets: a process of a
 * domain connects to none bound outside it. They belong to the network
 * namespace, which "ipc" does not split: without it any function could
 * list (/proc/net/unix), connect to and answer for another tenant's or
 * the host's. Its attribute, as the kernel's uapi has it since 6.12.
 */
#define FR_LANDLOCK_SCOPE_ABI       6
#define FR_LANDLOCK_SCOPE_ABSTRACT  1       /* ..._SCOPE_ABSTRACT_UNIX_SOCKET */
#define FR_LANDLOCK_VERSION         1       /* ..._CREATE_RULESET_VERSION */

typedef struct {
    uint64_t               handled_access_fs;
    uint64_t               handled_access_net;
    uint64_t               scoped;
} fr_landlock_attr_t;


static int fr_isolate_tmp(fr_func_t *f, fr_isolate_t *iso);
static int fr_isolate_tmpfs(fr_isolate_t *iso);
static int fr_isolate_tmp_at(int one, int i);
static int fr_isolate_loopback(void);
static int fr_isolate_scope(void);


/* the kernel's landlock ABI, 0 without (read at start) */
static int  fr_isolate_landlock;


/*
 * In the child, a domain of its own for what it starts (a prototype's
 * workers share the prototype's): abstract sockets bound outside it are
 * out of reach. Needs no_new_privs or CAP_SYS_ADMIN: the child has root.
 */

static int
fr_isolate_scope(void)
{
    int                 fd, rc;
    fr_landlock_attr_t  attr;

    attr.handled_access_fs = 0;
    attr.handled_access_net = 0;
    attr.scoped = FR_LANDLOCK_SCOPE_ABSTRACT;

    fd = (int) syscall(SYS_landlock_create_ruleset, &attr, sizeof(attr), 0);
    if (fd == -1) {
        return -1;
    }

    rc = (int) syscall(SYS_landlock_restrict_self, fd, 0);
    close(fd);

    return rc;
}


/*
 * faas-init beside the runner's binary (a build tree), in ../lib/faas
 * from it (an install under a prefix, as the runtimes' drivers), else
 * where "make install" puts it. Held open: found once, whatever the
 * runner's own directory lets a function's user traverse.
 */

void
fr_isolate_find_init(void)
{
    int          fd, i;
    char         self[PATH_MAX], path[PATH_MAX + 32], *slash;
    ssize_t      n;
    struct stat  st;

    static const char  *beside[] = { "/" FR_INIT_NAME,
                                     "/../lib/faas/" FR_INIT_NAME };

    fr_runner.init_fd = -1;

    fr_isolate_landlock = (int) syscall(SYS_landlock_create_ruleset, NULL, 0,
                                        FR_LANDLOCK_VERSION);

    if (fr_isolate_landlock < FR_LANDLOCK_SCOPE_ABI && fr_runner.is_root) {
        fr_log(FR_LOG_NOTICE, 0, "landlock ABI %d (6 needed): \"isolation "
               "= ipc\" leaves abstract unix sockets shared with other "
               "functions and the host (\"net\" does not)",
               fr_isolate_landlock > 0 ? fr_isolate_landlock : 0);
    }

    if (fr_isolate_landlock < FR_LANDLOCK_SCOPE_ABI) {
        fr_isolate_landlock = 0;
    }

    n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    self[n > 0 ? n : 0] = '\0';
    slash = strrchr(self, '/');
    fd = -1;

    for (i = 0; slash && fd == -1 && i < 2; i++) {
        *slash = '\0';
        snprintf(path, sizeof(path), "%s%s", self, beside[i]);
        fd = open(path, O_PATH | O_CLOEXEC);
    }

    if (fd == -1) {
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
                   "nor in ../lib/faas from it nor at " FR_INIT_PATH ": no "
                   "function gets \"isolation = pid\" by default, and one "
                   "that asks for it is refused");
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
 * In the child, still root: a private view of the mounts, a /proc of its
 * own pid namespace, its own /tmp, its loopback, its host name.
 */

int
fr_isolate_child(fr_func_t *f, fr_isolate_t *iso)
{
    struct statfs  sf;

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

    /*
     * the host's /dev/mqueue (systemd mounts it, 1777) shows the host's
     * IPC namespace's queues: its own, of its own namespace, over it
     */
    if ((iso->flags & CLONE_NEWIPC) && (iso->flags & CLONE_NEWNS)
        && mount("mqueue", "/dev/mqueue", "mqueue",
                 MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) == -1
        && statfs("/dev/mqueue", &sf) == 0 && sf.f_type == FR_MQUEUE_MAGIC)
    {
        /* not covered, and there: nothing starts (else nothing shows) */
        return -1;
    }

    if ((iso->flags & CLONE_NEWNET) && fr_isolate_loopback() != 0) {
        return -1;
    }

    if ((iso->flags & CLONE_NEWIPC) && !(iso->flags & CLONE_NEWNET)
        && fr_isolate_landlock && fr_isolate_scope() != 0)
    {
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

        if (fr_isolate_point(AT_FDCWD, iso->keep[i], iso->file[i]) == -1
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
