/*
 * Copyright (C) ngx_faas developers
 *
 * A binary upgrade without a dropped request, as nginx's (SIGUSR2): the
 * runner starts its program again (the path it was started by: the new
 * binary installed there) with its listening socket as descriptor 3, as
 * socket activation passes one (LISTEN_FDS, LISTEN_PID), a pipe on 4
 * (FAAS_UPGRADE_FD) and its lock of state_dir on 5 (said by
 * FAAS_UPGRADE_STATE_FD, fr_state.c). The new runner, once it listens,
 * writes a byte on the pipe: the old one then stops accepting, finishes
 * what is in flight and exits 0 (its socket file stays: the new
 * runner's now). A new runner that exits first, or does
 * not listen within upgrade_timeout (its process group is killed),
 * leaves the old one serving, logged.
 * Connections that arrive meanwhile wait in the one socket's backlog.
 */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fr_listen.h"
#include "fr_log.h"
#include "fr_state.h"
#include "fr_upgrade.h"


#define FR_UPGRADE_FD        4
#define FR_UPGRADE_WAIT_MIN  1000        /* ms: upgrade_timeout, least */


static void fr_upgrade_child(int pipe_fd);
static void fr_upgrade_handler(fr_io_t *io, uint32_t events);
static void fr_upgrade_expired(fr_timer_t *t);


static char      **fr_upgrade_argv;
static pid_t       fr_upgrade_pid;
static fr_io_t     fr_upgrade_io = { .fd = -1 };
static int         fr_upgrade_over;     /* the new runner took over */
static fr_timer_t  fr_upgrade_timer = { .handler = fr_upgrade_expired };


/* the command line to start again: a copy, argv is the options' */

int
fr_upgrade_init(char **argv)
{
    int   n, i;
    char  cwd[PATH_MAX];

    for (n = 0; argv[n]; n++) {
        /* void */
    }

    fr_upgrade_argv = calloc(n + 1, sizeof(char *));

    if (fr_upgrade_argv == NULL) {
        return FR_ERROR;
    }

    for (i = 0; i < n; i++) {
        fr_upgrade_argv[i] = strdup(argv[i]);

        if (fr_upgrade_argv[i] == NULL) {
            return FR_ERROR;
        }
    }

    /* a relative path from where we started (a bare name: from PATH) */
    if (n && argv[0][0] != '/' && strchr(argv[0], '/')
        && getcwd(cwd, sizeof(cwd)) != NULL)
    {
        free(fr_upgrade_argv[0]);
        fr_upgrade_argv[0] = malloc(strlen(cwd) + strlen(argv[0]) + 2);

        if (fr_upgrade_argv[0] == NULL) {
            return FR_ERROR;
        }

        sprintf(fr_upgrade_argv[0], "%s/%s", cwd, argv[0]);
    }

    return FR_OK;
}


void
fr_upgrade_start(void)
{
    int    p[2];
    pid_t  pid;

    if (fr_upgrade_io.fd != -1 || fr_upgrade_over) {
        fr_log(FR_LOG_WARN, 0, "binary upgrade: one is already under way "
               "(new runner %d)", (int) fr_upgrade_pid);
        return;
    }

    if (fr_runner.draining || fr_runner.listen.fd == -1
        || fr_upgrade_argv == NULL)
    {
        fr_log(FR_LOG_WARN, 0, "binary upgrade: not while stopping");
        return;
    }

    if (pipe2(p, O_CLOEXEC) == -1) {
        fr_log(FR_LOG_ERR, errno, "binary upgrade: pipe2() failed");
        return;
    }

    pid = fork();

    if (pid == 0) {
        close(p[0]);
        fr_upgrade_child(p[1]);
    }

    close(p[1]);

    if (pid == -1) {
        fr_log(FR_LOG_ERR, errno, "binary upgrade: fork() failed");
        close(p[0]);
        return;
    }

    fr_upgrade_pid = pid;
    fr_runner.upgrade_pid = pid;
    fr_upgrade_io.fd = p[0];
    fr_upgrade_io.handler = fr_upgrade_handler;

    (void) fcntl(p[0], F_SETFL, O_NONBLOCK);

    if (fr_io_set(&fr_upgrade_io, EPOLLIN) != FR_OK) {
        fr_io_close(&fr_upgrade_io);
        return;
    }

    fr_timer_add(&fr_upgrade_timer,
                 fr_runner.conf.upgrade_timeout < FR_UPGRADE_WAIT_MIN
                 ? FR_UPGRADE_WAIT_MIN
                 : (uint64_t) fr_runner.conf.upgrade_timeout);

    fr_log(FR_LOG_NOTICE, 0, "binary upgrade: starting \"%s\" as %d",
           fr_upgrade_argv[0], (int) pid);
}


/* in the forked child: the socket on 3, the pipe on 4, the lock of
 * state_dir on 5 (fr_state.c), then the exec */

