/*
 * Copyright (C) ngx_faas developers
 *
 * The listening socket: opened safely (a unix socket through a private
 * directory, never over a live runner's), or the one systemd passed
 * (LISTEN_FDS: it outlives the runner, connections wait in its backlog
 * across a restart); accepted from until the proxy says there is no
 * room (max_connections) or descriptors run out (EMFILE: a rest, not a
 * spin). Each accepted descriptor goes to the proxy's handler.
 *
 * A TCP socket runs any function as any tenant for whoever connects:
 * on an address other than loopback it takes listen_allow, the
 * networks (CIDRs) whose peers are accepted; the others are closed as
 * accepted.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "fr_clients.h"
#include "fr_listen.h"
#include "fr_log.h"


#define FR_ACCEPT_REST    100
#define FR_ALLOW_MAX      256
#define FR_LISTEN_FD      3         /* systemd's SD_LISTEN_FDS_START */


typedef struct {
    int       family;               /* AF_INET or AF_INET6 */
    int       bits;
    uint8_t   addr[16];
} fr_cidr_t;


static int fr_cidr_parse(const char *s, size_t len, fr_cidr_t *c);
static int fr_addr_bytes(const struct sockaddr *sa, uint8_t *addr);
static int fr_listen_allowed(const struct sockaddr *sa);
static int fr_listen_public(const struct sockaddr *sa, const char *addr,
    const char *where);
static int fr_listen_inherited(void);
static int fr_listen_unix(const char *addr);
static int fr_listen_live(const char *path);
static int fr_listen_owner(const char *path);
static int fr_listen_inet(const char *addr);
static void fr_listen_accept(fr_io_t *io, uint32_t events);
static void fr_accept_resume(fr_timer_t *t);


static const fr_listen_handlers_t  *fr_listen_handlers;

static fr_cidr_t   fr_allow[FR_ALLOW_MAX];
static int         fr_nallow;
static int         fr_listen_tcp;       /* listen_allow applies */
static int         fr_listen_wide;      /* not loopback: it must */
static char        fr_listen_desc[160];
static uint64_t    fr_refused;          /* not yet logged */
static time_t      fr_refused_logged;


/*
 * listen_allow: CIDRs (a bare address is one host), separated by spaces
 * or commas. The list is replaced only when all of it is valid; what is
 * not is logged at level.
 */

int
fr_listen_allow(const char *spec, int level)
{
    int         n;
    size_t      len;
    fr_cidr_t   list[FR_ALLOW_MAX];
    const char *s;

    n = 0;

    for (s = spec ? spec : ""; *s; s += len) {
        s += strspn(s, " \t,");
        len = strcspn(s, " \t,");

        if (len == 0) {
            break;
        }

        if (n == FR_ALLOW_MAX) {
            fr_log(level, 0, "%smore than %d networks in "
                   "\"listen_allow\"", fr_conf_at("listen_allow"),
                   FR_ALLOW_MAX);
            return FR_ERROR;
        }

        if (fr_cidr_parse(s, len, &list[n]) != FR_OK) {
            fr_log(level, 0, "%sinvalid network \"%.*s\" in "
                   "\"listen_allow\": an address or address/bits expected",
                   fr_conf_at("listen_allow"), (int) (len > 64 ? 64 : len),
                   s);
            return FR_ERROR;
        }

        n++;
    }

    if (spec && *spec && n == 0) {
        fr_log(level, 0, "%s\"listen_allow\" names no network",
               fr_conf_at("listen_allow"));
        return FR_ERROR;
    }

    if (n == 0 && fr_listen_wide) {
        /* a reload may not open what the start would have refused */
        fr_log(level, 0, "\"listen_allow\" cannot go: \"%s\" is not a "
               "loopback address", fr_listen_desc);
        return FR_ERROR;
    }

    memcpy(fr_allow, list, n * sizeof(fr_cidr_t));
    fr_nallow = n;

    return FR_OK;
}


