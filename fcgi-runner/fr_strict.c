/*
 * Copyright (C) ngx_faas developers
 *
 * Whose a function's folder, program and script are is whom they run
 * as: nobody else may change them. A folder anybody else may change
 * lets them rename or swap what is in it (RENAME_EXCHANGE), and a file
 * system a user mounted (FUSE) says whatever owner its daemon likes.
 * What fails this is not loaded, and the log says why (as sshd's
 * StrictModes for the folders of a key).
 */

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "fr_log.h"
#include "fr_strict.h"


/* statfs()'s f_type of a FUSE file system (fuse, fuseblk) */
#define FR_STRICT_FUSE  0x65735546


static int fr_strict_above(fr_func_t *f, int dfd);
static int fr_strict_mounted(fr_func_t *f, const char *what,
    const char *path, int fd);
static int fr_strict_walk(int fd, int self, const uid_t ok[2],
    struct stat *bad, int *up);
static int fr_strict_safe(int fd, const struct stat *st, const uid_t ok[2]);
static void fr_strict_refused(fr_func_t *f, const char *what,
    const char *path, const struct stat *bad, const uid_t ok[2]);
static int fr_strict_group_private(gid_t gid, uid_t uid);
static uid_t fr_strict_mounter(int fd);


/* a function's folder, as read (dfd): what it is on, what is above it */

int
fr_strict_folder(fr_func_t *f, int dfd)
{
    if (fr_strict_mounted(f, "its folder", f->dir, dfd) != FR_OK) {
        return FR_ERROR;
    }

    return fr_strict_above(f, dfd);
}


/*
 * The folders above a function's, up to "/": one that another user may
 * change (not root's or the folder owner's; or group- or other-writable
 * and not sticky, but for a group private to the owner) lets that user
 * rename the folder or swap one of its own in (RENAME_EXCHANGE): the
 * paths its programs open by name (its script, includes, a document
 * root) would be that user's, under the function's identity (root's
 * folder: whoever it names). The function is not loaded. As sshd's
 * StrictModes for the folders of a key.
 */

static int
fr_strict_above(fr_func_t *f, int dfd)
{
    int          up, i;
    char        *p, path[PATH_MAX];
    uid_t        ok[2];
    struct stat  bad;

    ok[0] = ok[1] = f->dir_uid;

    if (fr_strict_walk(dfd, 0, ok, &bad, &up) == FR_OK) {
        return FR_OK;
    }

    /* f->dir is where it was found: its folders are the ones above */
    snprintf(path, sizeof(path), "%s", f->dir);

    for (i = 0; i < up && (p = strrchr(path, '/')) != NULL; i++) {
        *p = '\0';
    }

    fr_strict_refused(f, "its folder", path[0] ? path : "/", &bad, ok);

    return FR_ERROR;
}


/*
 * A program or script outside the function's folder (a link out of it,
 * an absolute path, one of PATH): it and the folders above it must be
 * root's, the folder owner's or the function user's, and nobody else's
 * to change, or whoever may would run its code as the function.
 */

int
fr_strict_outside(fr_func_t *f, const char *what, const char *path)
{
    int          fd, up, i;
    char        *p, where[PATH_MAX];
    uid_t        ok[2];
    struct stat  st;

    ok[0] = f->dir_uid;
    ok[1] = f->set_user ? f->uid : f->dir_uid;

    snprintf(where, sizeof(where), "%s", path);
    p = strrchr(where, '/');

    if (p == NULL) {
        return FR_OK;
    }

    *p = '\0';

    fd = open(path, O_PATH | O_CLOEXEC);

    if (fd != -1 && fr_strict_mounted(f, what, path, fd) != FR_OK) {
        close(fd);
        return FR_ERROR;
    }

    if (fd == -1 || fstat(fd, &st) == -1) {
        st.st_uid = (uid_t) -1;

    } else if (fr_strict_safe(fd, &st, ok)) {
        /* the file is; and its folders? */
        close(fd);
        fd = open(where[0] ? where : "/", O_PATH | O_DIRECTORY | O_CLOEXEC);

        if (fd == -1) {
            st.st_uid = (uid_t) -1;
            up = 0;

        } else if (fr_strict_walk(fd, 1, ok, &st, &up) == FR_OK) {
            close(fd);
            return FR_OK;
        }

        for (i = 0; i < up && (p = strrchr(where, '/')) != NULL; i++) {
            *p = '\0';
        }

        path = where[0] ? where : "/";
    }

    if (fd != -1) {
        close(fd);
    }

    fr_strict_refused(f, what, path, &st, ok);

    return FR_ERROR;
}


