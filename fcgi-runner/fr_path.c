/*
 * Copyright (C) ngx_faas developers
 *
 * Paths a tenant names, opened as the tenant would open them. The runner
 * is root, and a customer's function folder, its exec and its script are
 * the customer's: a symlink there may point anywhere root can reach. So
 * such a lookup runs with the tenant's file-system identity (fr_path_as:
 * its fsuid, its fsgid and no other group, which also drops root's file
 * capabilities), and fr_path_open() walks the path itself, a component
 * at a time, each opened with O_NOFOLLOW: a symlink is followed only when
 * its owner also owns what it leads to (nginx's "disable_symlinks
 * if_not_owner", Apache's SymLinksIfOwnerMatch). What the caller gets is
 * a descriptor, and the path it was found at, with no symlink and no
 * "..". Raw system calls and no allocation: the spawned child, which
 * shares the runner's memory until it execs, uses these too.
 */

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fr_path.h"
#include "init/faas-sys.h"


typedef struct {
    uid_t                  owner;           /* the link's */
    size_t                 rest;            /* what followed it */
} fr_path_link_t;


static int fr_path_step(int *fd, char *comp, int last, int flags,
    char *resolved, int *link, uid_t *owner);


/* the runner's own groups, to come back to; -1: not read yet */
static gid_t  fr_path_groups[64];
static int    fr_path_ngroups = -1;


/*
 * A root runner only: checks are made as uid and gid from now on. The
 * runner reads its groups on the first call; the spawned child calls
 * it only after the runner has.
 */

void
fr_path_as(uid_t uid, gid_t gid)
{
    if (syscall(FAAS_SYS_GETEUID) != 0) {
        return;
    }

    if (fr_path_ngroups == -1) {
        fr_path_ngroups = getgroups(64, fr_path_groups);

        if (fr_path_ngroups == -1) {
            fr_path_ngroups = 0;
        }
    }

    (void) syscall(FAAS_SYS_SETGROUPS, 1, &gid);
    (void) syscall(FAAS_SYS_SETFSGID, gid);
    (void) syscall(FAAS_SYS_SETFSUID, uid);
}


void
fr_path_as_runner(void)
{
    if (syscall(FAAS_SYS_GETEUID) != 0) {
        return;
    }

    (void) syscall(FAAS_SYS_SETFSUID, 0);
    (void) syscall(FAAS_SYS_SETFSGID, syscall(FAAS_SYS_GETEGID));
    (void) syscall(FAAS_SYS_SETGROUPS, fr_path_ngroups, fr_path_groups);
}


/*
 * Opens path, relative to dirfd (AT_FDCWD: the working directory) or
 * absolute, with flags (O_PATH, or O_RDONLY and the like for the last
 * component). resolved holds dirfd's path on entry (unused for an
 * absolute path; for AT_FDCWD, getcwd()'s is taken) and where the
 * object was found on return. -1 with
 * errno: ELOOP for a symlink whose owner does not own its target, or
 * too many.
 */

