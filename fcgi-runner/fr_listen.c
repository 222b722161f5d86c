/*
 * Copyright (C) ngx_faas developers
 *
 * The listening socket: opened safely (a unix socket through a private
 * directory, never over a live runner's), accepted from until the proxy
 * says there is no room (max_connections) or descriptors run out
 * (EMFILE: a rest, not a spin). Each accepted descriptor goes to the
 * proxy's handler.
 */

#include <errno.h>
#include <grp.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "fr_listen.h"
#include "fr_log.h"


#define FR_ACCEPT_REST    100


static int fr_listen_unix(const char *addr);
static int fr_listen_live(const char *path);
static int fr_listen_owner(const char *path);
static int fr_listen_inet(const char *addr);
static void fr_listen_accept(fr_io_t *io, uint32_t events);
static void fr_accept_resume(fr_timer_t *t);


static const fr_listen_handlers_t  *fr_listen_handlers;


void
fr_listen_on(const fr_listen_handlers_t *handlers)
{
    fr_listen_handlers = handlers;
}


/* no room for another connection: accepting waits for one to close */

void
fr_listen_pause(void)
{
    if (!fr_runner.accept_paused) {
        fr_runner.accept_paused = 1;
        (void) fr_io_set(&fr_runner.listen, 0);
    }
}


static int
fr_listen_unix(const char *addr)
{
    int                  fd;
    char                 dir[sizeof(((struct sockaddr_un *) 0)->sun_path)
                             - sizeof("/s")];
    char                *slash;
    struct stat          st;
    struct sockaddr_un   sun;

    slash = strrchr(addr, '/');

    if (strlen(addr) >= sizeof(sun.sun_path)
        || (slash ? (size_t) (slash - addr) + 1 : 0)
           + sizeof(".fcgi-runner.XXXXXX") > sizeof(dir))
    {
        fr_log(FR_LOG_EMERG, 0, "listen path \"%s\" is too long", addr);
        return -1;
    }

    if (lstat(addr, &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) {
            fr_log(FR_LOG_EMERG, 0, "listen path \"%s\" exists and is not "
                   "a socket", addr);
            return -1;
        }

        if (fr_listen_live(addr)) {
            fr_log(FR_LOG_EMERG, 0, "a runner already listens on "
                   "\"unix:%s\"", addr);
            return -1;
        }
    }

    /* the private directory: in the socket's own, for rename() */
    snprintf(dir, sizeof(dir), "%.*s.fcgi-runner.XXXXXX",
             slash ? (int) (slash - addr) + 1 : 0, addr);

    if (mkdtemp(dir) == NULL) {
        fr_log(FR_LOG_EMERG, errno, "mkdtemp() \"%s\" failed", dir);
        return -1;
    }

    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/s", dir);

    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

    if (fd == -1) {
        fr_log(FR_LOG_EMERG, errno, "socket() failed");

    } else if (bind(fd, (struct sockaddr *) &sun, sizeof(sun)) == -1) {
        fr_log(FR_LOG_EMERG, errno, "bind() to \"unix:%s\" failed", addr);

    } else if (fr_listen_owner(sun.sun_path) == FR_OK) {

        if (rename(sun.sun_path, addr) == 0) {
            (void) rmdir(dir);

            fr_runner.listen_path = strdup(addr);

            if (stat(addr, &st) == 0) {
                fr_runner.listen_ino = st.st_ino;
            }

            return fd;
        }

        fr_log(FR_LOG_EMERG, errno, "rename() to \"%s\" failed", addr);
    }

    (void) unlink(sun.sun_path);
    (void) rmdir(dir);

    if (fd != -1) {
        close(fd);
    }

    return -1;
}


static int
fr_listen_live(const char *path)
{
    int                 fd, live;
    struct sockaddr_un  sun;

    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd == -1) {
        return 0;
    }

    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    strcpy(sun.sun_path, path);

    live = connect(fd, (struct sockaddr *) &sun, sizeof(sun)) == 0
           || errno == EAGAIN;

    close(fd);

    return live;
}


