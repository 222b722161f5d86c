/*
 * Copyright (C) ngx_faas developers
 *
 * The PHP runtime of ngx_faas (runtime = php): PHP scripts served over
 * FastCGI by libphp, as php-fpm serves them. The runner starts it as
 *
 *     faas-php [-d NAME=VALUE]... [-a NAME=VALUE]...
 *
 * (exec'd by descriptor: no path of the runner's need be the
 * function's) in the function's folder, as the function's user, with
 * one of these on descriptor 0:
 *
 * - a listening stream socket: a worker of its own. It starts PHP (its
 *   modules, OPcache) and serves one request at a time: the script is
 *   SCRIPT_FILENAME, which the runner sends (the "script" key, or what
 *   "document_root" found for the request's path).
 *
 * - a SOCK_SEQPACKET socket to the runner: the function's zygote. It
 *   starts PHP once and says so ([0, 0]; or [-1, errno]); then every
 *   worker is a fork of it, PHP started, OPcache's shared memory
 *   shared. The runner sends a message for each worker in the format
 *   of faas-init's prototype (fcgi-runner/init/faas-proto.c): "N", a
 *   path, N arguments and the environment, each NUL-ended, with the
 *   worker's 0, 1, 2 and its start report pipe as SCM_RIGHTS. It is
 *   read by a spare: a fork made ahead of time, which answers [its
 *   pid, 0] and becomes the worker (the runner takes the pid it knows
 *   from the message's credentials), or [-1, errno]. Every fork is
 *   made with CLONE_PARENT: the runner's child, as every worker is,
 *   which it reaps, meters and kills by its own rights.
 *
 * -d sets an ini value the code may change; -a one it may not
 * (php-fpm's php_admin_value: the host's, or an operator's function's);
 * -u one a customer's function.conf sets, which the code may not change
 * either, and only where PHP lets a script or a .user.ini change it
 * (PHP_INI_USER or PHP_INI_PERDIR: never disable_functions,
 * ffi.enable, opcache.preload, ...), after PHP's start. "faas-php
 * --check -d ... -a ... -u ..." starts PHP with the -d values and
 * exits: 0 if PHP has every -a and -u setting (and lets each -u one be
 * a customer's), else 1 with the one it lacks said (fcgi-runner --test;
 * the -a and -u values are not applied). -s names the folder of the
 * users' sessions; -p makes it (and every worker) not dumpable.
 */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "faas-php.h"


#define FCGI_BEGIN_REQUEST      1
#define FCGI_ABORT_REQUEST      2
#define FCGI_END_REQUEST        3
#define FCGI_PARAMS             4
#define FCGI_STDIN              5
#define FCGI_STDOUT             6
#define FCGI_GET_VALUES         9
#define FCGI_GET_VALUES_RESULT  10
#define FCGI_UNKNOWN_TYPE       11

#define FCGI_RESPONDER          1
#define FCGI_KEEP_CONN          1
#define FCGI_REQUEST_COMPLETE   0
#define FCGI_CANT_MPX_CONN      1
#define FCGI_UNKNOWN_ROLE       3

#define FP_IN_SIZE     (65536 + 8 + 256)
#define FP_MSG_MAX     (1024 * 1024)
#define FP_FDS         4

/* a zygote's first word when it cannot be one (as the runner reads it) */
#define FP_NOT_STARTED  ENOEXEC
#define FP_THREADED     EBUSY

/* where php-fpm keeps sessions on Debian: root's, 1733 */
#define FP_SESSIONS     "/var/lib/php/sessions"


typedef struct {
    int  type;
    int  id;
    int  len;
} fp_record_t;


static int fp_zygote(int sock);
static pid_t fp_clone_parent(void);
static void fp_spare(int sock, int took, pid_t parent, int here);
static void fp_worker(int *fd, char **env, int here);
static void fp_reply(int sock, int pid, int err);
static int fp_threaded(void);
static void fp_serve(int listen_fd);
static void fp_connection(fp_conn_t *c);
static int fp_next(fp_conn_t *c, fp_record_t *r, unsigned char **content);
static int fp_fill(fp_conn_t *c, size_t need);
static int fp_params(fp_conn_t *c, const unsigned char *p, size_t len);
static int fp_pair_len(const unsigned char **p, const unsigned char *end,
    size_t *len);
