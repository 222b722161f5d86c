/*
 * Copyright (C) ngx_faas developers
 *
 * state_dir: what the runner keeps (dynamic users, the names of its
 * functions, the store of asynchronous invocations), checked at start
 * and locked for the runner's life. A second runner on one state_dir
 * (started by hand beside the service, on another address) would take
 * the first one's running invocations for a crash's leftovers and run
 * them again, and write its own functions' names over the first one's;
 * it stops at the lock instead. At a binary upgrade the lock goes to
 * the new runner (fr_upgrade.c, on FR_STATE_UPGRADE_FD).
 */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fr_log.h"
#include "fr_state.h"


static int fr_state_inherited(void);
static int fr_state_lock(int dir, int inherited, const char *path,
    struct stat *st);
static int fr_state_file_check(int dir, const char *name);


/*
 * state_dir holds whole requests and responses of every tenant: it and
 * what is in it are the runner's user's alone. Looser modes (an older
 * runner made it 0755, its files 0644) are repaired and logged; a
 * state_dir or file of another owner, or a link in it, stops the start.
 */

int
fr_state_dir_check(void)
{
    int             fd, rc, inherited;
    DIR            *d;
    const char     *path;
    struct stat     st;
    struct dirent  *de;

    path = fr_runner.conf.state_dir;
    fr_runner.state_fd = -1;
    inherited = fr_state_inherited();

    if (mkdir(path, 0700) == -1 && errno != EEXIST) {
        /* made when first needed (a runner not root may never need it,
         * nor may make it where the default is) */
        if (inherited != -1) {
            close(inherited);
        }

        return FR_OK;
    }

    fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

    if (fd == -1 || fstat(fd, &st) == -1) {
        fr_log(FR_LOG_EMERG, errno, "cannot open state_dir \"%s\"", path);

        if (fd != -1) {
            close(fd);
        }

        return FR_ERROR;
    }

    if (st.st_uid != geteuid()) {
        fr_log(FR_LOG_EMERG, 0, "state_dir \"%s\" is owned by uid %d, not "
               "by the runner's %d", path, (int) st.st_uid, (int) geteuid());
        close(fd);
        return FR_ERROR;
    }

    /* locked before anything in it is touched */
    if (fr_state_lock(fd, inherited, path, &st) != FR_OK) {
        close(fd);
        return FR_ERROR;
    }

    if ((st.st_mode & 077) && fchmod(fd, st.st_mode & 0700) == 0) {
        fr_log(FR_LOG_WARN, 0, "state_dir \"%s\" was mode %04o: now %04o",
               path, (unsigned) (st.st_mode & 07777),
               (unsigned) (st.st_mode & 0700));
    }

    d = fdopendir(fd);

    if (d == NULL) {
        fr_log(FR_LOG_EMERG, errno, "cannot read state_dir \"%s\"", path);
        close(fd);
        return FR_ERROR;
    }

    rc = FR_OK;

    while (rc == FR_OK && (de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) {
            rc = fr_state_file_check(dirfd(d), de->d_name);
        }
    }

    closedir(d);

    return rc;
}


/*
 * A binary upgrade's new runner: the old one's lock, on
 * FR_STATE_UPGRADE_FD when FAAS_UPGRADE_STATE_FD says so (an old runner
 * without a lock, or of an older version, passes none: whatever is on
 * that descriptor then is the runner's own).
 */

static int
fr_state_inherited(void)
{
    char         *s;
    struct stat   st;

    s = getenv("FAAS_UPGRADE_STATE_FD");

    if (s == NULL) {
        return -1;
    }

    if (atoi(s) != FR_STATE_UPGRADE_FD
        || fstat(FR_STATE_UPGRADE_FD, &st) == -1 || !S_ISDIR(st.st_mode))
    {
        fr_log(FR_LOG_WARN, 0, "FAAS_UPGRADE_STATE_FD=%s is not an "
               "upgrade's lock: ignored", s);
        (void) unsetenv("FAAS_UPGRADE_STATE_FD");
        return -1;
    }

    (void) unsetenv("FAAS_UPGRADE_STATE_FD");
    (void) fcntl(FR_STATE_UPGRADE_FD, F_SETFD, FD_CLOEXEC);

    return FR_STATE_UPGRADE_FD;
}


/*
 * flock() on the folder itself: held as long as one descriptor of its
 * open file is, whoever holds it (the new runner of an upgrade shares
 * the old one's); gone with the runner, whatever kills it.
 */

static int
fr_state_lock(int dir, int inherited, const char *path, struct stat *st)
{
    int          fd;
    struct stat  up;

    fd = -1;

    if (inherited != -1) {
        /* the old runner's, if it is of this state_dir */
        if (fstat(inherited, &up) == 0 && up.st_dev == st->st_dev
            && up.st_ino == st->st_ino)
        {
            fd = inherited;

        } else {
            close(inherited);
        }
    }

    /* above the descriptors socket activation may pass */
    fd = (fd == -1) ? fcntl(dir, F_DUPFD_CLOEXEC, 10) : fd;

    if (fd == -1 || flock(fd, LOCK_EX | LOCK_NB) == -1) {
        if (errno == EWOULDBLOCK) {
            fr_log(FR_LOG_EMERG, 0, "state_dir \"%s\" is locked by another "
                   "runner: each runner needs a state_dir of its own (two "
                   "would run invocations twice)", path);

        } else {
            fr_log(FR_LOG_EMERG, errno, "cannot lock state_dir \"%s\"",
                   path);
        }

        if (fd != -1) {
            close(fd);
        }

        return FR_ERROR;
    }

    fr_runner.state_fd = fd;

    return FR_OK;
}


static int
fr_state_file_check(int dir, const char *name)
{
    int          fd;
    mode_t       mode;
    struct stat  st;

    fd = openat(dir, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);

    if (fd == -1 || fstat(fd, &st) == -1
        || st.st_uid != geteuid()
        || !(S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)))
    {
        fr_log(FR_LOG_EMERG, fd == -1 ? errno : 0, "\"%s/%s\" in state_dir "
               "is not a file or folder of the runner's own",
               fr_runner.conf.state_dir, name);

        if (fd != -1) {
            close(fd);
        }

        return FR_ERROR;
    }

    mode = st.st_mode & (S_ISDIR(st.st_mode) ? 0700 : 0600);

    if ((st.st_mode & 07777) != mode && fchmod(fd, mode) == 0) {
        fr_log(FR_LOG_WARN, 0, "\"%s/%s\" was mode %04o: now %04o",
               fr_runner.conf.state_dir, name,
               (unsigned) (st.st_mode & 07777), (unsigned) mode);
    }

    close(fd);

    return FR_OK;
}