static void
fr_upgrade_child(int pipe_fd)
{
    int       hi[3];
    char      buf[32];
    sigset_t  none;

    /* its own group and session: not signalled with ours */
    (void) setsid();

    hi[0] = fcntl(fr_runner.listen.fd, F_DUPFD_CLOEXEC, 10);
    hi[1] = fcntl(pipe_fd, F_DUPFD_CLOEXEC, 10);
    hi[2] = fr_runner.state_fd == -1
            ? -1 : fcntl(fr_runner.state_fd, F_DUPFD_CLOEXEC, 10);

    if (hi[0] == -1 || hi[1] == -1
        || dup2(hi[0], FR_UPGRADE_FD - 1) == -1
        || dup2(hi[1], FR_UPGRADE_FD) == -1
        || (hi[2] != -1 && dup2(hi[2], FR_STATE_UPGRADE_FD) == -1))
    {
        _exit(1);
    }

    snprintf(buf, sizeof(buf), "%d", (int) getpid());

    if (setenv("LISTEN_PID", buf, 1) == -1
        || setenv("LISTEN_FDS", "1", 1) == -1
        || setenv("FAAS_UPGRADE_FD", "4", 1) == -1
        || (hi[2] != -1 ? setenv("FAAS_UPGRADE_STATE_FD", "5", 1)
                        : unsetenv("FAAS_UPGRADE_STATE_FD")) == -1
        || (fr_runner.listen_path
            && setenv("FAAS_UPGRADE_PATH", fr_runner.listen_path, 1) == -1))
    {
        _exit(1);
    }

    (void) unsetenv("LISTEN_FDNAMES");

    sigemptyset(&none);
    (void) sigprocmask(SIG_SETMASK, &none, NULL);

    execvp(fr_upgrade_argv[0], fr_upgrade_argv);

    fr_log(FR_LOG_ALERT, errno, "binary upgrade: execvp() \"%s\" failed",
           fr_upgrade_argv[0]);
    _exit(1);
}


static void
fr_upgrade_handler(fr_io_t *io, uint32_t events)
{
    char     c;
    ssize_t  n;

    (void) events;

    n = read(io->fd, &c, 1);

    if (n == -1 && (errno == EAGAIN || errno == EINTR)) {
        return;
    }

    fr_io_close(io);
    fr_timer_del(&fr_upgrade_timer);

    if (n != 1) {
        fr_runner.upgrade_pid = 0;
        fr_log(FR_LOG_ERR, 0, "binary upgrade failed: the new runner %d "
               "ended before it listened; this one goes on",
               (int) fr_upgrade_pid);
        return;
    }

    /* the socket file is the new runner's now: not removed at our exit */
    fr_upgrade_over = 1;
    fr_listen_forget();

    fr_log(FR_LOG_NOTICE, 0, "binary upgrade: new runner %d listening; "
           "this one finishes %d request(s) and exits",
           (int) fr_upgrade_pid, fr_runner.nreqs);

    (void) kill(getpid(), SIGTERM);
}


/*
 * A new runner that has not listened within upgrade_timeout (it hangs,
 * or waits for what never comes): its group is killed, this runner goes
 * on and may be upgraded again. Nothing was served by it.
 */

static void
fr_upgrade_expired(fr_timer_t *t)
{
    (void) t;

    if (fr_upgrade_io.fd == -1) {
        return;
    }

    fr_io_close(&fr_upgrade_io);
    fr_runner.upgrade_pid = 0;

    fr_log(FR_LOG_ERR, 0, "binary upgrade failed: the new runner %d did "
           "not listen within upgrade_timeout (%lld ms): killed; this one "
           "goes on", (int) fr_upgrade_pid,
           (long long) fr_runner.conf.upgrade_timeout);

    (void) kill(-fr_upgrade_pid, SIGKILL);
}


/*
 * Stopping while a new runner starts: it is stopped too (it would serve
 * on a socket whose file we remove, beside the next runner), and its
 * ready byte no longer matters.
 */

void
fr_upgrade_abandon(void)
{
    if (fr_upgrade_io.fd == -1) {
        return;
    }

    fr_io_close(&fr_upgrade_io);
    fr_timer_del(&fr_upgrade_timer);

    fr_log(FR_LOG_WARN, 0, "binary upgrade abandoned: stopping the new "
           "runner %d", (int) fr_upgrade_pid);

    (void) kill(fr_upgrade_pid, SIGTERM);
}


/* in the new runner, listening: the old one may go */

void
fr_upgrade_ready(void)
{
    int          fd;
    char        *s, *path;
    struct stat  st;

    s = getenv("FAAS_UPGRADE_FD");

    if (s == NULL) {
        return;
    }

    fd = atoi(s);
    path = getenv("FAAS_UPGRADE_PATH");

    if (path && *path && fr_runner.listen_path == NULL
        && stat(path, &st) == 0 && S_ISSOCK(st.st_mode))
    {
        /* ours to remove at exit, as it was the old runner's */
        fr_runner.listen_path = strdup(path);
        fr_runner.listen_ino = st.st_ino;
    }

    (void) unsetenv("FAAS_UPGRADE_FD");
    (void) unsetenv("FAAS_UPGRADE_PATH");

    /* only the pipe an old runner gave: never a byte into another file */
    if (fd != FR_UPGRADE_FD || fstat(fd, &st) == -1 || !S_ISFIFO(st.st_mode)) {
        fr_log(FR_LOG_WARN, 0, "FAAS_UPGRADE_FD=%d is not an upgrade's "
               "pipe: ignored", fd);
        return;
    }

    if (write(fd, "", 1) == 1) {
        fr_log(FR_LOG_NOTICE, 0, "binary upgrade: the old runner %d may "
               "go", (int) getppid());
    }

    close(fd);
}


int
fr_upgrade_done(void)
{
    return fr_upgrade_over;
}