static int fp_send_record(fp_conn_t *c, int type, int id,
    const void *data, size_t len);
static void fp_header(unsigned char *h, int type, int id, size_t len);
static int fp_send(fp_conn_t *c, struct iovec *iov, int n);
static int fp_client_left(fp_conn_t *c);
static int fp_stdout_end(fp_conn_t *c, struct iovec *iov, unsigned char *h,
    unsigned char *pad, unsigned char *end);
static void fp_end(fp_conn_t *c, int id, int app_status, int protocol);
static void fp_usage(void);
static const char *fp_sessions(const char *root, char **defaults, int *nd);
static int fp_own_folder(const char *dir);


static unsigned char  fp_in[FP_IN_SIZE];
static unsigned char  fp_out[FP_OUT_MAX];


int
main(int argc, char **argv)
{
    int          type, i, nd, na, nu, check, private;
    char       **defaults, **admin, **tenant;
    const char  *sessions;
    socklen_t   len;

    (void) signal(SIGPIPE, SIG_IGN);

    defaults = calloc(argc + 2, sizeof(char *));
    admin = calloc(argc, sizeof(char *));
    tenant = calloc(argc, sizeof(char *));

    if (defaults == NULL || admin == NULL || tenant == NULL) {
        return 1;
    }

    nd = na = nu = 0;
    check = (argc > 1 && strcmp(argv[1], "--check") == 0);

    sessions = NULL;
    private = 0;

    for (i = check ? 2 : 1; i < argc; i++) {
        if (i + 1 < argc && strcmp(argv[i], "-d") == 0) {
            defaults[nd++] = argv[++i];

        } else if (i + 1 < argc && strcmp(argv[i], "-a") == 0) {
            admin[na++] = argv[++i];

        } else if (i + 1 < argc && strcmp(argv[i], "-u") == 0) {
            tenant[nu++] = argv[++i];

        } else if (i + 1 < argc && strcmp(argv[i], "-s") == 0) {
            sessions = argv[++i];

        } else if (strcmp(argv[i], "-p") == 0) {
            private = 1;

        } else {
            fp_usage();
            return 2;
        }
    }

    /* where PHP looks for its ini files is the runner's, not the code's */
    (void) unsetenv("PHPRC");
    (void) unsetenv("PHP_INI_SCAN_DIR");

    if (check) {
        /* fcgi-runner --test: PHP has these settings, or says which not */
        return fp_php_check(defaults, admin, tenant) == 0 ? 0 : 1;
    }

    sessions = fp_sessions(sessions, defaults, &nd);

    /*
     * Not dumpable, nor the workers forked from us: another worker of
     * the function (the same user) can neither read nor write our
     * memory through /proc (a visitor's request, a zygote poisoned for
     * every later worker), as php-fpm's children, whose user changed
     * (-p: a root runner's; one that is not root reads its workers'
     * /proc as their user).
     */
    if (private && prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1) {
        return 1;
    }

    len = sizeof(int);

    if (getsockopt(0, SOL_SOCKET, SO_TYPE, &type, &len) == -1) {
        fp_usage();
        return 2;
    }

    if (type == SOCK_SEQPACKET) {
        /*
         * What PHP opens at its start (OPcache's lock file) is its
         * workers' too: kept, above 3 and 4, which a worker takes for
         * the runner's report pipe and its first connection.
         */
        for (i = 3; i <= 4; i++) {
            if (fcntl(i, F_GETFD) == -1
                && open("/dev/null", O_RDONLY | O_CLOEXEC) != i)
            {
                fp_reply(0, -1, EMFILE);
                return 1;
            }
        }

        if (fp_php_startup(defaults, admin, tenant) != 0) {
            fp_reply(0, -1, FP_NOT_STARTED);
            return 1;
        }

        if (sessions) {
            fp_php_sessions_sweep(sessions);
        }

        return fp_zygote(0);
    }

    if (fp_php_startup(defaults, admin, tenant) != 0) {
        return 1;
    }

    if (sessions) {
        fp_php_sessions_sweep(sessions);
    }

    fp_serve(0);

    return 0;
}


