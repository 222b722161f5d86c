/*
 * Copyright (C) ngx_faas developers
 *
 * What a worker's mounts keep of the host under "tmp" isolation: the
 * function's own paths, cloned before the tmps and the functions folder
 * are covered and mounted again at their paths, so that what its
 * workers see of them is theirs alone (fr_isolate.c makes the rest of
 * the namespaces). The child's part runs on the runner's memory between
 * clone and exec: system calls only.
 */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "fr_path.h"
#include "fr_isolate.h"


/* the folders anyone may write, each covered by the worker's tmpfs */
const char  *fr_isolate_tmps[FR_ISOLATE_NTMPS] = {
    "/tmp", "/dev/shm", "/var/tmp", "/run/lock"
};


static int fr_isolate_under(const char *path, const char *dir);
static void fr_isolate_keep(fr_isolate_t *iso, const char *path, int dir);


/*
 * What the kept paths and the cover are now, looked up as the function
 * would: a prototype mounts them once, and is replaced when one changes
 * (the cover too: a functions folder removed or renamed on the host
 * takes the mounts on it along). Fills dev and ino (FR_ISOLATE_KEPT at
 * most); returns how many, or -1 if one is not found.
 */

int
fr_isolate_kept(fr_func_t *f, dev_t *dev, ino_t *ino)
{
    int           i, n, fd, as;
    char          path[PATH_MAX];
    struct stat   st;
    fr_isolate_t  iso;

    fd = -1;

    fr_isolate_keeps(f, &iso);

    n = iso.nkeep;

    if (iso.cover[0] != '\0') {
        strcpy(iso.keep[n], iso.cover);
        iso.file[n++] = 0;
    }

    /* as it was when its rights were taken, whatever n becomes: a cover
     * alone that it cannot reach left the runner with the function's
     * file rights (its next files the tenant's) */
    as = n && f->set_user;

    if (as) {
        fr_path_as(f->uid, f->gid);
    }

    for (i = 0; i < n; i++) {
        fd = fr_path_open(AT_FDCWD, iso.keep[i],
                          O_PATH | (iso.file[i] ? 0 : O_DIRECTORY), path);

        if (fd == -1 && errno == EACCES && i == iso.nkeep) {
            /* a cover it cannot reach: none (fr_isolate_trees) */
            n = i;
            break;
        }

        if (fd == -1 || fstat(fd, &st) == -1) {
            break;
        }

        close(fd);
        dev[i] = st.st_dev;
        ino[i] = st.st_ino;
    }

    if (as) {
        fr_path_as_runner();
    }

    if (i < n) {
        if (fd != -1) {
            close(fd);
        }

        return -1;
    }

    return n;
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
 * there. A function whose folder is a link to elsewhere has the
 * functions folder covered too, its folder left as it is (its paths are
 * its target's); a functions folder that holds one of the tmps (/,
 * /var, /run, /dev) is not covered.
 */

void
fr_isolate_keeps(fr_func_t *f, fr_isolate_t *iso)
{
    int    i;
    char  *c;

    iso->nkeep = 0;
    c = iso->cover;
    c[0] = '\0';

    if (!(f->conf.isolation & FR_ISOLATE_TMP)) {
        return;
    }

    /* the functions folder, resolved; a link's target's folder (a home,
     * /opt) is left as it is */
    if (f->from_dir && f->from_dir[0] == '/'
        && fr_isolate_tmp_of(f->from_dir) == -1
        && strlen(f->from_dir) < PATH_MAX)
    {
        strcpy(c, f->from_dir);

        for (i = 0; i < FR_ISOLATE_NTMPS; i++) {
            /* nor the function's folder, nor under it (a link to it) */
            if (c[1] == '\0' || fr_isolate_under(fr_isolate_tmps[i], c)
                || fr_isolate_under(c, f->dir))
            {
                c[0] = '\0';
                break;
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

int
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


/*
 * A folder, or a file's folder, under one of the tmps or the cover,
 * once; a file right in one of them is kept alone (its folder would be
 * all of it).
 */

static void
fr_isolate_keep(fr_isolate_t *iso, const char *path, int dir)
{
    int          i, j, n;
    char        *p, *slash;
    const char  *top;

    i = fr_isolate_tmp_of(path);
    top = (i == -1) ? iso->cover : fr_isolate_tmps[i];

    if ((i == -1 && (top[0] == '\0' || !fr_isolate_under(path, top)))
        || iso->nkeep == FR_ISOLATE_KEEP || strlen(path) >= PATH_MAX)
    {
        return;
    }

    p = iso->keep[iso->nkeep];
    strcpy(p, path);
    iso->file[iso->nkeep] = 0;

    if (!dir && (slash = strrchr(p, '/')) != NULL) {
        *slash = '\0';

        if (strcmp(p, top) == 0) {
            *slash = '/';
            iso->file[iso->nkeep] = 1;
        }
    }

    if (strcmp(p, top) == 0) {
        /* never the cover, nor one of the tmps, itself */
        return;
    }

    for (j = 0; j < iso->nkeep; j++) {
        if (fr_isolate_under(p, iso->keep[j])
            && (!iso->file[j] || strcmp(p, iso->keep[j]) == 0))
        {
            /* under one kept already */
            return;
        }
    }

    /* those under it it holds */
    for (j = 0, n = 0; j < iso->nkeep; j++) {
        if (iso->file[iso->nkeep] || !fr_isolate_under(iso->keep[j], p)) {
            if (n != j) {
                strcpy(iso->keep[n], iso->keep[j]);
                iso->file[n] = iso->file[j];
            }

            n++;
        }
    }

    if (n != iso->nkeep) {
        strcpy(iso->keep[n], p);
        iso->file[n] = iso->file[iso->nkeep];
    }

    iso->nkeep = n + 1;
}


/*
 * The cover: a small tmpfs of root's (0755, read-only once made) over
 * the functions folder, the kept folders under it mounted at their
 * names. By descriptors only: no path of the customer's is followed as
 * root, and the folder covered is the one the function's own rights
 * found. Takes the trees it mounts.
 */

int
fr_isolate_cover(fr_isolate_t *iso, int cover, int *tree)
{
    int                i, fs, mnt, rc;
    char              *rel, *p;
    mode_t             mask;
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

    /* what it holds is the function's to reach, whatever the umask */
    mask = umask(022);

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
            && (fr_isolate_point(mnt, rel, iso->file[i]) == -1
                || move_mount(tree[i], "", mnt, rel, MOVE_MOUNT_F_EMPTY_PATH)
                   == -1))
        {
            rc = -1;
        }

        close(tree[i]);
        tree[i] = -1;
    }

    (void) umask(mask);

    if (rc == 0) {
        /* a kernel before 5.12 has no mount_setattr: root's 0755 holds */
        memset(&attr, 0, sizeof(attr));
        attr.attr_set = MOUNT_ATTR_RDONLY;
        rc = mount_setattr(mnt, "", AT_EMPTY_PATH, &attr, sizeof(attr));
        rc = (rc == -1 && errno == ENOSYS) ? 0 : rc;
    }

    close(mnt);

    return rc;
}


/* where a kept path is mounted: a folder, or an empty file; -1 */

int
fr_isolate_point(int dfd, const char *path, int file)
{
    int  fd;

    if (!file) {
        return (mkdirat(dfd, path, 0755) == -1 && errno != EEXIST) ? -1 : 0;
    }

    fd = openat(dfd, path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);

    if (fd == -1) {
        return -1;
    }

    close(fd);

    return 0;
}


/*
 * The kept folders are the customer's paths: each is looked up with
 * the function's own rights and the symlink rule (fr_path.c), never
 * root's, and cloned from the descriptor found; they are where the
 * function was loaded from, with no symlink, so the same path holds.
 */

int
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

    if (*cover == -1 && err == EACCES) {
        /* a functions folder it cannot reach hides itself: none */
        iso->cover[0] = '\0';

    } else if (*cover == -1 && (err == ENOENT || err == ELOOP)) {
        /* removed or swapped since the load */
        err = ESTALE;
    }

    for (i = 0; (*cover != -1 || iso->cover[0] == '\0') && i < iso->nkeep;
         i++)
    {
        fd = fr_path_open(AT_FDCWD, iso->keep[i],
                          O_PATH | (iso->file[i] ? 0 : O_DIRECTORY), path);

        tree[i] = (fd == -1) ? -1
                  : open_tree(fd, "", AT_EMPTY_PATH | OPEN_TREE_CLONE
                                      | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
        err = errno;

        if (fd == -1 && strcmp(iso->keep[i], f->dir) == 0
            && (err == ENOENT || err == ELOOP || err == ENOTDIR))
        {
            /* its folder removed or swapped for a link: as fr_spawn.c */
            err = ESTALE;
        }

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