int
fr_path_open(int dirfd, const char *path, int flags, char resolved[PATH_MAX])
{
    int              fd, depth, nlinks, link, err;
    char            *p, *comp, todo[PATH_MAX], target[PATH_MAX];
    uid_t            owner;
    size_t           len, rest;
    ssize_t          n;
    struct stat      st;
    fr_path_link_t   links[FR_PATH_MAX_LINKS];

    len = strlen(path);

    if (len == 0 || len >= PATH_MAX) {
        errno = len ? ENAMETOOLONG : ENOENT;
        return -1;
    }

    memcpy(todo, path, len + 1);

    if (todo[0] == '/') {
        resolved[0] = '\0';
        fd = openat(AT_FDCWD, "/", O_PATH | O_DIRECTORY | O_CLOEXEC);

    } else {
        /* from the working directory (a relative "functions"): its path */
        if (dirfd == AT_FDCWD && getcwd(resolved, PATH_MAX) == NULL) {
            return -1;
        }

        if (strcmp(resolved, "/") == 0) {
            resolved[0] = '\0';
        }

        fd = openat(dirfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
    }

    if (fd == -1) {
        return -1;
    }

    p = todo;
    depth = 0;
    nlinks = 0;

    for ( ;; ) {
        while (*p == '/') {
            p++;
        }

        /* the links whose targets are now resolved: whose is it */
        while (depth && strlen(p) <= links[depth - 1].rest) {
            depth--;

            if (fstat(fd, &st) == -1) {
                goto failed;
            }

            if (st.st_uid != links[depth].owner) {
                errno = ELOOP;
                goto failed;
            }
        }

        if (*p == '\0') {
            return fd;
        }

        comp = p;
        p += strcspn(p, "/");

        if (*p) {
            *p++ = '\0';
        }

        if (fr_path_step(&fd, comp, p[strspn(p, "/")] == '\0', flags,
                         resolved, &link, &owner) == -1)
        {
            goto failed;
        }

        if (link == -1) {
            continue;
        }

        /* a symlink: its target in place of it, then what followed */

        n = readlinkat(link, "", target, sizeof(target) - 1);
        close(link);

        if (n <= 0 || ++nlinks > FR_PATH_MAX_LINKS) {
            errno = (n <= 0) ? ENOENT : ELOOP;
            goto failed;
        }

        while (*p == '/') {
            p++;
        }

        rest = strlen(p);

        if ((size_t) n + 1 + rest >= PATH_MAX) {
            errno = ENAMETOOLONG;
            goto failed;
        }

        memmove(todo + n + 1, p, rest + 1);
        memcpy(todo, target, n);
        todo[n] = '/';
        p = todo;

        links[depth].owner = owner;
        links[depth].rest = rest;
        depth++;

        if (todo[0] == '/') {
            close(fd);
            resolved[0] = '\0';
            fd = openat(AT_FDCWD, "/", O_PATH | O_DIRECTORY | O_CLOEXEC);

            if (fd == -1) {
                return -1;
            }
        }
    }

failed:

    err = errno;
    close(fd);
    errno = err;

    return -1;
}


/*
 * One component from *fd: *fd becomes what it names, or, for a symlink,
 * *link its descriptor and *owner its owner (for the caller to follow).
 * The last component is opened with the caller's flags.
 */

static int
fr_path_step(int *fd, char *comp, int last, int flags, char *resolved,
    int *link, uid_t *owner)
{
    int          next, again;
    char        *slash;
    size_t       len;
    struct stat  st, st2;

    *link = -1;

    if (strcmp(comp, ".") == 0) {
        return 0;
    }

    if (strcmp(comp, "..") == 0) {
        next = openat(*fd, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);

        if (next == -1) {
            return -1;
        }

        slash = strrchr(resolved, '/');

        if (slash) {
            *slash = '\0';
        }

        close(*fd);
        *fd = next;

        return 0;
    }

    next = openat(*fd, comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);

    if (next == -1) {
        return -1;
    }

    if (fstat(next, &st) == -1) {
        close(next);
        return -1;
    }

    if (S_ISLNK(st.st_mode)) {
        *link = next;
        *owner = st.st_uid;
        return 0;
    }

    if (last && (flags & O_DIRECTORY) && !S_ISDIR(st.st_mode)) {
        /* as open() says it, O_PATH or not */
        close(next);
        errno = ENOTDIR;
        return -1;
    }

    if (last && (flags & O_PATH) == 0) {
        /* a file or a folder: a FIFO or a device opened would wait */
        if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
            close(next);
            errno = EINVAL;
            return -1;
        }

        /* the same file, opened for use; a swap in between fails (and
         * never waits: a FIFO swapped in opens at once, and differs) */
        again = openat(*fd, comp, flags | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);

        close(next);

        if (again == -1) {
            return -1;
        }

        if (fstat(again, &st2) == -1
            || st2.st_dev != st.st_dev || st2.st_ino != st.st_ino)
        {
            close(again);
            errno = EAGAIN;
            return -1;
        }

        next = again;
    }

    len = strlen(resolved);

    if (len + 1 + strlen(comp) >= PATH_MAX) {
        close(next);
        errno = ENAMETOOLONG;
        return -1;
    }

    resolved[len] = '/';
    strcpy(resolved + len + 1, comp);

    close(*fd);
    *fd = next;

    return 0;
}


void
fr_path_handle(int fd, fr_path_handle_t *h)
{
    int  mount;
    union {
        struct file_handle  fh;
        unsigned char       buf[sizeof(struct file_handle) + 128];
    } u;

    u.fh.handle_bytes = sizeof(h->bytes);
    h->len = 0;

    if (syscall(SYS_name_to_handle_at, fd, "", &u.fh, &mount,
                AT_EMPTY_PATH) == 0
        && u.fh.handle_bytes <= sizeof(h->bytes))
    {
        h->len = u.fh.handle_bytes;
        h->type = u.fh.handle_type;
        memcpy(h->bytes, u.fh.f_handle, h->len);
    }
}


/*
 * Whether fd is the file known by dev, ino and h: its inode number
 * alone may be a new file's (ext4 gives a removed folder's to the next
 * one made at once).
 */

int
fr_path_is(int fd, dev_t dev, ino_t ino, const fr_path_handle_t *h)
{
    struct stat       st;
    fr_path_handle_t  now;

    if (fstat(fd, &st) == -1 || st.st_dev != dev || st.st_ino != ino) {
        return 0;
    }

    if (h->len == 0) {
        return 1;
    }

    fr_path_handle(fd, &now);

    return now.len == h->len && now.type == h->type
           && memcmp(now.bytes, h->bytes, h->len) == 0;
}
