/*
 * Copyright (C) ngx_faas developers
 *
 * runtime = php: its keys and faas-php's command line (fr_runtime.c
 * finds faas-php, holds it and starts the function's zygote): the ini
 * defaults the function's memory and timeout give, each php.NAME as a
 * value the code may not change.
 */

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fr_log.h"
#include "fr_runtime.h"


#define FR_RUNTIME_PHP_SELF  112       /* MiB: PHP's own address space */
#define FR_MIB               (1024 * 1024)
#define FR_RUNTIME_NOBODY    65534     /* --test's PHP runs as */
#define FR_RUNTIME_CHECK_MSEC  10000


static int fr_runtime_php_argv(fr_func_t *f);
static int fr_runtime_php_check(fr_func_t *f);
static int fr_runtime_php_known(fr_func_t *f, int add);
static int fr_runtime_php_dir(int at, const char *name, mode_t mode,
    uid_t uid, gid_t gid);


/* the i-th php.NAME is a customer's own (-u), not the host's nor an
 * operator's function's (-a) */
#define fr_runtime_php_own(f, i)                                             \
    ((i) < (f)->conf.nphp_own && !(f)->operators)


/* --test: the php.NAME PHP was found to have, so as to ask it once */
static char  **fr_runtime_php_names;
static int     fr_runtime_php_nnames;


int
fr_runtime_php_conf(fr_func_t *f, int test)
{
    int          problems;
    char         at[48];
    fr_fconf_t  *fc;

    fc = &f->conf;
    problems = 0;

    if (fc->exec || fc->app || fc->python_path
        || fc->mode != FR_MODE_FASTCGI)
    {
        fr_log(FR_LOG_ERR, 0, "%s/function.conf:%d: runtime = php runs "
               "the function's PHP scripts: no exec, app, python.path, nor "
               "mode = cgi", f->dir, fr_fconf_line(fc, "runtime"));
        problems++;
    }

    if (fc->script && fc->document_root) {
        fr_log(FR_LOG_ERR, 0, "%s/function.conf:%d: runtime = php takes "
               "script (one script runs every request: a front controller) "
               "or document_root (the request's path names the script), "
               "not both", f->dir, fr_fconf_line(fc, "runtime"));
        problems++;
    }

    /* neither: its index (index.php) is its front controller */
    if (fc->script == NULL && fc->document_root == NULL
        && (fc->script = strdup(fc->index ? fc->index : "index.php"))
           == NULL)
    {
        fr_log(FR_LOG_ALERT, errno, "strdup() failed");
        problems++;
    }

    if (fr_runtime_php == -1) {
        fr_log(FR_LOG_ERR, 0, "function \"%s\": runtime = php needs "
               FR_RUNTIME_PHP " beside the runner or at " FR_RUNTIME_PHP_PATH
               " (make, with php8.2-dev and libphp8.2-embed)", f->name);
        problems++;
    }

    if (problems == 0 && fr_runtime_php_argv(f) != FR_OK) {
        fr_log(FR_LOG_ALERT, errno, "malloc() failed");
        problems++;
    }

    if (problems == 0 && test && fc->nphp && !fr_runtime_php_known(f, 0)) {
        if (fr_runtime_php_check(f) != 0) {
            /* the line of its first php.NAME, if it has one; the
             * runner config's defaults named if they add some */
            at[0] = '\0';

            if (fc->php_line) {
                snprintf(at, sizeof(at), ":%d", fc->php_line);
            }

            fr_log(FR_LOG_ERR, 0, "%s/function.conf%s: a php.NAME that "
                   "PHP does not take%s (" FR_RUNTIME_PHP " says which, "
                   "above)", f->dir, at,
                   fc->nphp == fc->nphp_own ? ""
                   : fc->nphp_own ? ", its own or a default of the runner "
                                    "config's"
                   : ": a default of the runner config's");
            problems++;

        } else {
            (void) fr_runtime_php_known(f, 1);
        }
    }

    return problems;
}


