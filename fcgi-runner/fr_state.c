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


static int fr_state_lock(int fd, const char *path, struct stat *st);
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
    int             fd, rc;
    DIR            *d;
    const char     *path;
    struct stat     st;
    struct dirent  *de;

    path = fr_runner.conf.state_dir;
    fr_runner.state_fd = -1;

    if (mkdir(path, 0700) == -1 && errno != EEXIST) {
        /* made when first needed (a runner not root may never need it,
         * nor may make it where the default is) */
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

    rc = fr_state_lock(fcntl(fd, F_DUPFD_CLOEXEC, 0), path, &st);

    while (rc == FR_OK && (de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) {
            rc = fr_state_file_check(dirfd(d), de->d_name);
        }
    }

    closedir(d);

    return rc;
}


/*
 * flock() on the folder itself: held as long as one descriptor of its
 * open file is, whoever holds it (the new runner of an upgrade shares
 * the old one's); gone with the runner, whatever kills it.
 */

static int
fr_state_lock(int fd, const char *path, struct stat *st)
{
    struct stat  up;

    if (getenv("FAAS_UPGRADE_FD")) {
        /* the old runner's, if it is of this state_dir */
        if (fstat(FR_STATE_UPGRADE_FD, &up) == 0 && S_ISDIR(up.st_mode)
            && up.st_dev == st->st_dev && up.st_ino == st->st_ino)
        {
            close(fd);
            fd = FR_STATE_UPGRADE_FD;
            (void) fcntl(fd, F_SETFD, FD_CLOEXEC);

        } else {
            (void) close(FR_STATE_UPGRADE_FD);
        }
    }

    if (fd == -1 || flock(fd, LOCK_EX | LOCK_NB) == -1) {
        fr_log(FR_LOG_EMERG, errno == EWOULDBLOCK ? 0 : errno, "state_dir "
               "\"%s\" is locked by another runner: each runner needs a "
               "state_dir of its own (two would run invocations twice)",
               path);

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