static void
fp_usage(void)
{
    static const char  usage[] =
        "faas-php: started by fcgi-runner for a function with "
        "\"runtime = php\", with its socket on descriptor 0\n";

    (void) !write(2, usage, sizeof(usage) - 1);
}


/*
 * Sessions in a folder of this user's own, so that they outlive the
 * prototype whose /tmp the runner's default names (a deploy,
 * prototype_idle_timeout), and no other user can take a session id of
 * ours by making its file first. A root runner made ROOT/UID (-s ROOT)
 * in a folder of root's, and there is no other: without it, the
 * runner's default. A runner that is not root made none: faas-php
 * makes FP_SESSIONS/faas-UID (0700: anyone may make one there, nobody
 * may list it; Debian's cron sweeps FP_SESSIONS, subfolders too); one
 * another user made first is refused. Returns the folder, or NULL.
 */

static const char *
fp_sessions(const char *root, char **defaults, int *nd)
{
    static char  dir[PATH_MAX], path[PATH_MAX + 32];

    if (root) {
        snprintf(dir, sizeof(dir), "%s/%lu", root, (unsigned long) getuid());

    } else {
        snprintf(dir, sizeof(dir), FP_SESSIONS "/faas-%lu",
                 (unsigned long) getuid());

        if (mkdir(dir, 0700) == -1 && errno != EEXIST) {
            return NULL;
        }
    }

    if (!fp_own_folder(dir)) {
        fprintf(stderr, "faas-php: \"%s\" is not this user's own folder: "
                "sessions stay in the function's /tmp\n", dir);
        return NULL;
    }

    snprintf(path, sizeof(path), "session.save_path=%s", dir);
    defaults[(*nd)++] = path;
    defaults[(*nd)++] = "session.gc_probability=1";

    return dir;
}


static int
fp_own_folder(const char *dir)
{
    struct stat  st;

    return lstat(dir, &st) == 0 && S_ISDIR(st.st_mode)
           && st.st_uid == getuid() && !(st.st_mode & 0077);
}


/* the zygote -------------------------------------------------------- */

static int
fp_zygote(int sock)
{
    int    here, ready, p[2];
    char   said;
    pid_t  pid, parent;

    if (fp_threaded()) {
        /* a fork copies one thread: what the others held stays held */
        fp_reply(sock, -1, FP_THREADED);
        return 1;
    }

    /* the runner as a worker sees it: 0 from inside a pid namespace */
    parent = getppid();

    /* its folder held, not stood in: only workers stand in it */
    here = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);

    if (here == -1 || chdir("/") == -1) {
        fp_reply(sock, -1, errno);
        return 1;
    }

    /*
     * A spare, forked ahead: it reads the runner's next message, says
     * so on its pipe, and becomes the worker; meanwhile we fork the
     * next one. We never read the socket ourselves. Ready is said once
     * the first spare is there: the runner, looking at our session
     * then, takes one more child of its own there for a stray (what an
     * opcache.preload script made).
     */
    for (ready = 0; ; ready = 1) {
        if (pipe2(p, O_CLOEXEC) == -1) {
            return 1;
        }

        pid = fp_clone_parent();

        if (pid == 0) {
            close(p[0]);
            fp_spare(sock, p[1], parent, here);
            _exit(1);
        }

        close(p[1]);

        if (!ready) {
            fp_reply(sock, 0, 0);
        }

        said = 0;

        if (pid != -1) {
            while (read(p[0], &said, 1) == -1 && errno == EINTR) {
                /* void */
            }
        }

        close(p[0]);

        if (said == 'x') {
            return 0;                   /* the runner is done with us */
        }

        if (said != 't') {
            usleep(100000);             /* it died before it took one */
        }
    }
}


/* fork(), the child the runner's: CLONE_PARENT (one thread here) */

static pid_t
fp_clone_parent(void)
{
    fflush(NULL);

    return syscall(SYS_clone, CLONE_PARENT | SIGCHLD, 0, NULL, NULL, 0);
}


static void
fp_reply(int sock, int pid, int err)
{
    int32_t  r[2];

    r[0] = pid;
    r[1] = err;

    (void) !send(sock, r, sizeof(r), MSG_NOSIGNAL);
}