static int
fr_cidr_parse(const char *s, size_t len, fr_cidr_t *c)
{
    int           i, max;
    char          buf[INET6_ADDRSTRLEN + 8], *slash, *end;
    long          bits;

    if (len >= sizeof(buf)) {
        return FR_ERROR;
    }

    memcpy(buf, s, len);
    buf[len] = '\0';

    slash = strchr(buf, '/');

    if (slash) {
        *slash++ = '\0';
    }

    memset(c, 0, sizeof(*c));

    if (inet_pton(AF_INET, buf, c->addr) == 1) {
        c->family = AF_INET;
        max = 32;

    } else if (inet_pton(AF_INET6, buf, c->addr) == 1) {
        c->family = AF_INET6;
        max = 128;

    } else {
        return FR_ERROR;
    }

    bits = max;

    if (slash) {
        errno = 0;
        bits = strtol(slash, &end, 10);

        if (*slash < '0' || *slash > '9' || *end != '\0' || errno
            || bits > max)
        {
            return FR_ERROR;
        }
    }

    c->bits = (int) bits;

    /* the host part of a network counts for nothing (as nginx's allow) */
    for (i = 0; i < max / 8; i++) {
        if (i * 8 >= bits) {
            c->addr[i] = 0;

        } else if (i * 8 + 8 > bits) {
            c->addr[i] &= (uint8_t) (0xff << (8 - (bits - i * 8)));
        }
    }

    return FR_OK;
}


/* an address's bytes: 4 (IPv4, IPv4-mapped IPv6 too) or 16; 0: neither */

static int
fr_addr_bytes(const struct sockaddr *sa, uint8_t *addr)
{
    const struct sockaddr_in6  *sin6;

    if (sa->sa_family == AF_INET) {
        memcpy(addr, &((const struct sockaddr_in *) sa)->sin_addr, 4);
        return 4;
    }

    if (sa->sa_family != AF_INET6) {
        return 0;
    }

    sin6 = (const struct sockaddr_in6 *) sa;

    if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
        memcpy(addr, &sin6->sin6_addr.s6_addr[12], 4);
        return 4;
    }

    memcpy(addr, &sin6->sin6_addr, 16);

    return 16;
}


static int
fr_listen_allowed(const struct sockaddr *sa)
{
    int      i, n, b, len;
    uint8_t  addr[16], m;

    len = fr_addr_bytes(sa, addr);

    for (n = 0; len && n < fr_nallow; n++) {
        if ((fr_allow[n].family == AF_INET) != (len == 4)) {
            continue;
        }

        b = fr_allow[n].bits;

        for (i = 0; b > 0; i++, b -= 8) {
            m = (b >= 8) ? 0xff : (uint8_t) (0xff << (8 - b));

            if ((addr[i] & m) != fr_allow[n].addr[i]) {
                break;
            }
        }

        if (b <= 0) {
            return 1;
        }
    }

    return 0;
}


/*
 * A TCP listen on an address other than loopback (0.0.0.0 and :: are
 * every address) takes listen_allow: FR_ERROR, logged, without it.
 */

static int
fr_listen_public(const struct sockaddr *sa, const char *addr,
    const char *where)
{
    int      len;
    uint8_t  a[16];

    fr_listen_tcp = 1;

    len = fr_addr_bytes(sa, a);

    if ((len == 4 && a[0] == 127)
        || (len == 16 && IN6_IS_ADDR_LOOPBACK((struct in6_addr *) a)))
    {
        return FR_OK;
    }

    fr_listen_wide = 1;

    if (fr_nallow > 0) {
        return FR_OK;
    }

    fr_log(FR_LOG_EMERG, 0, "%slisten on \"%s\", not a loopback address, "
           "takes \"listen_allow\": whoever connects to a runner may run "
           "any function as any tenant", where, addr);

    return FR_ERROR;
}


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


/*
 * The unix socket. A live runner's socket is never taken over, and
 * nothing but a stale socket is replaced. The socket is bound inside a
 * private directory next to its path, given its mode and owner there,
 * where nobody else can swap the file, and renamed into place.
 */

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


/* a socket some process still accepts on */

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


/* mode, owner, group of the socket file, in its private directory */

static int
fr_listen_owner(const char *path)
{
    uid_t  uid;
    gid_t  gid;

    if (chmod(path, (mode_t) fr_runner.conf.listen_mode) == -1) {
        fr_log(FR_LOG_EMERG, errno, "chmod() \"%s\" failed", path);
        return FR_ERROR;
    }

    if (fr_listen_ids(&uid, &gid) != FR_OK) {
        return FR_ERROR;
    }

    if ((uid != (uid_t) -1 || gid != (gid_t) -1)
        && chown(path, uid, gid) == -1)
    {
        fr_log(FR_LOG_EMERG, errno, "chown() \"%s\" failed", path);
        return FR_ERROR;
    }

    return FR_OK;
}


/* listen_owner and listen_group, as ids ((uid_t) -1: unset); --test */