/*
 * Up from fd (itself too with self) to "/": FR_OK if each is root's or
 * ok[]'s, and neither other-writable nor group-writable (but for a group
 * of its owner's alone) unless sticky; FR_ERROR with *bad the first
 * that is not (st_uid -1: one that cannot be looked at), *up how many
 * levels above fd.
 */

static int
fr_strict_walk(int fd, int self, const uid_t ok[2], struct stat *bad,
    int *up)
{
    int          next;
    struct stat  below;

    *up = 0;

    if (fstat(fd, &below) == -1) {
        bad->st_uid = (uid_t) -1;
        return FR_ERROR;
    }

    if (self && !fr_strict_safe(fd, &below, ok)) {
        *bad = below;
        return FR_ERROR;
    }

    next = openat(fd, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);

    for ( ;; ) {
        (*up)++;

        if (next == -1 || fstat(next, bad) == -1) {
            if (next != -1) {
                close(next);
            }

            bad->st_uid = (uid_t) -1;
            return FR_ERROR;
        }

        fd = next;

        if (bad->st_dev == below.st_dev && bad->st_ino == below.st_ino) {
            /* "/" is its own parent */
            close(fd);
            return FR_OK;
        }

        if (!fr_strict_safe(fd, bad, ok)) {
            close(fd);
            return FR_ERROR;
        }

        below = *bad;
        next = openat(fd, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
        close(fd);
    }
}


/* nobody but root and ok[] may change what is in this folder (or file) */

static int
fr_strict_safe(int fd, const struct stat *st, const uid_t ok[2])
{
    char  path[64];

    if (st->st_uid != 0 && st->st_uid != ok[0] && st->st_uid != ok[1]) {
        return 0;
    }

    if (S_ISDIR(st->st_mode) && (st->st_mode & S_ISVTX)) {
        return 1;
    }

    /* with an ACL, the group bits are its mask: whoever it names may
     * write as far as they allow (an O_PATH descriptor: by its path) */
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);

    if ((st->st_mode & S_IWGRP)
        && getxattr(path, "system.posix_acl_access", NULL, 0) > 0)
    {
        return 0;
    }

    return !(st->st_mode & S_IWOTH)
           && (!(st->st_mode & S_IWGRP)
               || fr_strict_group_private(st->st_gid, st->st_uid)
               || fr_strict_group_private(st->st_gid, ok[0])
               || fr_strict_group_private(st->st_gid, ok[1]));
}


/* what fr_strict_above() and fr_strict_outside() found, said */

static void
fr_strict_refused(fr_func_t *f, const char *what, const char *path,
    const struct stat *bad, const uid_t ok[2])
{
    if (bad->st_uid == (uid_t) -1) {
        fr_log(FR_LOG_ERR, errno, "%s/function.conf: not loaded: \"%s\" "
               "(%s) cannot be looked at", f->dir, path, what);
        return;
    }

    fr_log(FR_LOG_ERR, 0, "%s/function.conf: not loaded: %s is in "
           "\"%s\", which %s may change (uid %d, gid %d, mode %04o): "
           "another user could rename it or swap one in its place; keep "
           "functions in folders only root and their owner may change",
           f->dir, what, path,
           (bad->st_uid != 0 && bad->st_uid != ok[0] && bad->st_uid != ok[1])
           ? "its owner" : (bad->st_mode & S_IWOTH) ? "anybody" : "its group",
           (int) bad->st_uid, (int) bad->st_gid,
           (unsigned) (bad->st_mode & 07777));
}