static int
fp_threaded(void)
{
    int             n;
    DIR            *d;
    struct dirent  *de;

    d = opendir("/proc/self/task");

    if (d == NULL) {
        return 0;
    }

    n = 0;

    while ((de = readdir(d)) != NULL) {
        n += (de->d_name[0] != '.');
    }

    closedir(d);

    return n > 1;
}


/* waits, forked, for the runner's next message; then the worker */

static void
fp_spare(int sock, int took, pid_t parent, int here)
{
    int              fd[FP_FDS], nfd, i, n, nargs;
    char            *buf, *p, *end, **env;
    ssize_t          len;
    struct iovec     iov;
    struct msghdr    msg;
    struct cmsghdr  *cm;
    union {
        struct cmsghdr  align;
        char            buf[CMSG_SPACE(sizeof(int) * FP_FDS)];
    } cbuf;

    /* dies with the runner, its parent; which must still be there */
    if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) == -1
        || getppid() != parent)
    {
        _exit(1);
    }

    buf = malloc(FP_MSG_MAX + 1);

    if (buf == NULL) {
        _exit(1);
    }

    iov.iov_base = buf;
    iov.iov_len = FP_MSG_MAX;

    memset(&msg, 0, sizeof(msg));
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = cbuf.buf;
    msg.msg_controllen = sizeof(cbuf.buf);

    do {
        len = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
    } while (len == -1 && errno == EINTR);

    if (len <= 0) {
        (void) !write(took, "x", 1);
        _exit(0);
    }

    (void) !write(took, "t", 1);
    close(took);

    nfd = 0;

    for (cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
        if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS) {
            continue;
        }

        n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);

        for (i = 0; i < n; i++) {
            if (nfd < FP_FDS) {
                memcpy(&fd[nfd++], CMSG_DATA(cm) + i * sizeof(int),
                       sizeof(int));
            }
        }
    }

    /* "N\0path\0" N arguments, then the environment */
    buf[len] = '\0';
    end = buf + len;
    nargs = (int) strtol(buf, NULL, 10);
    nargs = (nargs < 0 || nargs > len) ? -1 : nargs;

    for (p = buf, i = 0; p < end && i < nargs + 2; i++) {
        p += strlen(p) + 1;
    }

    if (nfd != FP_FDS || (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC))
        || nargs < 0 || i < nargs + 2 || buf[len - 1] != '\0')
    {
        fp_reply(sock, -1, EPROTO);
        _exit(1);
    }

    for (n = 0, end = p; end < buf + len; end += strlen(end) + 1) {
        n++;
    }

    env = calloc(n + 1, sizeof(char *));

    if (env == NULL) {
        fp_reply(sock, -1, ENOMEM);
        _exit(1);
    }

    for (i = 0; i < n; i++) {
        env[i] = p;
        p += strlen(p) + 1;
    }

    /*
     * Out of the zygote's group before the runner knows us: a zygote
     * retired goes with its group (its spare), never with the worker
     * it has just forked for a request. Then the worker answers: the
     * runner takes its pid from the kernel (SO_PASSCRED), ours is of
     * the function's namespace
     */
    if (setsid() == -1) {
        fp_reply(sock, -1, errno);
        _exit(1);
    }

    fp_reply(sock, getpid(), 0);
    close(sock);

    fp_worker(fd, env, here);
}


/* what the runner sent, then requests */

static void
fp_worker(int *fd, char **env, int here)
{
    int  i, hi[FP_FDS];

    if (fchdir(here) == -1) {
        _exit(1);
    }

    /*
     * What the runner sent, out of the way (above 4, never over one
     * of PHP's), then into place; the received ones and the folder
     * closed. Nothing else is closed: what is open besides is PHP's
     * own, from the zygote's start (OPcache's lock file).
     */
    for (i = 0; i < FP_FDS; i++) {
        hi[i] = fcntl(fd[i], F_DUPFD_CLOEXEC, FP_FDS + 1);

        if (hi[i] == -1) {
            _exit(1);
        }
    }

    for (i = 0; i < FP_FDS; i++) {
        if (fd[i] > FP_FDS) {
            close(fd[i]);
        }
    }

    for (i = 0; i < FP_FDS; i++) {
        if (dup3(hi[i], i, i == 3 ? O_CLOEXEC : 0) == -1) {
            _exit(1);
        }

        close(hi[i]);
    }

    close(here);
    close(FP_FDS);

    if (clearenv() != 0) {
        _exit(1);
    }

    for (i = 0; env[i]; i++) {
        if (strchr(env[i], '=') && putenv(env[i]) != 0) {
            _exit(1);
        }
    }

    /* started: the runner sees its report pipe close */
    close(3);

    fp_serve(0);
    _exit(0);
}