int
fr_listen_ids(uid_t *uid, gid_t *gid)
{
    struct group   *gr;
    struct passwd  *pw;

    *uid = (uid_t) -1;
    *gid = (gid_t) -1;

    if (fr_runner.conf.listen_owner) {
        pw = getpwnam(fr_runner.conf.listen_owner);
        if (pw == NULL) {
            fr_log(FR_LOG_EMERG, 0, "%sunknown listen_owner \"%s\"",
                   fr_conf_at("listen_owner"), fr_runner.conf.listen_owner);
            return FR_ERROR;
        }
        *uid = pw->pw_uid;
    }

    if (fr_runner.conf.listen_group) {
        gr = getgrnam(fr_runner.conf.listen_group);
        if (gr == NULL) {
            fr_log(FR_LOG_EMERG, 0, "%sunknown listen_group \"%s\"",
                   fr_conf_at("listen_group"), fr_runner.conf.listen_group);
            return FR_ERROR;
        }
        *gid = gr->gr_gid;
    }

    return FR_OK;
}


/*
 * listen's address as --test sees it, before anything is bound: "unix:"
 * and a path, or HOST:PORT, loopback unless listen_allow is set (after
 * fr_listen_allow())
 */

int
fr_listen_check(const char *addr)
{
    int               rc;
    char              host[256];
    const char       *port;
    struct addrinfo   hints, *ai;

    if (strncmp(addr, "unix:", 5) == 0) {
        if (addr[5] == '\0') {
            fr_log(FR_LOG_EMERG, 0, "%sinvalid listen address \"%s\": no "
                   "path", fr_conf_at("listen"), addr);
            return FR_ERROR;
        }

        return FR_OK;
    }

    if (fr_addr_split(addr, host, sizeof(host), &port) != FR_OK) {
        fr_log(FR_LOG_EMERG, 0, "%sinvalid listen address \"%s\": "
               "\"unix:PATH\" or \"HOST:PORT\" (1-65535)",
               fr_conf_at("listen"), addr);
        return FR_ERROR;
    }

    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;

    if (getaddrinfo(host, port, &hints, &ai) != 0) {
        fr_log(FR_LOG_EMERG, 0, "%sinvalid listen address \"%s\"",
               fr_conf_at("listen"), addr);
        return FR_ERROR;
    }

    rc = fr_listen_public(ai->ai_addr, addr, fr_conf_at("listen"));

    freeaddrinfo(ai);

    return rc;
}


/* HOST:PORT, [IPV6]:PORT */