/* faas-php [-d memory_limit=M -d opcache.memory_consumption=O]
 *     -d max_execution_time=S -d session... [-s SESSIONS -p]
 *     [-a NAME=VALUE]... [-u NAME=VALUE]... */

static int
fr_runtime_php_argv(fr_func_t *f)
{
    int          i, j, n;
    char       **argv, num[64];
    size_t       len;
    int64_t      opcache, limit;
    fr_fconf_t  *fc, *host;

    fc = &f->conf;
    host = &fr_runner.conf.defaults;
    argv = calloc(14 + 2 * (fc->nphp + host->nphp) + 1, sizeof(char *));

    if (argv == NULL) {
        return FR_ERROR;
    }

    f->argv = argv;
    n = 0;
    argv[n++] = strdup(fr_runtime_php_path);

    if (fc->memory > 0) {
        /*
         * Its address space (memory) holds PHP itself (its libraries,
         * ICU's data, the stack: FR_RUNTIME_PHP_SELF), OPcache's
         * shared memory (an eighth, 8 to 128 MiB) and what the script
         * may allocate: memory_limit, what is left (16 MiB at least),
         * reached before the address space's end is.
         */
        opcache = fc->memory / 8 / FR_MIB;
        opcache = (opcache < 8) ? 8 : (opcache > 128) ? 128 : opcache;
        limit = fc->memory - (opcache + FR_RUNTIME_PHP_SELF) * FR_MIB;
        limit = (limit < 16 * FR_MIB) ? 16 * FR_MIB : limit;

        snprintf(num, sizeof(num), "memory_limit=%lldM",
                 (long long) (limit / FR_MIB));
        argv[n++] = strdup("-d");
        argv[n++] = strdup(num);

        snprintf(num, sizeof(num), "opcache.memory_consumption=%lld",
                 (long long) opcache);
        argv[n++] = strdup("-d");
        argv[n++] = strdup(num);
    }

    snprintf(num, sizeof(num), "max_execution_time=%lld",
             (long long) (fc->timeout + 999) / 1000);
    argv[n++] = strdup("-d");
    argv[n++] = strdup(num);

    /* sessions: faas-php keeps them in the user's folder the runner
     * made (fr_runtime_php_sessions); without one, in the function's
     * /tmp */
    argv[n++] = strdup("-d");
    argv[n++] = strdup("session.save_path=/tmp");
    argv[n++] = strdup("-d");
    argv[n++] = strdup("session.gc_probability=1");

    if (geteuid() == 0) {
        /* every function has a user of its own: no fallback */
        argv[n++] = strdup("-s");
        argv[n++] = strdup(FR_RUNTIME_PHP_LIB "/" FR_RUNTIME_PHP_SESS);
        /* not dumpable (one not root reads its workers' /proc as them) */
        argv[n++] = strdup("-p");
    }

    /*
     * An operator's function: its values and the host's defaults, -a.
     * A customer's: every one of the host's (-a), then its own (-u),
     * which faas-php sets over them as a .user.ini would (only what one
     * may; open_basedir only narrower)
     */
    for (i = 0; i < fc->nphp; i++) {
        if (!fr_runtime_php_own(f, i)) {
            argv[n++] = strdup("-a");
            argv[n++] = strdup(fc->php[i]);
        }
    }

    for (i = 0; i < fc->nphp_own && !f->operators; i++) {
        for (j = 0; j < host->nphp; j++) {
            len = strcspn(host->php[j], "=");

            if (strncmp(host->php[j], fc->php[i], len + 1) == 0) {
                /* the host's it replaces: given too, under it */
                argv[n++] = strdup("-a");
                argv[n++] = strdup(host->php[j]);
            }
        }
    }

    for (i = 0; i < fc->nphp_own && !f->operators; i++) {
        argv[n++] = strdup("-u");
        argv[n++] = strdup(fc->php[i]);
    }

    for (i = 0; i < n; i++) {
        if (argv[i] == NULL) {
            return FR_ERROR;
        }
    }

    f->exec_by_fd = 1;
    f->exec_fd = fr_runtime_php;

    /* fastcgi_finish_request(): its END_REQUEST comes when the script
     * ends, after the end of its STDOUT (fr_fastcgi_worker.c) */
    f->ends_early = 1;

    return FR_OK;
}