/* FastCGI ------------------------------------------------------------ */

static void
fp_serve(int listen_fd)
{
    int        fd;
    fp_conn_t  c;

    for ( ;; ) {
        fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);

        if (fd == -1) {
            if (errno == EINTR || errno == ECONNABORTED) {
                continue;
            }

            return;
        }

        memset(&c, 0, sizeof(c));
        c.fd = fd;
        c.in = fp_in;
        c.out = fp_out;

        fp_connection(&c);

        free(c.params);
        free(c.vars);
        close(fd);
    }
}


static void
fp_connection(fp_conn_t *c)
{
    size_t          size;
    char           *p;
    fp_record_t     r;
    unsigned char  *content, *raw;

    raw = NULL;
    size = 0;

    for ( ;; ) {
        if (fp_next(c, &r, &content) != 0) {
            break;
        }

        if (r.type == FCGI_BEGIN_REQUEST) {
            if (r.len < 8) {
                break;
            }

            if (((content[0] << 8) | content[1]) != FCGI_RESPONDER) {
                fp_end(c, r.id, 0, FCGI_UNKNOWN_ROLE);
                continue;
            }

            c->id = r.id;
            c->keep = (content[2] & FCGI_KEEP_CONN) != 0;
            size = 0;
            continue;
        }

        if (r.id != c->id || c->id == 0 || r.type != FCGI_PARAMS) {
            /* STDIN before the PARAMS' end is not ours to take */
            if (r.id == c->id && c->id && r.type == FCGI_ABORT_REQUEST) {
                fp_end(c, c->id, 1, FCGI_REQUEST_COMPLETE);
                c->id = 0;
            }

            if (r.id == c->id && c->id && r.type == FCGI_STDIN) {
                break;
            }

            continue;
        }

        if (r.len > 0) {
            if (size + r.len > FP_PARAMS_MAX) {
                break;
            }

            p = realloc(raw, size + r.len);

            if (p == NULL) {
                break;
            }

            raw = (unsigned char *) p;
            memcpy(raw + size, content, r.len);
            size += r.len;
            continue;
        }

        if (fp_params(c, raw, size) != 0) {
            break;
        }

        c->stdin_done = c->aborted = c->answered = c->finished = 0;
        c->sent = c->client_left = 0;
        c->body_len = c->out_len = 0;

        (void) fp_php_request(c);

        /* what the script did not read: the next request comes after */
        while (!c->stdin_done && !c->aborted) {
            c->body_len = 0;
            (void) fp_read_body(c, NULL, 0);
        }

        if (!c->finished) {
            (void) fp_finish(c, 0);
        }

        c->id = 0;

        if (!c->keep || c->broken || c->aborted) {
            break;
        }
    }

    free(raw);
}


/*
 * The next record; management records are answered on the way.
 * Returns 0, or -1 at the connection's end or on garbage.
 */