/*
 * A file system a user mounted (FUSE: fusermount for a user allowed
 * "allow_other") says whatever owners and modes its daemon likes: a
 * folder there "root's" could name any user. Only the kernel's own file
 * systems and those root mounted are believed.
 */

static int
fr_strict_mounted(fr_func_t *f, const char *what, const char *path, int fd)
{
    uid_t  uid;

    uid = fr_strict_mounter(fd);

    if (uid == 0) {
        return FR_OK;
    }

    if (uid == (uid_t) -1) {
        fr_log(FR_LOG_ERR, 0, "%s/function.conf: not loaded: %s \"%s\" is "
               "on a FUSE file system whose mounter cannot be read", f->dir,
               what, path);

    } else {
        fr_log(FR_LOG_ERR, 0, "%s/function.conf: not loaded: %s \"%s\" is "
               "on a FUSE file system uid %d mounted, whose owners and modes "
               "are what that user's daemon says", f->dir, what, path,
               (int) uid);
    }

    return FR_ERROR;
}


/* who mounted fd's file system: 0 but for FUSE; -1: unknown */

static uid_t
fr_strict_mounter(int fd)
{
    int            mnt, id;
    char           path[64], *line, *p;
    FILE          *fp;
    size_t         size;
    unsigned long  uid;
    struct statfs  sf;

    if (fstatfs(fd, &sf) == -1) {
        return (uid_t) -1;
    }

    if (sf.f_type != FR_STRICT_FUSE) {
        return 0;
    }

    /* its mount, then that mount's line: "ID PARENT ... - TYPE SRC OPTS" */
    snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);

    line = NULL;
    size = 0;
    mnt = -1;
    uid = (unsigned long) -1;

    fp = fopen(path, "re");

    while (fp && getline(&line, &size, fp) != -1) {
        if (sscanf(line, "mnt_id: %d", &mnt) == 1) {
            break;
        }
    }

    if (fp) {
        fclose(fp);
    }

    fp = (mnt == -1) ? NULL : fopen("/proc/self/mountinfo", "re");

    while (fp && getline(&line, &size, fp) != -1) {
        if (sscanf(line, "%d", &id) != 1 || id != mnt) {
            continue;
        }

        /* after " - ": the type, the source (the user's to name, as
         * "user_id=0"), then the options; spaces in them are \040 */
        p = strstr(line, " - ");
        p = p ? p + 3 : NULL;

        if (p && strncmp(p, "fuse", 4) != 0) {
            /* virtiofs and the like: the kernel's, no user mounts it */
            uid = 0;
            break;
        }

        p = p ? strchr(p, ' ') : NULL;
        p = p ? strchr(p + 1, ' ') : NULL;

        for (p = p ? p + 1 : NULL; p && *p && *p != '\n';
             p += strcspn(p, ",\n"))
        {
            p += (*p == ',');

            if (strncmp(p, "user_id=", 8) == 0
                && sscanf(p + 8, "%lu", &uid) != 1)
            {
                uid = (unsigned long) -1;
            }
        }

        break;
    }

    if (fp) {
        fclose(fp);
    }

    free(line);

    return (uid_t) uid;
}


/* a group of the user's alone: its own group, no other member named */

static int
fr_strict_group_private(gid_t gid, uid_t uid)
{
    char           **m;
    struct group    *gr;
    struct passwd   *pw;

    pw = getpwuid(uid);

    if (pw == NULL || pw->pw_gid != gid) {
        return 0;
    }

    gr = getgrgid(gid);

    if (gr == NULL) {
        return 0;
    }

    for (m = gr->gr_mem; *m; m++) {
        if (strcmp(*m, pw->pw_name) != 0) {
            return 0;
        }
    }

    /* nor anybody else's primary group: they are in it too */
    uid = pw->pw_uid;
    setpwent();

    while ((pw = getpwent()) != NULL) {
        if (pw->pw_gid == gid && pw->pw_uid != uid) {
            break;
        }
    }

    endpwent();

    return pw == NULL;
}