static int
fr_listen_owner(const char *path)
{
    uid_t           uid;
    gid_t           gid;
    struct group   *gr;
    struct passwd  *pw;

    if (chmod(path, (mode_t) fr_runner.conf.listen_mode) == -1) {
        fr_log(FR_LOG_EMERG, errno, "chmod() \"%s\" failed", path);
        return FR_ERROR;
    }

    uid = (uid_t) -1;
    gid = (gid_t) -1;

    if (fr_runner.conf.listen_owner) {
        pw = getpwnam(fr_runner.conf.listen_owner);
        if (pw == NULL) {
            fr_log(FR_LOG_EMERG, 0, "unknown listen_owner \"%s\"",
                   fr_runner.conf.listen_owner);
            return FR_ERROR;
        }
        uid = pw->pw_uid;
    }

    if (fr_runner.conf.listen_group) {
        gr = getgrnam(fr_runner.conf.listen_group);
        if (gr == NULL) {
            fr_log(FR_LOG_EMERG, 0, "unknown listen_group \"%s\"",
                   fr_runner.conf.listen_group);
            return FR_ERROR;
        }
        gid = gr->gr_gid;
    }

    if ((uid != (uid_t) -1 || gid != (gid_t) -1)
        && chown(path, uid, gid) == -1)
    {
        fr_log(FR_LOG_EMERG, errno, "chown() \"%s\" failed", path);
        return FR_ERROR;
    }

    return FR_OK;
}


static int
fr_listen_inet(const char *addr)
{
    int               fd, one;
    char              host[256];
    const char       *port;
    struct addrinfo   hints, *ai;

    if (fr_addr_split(addr, host, sizeof(host), &port) != FR_OK) {
        fr_log(FR_LOG_EMERG, 0, "invalid listen address \"%s\"", addr);
        return -1;
    }

    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;

    if (getaddrinfo(host, port, &hints, &ai) != 0) {
        fr_log(FR_LOG_EMERG, 0, "invalid listen address \"%s\"", addr);
        return -1;
    }

    fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd == -1) {
        fr_log(FR_LOG_EMERG, errno, "socket() failed");
        freeaddrinfo(ai);
        return -1;
    }

    one = 1;
    (void) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));

    if (bind(fd, ai->ai_addr, ai->ai_addrlen) == -1) {
        fr_log(FR_LOG_EMERG, errno, "bind() to \"%s\" failed", addr);
        freeaddrinfo(ai);
        close(fd);
        return -1;
    }

    freeaddrinfo(ai);

    return fd;
}


int
fr_listen_open(void)
{
    int          fd;
    const char  *addr;

    addr = fr_runner.conf.listen;

    fd = strncmp(addr, "unix:", 5) == 0 ? fr_listen_unix(addr + 5)
                                        : fr_listen_inet(addr);
    if (fd == -1) {
        return FR_ERROR;
    }

    if (listen(fd, 4096) == -1) {
        fr_log(FR_LOG_EMERG, errno, "listen() on \"%s\" failed", addr);
        close(fd);
        return FR_ERROR;
    }

    fr_runner.listen.fd = fd;
    fr_runner.listen.handler = fr_listen_accept;

    return fr_io_set(&fr_runner.listen, EPOLLIN);
}


static fr_timer_t  fr_accept_timer = { 0, 0, fr_accept_resume, NULL };


static void
fr_accept_resume(fr_timer_t *t)
{
    (void) t;

    if (fr_runner.listen.fd != -1 && !fr_runner.accept_paused) {
        (void) fr_io_set(&fr_runner.listen, EPOLLIN);
    }
}


void
fr_listen_close(void)
{
    struct stat  st;

    fr_timer_del(&fr_accept_timer);
    fr_io_close(&fr_runner.listen);

    if (fr_runner.listen_path) {
        /* ours still, not a file somebody put there since */
        if (stat(fr_runner.listen_path, &st) == 0
            && st.st_ino == fr_runner.listen_ino)
        {
            (void) unlink(fr_runner.listen_path);
        }

        free(fr_runner.listen_path);
        fr_runner.listen_path = NULL;
    }
}


static void
fr_listen_accept(fr_io_t *io, uint32_t events)
{
    int  fd;

    (void) events;

    for ( ;; ) {
        if (fr_listen_handlers->room() != FR_OK) {
            return;
        }

        fd = accept4(io->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

        if (fd == -1) {
            if (errno == EINTR || errno == ECONNABORTED) {
                continue;
            }

            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS
                || errno == ENOMEM)
            {
                /* the socket stays readable: rest, or spin */
                fr_log(FR_LOG_ERR, errno, "accept4() failed, not accepting "
                       "for %d ms", FR_ACCEPT_REST);
                (void) fr_io_set(io, 0);
                fr_timer_add(&fr_accept_timer, FR_ACCEPT_REST);
                return;
            }

            if (errno != EAGAIN) {
                fr_log(FR_LOG_ALERT, errno, "accept4() failed");
            }

            return;
        }

        fr_runner.accepted++;
        fr_listen_handlers->accepted(fd);
    }
}


void
fr_listen_unpause(void)
{
    if (!fr_runner.accept_paused || fr_runner.listen.fd == -1) {
        return;
    }

    fr_runner.accept_paused = 0;
    (void) fr_io_set(&fr_runner.listen, EPOLLIN);
    fr_io_post(&fr_runner.listen, EPOLLIN);
}