static int
fp_next(fp_conn_t *c, fp_record_t *r, unsigned char **content)
{
    int             type, id, len, pad;
    unsigned char  *h, body[8];
    const unsigned char  *p, *end;
    size_t          n, nlen, vlen;

    for ( ;; ) {
        if (fp_fill(c, 8) != 0) {
            return -1;
        }

        h = c->in + c->in_pos;

        if (h[0] != 1) {
            return -1;
        }

        type = h[1];
        id = (h[2] << 8) | h[3];
        len = (h[4] << 8) | h[5];
        pad = h[6];

        if (fp_fill(c, 8 + len + pad) != 0) {
            return -1;
        }

        *content = c->in + c->in_pos + 8;
        c->in_pos += 8 + len + pad;

        if (type == FCGI_GET_VALUES) {
            /* we take one connection, one request at a time */
            static const char  values[] =
                "\016\001FCGI_MAX_CONNS1"
                "\015\001FCGI_MAX_REQS1"
                "\017\001FCGI_MPXS_CONNS0";
            static const char  *names[] = { "FCGI_MAX_CONNS",
                "FCGI_MAX_REQS", "FCGI_MPXS_CONNS" };
            char      out[sizeof(values)];
            size_t    olen, i, k, at;
            unsigned  seen;

            olen = 0;
            seen = 0;
            p = *content;
            end = p + len;

            while (p < end && fp_pair_len(&p, end, &nlen) == 0
                   && fp_pair_len(&p, end, &vlen) == 0
                   && (size_t) (end - p) >= nlen + vlen)
            {
                for (i = 0, at = 0; i < 3; i++) {
                    k = strlen(names[i]);

                    /* each once, however often it is asked */
                    if (k == nlen && memcmp(p, names[i], k) == 0
                        && !(seen & (1u << i)))
                    {
                        memcpy(out + olen, values + at, k + 3);
                        olen += k + 3;
                        seen |= 1u << i;
                    }

                    at += k + 3;
                }

                p += nlen + vlen;
            }

            if (fp_send_record(c, FCGI_GET_VALUES_RESULT, 0, out, olen) != 0) {
                return -1;
            }

            continue;
        }

        if (type == FCGI_BEGIN_REQUEST && c->id && id != c->id) {
            fp_end(c, id, 0, FCGI_CANT_MPX_CONN);
            continue;
        }

        if (type == 0 || type > FCGI_UNKNOWN_TYPE) {
            memset(body, 0, sizeof(body));
            body[0] = (unsigned char) type;

            if (fp_send_record(c, FCGI_UNKNOWN_TYPE, 0, body, 8) != 0) {
                return -1;
            }

            continue;
        }

        n = len;
        r->type = type;
        r->id = id;
        r->len = (int) n;

        return 0;
    }
}


/* at least need bytes in the input buffer, from its start if must be */

static int
fp_fill(fp_conn_t *c, size_t need)
{
    ssize_t  n;

    if (c->in_len - c->in_pos >= need) {
        return 0;
    }

    if (c->body_len) {
        /* a STDIN record not all taken is where it is: never moved */
        return -1;
    }

    memmove(c->in, c->in + c->in_pos, c->in_len - c->in_pos);
    c->in_len -= c->in_pos;
    c->in_pos = 0;

    while (c->in_len < need) {
        n = read(c->fd, c->in + c->in_len, FP_IN_SIZE - c->in_len);

        if (n == -1 && errno == EINTR) {
            continue;
        }

        if (n <= 0) {
            return -1;
        }

        c->in_len += n;
    }

    return 0;
}


static int
fp_pair_len(const unsigned char **p, const unsigned char *end, size_t *len)
{
    const unsigned char  *s;

    s = *p;

    if (s >= end) {
        return -1;
    }

    if (!(s[0] & 0x80)) {
        *len = s[0];
        *p = s + 1;
        return 0;
    }

    if (end - s < 4) {
        return -1;
    }

    *len = ((size_t) (s[0] & 0x7f) << 24) | (s[1] << 16) | (s[2] << 8) | s[3];
    *p = s + 4;

    return 0;
}


/* the request's name-value pairs: each NUL-ended, and an index */

static int
fp_params(fp_conn_t *c, const unsigned char *raw, size_t size)
{
    size_t                nlen, vlen, n, at;
    fp_param_t           *v;
    const unsigned char  *p, *end;

    free(c->params);
    free(c->vars);
    c->params = NULL;
    c->vars = NULL;
    c->nvars = 0;

    /* at most one pair per two bytes; two NULs each */
    c->params = malloc(size + size + 1);
    c->vars = malloc((size / 2 + 1) * sizeof(fp_param_t));

    if (c->params == NULL || c->vars == NULL) {
        return -1;
    }

    p = raw;
    end = raw + size;
    at = n = 0;

    while (p < end) {
        if (fp_pair_len(&p, end, &nlen) != 0
            || fp_pair_len(&p, end, &vlen) != 0
            || (size_t) (end - p) < nlen + vlen)
        {
            return -1;
        }

        v = &c->vars[n++];
        v->name = c->params + at;
        memcpy(c->params + at, p, nlen);
        at += nlen;
        c->params[at++] = '\0';

        v->value = c->params + at;
        v->value_len = vlen;
        memcpy(c->params + at, p + nlen, vlen);
        at += vlen;
        c->params[at++] = '\0';

        p += nlen + vlen;
    }

    c->nvars = n;
    c->params_len = at;

    return 0;
}