/*
 * PHP sessions outlive a prototype (whose /tmp is the default): each
 * user of a PHP function has a folder of its own (0700) in one of
 * root's (0711) beside Debian's /var/lib/php/sessions, made here as
 * root when the function is loaded and again before each of its
 * zygotes starts (a folder removed since, or loosened). Nobody else can
 * make a folder there, so no user can make another's first (in
 * Debian's, sticky and open to all, anyone could) and none can put a
 * session file in another's; one found that is not the uid's is not
 * given to it (an earlier user of a reused uid's). faas-php (-s) has
 * no other: without it, sessions stay in the function's /tmp. A runner
 * that is not root makes none: faas-php makes one of its own in
 * Debian's folder.
 */

void
fr_runtime_php_sessions(fr_func_t *f)
{
    int          lib, dir, own;
    char         name[32];
    struct stat  st;
    static uint64_t  told;

    if (!f->set_user) {
        return;
    }

    dir = own = -1;
    snprintf(name, sizeof(name), "%lu", (unsigned long) f->uid);

    lib = open(FR_RUNTIME_PHP_LIB, O_RDONLY | O_DIRECTORY | O_NOFOLLOW
                                   | O_CLOEXEC);

    if (lib != -1 && fstat(lib, &st) == 0) {
        errno = (st.st_uid != 0 || (st.st_mode & 022)) ? EPERM : 0;
    }

    if (lib != -1 && errno == 0) {
        dir = fr_runtime_php_dir(lib, FR_RUNTIME_PHP_SESS, 0711, 0, 0);
    }

    if (dir != -1) {
        /* only root makes anything here: what is there, root made */
        own = fr_runtime_php_dir(dir, name, 0700, f->uid, f->gid);
    }

    if (own == -1 && (told == 0 || fr_current_msec - told >= 60000)) {
        /* at most once a minute: every start of every PHP function
         * would say the same */
        told = fr_current_msec;
        fr_log(FR_LOG_WARN, errno, "PHP sessions of \"%s\" stay in its "
               "/tmp: no folder " FR_RUNTIME_PHP_LIB "/" FR_RUNTIME_PHP_SESS
               "/%s (" FR_RUNTIME_PHP_LIB " must be root's, written by root "
               "alone; " FR_RUNTIME_PHP_SESS " root's, %s the user's)",
               f->name, name, name);
    }

    if (own != -1) {
        close(own);
    }

    if (dir != -1) {
        close(dir);
    }

    if (lib != -1) {
        close(lib);
    }
}


/* a folder in at, made or found uid's, then given gid and mode; or -1 */

static int
fr_runtime_php_dir(int at, const char *name, mode_t mode, uid_t uid,
    gid_t gid)
{
    int          fd;
    struct stat  st;

    if (mkdirat(at, name, mode) == 0) {
        /* made by root: the user's from the start */
        if (fchownat(at, name, uid, gid, AT_SYMLINK_NOFOLLOW) == -1) {
            return -1;
        }

    } else if (errno != EEXIST) {
        return -1;
    }

    fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

    if (fd == -1) {
        return -1;
    }

    if (fstat(fd, &st) == 0 && st.st_uid != uid) {
        /* another's (an earlier user of the uid's, or an operator's):
         * what it holds is not given to this one */
        errno = EPERM;
        close(fd);
        return -1;
    }

    if (fstat(fd, &st) == -1
        || (st.st_gid != gid && fchown(fd, (uid_t) -1, gid) == -1)
        || ((st.st_mode & 07777) != mode && fchmod(fd, mode) == -1))
    {
        close(fd);
        return -1;
    }

    return fd;
}