static int
fr_listen_inet(const char *addr)
{
    int               fd, one;
    char              host[256];
    const char       *port;
    struct addrinfo   hints, *ai;

    if (fr_addr_split(addr, host, sizeof(host), &port) != FR_OK) {
        fr_log(FR_LOG_EMERG, 0, "%sinvalid listen address \"%s\"",
               fr_conf_at("listen"), addr);
        return -1;
    }

    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;

    if (getaddrinfo(host, port, &hints, &ai) != 0) {
        fr_log(FR_LOG_EMERG, 0, "%sinvalid listen address \"%s\"",
               fr_conf_at("listen"), addr);
        return -1;
    }

    if (fr_listen_public(ai->ai_addr, addr, fr_conf_at("listen")) != FR_OK) {
        freeaddrinfo(ai);
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

    if (fr_listen_allow(fr_runner.conf.listen_allow, FR_LOG_EMERG) != FR_OK) {
        return FR_ERROR;
    }

    fd = fr_listen_inherited();

    if (fd == -2) {
        snprintf(fr_listen_desc, sizeof(fr_listen_desc), "%s", addr);

        fd = (fr_listen_check(addr) != FR_OK) ? -1
             : strncmp(addr, "unix:", 5) == 0 ? fr_listen_unix(addr + 5)
                                              : fr_listen_inet(addr);

        if (fd != -1 && listen(fd, 4096) == -1) {
            fr_log(FR_LOG_EMERG, errno, "listen() on \"%s\" failed", addr);
            close(fd);
            fd = -1;
        }
    }

    if (fd == -1) {
        return FR_ERROR;
    }

    if (fr_nallow && !fr_listen_tcp) {
        fr_log(FR_LOG_WARN, 0, "\"listen_allow\" applies to a TCP socket "
               "only: \"%s\" is not one", fr_listen_desc);
    }

    fr_runner.listen.fd = fd;
    fr_runner.listen.handler = fr_listen_accept;

    return fr_io_set(&fr_runner.listen, EPOLLIN);
}


/*
 * The socket systemd passed (socket activation: LISTEN_PID is ours,
 * LISTEN_FDS counts from descriptor 3), used as it is: its address and
 * its file are systemd's, kept across our restarts. -2: none passed.
 */

static int
fr_listen_inherited(void)
{
    int                      fd, n, type, on;
    char                    *pid, *fds, *path, host[INET6_ADDRSTRLEN];
    const char              *from;
    socklen_t                len;
    struct sockaddr_storage  ss;

    pid = getenv("LISTEN_PID");
    fds = getenv("LISTEN_FDS");

    /* an old runner's, at a binary upgrade (fr_upgrade.c), or systemd's */
    from = getenv("FAAS_UPGRADE_FD") ? "inherited" : "from systemd";

    if (pid == NULL || fds == NULL || atoi(pid) != (int) getpid()) {
        return -2;
    }

    n = atoi(fds);

    (void) unsetenv("LISTEN_PID");
    (void) unsetenv("LISTEN_FDS");
    (void) unsetenv("LISTEN_FDNAMES");

    if (n < 1) {
        return -2;
    }

    /* one socket is ours; any more systemd passed are closed */
    for (fd = FR_LISTEN_FD + 1; fd < FR_LISTEN_FD + n; fd++) {
        fr_log(FR_LOG_WARN, 0, "socket activation: descriptor %d not used "
               "(one listening socket is)", fd);
        (void) close(fd);
    }

    fd = FR_LISTEN_FD;
    len = sizeof(type);

    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == -1
        || type != SOCK_STREAM
        || (len = sizeof(on),
            getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &on, &len) == -1)
        || !on)
    {
        fr_log(FR_LOG_EMERG, 0, "socket activation: descriptor %d is not "
               "a listening stream socket", fd);
        return -1;
    }

    len = sizeof(ss);

    if (getsockname(fd, (struct sockaddr *) &ss, &len) == -1
        || fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) == -1
        || fcntl(fd, F_SETFD, FD_CLOEXEC) == -1)
    {
        fr_log(FR_LOG_EMERG, errno, "socket activation: descriptor %d", fd);
        return -1;
    }

    if (ss.ss_family == AF_UNIX) {
        /* bound elsewhere and renamed (fr_listen_unix): the old runner
         * says where it is */
        path = getenv("FAAS_UPGRADE_PATH");
        snprintf(fr_listen_desc, sizeof(fr_listen_desc), "unix:%s (%s)",
                 path ? path : ((struct sockaddr_un *) &ss)->sun_path, from);
        return fd;
    }

    host[0] = '\0';
    (void) inet_ntop(ss.ss_family, ss.ss_family == AF_INET
                     ? (void *) &((struct sockaddr_in *) &ss)->sin_addr
                     : (void *) &((struct sockaddr_in6 *) &ss)->sin6_addr,
                     host, sizeof(host));
    snprintf(fr_listen_desc, sizeof(fr_listen_desc),
             ss.ss_family == AF_INET6 ? "[%s]:%d (%s)" : "%s:%d (%s)", host,
             ntohs(((struct sockaddr_in *) &ss)->sin_port), from);

    return fr_listen_public((struct sockaddr *) &ss, fr_listen_desc, "")
           == FR_OK
           ? fd : -1;
}


const char *
fr_listen_name(void)
{
    return fr_listen_desc;
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


/* the socket file is another runner's now: not removed at exit */

void
fr_listen_forget(void)
{
    free(fr_runner.listen_path);
    fr_runner.listen_path = NULL;
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
    int                      fd;
    char                     host[INET6_ADDRSTRLEN];
    uint8_t                  a[16];
    time_t                   now;
    socklen_t                len;
    struct sockaddr_storage  peer;

    (void) events;

    for ( ;; ) {
        if (fr_listen_handlers->room() != FR_OK) {
            return;
        }

        len = sizeof(peer);
        fd = accept4(io->fd, (struct sockaddr *) &peer, &len,
                     SOCK_NONBLOCK | SOCK_CLOEXEC);

        if (fd != -1 && fr_nallow && fr_listen_tcp
            && !fr_listen_allowed((struct sockaddr *) &peer))
        {
            /* closed unread; logged at most once a second */
            close(fd);
            fr_refused++;
            now = time(NULL);

            if (now != fr_refused_logged) {
                host[0] = '\0';
                (void) inet_ntop(fr_addr_bytes((struct sockaddr *) &peer, a)
                                 == 4 ? AF_INET : AF_INET6, a, host,
                                 sizeof(host));
                fr_log(FR_LOG_WARN, 0, "connection from %s refused: not in "
                       "\"listen_allow\" (%llu refused)", host,
                       (unsigned long long) fr_refused);
                fr_refused_logged = now;
                fr_refused = 0;
            }

            continue;
        }

        if (fd != -1 && fr_listen_tcp && fr_clients_refused(fd)) {
            close(fd);
            continue;
        }

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


/* a connection closed, or one became idle and may make room */

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