const char *
fp_param(fp_conn_t *c, const char *name)
{
    size_t  i;

    for (i = c->nvars; i > 0; i--) {
        if (strcmp(c->vars[i - 1].name, name) == 0) {
            return c->vars[i - 1].value;
        }
    }

    return NULL;
}


/*
 * The request's body, as the script reads it: up to size bytes, 0 at
 * its end (or when the runner aborted it). buf NULL: one record taken.
 */

size_t
fp_read_body(fp_conn_t *c, char *buf, size_t size)
{
    size_t          n;
    fp_record_t     r;
    unsigned char  *content;

    while (c->body_len == 0 && !c->stdin_done && !c->aborted) {
        if (fp_next(c, &r, &content) != 0) {
            c->aborted = c->broken = 1;
            break;
        }

        if (r.id != c->id) {
            continue;
        }

        if (r.type == FCGI_STDIN) {
            c->body = content;
            c->body_len = r.len;
            c->stdin_done = (r.len == 0);

        } else if (r.type == FCGI_ABORT_REQUEST) {
            c->aborted = 1;
        }

        if (buf == NULL) {
            c->body_len = 0;
            return 0;
        }
    }

    n = (size < c->body_len) ? size : c->body_len;

    if (n) {
        memcpy(buf, c->body, n);
        c->body += n;
        c->body_len -= n;
    }

    return n;
}


/* STDOUT: held until a record's worth, the end or a flush */

int
fp_write(fp_conn_t *c, const void *data, size_t len)
{
    size_t       n;
    const char  *p;

    if (c->broken) {
        return -1;
    }

    p = data;

    while (len) {
        n = FP_OUT_MAX - c->out_len;
        n = (len < n) ? len : n;

        memcpy(c->out + c->out_len, p, n);
        c->out_len += n;
        p += n;
        len -= n;

        if (c->out_len == FP_OUT_MAX && fp_flush(c) != 0) {
            return -1;
        }
    }

    return 0;
}


/*
 * What is held goes. Once some went, the runner's ABORT_REQUEST is
 * looked for first (its client left): then -1, as php-fpm's write to a
 * closed connection, for PHP's connection_aborted() and
 * ignore_user_abort(); what the script writes on is dropped here (the
 * runner would kill a worker that writes 1 MiB for nobody). A response
 * sent in one write looks for nothing.
 */

int
fp_flush(fp_conn_t *c)
{
    int  rc;

    if (c->out_len == 0 || c->broken) {
        return c->broken ? -1 : 0;
    }

    if (c->sent && fp_client_left(c)) {
        c->out_len = 0;
        return -1;
    }

    rc = fp_send_record(c, FCGI_STDOUT, c->id, c->out, c->out_len);
    c->out_len = 0;
    c->sent = 1;

    return rc;
}


/*
 * Whether the runner said the request's client left (ABORT_REQUEST,
 * after the whole body), looked for without waiting: the empty STDIN
 * on the way is taken, never body the script has not read
 */

static int
fp_client_left(fp_conn_t *c)
{
    fp_record_t     r;
    unsigned char   b, *content;

    while (!c->client_left && c->body_len == 0 && !c->aborted) {
        if (c->in_pos == c->in_len
            && recv(c->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) != 1)
        {
            break;
        }

        if (fp_next(c, &r, &content) != 0) {
            c->aborted = c->broken = 1;
            break;
        }

        if (r.id != c->id) {
            continue;
        }

        if (r.type == FCGI_STDIN && r.len) {
            /* the script's to read: kept */
            c->body = content;
            c->body_len = r.len;
            break;
        }

        c->stdin_done |= (r.type == FCGI_STDIN);
        c->client_left = (r.type == FCGI_ABORT_REQUEST);
    }

    return c->client_left;
}


/*
 * The rest of STDOUT and its end: the response (fastcgi_finish_request(),
 * then the runner answers the client and keeps the worker busy until
 * END_REQUEST, when the script ends).
 */