/*
 * --test: "faas-php --check" starts PHP with the runner's values and
 * looks the function's php.NAME up (none of its values is applied), as
 * nobody, with nothing of the runner's but stderr, for 10 s at most.
 * Returns 0: PHP has them all.
 */

static int
fr_runtime_php_check(fr_func_t *f)
{
    int     n, status, null, php;
    char  **argv;
    pid_t   pid, done;

    for (n = 0; f->argv[n]; n++) { /* void */ }

    argv = calloc(n + 2, sizeof(char *));

    if (argv == NULL) {
        return -1;
    }

    argv[0] = f->argv[0];
    argv[1] = "--check";
    memcpy(&argv[2], &f->argv[1], (n - 1) * sizeof(char *));

    pid = fork();

    if (pid == 0) {
        /* faas-php's descriptor out of the way of 0 and 1 first */
        php = fcntl(fr_runtime_php, F_DUPFD, 10);
        null = open("/dev/null", O_RDWR);

        if (php == -1 || null == -1 || dup2(null, 0) == -1
            || dup2(null, 1) == -1 || dup2(php, 3) == -1
            || syscall(SYS_close_range, 4, ~0U, 0) == -1
            || (geteuid() == 0
                && (setgroups(0, NULL) == -1
                    || setgid(FR_RUNTIME_NOBODY) == -1
                    || setuid(FR_RUNTIME_NOBODY) == -1)))
        {
            _exit(127);
        }

        (void) signal(SIGCHLD, SIG_DFL);
        (void) syscall(SYS_execveat, 3, "", argv, (char *[]) { NULL },
                       AT_EMPTY_PATH);
        _exit(127);
    }

    free(argv);

    if (pid == -1) {
        return -1;
    }

    for (n = 0; n < FR_RUNTIME_CHECK_MSEC / 10; n++) {
        done = waitpid(pid, &status, WNOHANG);

        if (done == pid) {
            return (WIFEXITED(status) && WEXITSTATUS(status) == 0) ? 0 : -1;
        }

        if (done == -1 && errno != EINTR) {
            return -1;
        }

        (void) usleep(10000);
    }

    fr_log(FR_LOG_ERR, 0, FR_RUNTIME_PHP " --check did not end within "
           "%d ms", FR_RUNTIME_CHECK_MSEC);
    (void) kill(pid, SIGKILL);
    (void) waitpid(pid, &status, 0);

    return -1;
}


/*
 * Whether PHP was found to have every php.NAME of the function, as the
 * host's or a customer's (add 0), or they are remembered as found (add
 * 1): a host's functions mostly set the same few, and each check starts
 * PHP (~65 ms). Kept as "aNAME" (-a) or "uNAME" (-u).
 */

static int
fr_runtime_php_known(fr_func_t *f, int add)
{
    int          i, j;
    char       **names, *name;
    size_t       len;
    fr_fconf_t  *fc;

    fc = &f->conf;

    for (i = 0; i < fc->nphp; i++) {
        len = strcspn(fc->php[i], "=");

        for (j = 0; j < fr_runtime_php_nnames; j++) {
            name = fr_runtime_php_names[j];

            if (name[0] == (fr_runtime_php_own(f, i) ? 'u' : 'a')
                && strlen(name + 1) == len
                && strncmp(name + 1, fc->php[i], len) == 0)
            {
                break;
            }
        }

        if (j < fr_runtime_php_nnames) {
            continue;
        }

        if (!add) {
            return 0;
        }

        names = realloc(fr_runtime_php_names,
                        (fr_runtime_php_nnames + 1) * sizeof(char *));
        name = malloc(len + 2);

        if (names == NULL || name == NULL) {
            free(name);
            fr_runtime_php_names = names ? names : fr_runtime_php_names;
            return 0;
        }

        name[0] = fr_runtime_php_own(f, i) ? 'u' : 'a';
        memcpy(name + 1, fc->php[i], len);
        name[len + 1] = '\0';

        names[fr_runtime_php_nnames++] = name;
        fr_runtime_php_names = names;
    }

    return 1;
}