int
fp_answer(fp_conn_t *c)
{
    int            n;
    unsigned char  h[8], pad[8], end[8];
    struct iovec   iov[4];

    if (c->answered || c->finished) {
        return 0;
    }

    c->answered = 1;

    if (c->broken) {
        return -1;
    }

    n = fp_stdout_end(c, iov, h, pad, end);

    return fp_send(c, iov, n);
}


/* the rest of STDOUT, its end unless sent, and the request's: one write */

int
fp_finish(fp_conn_t *c, int status)
{
    int            n;
    unsigned char  h[8], pad[8], end[8], req[16];
    struct iovec   iov[5];

    if (c->finished) {
        return 0;
    }

    c->finished = 1;

    if (c->broken) {
        return -1;
    }

    n = c->answered ? 0 : fp_stdout_end(c, iov, h, pad, end);
    c->answered = 1;

    memset(req, 0, sizeof(req));
    fp_header(req, FCGI_END_REQUEST, c->id, 8);
    req[8] = (status >> 24) & 0xff;
    req[9] = (status >> 16) & 0xff;
    req[10] = (status >> 8) & 0xff;
    req[11] = status & 0xff;
    req[12] = FCGI_REQUEST_COMPLETE;

    iov[n].iov_base = req;
    iov[n++].iov_len = sizeof(req);

    return fp_send(c, iov, n);
}


/* iov[0..n-1]: what STDOUT holds, then its end; returns n */

static int
fp_stdout_end(fp_conn_t *c, struct iovec *iov, unsigned char *h,
    unsigned char *pad, unsigned char *end)
{
    int  n;

    n = 0;
    memset(pad, 0, 8);

    if (c->client_left) {
        /* its client left: nobody reads it */
        c->out_len = 0;
    }

    if (c->out_len) {
        fp_header(h, FCGI_STDOUT, c->id, c->out_len);
        iov[n].iov_base = h;
        iov[n++].iov_len = 8;
        iov[n].iov_base = c->out;
        iov[n++].iov_len = c->out_len;
        iov[n].iov_base = pad;
        iov[n++].iov_len = h[6];
        c->out_len = 0;
    }

    fp_header(end, FCGI_STDOUT, c->id, 0);
    iov[n].iov_base = end;
    iov[n++].iov_len = 8;

    return n;
}


static void
fp_end(fp_conn_t *c, int id, int app_status, int protocol)
{
    unsigned char  b[8];

    memset(b, 0, sizeof(b));
    b[0] = (app_status >> 24) & 0xff;
    b[1] = (app_status >> 16) & 0xff;
    b[2] = (app_status >> 8) & 0xff;
    b[3] = app_status & 0xff;
    b[4] = (unsigned char) protocol;

    (void) fp_send_record(c, FCGI_END_REQUEST, id, b, 8);
}


static int
fp_send_record(fp_conn_t *c, int type, int id, const void *data, size_t len)
{
    unsigned char  h[8], pad[8];
    struct iovec   iov[3];

    memset(pad, 0, sizeof(pad));
    fp_header(h, type, id, len);

    iov[0].iov_base = h;
    iov[0].iov_len = 8;
    iov[1].iov_base = (void *) data;
    iov[1].iov_len = len;
    iov[2].iov_base = pad;
    iov[2].iov_len = h[6];

    return fp_send(c, iov, 3);
}


static void
fp_header(unsigned char *h, int type, int id, size_t len)
{
    h[0] = 1;
    h[1] = (unsigned char) type;
    h[2] = (id >> 8) & 0xff;
    h[3] = id & 0xff;
    h[4] = (len >> 8) & 0xff;
    h[5] = len & 0xff;
    h[6] = (-len) & 7;
    h[7] = 0;
}


static int
fp_send(fp_conn_t *c, struct iovec *iov, int n)
{
    ssize_t  w;

    while (n > 0) {
        w = writev(c->fd, iov, n);

        if (w == -1 && errno == EINTR) {
            continue;
        }

        if (w <= 0) {
            c->broken = 1;
            return -1;
        }

        while (n > 0 && (size_t) w >= iov->iov_len) {
            w -= iov->iov_len;
            iov++;
            n--;
        }

        if (n > 0) {
            iov->iov_base = (char *) iov->iov_base + w;
            iov->iov_len -= w;
        }
    }

    return 0;
}
