/*
 * Copyright (C) ngx_faas developers
 *
 * Functions and their workers. A worker's life is one state enum:
 *
 *   STARTING --probe answered--> IDLE <--> BUSY
 *       \                          \        \
 *        `--------------------------`--------`--> STOPPING --reaped--> freed
 *
 * A FastCGI worker is started the standard way, with a listening socket
 * on fd 0. The runner connects at once and sends FCGI_GET_VALUES: the
 * worker is ready when it answers (or, as php-cgi does, answers and
 * closes). Requests go to the most recently used idle worker, so the
 * others really go idle and are reaped after idle_timeout.
 */

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <sched.h>
#include <sys/prctl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fr_log.h"
#include "fr_runner.h"


#define FR_KILL_GRACE      1000       /* ms from SIGTERM to SIGKILL */
#define FR_STOP_GRACE      3000
#define FR_THROTTLE_MIN    250
#define FR_THROTTLE_MAX    30000
#define FR_CGI_HEADER_MAX  (64 * 1024)
#define FR_REAP_WAIT       100        /* ms a metered CGI end waits */
#define FR_DEFAULT_PATH    "PATH=/usr/local/bin:/usr/bin:/bin"
#define FR_STRAYS_WAIT     100        /* ms to wait for pipes, stderr */
#define FR_STDERR_RATE     8192       /* bytes of stderr logged a second */
#define FR_STDERR_LINE     512


static fr_func_t *fr_func_load(const char *name, const char *dir, int test,
    int *problems);
static int fr_func_configure(fr_func_t *f, int test);
static int fr_func_identity(fr_func_t *f);
static void fr_func_update(fr_func_t *old, fr_func_t *f);
static void fr_func_stop_idle(fr_func_t *f);
static char *fr_func_signature(const char *dir);
static void fr_func_free(fr_func_t *f);
static void fr_func_throttle_handler(fr_timer_t *t);
static void fr_func_maintain(fr_func_t *f);
static int fr_func_can_spawn(fr_func_t *f);
static void fr_func_start_failed(fr_func_t *f);
static void fr_func_fail_queue(fr_func_t *f);
static int fr_evict_idle(fr_func_t *f);
static void fr_req_queue_timeout(fr_timer_t *t);
static void fr_req_timeout(fr_timer_t *t);

static int fr_worker_descriptors(fr_worker_t *w, int fd[6]);
static fr_worker_t *fr_worker_spawn(fr_func_t *f, fr_req_t *r);
static fr_worker_t *fr_worker_start_fastcgi(fr_worker_t *w);
static fr_worker_t *fr_worker_start_cgi(fr_worker_t *w, fr_req_t *r,
    int *fd);
static char **fr_worker_env(fr_func_t *f, fr_req_t *r);
static int fr_worker_child(void *data);
static int fr_worker_connect(fr_worker_t *w);
static void fr_worker_assign(fr_worker_t *w, fr_req_t *r);
static void fr_worker_send_request(fr_worker_t *w, fr_req_t *r);
static void fr_worker_flush(fr_worker_t *w);
static void fr_worker_post_flush(fr_worker_t *w);
static void fr_worker_lost(fr_worker_t *w, const char *what);
static void fr_worker_handler(fr_io_t *io, uint32_t events);
static void fr_worker_record(fr_worker_t *w, fr_fcgi_event_e ev);
static void fr_worker_ready(fr_worker_t *w);
static void fr_worker_done(fr_worker_t *w, uint32_t app_status);
static void fr_worker_failed(fr_worker_t *w, const char *what);
static void fr_worker_stop(fr_worker_t *w, int sig, uint64_t grace);
static void fr_worker_timer(fr_timer_t *t);
static void fr_worker_exec_handler(fr_io_t *io, uint32_t events);
static void fr_worker_free(fr_worker_t *w);
static void fr_worker_free_reaped(fr_worker_t *w, int status);
static void fr_cgi_stdout_handler(fr_io_t *io, uint32_t events);
static void fr_worker_stderr_handler(fr_io_t *io, uint32_t events);
static void fr_worker_log_stderr(fr_worker_t *w, const u_char *p, size_t n);
static void fr_worker_log_resume(fr_timer_t *t);
static void fr_worker_set_stopping(fr_worker_t *w);
static void fr_worker_signal(fr_worker_t *w, int sig);
static void fr_worker_kill_strays(fr_worker_t *w);
static void fr_cgi_stdin_handler(fr_io_t *io, uint32_t events);
static int fr_cgi_headers(fr_worker_t *w);
static void fr_cgi_finish(fr_worker_t *w);


/* what the child needs, on the runner's memory while it runs */
typedef struct {
    fr_func_t             *func;
    char                 **env;
    pid_t                  runner;
    int                    fd[3];
    int                    errfd;
    int                    null;
} fr_child_t;


/*
 * The child runs on the runner's memory (CLONE_VM) while the runner
 * waits (CLONE_VFORK) until it has exec'ed: only one child at a time
 * uses this stack.
 */
static u_char  fr_child_stack[64 * 1024] __attribute__((aligned(16)));


static const char  fr_probe[] =
    "\1\11\0\0\0\21\7\0" "\17\0FCGI_MPXS_CONNS" "\0\0\0\0\0\0\0";


static uint32_t
fr_hash(const u_char *p, size_t len)
{
    uint32_t  h;

    for (h = 2166136261u; len; len--) {
        h = (h ^ *p++) * 16777619u;
    }

    return h & 0xff;
}


fr_func_t *
fr_func_find(const u_char *name, size_t len)
{
    fr_func_t  *f;

    for (f = fr_runner.hash[fr_hash(name, len)]; f; f = f->next) {
        if (strlen(f->name) == len && memcmp(f->name, name, len) == 0) {
            return f;
        }
    }

    return NULL;
}


static void
fr_func_unhash(fr_func_t *f)
{
    fr_func_t  **pp;

    for (pp = &fr_runner.hash[fr_hash((u_char *) f->name, strlen(f->name))];
         *pp; pp = &(*pp)->next)
    {
        if (*pp == f) {
            *pp = f->next;
            return;
        }
    }
}


/*
 * Reads the functions folder: at start, and again on SIGHUP, when added
 * functions appear, changed ones get the new settings (their workers are
 * replaced once idle) and removed ones take no new requests. A function
 * with a bad function.conf is reported and left out (on reload: the old
 * one stays), never stopping the others. Returns the problem count.
 */

int
fr_funcs_load(int test)
{
    int             problems;
    char            dir[PATH_MAX];
    DIR            *d;
    fr_func_t      *f, *old;
    fr_link_t      *l, *next;
    struct stat     st;
    struct dirent  *de;

    d = opendir(fr_runner.conf.functions);

    if (d == NULL) {
        fr_log(FR_LOG_EMERG, errno, "opendir() \"%s\" failed",
               fr_runner.conf.functions);
        return 1;
    }

    problems = 0;

    for (l = fr_list_first(&fr_runner.funcs); l != &fr_runner.funcs;
         l = l->next)
    {
        fr_list_data(l, fr_func_t, link)->removed = 1;
    }

    while ((de = readdir(d)) != NULL) {

        if (de->d_name[0] == '.') {
            continue;
        }

        snprintf(dir, sizeof(dir), "%s/%s", fr_runner.conf.functions,
                 de->d_name);

        if (stat(dir, &st) == -1 || !S_ISDIR(st.st_mode)) {
            continue;
        }

        if (!fr_name_valid((u_char *) de->d_name, strlen(de->d_name))) {
            fr_log(FR_LOG_WARN, 0, "folder \"%s\" is not a valid function "
                   "name, skipped", dir);
            problems++;
            continue;
        }

        old = fr_func_find((u_char *) de->d_name, strlen(de->d_name));

        f = fr_func_load(de->d_name, dir, test, &problems);

        if (f == NULL) {
            if (old) {
                old->removed = 0;
                fr_log(FR_LOG_WARN, 0, "function \"%s\" keeps its previous "
                       "configuration", old->name);
            }
            continue;
        }

        if (old && strcmp(old->signature, f->signature) == 0) {
            old->removed = 0;
            fr_func_free(f);
            continue;
        }

        if (old) {
            fr_func_update(old, f);
            continue;
        }

        f->next = fr_runner.hash[fr_hash((u_char *) f->name,
                                         strlen(f->name))];
        fr_runner.hash[fr_hash((u_char *) f->name, strlen(f->name))] = f;
        fr_list_insert_tail(&fr_runner.funcs, &f->link);

        if (!test) {
            fr_log(FR_LOG_INFO, 0, "function \"%s\" loaded", f->name);
            fr_func_maintain(f);
        }
    }

    closedir(d);

    for (l = fr_list_first(&fr_runner.funcs); l != &fr_runner.funcs;
         l = next)
    {
        next = l->next;
        f = fr_list_data(l, fr_func_t, link);

        if (!f->removed) {
            continue;
        }

        fr_log(FR_LOG_NOTICE, 0, "function \"%s\" removed", f->name);

        fr_func_unhash(f);
        fr_func_stop_idle(f);
        fr_func_check(f);
    }

    return problems;
}


/* a changed function: the new settings, and new workers from now on */

static void
fr_func_update(fr_func_t *old, fr_func_t *f)
{
    fr_fconf_free(&old->conf);
    old->conf = f->conf;
    fr_fconf_init(&f->conf);

#define fr_swap(a, b)  do { void *t_ = a; a = b; b = t_; } while (0)
    fr_swap(old->argv, f->argv);
    fr_swap(old->exec_path, f->exec_path);
    fr_swap(old->script_path, f->script_path);
    fr_swap(old->tenant, f->tenant);
    fr_swap(old->signature, f->signature);
#undef fr_swap

    old->uid = f->uid;
    old->gid = f->gid;
    old->set_user = f->set_user;
    old->removed = 0;
    old->generation++;
    old->failures = 0;
    old->throttled_until = 0;

    fr_func_free(f);

    fr_log(FR_LOG_NOTICE, 0, "function \"%s\" changed", old->name);

    /* idle workers of the old generation go now, busy ones when done */
    fr_func_stop_idle(old);
    fr_func_maintain(old);
    fr_func_dispatch(old);
}


static void
fr_func_stop_idle(fr_func_t *f)
{
    while (!fr_list_empty(&f->idle)) {
        fr_worker_stop(fr_list_data(fr_list_first(&f->idle), fr_worker_t,
                                    idle),
                       SIGTERM, FR_STOP_GRACE);
    }
}


static fr_func_t *
fr_func_load(const char *name, const char *dir, int test, int *problems)
{
    int         n;
    char        file[PATH_MAX + 32];
    fr_func_t  *f;

    f = calloc(1, sizeof(fr_func_t));
    if (f == NULL) {
        return NULL;
    }

    fr_list_init(&f->link);
    fr_list_init(&f->queue);
    fr_list_init(&f->workers);
    fr_list_init(&f->idle);
    fr_fconf_init(&f->conf);
    f->timer.handler = fr_func_throttle_handler;
    f->timer.data = f;

    f->name = strdup(name);
    f->dir = realpath(dir, NULL);
    f->signature = fr_func_signature(dir);

    snprintf(file, sizeof(file), "%s/function.conf", dir);

    if (f->name == NULL || f->dir == NULL || f->signature == NULL) {
        fr_log(FR_LOG_ERR, errno, "cannot read \"%s\"", dir);
        (*problems)++;
        fr_func_free(f);
        return NULL;
    }

    n = fr_conf_parse(file, NULL, &f->conf);

    if (n == 0) {
        fr_fconf_merge(&f->conf, &fr_runner.conf.defaults);
        fr_fconf_merge(&f->conf, NULL);
        n = fr_func_configure(f, test);
    }

    *problems += n;

    if (n) {
        /* never loaded half right: a bad user must not become root */
        fr_func_free(f);
        return NULL;
    }

    return f;
}


/* checks what the keys say; in --test a missing program is a problem */

static int
fr_func_configure(fr_func_t *f, int test)
{
    int             problems, i;
    char            path[PATH_MAX];
    fr_fconf_t     *fc;

    fc = &f->conf;
    problems = 0;

    if (fc->exec == NULL) {
        fr_log(FR_LOG_ERR, 0, "no \"exec\" in %s/function.conf", f->dir);
        return 1;
    }

    if (fr_split_args(fc->exec, &f->argv) < 0) {
        fr_log(FR_LOG_ERR, 0, "invalid \"exec\" in %s/function.conf",
               f->dir);
        return 1;
    }

    f->exec_path = fr_find_exec(f->argv[0], f->dir);

    if (f->exec_path == NULL) {
        fr_log(test ? FR_LOG_ERR : FR_LOG_WARN, 0, "function \"%s\": "
               "exec \"%s\" is not an executable file", f->name, f->argv[0]);
        problems += test;
    }

    if (fc->script) {
        snprintf(path, sizeof(path), "%s/%s", f->dir, fc->script);
        f->script_path = realpath(path, NULL);

        if (f->script_path == NULL) {
            fr_log(test ? FR_LOG_ERR : FR_LOG_WARN, errno, "function "
                   "\"%s\": script \"%s\" not found", f->name, fc->script);
            problems += test;
            f->script_path = strdup(path);
        }
    }

    if (fc->min_instances > fc->max_instances) {
        fr_log(FR_LOG_ERR, 0, "function \"%s\": min_instances %d is more "
               "than max_instances %d", f->name, fc->min_instances,
               fc->max_instances);
        problems++;
    }

    if (fc->max_instances == 0) {
        fr_log(FR_LOG_ERR, 0, "function \"%s\": max_instances is 0",
               f->name);
        problems++;
    }

    if (fc->timeout == 0) {
        fr_log(FR_LOG_ERR, 0, "function \"%s\": timeout is 0", f->name);
        problems++;
    }

    for (i = 0; i < fc->nenv; i++) {
        if (strncmp(fc->env[i], "PHP_FCGI_CHILDREN=", 18) == 0) {
            /* forked children would share the socket behind our back */
            fr_log(FR_LOG_WARN, 0, "function \"%s\": env.PHP_FCGI_CHILDREN "
                   "is ignored, the runner manages the workers", f->name);
            free(fc->env[i]);
            fc->env[i] = fc->env[--fc->nenv];
            fc->env[fc->nenv] = NULL;
            i--;
        }
    }

    problems += fr_func_identity(f);

    return problems;
}


/*
 * Whom the workers run as and whom the use is metered to. With a root
 * runner every name must resolve and the group must be one the user may
 * use; any failure leaves the function unloaded, never running as root.
 */

static int
fr_func_identity(fr_func_t *f)
{
    int             problems;
    char          **m;
    const char     *user, *tenant;
    struct group   *gr;
    struct passwd  *pw;
    fr_fconf_t     *fc;

    fc = &f->conf;
    problems = 0;
    user = fc->user;

    tenant = fc->tenant ? fc->tenant : (user ? user : "default");

    if (!fr_name_valid((const u_char *) tenant, strlen(tenant))) {
        fr_log(FR_LOG_ERR, 0, "invalid tenant \"%.64s%s\"%s in "
               "%s/function.conf: 1-64 characters of A-Z a-z 0-9 _ -, "
               "starting with a letter or digit", tenant,
               strlen(tenant) > 64 ? "..." : "",
               fc->tenant ? "" : " (the user's name, set \"tenant\")",
               f->dir);
        problems++;

    } else {
        f->tenant = strdup(tenant);

        if (f->tenant == NULL) {
            return problems + 1;
        }
    }

    if (!fr_runner.is_root) {
        if (user && ((pw = getpwnam(user)) == NULL
                     || pw->pw_uid != geteuid()))
        {
            fr_log(FR_LOG_WARN, 0, "function \"%s\": user \"%s\" is "
                   "ignored, the runner is not root", f->name, user);
        }

        return problems;
    }

    if (user == NULL) {
        user = "nobody";
    }

    pw = getpwnam(user);

    if (pw == NULL) {
        fr_log(FR_LOG_ERR, 0, "function \"%s\": unknown user \"%s\", "
               "function not loaded", f->name, user);
        return problems + 1;
    }

    f->uid = pw->pw_uid;
    f->gid = pw->pw_gid;

    if (fc->group) {
        gr = getgrnam(fc->group);

        if (gr == NULL) {
            fr_log(FR_LOG_ERR, 0, "function \"%s\": unknown group \"%s\", "
                   "function not loaded", f->name, fc->group);
            return problems + 1;
        }

        /* the user's primary group, or one it is a member of */
        for (m = gr->gr_mem; gr->gr_gid != pw->pw_gid && *m; m++) {
            if (strcmp(*m, pw->pw_name) == 0) {
                break;
            }
        }

        if (gr->gr_gid != pw->pw_gid && *m == NULL) {
            fr_log(FR_LOG_ERR, 0, "function \"%s\": user \"%s\" is not a "
                   "member of group \"%s\", function not loaded", f->name,
                   user, fc->group);
            return problems + 1;
        }

        f->gid = gr->gr_gid;
    }

    f->set_user = (problems == 0);

    return problems;
}


/* function.conf and the folder's files: a reload compares these */

static char *
fr_func_signature(const char *dir)
{
    int             n;
    char            path[PATH_MAX + 512], line[PATH_MAX + 640];
    DIR            *d;
    FILE           *f;
    fr_buf_t        b;
    struct stat     st;
    struct dirent  *de;

    memset(&b, 0, sizeof(b));

    d = opendir(dir);
    if (d == NULL) {
        return NULL;
    }

    while ((de = readdir(d)) != NULL) {
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);

        if (stat(path, &st) == -1 || !S_ISREG(st.st_mode)) {
            continue;
        }

        n = snprintf(line, sizeof(line), "%s:%lld:%lld.%ld:%llu\n",
                     de->d_name, (long long) st.st_size,
                     (long long) st.st_mtim.tv_sec, st.st_mtim.tv_nsec,
                     (unsigned long long) st.st_ino);
        (void) fr_buf_append(&b, line, (size_t) n);
    }

    closedir(d);

    snprintf(path, sizeof(path), "%s/function.conf", dir);

    f = fopen(path, "re");
    if (f) {
        while ((n = (int) fread(line, 1, sizeof(line), f)) > 0) {
            (void) fr_buf_append(&b, line, (size_t) n);
        }
        fclose(f);
    }

    if (fr_buf_append(&b, "", 1) != FR_OK) {
        fr_buf_free(&b);
        return NULL;
    }

    return (char *) b.data;
}


static void
fr_func_free(fr_func_t *f)
{
    int  i;

    fr_timer_del(&f->timer);

    if (f->argv) {
        for (i = 0; f->argv[i]; i++) {
            free(f->argv[i]);
        }
        free(f->argv);
    }

    fr_fconf_free(&f->conf);
    free(f->name);
    free(f->dir);
    free(f->signature);
    free(f->exec_path);
    free(f->script_path);
    free(f->tenant);

    /* a caller up the stack may still look at its (empty) queue */
    fr_list_init(&f->queue);
    fr_free_later(f);
}


/* a removed function goes once nothing refers to it */

void
fr_func_check(fr_func_t *f)
{
    if (f->removed && f->nworkers == 0 && f->nreqs == 0) {
        fr_list_remove(&f->link);
        fr_func_free(f);
    }
}


void
fr_funcs_free(void)
{
    fr_func_t  *f;

    while (!fr_list_empty(&fr_runner.funcs)) {
        f = fr_list_data(fr_list_first(&fr_runner.funcs), fr_func_t, link);
        fr_list_remove(&f->link);
        fr_func_free(f);
    }

    memset(fr_runner.hash, 0, sizeof(fr_runner.hash));
}


static int
fr_func_can_spawn(fr_func_t *f)
{
    if (f->nworkers >= f->conf.max_instances) {
        return 0;
    }

    if (fr_current_msec < f->throttled_until) {
        return 0;
    }

    if (fr_runner.conf.max_workers
        && fr_runner.nworkers >= fr_runner.conf.max_workers
        && fr_evict_idle(f) != FR_OK)
    {
        return 0;
    }

    return 1;
}


/*
 * At the host-wide max_workers, the least recently used idle worker of
 * another function makes room. It counts until it is reaped; the reap
 * dispatches every queue again.
 */

static int
fr_evict_idle(fr_func_t *f)
{
    fr_link_t    *l;
    fr_func_t    *of;
    fr_worker_t  *w, *lru;

    lru = NULL;

    for (l = fr_list_first(&fr_runner.funcs); l != &fr_runner.funcs;
         l = l->next)
    {
        of = fr_list_data(l, fr_func_t, link);

        if (of == f || fr_list_empty(&of->idle)) {
            continue;
        }

        w = fr_list_data(fr_list_last(&of->idle), fr_worker_t, idle);

        if (lru == NULL || w->timer.when < lru->timer.when) {
            lru = w;
        }
    }

    if (lru) {
        fr_log(FR_LOG_INFO, 0, "max_workers reached: stopping idle worker "
               "%d of \"%s\" for \"%s\"", (int) lru->pid, lru->func->name,
               f->name);
        fr_worker_stop(lru, SIGTERM, FR_STOP_GRACE);
    }

    return FR_DECLINED;
}


/* keeps min_instances warm */

static void
fr_func_maintain(fr_func_t *f)
{
    if (f->conf.mode != FR_MODE_FASTCGI || f->removed || fr_runner.draining)
    {
        return;
    }

    while (f->nworkers < f->conf.min_instances && fr_func_can_spawn(f)) {
        if (fr_worker_spawn(f, NULL) == NULL) {
            break;
        }
    }

    if (f->nworkers < f->conf.min_instances
        && fr_current_msec < f->throttled_until)
    {
        fr_timer_add(&f->timer, f->throttled_until - fr_current_msec);
    }
}


static void
fr_func_throttle_handler(fr_timer_t *t)
{
    fr_func_t  *f;

    f = t->data;

    fr_func_maintain(f);
    fr_func_dispatch(f);
}


static void
fr_func_start_failed(fr_func_t *f)
{
    uint64_t  delay;

    f->failures++;

    delay = FR_THROTTLE_MIN;
    while (delay < FR_THROTTLE_MAX && f->failures > 1
           && delay < ((uint64_t) FR_THROTTLE_MIN << (f->failures - 1)))
    {
        delay *= 2;
    }

    if (delay > FR_THROTTLE_MAX) {
        delay = FR_THROTTLE_MAX;
    }

    f->throttled_until = fr_current_msec + delay;

    fr_log(FR_LOG_ERR, 0, "function \"%s\" cannot start: next try in %d ms",
           f->name, (int) delay);
}


/* no worker can take these requests: 502 now, not at queue_timeout */

static void
fr_func_fail_queue(fr_func_t *f)
{
    fr_req_t  *r;

    while (!fr_list_empty(&f->queue)) {
        r = fr_list_data(fr_list_first(&f->queue), fr_req_t, queue);
        fr_req_fail(r, FR_OUTCOME_ERROR);
    }
}


void
fr_func_enqueue(fr_func_t *f, fr_req_t *r)
{
    r->t_queued = fr_current_usec;

    fr_list_insert_tail(&f->queue, &r->queue);
    f->nqueued++;

    r->timer.handler = fr_req_queue_timeout;
    r->timer.data = r;
    fr_timer_add(&r->timer, (uint64_t) f->conf.queue_timeout);

    fr_func_dispatch(f);

    if (r->state == FR_REQ_QUEUED
        && f->nqueued > f->conf.queue + f->nstarting)
    {
        fr_log(FR_LOG_WARN, 0, "function \"%s\": queue of %d is full",
               f->name, f->conf.queue);
        fr_req_fail(r, FR_OUTCOME_THROTTLED);
    }
}


void
fr_func_unqueue(fr_req_t *r)
{
    if (fr_list_empty(&r->queue)) {
        return;
    }

    fr_list_remove(&r->queue);
    r->func->nqueued--;
    fr_timer_del(&r->timer);
}


static void
fr_req_queue_timeout(fr_timer_t *t)
{
    fr_req_t  *r;

    r = t->data;

    fr_log(FR_LOG_WARN, 0, "function \"%s\": no worker within "
           "queue_timeout", r->func->name);

    fr_req_fail(r, FR_OUTCOME_THROTTLED);
}


void
fr_func_dispatch(fr_func_t *f)
{
    fr_req_t     *r;
    fr_worker_t  *w;

    while (!fr_list_empty(&f->queue)) {

        r = fr_list_data(fr_list_first(&f->queue), fr_req_t, queue);

        if (!fr_list_empty(&f->idle)) {
            w = fr_list_data(fr_list_first(&f->idle), fr_worker_t, idle);
            fr_func_unqueue(r);
            fr_worker_assign(w, r);
            continue;
        }

        if (f->conf.mode == FR_MODE_FASTCGI && f->nstarting >= f->nqueued) {
            return;
        }

        if (!fr_func_can_spawn(f)) {
            break;
        }

        if (f->conf.mode == FR_MODE_CGI) {
            fr_func_unqueue(r);
            (void) fr_worker_spawn(f, r);
            continue;
        }

        if (fr_worker_spawn(f, NULL) == NULL) {
            break;
        }
    }

    if (!fr_list_empty(&f->queue) && f->nworkers == 0
        && fr_current_msec < f->throttled_until)
    {
        fr_func_fail_queue(f);
    }
}


static void
fr_dispatch_all(void)
{
    fr_link_t  *l, *next;

    for (l = fr_list_first(&fr_runner.funcs); l != &fr_runner.funcs;
         l = next)
    {
        next = l->next;
        fr_func_dispatch(fr_list_data(l, fr_func_t, link));
    }
}


/*
 * The descriptors of a new worker: fd[0..2] become the child's 0, 1, 2
 * (-1: /dev/null), fd[3..5] are the runner's ends. FastCGI: a fresh
 * listening socket on 0. CGI: pipes for the body and the response. Both:
 * a pipe for stderr, which the runner reads (nothing of a function goes
 * to the runner's own stderr unescaped). The inodes are kept: processes
 * a worker leaves behind are found by what they hold.
 */

static int
fr_worker_descriptors(fr_worker_t *w, int fd[6])
{
    int                 p[3][2], i;
    struct stat         st;
    struct sockaddr_un  sun;

    i = (w->mode == FR_MODE_FASTCGI) ? 2 : 0;

    for ( /* void */ ; i < 3; i++) {
        if (pipe2(p[i], O_CLOEXEC) == -1) {
            fr_log(FR_LOG_ALERT, errno, "pipe2() failed");
            return FR_ERROR;
        }

        /* the body is written by us; the response and stderr read */
        fd[i] = p[i][i == 0 ? 0 : 1];
        fd[i + 3] = p[i][i == 0 ? 1 : 0];

        (void) fcntl(fd[i + 3], F_SETFL, O_NONBLOCK);

        if (fstat(fd[i], &st) == 0) {
            w->ino[i] = st.st_ino;
        }
    }

    if (w->mode == FR_MODE_FASTCGI) {
        snprintf(w->sock, sizeof(w->sock), "%s/w%llu.sock", fr_runner.rundir,
                 (unsigned long long) ++fr_runner.spawn_seq);

        fd[0] = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

        memset(&sun, 0, sizeof(sun));
        sun.sun_family = AF_UNIX;
        strcpy(sun.sun_path, w->sock);

        if (fd[0] == -1
            || bind(fd[0], (struct sockaddr *) &sun, sizeof(sun)) == -1
            || listen(fd[0], 16) == -1)
        {
            fr_log(FR_LOG_ALERT, errno, "cannot create the socket of a "
                   "worker of \"%s\"", w->func->name);
            return FR_ERROR;
        }

        if (fstat(fd[0], &st) == 0) {
            w->ino[0] = st.st_ino;
        }
    }

    return FR_OK;
}


/*
 * Starts a worker: in fastcgi mode one to be reused (r == NULL), in cgi
 * mode the process of request r.
 */

static fr_worker_t *
fr_worker_spawn(fr_func_t *f, fr_req_t *r)
{
    int           fd[6], pexec[2], i;
    char        **env;
    pid_t         pid;
    fr_child_t    child;
    fr_worker_t  *w;

    for (i = 0; i < 6; i++) {
        fd[i] = -1;
    }

    pexec[0] = pexec[1] = -1;
    env = NULL;

    w = calloc(1, sizeof(fr_worker_t));
    if (w == NULL) {
        fr_log(FR_LOG_ALERT, errno, "calloc() failed");
        goto failed;
    }

    w->func = f;
    w->generation = f->generation;
    w->mode = f->conf.mode;
    w->io.fd = w->in.fd = w->err.fd = w->exec.fd = -1;
    w->timer.handler = fr_worker_timer;
    w->timer.data = w;
    w->log_timer.handler = fr_worker_log_resume;
    w->log_timer.data = w;
    fr_list_init(&w->idle);

    if (f->exec_path == NULL) {
        fr_log(FR_LOG_ERR, 0, "function \"%s\" cannot start: exec \"%s\" "
               "is not an executable file", f->name, f->argv[0]);
        goto failed;
    }

    if (fr_runner.is_root && !f->set_user) {
        /* never the runner's own identity by default */
        fr_log(FR_LOG_ALERT, 0, "function \"%s\" has no user to run as",
               f->name);
        goto failed;
    }

    if (pipe2(pexec, O_CLOEXEC) == -1) {
        fr_log(FR_LOG_ALERT, errno, "pipe2() failed");
        goto failed;
    }

    if (fr_worker_descriptors(w, fd) != FR_OK) {
        goto failed;
    }

    env = fr_worker_env(f, r);
    if (env == NULL) {
        fr_log(FR_LOG_ALERT, errno, "malloc() failed");
        goto failed;
    }

    child.func = f;
    child.env = env;
    child.runner = getpid();
    child.errfd = pexec[1];
    memcpy(child.fd, fd, sizeof(child.fd));    /* the child's three */

    /*
     * As posix_spawn() does it: no copy of the runner's page tables and
     * no copy-on-write faults while the child execs; the runner goes on
     * once the child has exec'ed or failed.
     */
    pid = clone(fr_worker_child, fr_child_stack + sizeof(fr_child_stack),
                CLONE_VM | CLONE_VFORK | SIGCHLD, &child);

    if (pid == -1) {
        fr_log(FR_LOG_ALERT, errno, "clone() failed while spawning \"%s\"",
               f->name);
        goto failed;
    }

    free(env);
    close(pexec[1]);

    for (i = 0; i < 3; i++) {
        if (fd[i] != -1) {
            close(fd[i]);
        }
    }

    w->pid = pid;
    w->uid = f->set_user ? f->uid : geteuid();
    w->spawned = fr_current_usec;
    w->exec.fd = pexec[0];
    w->exec.handler = fr_worker_exec_handler;
    w->exec.data = w;
    w->err.fd = fd[5];
    w->err.handler = fr_worker_stderr_handler;
    w->err.data = w;

    fr_list_insert_tail(&f->workers, &w->link);
    fr_list_insert_tail(&fr_runner.workers, &w->all);
    f->nworkers++;
    fr_runner.nworkers++;

    (void) fr_io_set(&w->exec, EPOLLIN);
    (void) fr_io_set(&w->err, EPOLLIN);

    fr_log(FR_LOG_DEBUG, 0, "spawned worker %d of \"%s\"", (int) pid,
           f->name);

    return (r == NULL) ? fr_worker_start_fastcgi(w)
                       : fr_worker_start_cgi(w, r, fd + 3);

failed:

    for (i = 0; i < 6; i++) {
        if (fd[i] != -1) {
            close(fd[i]);
        }
    }

    if (pexec[0] != -1) {
        close(pexec[0]);
        close(pexec[1]);
    }

    if (w && w->sock[0]) {
        (void) unlink(w->sock);
    }

    free(env);
    free(w);

    fr_func_start_failed(f);

    if (r) {
        fr_req_fail(r, FR_OUTCOME_ERROR);
    }

    return NULL;
}


/* connected at once; ready when it answers the probe */

static fr_worker_t *
fr_worker_start_fastcgi(fr_worker_t *w)
{
    w->state = FR_WORKER_STARTING;
    w->func->nstarting++;

    if (fr_worker_connect(w) != FR_OK) {
        fr_worker_stop(w, SIGKILL, 0);
        return NULL;
    }

    /*
     * The readiness probe. It names a variable: libfcgi waits for more
     * input on an empty FCGI_GET_VALUES.
     */
    w->out.len = 0;
    (void) fr_buf_append(&w->out, fr_probe, sizeof(fr_probe) - 1);
    fr_worker_flush(w);

    fr_timer_add(&w->timer, (uint64_t) w->func->conf.timeout);

    return w;
}


/* fd: the runner's ends of the body and response pipes */

static fr_worker_t *
fr_worker_start_cgi(fr_worker_t *w, fr_req_t *r, int *fd)
{
    w->in.fd = fd[0];
    w->io.fd = fd[1];
    w->in.handler = fr_cgi_stdin_handler;
    w->io.handler = fr_cgi_stdout_handler;
    w->in.data = w->io.data = w;

    (void) fr_io_set(&w->io, EPOLLIN);

    w->state = FR_WORKER_BUSY;
    fr_worker_assign(w, r);

    return w;
}


static int
fr_env_has(fr_func_t *f, const char *name)
{
    int     i;
    size_t  len;

    len = strlen(name);

    for (i = 0; i < f->conf.nenv; i++) {
        if (strncmp(f->conf.env[i], name, len) == 0
            && f->conf.env[i][len] == '=')
        {
            return 1;
        }
    }

    return 0;
}


/*
 * Nothing of the runner's own environment: PATH, the function's env.*
 * and, for cgi mode, the request's meta-variables.
 */

static char **
fr_worker_env(fr_func_t *f, fr_req_t *r)
{
    int            i, n, has_path;
    char         **env, *e, *s;
    size_t         nlen, vlen, size, len;
    const u_char  *pos, *last, *name, *value;

    n = f->conf.nenv + 8;
    size = 0;

    if (r) {
        pos = fr_buf_pos(&r->params);
        last = pos + r->params.len;

        while (fr_fcgi_nv_next(&pos, last, &name, &nlen, &value, &vlen)
               == FR_OK)
        {
            n++;
            size += nlen + vlen + 2;
        }
    }

    size += 512 + (f->script_path ? strlen(f->script_path) : 0);

    env = malloc(n * sizeof(char *) + size);
    if (env == NULL) {
        return NULL;
    }

    s = (char *) (env + n);
    n = 0;
    has_path = 0;

    for (i = 0; i < f->conf.nenv; i++) {
        env[n++] = f->conf.env[i];
        has_path |= (strncmp(f->conf.env[i], "PATH=", 5) == 0);
    }

    if (!has_path) {
        env[n++] = FR_DEFAULT_PATH;
    }

    if (r == NULL && !fr_env_has(f, "PHP_FCGI_MAX_REQUESTS")) {
        /* php-cgi retires itself after this many: in step with us */
        env[n++] = s;
        s += sprintf(s, "PHP_FCGI_MAX_REQUESTS=%d", f->conf.max_requests) + 1;
    }

    if (r) {
        pos = fr_buf_pos(&r->params);
        last = pos + r->params.len;

        while (fr_fcgi_nv_next(&pos, last, &name, &nlen, &value, &vlen)
               == FR_OK)
        {
            if (nlen == 0 || memchr(name, '=', nlen) || memchr(name, 0, nlen)
                || (nlen == 4 && memcmp(name, "PATH", 4) == 0)
                || (nlen > 3 && memcmp(name, "LD_", 3) == 0)
                || (f->script_path && nlen == 15
                    && memcmp(name, "SCRIPT_FILENAME", 15) == 0))
            {
                continue;
            }

            for (i = 0; i < f->conf.nenv; i++) {
                if (strncmp(f->conf.env[i], (char *) name, nlen) == 0
                    && f->conf.env[i][nlen] == '=')
                {
                    break;
                }
            }

            if (i < f->conf.nenv) {
                continue;
            }

            e = s;
            memcpy(s, name, nlen);
            s += nlen;
            *s++ = '=';
            len = strnlen((char *) value, vlen);
            memcpy(s, value, len);
            s += len;
            *s++ = '\0';
            env[n++] = e;
        }

        env[n++] = "GATEWAY_INTERFACE=CGI/1.1";
        env[n++] = "REDIRECT_STATUS=200";

        if (f->script_path) {
            env[n++] = s;
            s += sprintf(s, "SCRIPT_FILENAME=%s", f->script_path) + 1;
        }
    }

    env[n] = NULL;

    return env;
}


/*
 * In the child, on the runner's memory: only system calls, no libc state
 * (raw set*id: glibc's would signal the runner's threads); never returns.
 */

static int
fr_worker_child(void *data)
{
    int             err, fd[3], i;
    fr_child_t     *c;
    fr_func_t      *f;
    sigset_t        set;
    struct rlimit   rl;

    c = data;
    f = c->func;

    sigemptyset(&set);
    (void) syscall(SYS_rt_sigprocmask, SIG_SETMASK, &set, NULL, _NSIG / 8);

    /* exec resets caught signals; the one the runner ignores, we reset */
    (void) signal(SIGPIPE, SIG_DFL);

    (void) setsid();

    c->null = open("/dev/null", O_RDWR | O_CLOEXEC);

    /* above the fds we are about to fill, then into place */
    c->errfd = fcntl(c->errfd, F_DUPFD_CLOEXEC, 10);

    for (i = 0; i < 3; i++) {
        fd[i] = c->fd[i] != -1 ? c->fd[i] : (i == 2 ? STDERR_FILENO : c->null);
        fd[i] = fcntl(fd[i], F_DUPFD, 10);
    }

    if (c->errfd == -1 || fd[0] == -1 || fd[1] == -1 || fd[2] == -1
        || dup2(fd[0], 0) == -1 || dup2(fd[1], 1) == -1
        || dup2(fd[2], 2) == -1 || dup2(c->errfd, 3) == -1)
    {
        err = errno;
        goto failed;
    }

    (void) fcntl(3, F_SETFD, FD_CLOEXEC);
    c->errfd = 3;

    if (close_range(4, ~0U, 0) == -1) {
        err = errno;
        goto failed;
    }

    if (f->conf.memory > 0) {
        rl.rlim_cur = rl.rlim_max = (rlim_t) f->conf.memory;
        (void) setrlimit(RLIMIT_AS, &rl);
    }

    if (chdir(f->dir) == -1) {
        err = errno;
        goto failed;
    }

    if (f->set_user) {
        if (syscall(SYS_setgroups, 1, &f->gid) == -1
            || syscall(SYS_setgid, f->gid) == -1
            || syscall(SYS_setuid, f->uid) == -1)
        {
            err = errno;
            goto failed;
        }
    }

    /*
     * Dies with the runner, however the runner dies; set last, as a
     * change of credentials clears it. The runner is single-threaded,
     * so its only thread is the parent that counts.
     */
    if (syscall(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) == -1
        || getppid() != c->runner)
    {
        err = ESRCH;
        goto failed;
    }

    execve(f->exec_path, f->argv, c->env);
    err = errno;

failed:

    (void) !write(c->errfd, &err, sizeof(int));
    _exit(127);
}


static void
fr_worker_exec_handler(fr_io_t *io, uint32_t events)
{
    int           err;
    ssize_t       n;
    fr_worker_t  *w;

    (void) events;

    w = io->data;

    n = read(io->fd, &err, sizeof(int));

    if (n == -1 && errno == EAGAIN) {
        return;
    }

    if (n == (ssize_t) sizeof(int)) {
        w->exec_failed = 1;
        w->exec_errno = err;

    } else if (w->mode == FR_MODE_CGI) {
        /* closed on exec: the CGI program runs */
        w->ready_at = fr_current_usec;
    }

    fr_io_close(io);
}


static int
fr_worker_connect(fr_worker_t *w)
{
    int                 fd;
    struct sockaddr_un  sun;

    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd == -1) {
        fr_log(FR_LOG_ALERT, errno, "socket() failed");
        return FR_ERROR;
    }

    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    strcpy(sun.sun_path, w->sock);

    if (connect(fd, (struct sockaddr *) &sun, sizeof(sun)) == -1
        && errno != EINPROGRESS && errno != EAGAIN)
    {
        fr_log(FR_LOG_INFO, errno, "connect() to worker %d of \"%s\" "
               "failed", (int) w->pid, w->func->name);
        close(fd);
        return FR_ERROR;
    }

    w->io.fd = fd;
    w->io.mask = 0;
    w->io.handler = fr_worker_handler;
    w->io.data = w;
    w->connected = 1;
    fr_fcgi_parser_init(&w->parser);

    return fr_io_set(&w->io, EPOLLIN);
}


static void
fr_worker_assign(fr_worker_t *w, fr_req_t *r)
{
    fr_func_t  *f;

    f = w->func;

    fr_list_remove(&w->idle);
    fr_timer_del(&w->timer);

    w->state = FR_WORKER_BUSY;
    w->req = r;
    w->responded = 0;
    r->worker = w;

    r->timer.handler = fr_req_timeout;
    r->timer.data = r;
    fr_timer_add(&r->timer, (uint64_t) f->conf.timeout);

    if (r->meter) {
        fr_meter_start(w, r);
    }

    if (w->mode == FR_MODE_FASTCGI) {
        if (!w->connected && fr_worker_connect(w) != FR_OK) {
            /* it went away between requests: try the request elsewhere */
            w->req = NULL;
            r->worker = NULL;
            fr_timer_del(&r->timer);
            r->timer.handler = fr_req_queue_timeout;
            fr_timer_add(&r->timer, (uint64_t) f->conf.queue_timeout);
            fr_list_insert_head(&f->queue, &r->queue);
            f->nqueued++;
            fr_worker_stop(w, SIGKILL, 0);

            if (w->requests == 0) {
                fr_func_start_failed(f);
            }

            fr_func_dispatch(f);
            return;
        }

        fr_worker_send_request(w, r);
    }

    fr_req_assigned(r);
}


/*
 * BEGIN_REQUEST, the client's parameters re-encoded (SCRIPT_FILENAME set
 * to the function's script), the end of PARAMS; the body follows as the
 * client sends it.
 */

static void
fr_worker_send_request(fr_worker_t *w, fr_req_t *r)
{
    size_t         nlen, vlen, size, chunk, sl;
    u_char        *p, *h, *start;
    fr_buf_t      *b;
    const u_char  *pos, *last, *name, *value;

    b = &w->out;
    sl = w->func->script_path ? strlen(w->func->script_path) : 0;
    pos = fr_buf_pos(&r->params);
    last = pos + r->params.len;

    /* pass 1: measure; with nothing to replace, the client's bytes go */

    if (sl == 0) {
        size = r->params.len;

    } else {
        size = 0;

        while (fr_fcgi_nv_next(&pos, last, &name, &nlen, &value, &vlen)
               == FR_OK)
        {
            size += fr_fcgi_nv_size(nlen, vlen);
        }

        size += fr_fcgi_nv_size(15, sl);
    }

    p = fr_buf_reserve(b, 16 + size + size / FR_FCGI_MAX_CONTENT * 8 + 32);
    if (p == NULL) {
        fr_log(FR_LOG_ALERT, errno, "malloc() failed");
        fr_worker_failed(w, "cannot send");
        return;
    }

    /* pass 2: write; PARAMS content first, framed after */
    p = fr_fcgi_write_header(p, FR_FCGI_BEGIN_REQUEST, 1, 8, 0);
    memset(p, 0, 8);
    p[1] = FR_FCGI_RESPONDER;
    p[2] = FR_FCGI_KEEP_CONN;
    p += 8;

    start = p + FR_FCGI_HEADER_LEN * (size / FR_FCGI_MAX_CONTENT + 1);
    h = start;
    pos = fr_buf_pos(&r->params);

    if (sl == 0) {
        h = (u_char *) memcpy(h, pos, size) + size;

    } else {
        while (fr_fcgi_nv_next(&pos, last, &name, &nlen, &value, &vlen)
               == FR_OK)
        {
            if (nlen == 15 && memcmp(name, "SCRIPT_FILENAME", 15) == 0) {
                continue;
            }

            h = fr_fcgi_nv_write(h, name, nlen, value, vlen);
        }

        h = fr_fcgi_nv_write(h, (u_char *) "SCRIPT_FILENAME", 15,
                             (u_char *) w->func->script_path, sl);
    }

    size = h - start;

    while (size) {
        chunk = size > FR_FCGI_MAX_CONTENT ? FR_FCGI_MAX_CONTENT : size;
        p = fr_fcgi_write_header(p, FR_FCGI_PARAMS, 1, (uint16_t) chunk, 0);
        memmove(p, start, chunk);
        p += chunk;
        start += chunk;
        size -= chunk;
    }

    p = fr_fcgi_write_header(p, FR_FCGI_PARAMS, 1, 0, 0);

    if (r->stdin_done) {
        p = fr_fcgi_write_header(p, FR_FCGI_STDIN, 1, 0, 0);
    }

    b->len = p - b->data - b->start;

    fr_worker_post_flush(w);
}


/* a slice of the request body; n == 0: the body ended */

void
fr_worker_stdin(fr_worker_t *w, const u_char *p, size_t n)
{
    u_char  *h;

    if (w->mode == FR_MODE_CGI) {
        if (w->in.fd == -1) {
            return;
        }

        if (n) {
            (void) fr_buf_append(&w->out, p, n);
        }

        fr_worker_post_flush(w);
        return;
    }

    h = fr_buf_reserve(&w->out, FR_FCGI_HEADER_LEN + n);
    if (h == NULL) {
        fr_log(FR_LOG_ALERT, errno, "malloc() failed");
        return;
    }

    fr_fcgi_write_header(h, FR_FCGI_STDIN, 1, (uint16_t) n, 0);

    if (n) {
        memcpy(h + FR_FCGI_HEADER_LEN, p, n);
    }

    w->out.len += FR_FCGI_HEADER_LEN + n;

    fr_worker_post_flush(w);
}


/*
 * Writes wait until the current batch of events is handled, so that the
 * records of one request leave in one write: fewer syscalls, and libfcgi,
 * which drops its read buffer between requests, keeps the connection.
 */

static void
fr_worker_post_flush(fr_worker_t *w)
{
    fr_io_t  *io;

    io = (w->mode == FR_MODE_CGI) ? &w->in : &w->io;

    if (fr_buf_full(&w->out)) {
        fr_worker_flush(w);
        return;
    }

    if (io->fd != -1) {
        fr_io_post(io, EPOLLOUT);
    }
}


int
fr_worker_stdin_ready(fr_worker_t *w)
{
    return !fr_buf_full(&w->out);
}


static void
fr_worker_flush(fr_worker_t *w)
{
    int       rc, fd, full;
    fr_io_t  *io;

    io = (w->mode == FR_MODE_CGI) ? &w->in : &w->io;
    fd = io->fd;

    if (fd == -1) {
        return;
    }

    full = fr_buf_full(&w->out);

    rc = fr_buf_flush(&w->out, fd);

    if (rc == FR_ERROR) {
        if (w->mode == FR_MODE_CGI) {
            /* the script does not read its body: that is its right */
            fr_buf_free(&w->out);
            fr_io_close(&w->in);
            return;
        }

        if (w->state == FR_WORKER_STARTING) {
            /* the worker's exit will tell */
            w->out.len = 0;
            return;
        }

        fr_worker_lost(w, "closed the connection");
        return;
    }

    if (w->mode == FR_MODE_CGI) {
        if (rc == FR_OK && w->req && w->req->stdin_done) {
            /* the whole body is in: the script sees EOF */
            fr_io_close(&w->in);
            return;
        }

        (void) fr_io_set(io, rc == FR_AGAIN ? EPOLLOUT : 0);

    } else {
        (void) fr_io_set(io, (io->mask & EPOLLIN)
                             | (rc == FR_AGAIN ? EPOLLOUT : 0));
    }

    if (full && !fr_buf_full(&w->out) && w->req) {
        fr_req_downstream_ready(w->req);
    }
}


/* the client took the response so far: read more from the worker */

void
fr_worker_stdout_ready(fr_worker_t *w)
{
    fr_io_t  *io;

    io = &w->io;

    if (io->fd != -1 && !(io->mask & EPOLLIN)) {
        (void) fr_io_set(io, io->mask | EPOLLIN);
    }

    io = &w->err;

    if (io->fd != -1 && !(io->mask & EPOLLIN)) {
        (void) fr_io_set(io, EPOLLIN);
    }
}


static void
fr_worker_handler(fr_io_t *io, uint32_t events)
{
    ssize_t            n;
    u_char             buf[64 * 1024];
    fr_worker_t       *w;
    fr_fcgi_event_e    ev;
    const u_char      *pos, *last;

    w = io->data;

    if (events & EPOLLOUT) {
        fr_worker_flush(w);

        if (io->fd == -1) {
            return;
        }
    }

    if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR))) {
        return;
    }

    n = read(io->fd, buf, sizeof(buf));

    if (n == -1 && (errno == EAGAIN || errno == EINTR)) {
        return;
    }

    if (n <= 0) {
        switch (w->state) {

        case FR_WORKER_BUSY:
            fr_worker_lost(w, n == 0 ? "closed the connection"
                                     : "reset the connection");
            return;

        case FR_WORKER_STARTING:
            /*
             * Closed without an answer: most likely it exited. Its reap
             * says so; if it lives on, the start timeout decides.
             */
            fr_io_close(io);
            w->connected = 0;
            return;

        default:
            fr_io_close(io);
            w->connected = 0;
            return;
        }
    }

    pos = buf;
    last = buf + n;

    while (io->fd != -1 && w->state != FR_WORKER_STOPPING) {
        ev = fr_fcgi_parse(&w->parser, &pos, last);

        if (ev == FR_FCGI_EV_AGAIN) {
            break;
        }

        fr_worker_record(w, ev);
    }

    if (io->fd != -1 && w->req && fr_buf_full(&w->req->conn->out)) {
        /* backpressure: the worker waits until the client reads */
        (void) fr_io_set(io, io->mask & ~EPOLLIN);
    }
}


static void
fr_worker_record(fr_worker_t *w, fr_fcgi_event_e ev)
{
    fr_req_t          *r;
    fr_fcgi_parser_t  *p;

    p = &w->parser;
    r = w->req;

    switch (ev) {

    case FR_FCGI_EV_ERROR:
        fr_log(FR_LOG_ERR, 0, "worker %d of \"%s\" sent garbage (not a "
               "FastCGI record)", (int) w->pid, w->func->name);

        if (w->state == FR_WORKER_STARTING) {
            /* it never became ready: not a worker to replace at once */
            fr_func_start_failed(w->func);
        }

        fr_worker_failed(w, NULL);
        return;

    case FR_FCGI_EV_HEADER:
        w->hdr.len = 0;
        w->hdr.start = 0;

        if (w->state == FR_WORKER_STARTING) {
            return;
        }

        if (p->id != 1 && p->id != 0) {
            fr_log(FR_LOG_ERR, 0, "worker %d of \"%s\" sent a record for "
                   "request %d", (int) w->pid, w->func->name, p->id);
            fr_worker_failed(w, NULL);
        }

        return;

    case FR_FCGI_EV_CONTENT:
        if (w->state == FR_WORKER_STARTING || p->id == 0) {
            return;
        }

        w->responded = 1;

        if (p->type == FR_FCGI_STDOUT || p->type == FR_FCGI_STDERR) {
            if (r) {
                (void) fr_req_stdout(r, p->type, p->data, p->size);
            }
            return;
        }

        if (p->type == FR_FCGI_END_REQUEST && w->hdr.len < 8) {
            (void) fr_buf_append(&w->hdr, p->data, p->size);
        }

        return;

    case FR_FCGI_EV_END:
        if (w->state == FR_WORKER_STARTING) {
            if (p->type == FR_FCGI_GET_VALUES_RESULT
                || p->type == FR_FCGI_UNKNOWN_TYPE)
            {
                fr_worker_ready(w);
            }
            return;
        }

        if (p->type == FR_FCGI_END_REQUEST && w->state == FR_WORKER_BUSY) {
            u_char  *b = fr_buf_pos(&w->hdr);

            fr_worker_done(w, w->hdr.len >= 4
                              ? (uint32_t) b[0] << 24 | (uint32_t) b[1] << 16
                                | (uint32_t) b[2] << 8 | b[3]
                              : 0);
        }

        return;

    default:
        return;
    }
}


static void
fr_worker_ready(fr_worker_t *w)
{
    fr_func_t  *f;

    f = w->func;

    fr_timer_del(&w->timer);

    w->ready_at = fr_current_usec;
    w->state = FR_WORKER_IDLE;
    f->nstarting--;
    f->failures = 0;

    fr_log(FR_LOG_DEBUG, 0, "worker %d of \"%s\" ready in %llu us",
           (int) w->pid, f->name,
           (unsigned long long) (fr_current_usec - w->spawned));

    fr_list_insert_head(&f->idle, &w->idle);
    fr_timer_add(&w->timer, (uint64_t) f->conf.idle_timeout);

    fr_func_dispatch(f);
}


/* END_REQUEST from the worker */

static void
fr_worker_done(fr_worker_t *w, uint32_t app_status)
{
    fr_req_t   *r;
    fr_func_t  *f;

    f = w->func;
    r = w->req;

    w->req = NULL;
    w->requests++;
    w->state = FR_WORKER_IDLE;

    if (r && (!r->stdin_done || w->out.len)) {
        /* it answered before taking the whole body: a fresh connection */
        fr_io_close(&w->io);
        fr_buf_free(&w->out);
        w->connected = 0;
    }

    if (r) {
        if (r->meter) {
            fr_meter_stop(w, r);
        }

        fr_req_end(r, app_status);
    }

    if (f->conf.max_requests && w->requests >= (unsigned) f->conf.max_requests)
    {
        fr_log(FR_LOG_INFO, 0, "worker %d of \"%s\" retires after %u "
               "requests", (int) w->pid, f->name, w->requests);
        fr_worker_stop(w, SIGTERM, FR_STOP_GRACE);
        fr_func_dispatch(f);
        return;
    }

    if (w->generation != f->generation || f->removed) {
        fr_worker_stop(w, SIGTERM, FR_STOP_GRACE);
        fr_func_dispatch(f);
        return;
    }

    fr_list_insert_head(&f->idle, &w->idle);
    fr_timer_add(&w->timer, (uint64_t) f->conf.idle_timeout);

    fr_func_dispatch(f);
}


/*
 * The worker broke its request: closed, reset, garbage. The client gets
 * 502 (or a closed connection if the response had begun), the worker is
 * killed and replaced on demand.
 */

static void
fr_worker_failed(fr_worker_t *w, const char *what)
{
    fr_req_t  *r;

    r = w->req;
    w->req = NULL;

    if (what) {
        fr_log(FR_LOG_ERR, 0, "worker %d of \"%s\" %s mid-request",
               (int) w->pid, w->func->name, what);
    }

    fr_worker_stop(w, SIGKILL, 0);

    if (r) {
        r->worker = NULL;
        fr_req_fail(r, FR_OUTCOME_CRASHED);
    }
}


/*
 * A worker may go away between requests: php-cgi retires itself, and it
 * closes its connection after every request, so the next one meets a
 * process on its way out. If it said nothing to this request, had served
 * others before (one that dies on its first request is not retired but
 * broken), and the request is idempotent and can be sent again whole,
 * the request goes back to the head of the queue, once; as nginx's
 * fastcgi_next_upstream does.
 */

static void
fr_worker_lost(fr_worker_t *w, const char *what)
{
    fr_req_t   *r;
    fr_func_t  *f;

    r = w->req;
    f = w->func;

    if (r == NULL || w->responded || r->stdin_started || r->retried
        || w->requests == 0 || !fr_req_idempotent(r))
    {
        fr_worker_failed(w, what);
        return;
    }

    fr_log(FR_LOG_INFO, 0, "worker %d of \"%s\" %s before answering, "
           "retrying the request on another worker", (int) w->pid, f->name,
           what);

    r->retried = 1;
    r->worker = NULL;
    r->state = FR_REQ_QUEUED;
    fr_timer_del(&r->timer);

    /* most likely on its way out: a fresh worker takes the request */
    w->req = NULL;
    fr_worker_stop(w, SIGTERM, FR_STOP_GRACE);

    fr_list_insert_head(&f->queue, &r->queue);
    f->nqueued++;
    r->timer.handler = fr_req_queue_timeout;
    fr_timer_add(&r->timer, (uint64_t) f->conf.queue_timeout);

    fr_func_dispatch(f);
}


/* the client left mid-invocation */

void
fr_worker_abandon(fr_worker_t *w)
{
    w->req = NULL;

    fr_log(FR_LOG_INFO, 0, "stopping worker %d of \"%s\": its client went "
           "away", (int) w->pid, w->func->name);

    fr_worker_stop(w, SIGTERM, FR_KILL_GRACE);
}


static void
fr_req_timeout(fr_timer_t *t)
{
    fr_req_t     *r;
    fr_worker_t  *w;

    r = t->data;
    w = r->worker;

    fr_log(FR_LOG_ERR, 0, "function \"%s\" timed out after %lld ms, "
           "killing worker %d", r->func->name,
           (long long) r->func->conf.timeout, w ? (int) w->pid : 0);

    if (w) {
        if (r->meter) {
            fr_meter_stop(w, r);
        }

        w->req = NULL;

        /* what left its process group goes too: the slot is freed */
        fr_worker_kill_strays(w);
        fr_worker_stop(w, SIGTERM, FR_KILL_GRACE);
    }

    fr_req_fail(r, FR_OUTCOME_TIMEOUT);
}


/*
 * Signals the worker's process group; SIGKILL follows after grace. The
 * worker counts against the limits until it is reaped.
 */

static void
fr_worker_stop(fr_worker_t *w, int sig, uint64_t grace)
{
    fr_worker_set_stopping(w);

    w->killed = 1;

    if (w->reaped) {
        /* gone already, its pipes held by others: nothing to wait for */
        fr_worker_free(w);
        return;
    }

    fr_worker_signal(w, sig == SIGKILL || grace == 0 ? SIGKILL : sig);

    if (sig != SIGKILL && grace) {
        fr_timer_add(&w->timer, grace);

    } else {
        fr_timer_del(&w->timer);
    }
}


/* the one way into STOPPING: no requests, no connection, not idle */

static void
fr_worker_set_stopping(fr_worker_t *w)
{
    if (w->state == FR_WORKER_STOPPING) {
        return;
    }

    if (w->state == FR_WORKER_STARTING) {
        w->func->nstarting--;
    }

    w->state = FR_WORKER_STOPPING;
    fr_list_remove(&w->idle);
    fr_io_close(&w->io);
    fr_io_close(&w->in);
    fr_buf_free(&w->out);
    w->connected = 0;
}


/*
 * Only a worker not yet reaped is signalled: until then its pid, and so
 * its process group's id, cannot belong to anybody else.
 */

static void
fr_worker_signal(fr_worker_t *w, int sig)
{
    if (!w->reaped) {
        (void) kill(-w->pid, sig);
    }
}


/*
 * Processes a worker left behind outside its process group (setsid, a
 * double fork) are found by what they still hold of it: its pipes or
 * its listening socket. Each is pinned with a pidfd before its
 * descriptors are read, so the signal reaches that very process.
 */

static void
fr_worker_kill_strays(fr_worker_t *w)
{
    int             i, n, pfd, found;
    char            path[64], link[64], want[3][40];
    DIR            *proc, *fds;
    pid_t           pid, self;
    ssize_t         len;
    struct stat     st;
    struct dirent  *de, *fe;

    n = 0;

    for (i = 0; i < 3; i++) {
        if (w->ino[i]) {
            snprintf(want[n++], sizeof(want[0]), "%s:[%llu]",
                     (i == 0 && w->mode == FR_MODE_FASTCGI) ? "socket"
                                                           : "pipe",
                     (unsigned long long) w->ino[i]);
        }
    }

    proc = (n == 0) ? NULL : opendir("/proc");
    if (proc == NULL) {
        return;
    }

    self = getpid();

    while ((de = readdir(proc)) != NULL) {
        if (!isdigit((u_char) de->d_name[0])) {
            continue;
        }

        pid = (pid_t) atoi(de->d_name);
        snprintf(path, sizeof(path), "/proc/%d", (int) pid);

        if (pid == self || stat(path, &st) == -1 || st.st_uid != w->uid
            || (!w->reaped && getpgid(pid) == w->pid))
        {
            /* not its user's, or in its group: signalled with it */
            continue;
        }

        pfd = (int) syscall(SYS_pidfd_open, pid, 0);
        if (pfd == -1) {
            continue;
        }

        snprintf(path, sizeof(path), "/proc/%d/fd", (int) pid);
        fds = opendir(path);
        found = 0;

        while (fds && !found && (fe = readdir(fds)) != NULL) {
            len = readlinkat(dirfd(fds), fe->d_name, link, sizeof(link) - 1);

            for (i = 0; len > 0 && i < n; i++) {
                link[len] = '\0';
                found |= (strcmp(link, want[i]) == 0);
            }
        }

        if (fds) {
            closedir(fds);
        }

        if (found) {
            fr_log(FR_LOG_INFO, 0, "killing process %d left behind by "
                   "worker %d of \"%s\"", (int) pid, (int) w->pid,
                   w->func->name);
            (void) syscall(SYS_pidfd_send_signal, pfd, SIGKILL, NULL, 0);
        }

        close(pfd);
    }

    closedir(proc);
}


static void
fr_worker_timer(fr_timer_t *t)
{
    fr_worker_t  *w;
    fr_func_t    *f;

    w = t->data;
    f = w->func;

    switch (w->state) {

    case FR_WORKER_STARTING:
        fr_log(FR_LOG_ERR, 0, "worker %d of \"%s\" was not ready within "
               "%lld ms", (int) w->pid, f->name, (long long) f->conf.timeout);
        fr_worker_stop(w, SIGKILL, 0);
        fr_func_start_failed(f);
        fr_func_dispatch(f);
        return;

    case FR_WORKER_IDLE:
        if (f->nworkers > f->conf.min_instances) {
            fr_log(FR_LOG_DEBUG, 0, "worker %d of \"%s\" idle, stopping",
                   (int) w->pid, f->name);
            fr_worker_stop(w, SIGTERM, FR_STOP_GRACE);
        }
        return;

    case FR_WORKER_STOPPING:
        fr_worker_signal(w, SIGKILL);
        return;

    default: /* BUSY: a CGI process near its end */
        if (w->reaped && (w->io.fd != -1 || w->err.fd != -1)) {
            /* gone, and its pipes still open: held by what it left */
            fr_worker_kill_strays(w);
        }

        if (w->io.fd == -1) {
            /* stdout ended: no longer wait for stderr or for the exit */
            fr_cgi_finish(w);
        }

        return;
    }
}


/* SIGCHLD: reap every exited child, say how it ended */

void
fr_workers_reap(void)
{
    int            status, err;
    pid_t          pid;
    siginfo_t      si;
    fr_link_t     *l;
    fr_worker_t   *w;
    struct rusage  ru;

    for ( ;; ) {
        si.si_pid = 0;

        if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) == -1) {
            if (errno == EINTR) {
                continue;
            }
            break;
        }

        if (si.si_pid == 0) {
            break;
        }

        /*
         * A zombie's pid is still its own, and so is its process group's
         * id: the straggling helpers of its group go with it now, before
         * the pid is freed for reuse.
         */
        pid = si.si_pid;
        (void) kill(-pid, SIGKILL);

        while (wait4(pid, &status, 0, &ru) == -1 && errno == EINTR) {
            /* void */
        }

        w = NULL;

        for (l = fr_list_first(&fr_runner.workers); l != &fr_runner.workers;
             l = l->next)
        {
            if (fr_list_data(l, fr_worker_t, all)->pid == pid) {
                w = fr_list_data(l, fr_worker_t, all);
                break;
            }
        }

        if (w == NULL) {
            fr_log(FR_LOG_ALERT, 0, "reaped unknown child %d", (int) pid);
            continue;
        }

        w->ru_cpu_us = (int64_t) (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec)
                       * 1000000 + ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;
        w->ru_maxrss_kb = ru.ru_maxrss;

        if (w->exec.fd != -1
            && read(w->exec.fd, &err, sizeof(int)) == (ssize_t) sizeof(int))
        {
            w->exec_failed = 1;
            w->exec_errno = err;
        }

        fr_worker_free_reaped(w, status);
    }

    fr_dispatch_all();
}


static void
fr_worker_free_reaped(fr_worker_t *w, int status)
{
    int          level, starting;
    char         how[64];
    fr_req_t    *r;
    fr_func_t   *f;

    f = w->func;
    starting = (w->state == FR_WORKER_STARTING);

    w->reaped = 1;
    w->status = status;

    if (WIFSIGNALED(status)) {
        snprintf(how, sizeof(how), "exited on signal %d%s", WTERMSIG(status),
                 WCOREDUMP(status) ? " (core dumped)" : "");

    } else {
        snprintf(how, sizeof(how), "exited with code %d",
                 WEXITSTATUS(status));
    }

    if (w->exec_failed) {
        fr_log(FR_LOG_ERR, w->exec_errno, "function \"%s\" cannot start: "
               "execve() \"%s\" failed", f->name, f->exec_path);
        fr_func_start_failed(f);

    } else if (starting) {
        fr_log(FR_LOG_ERR, 0, "worker %d of \"%s\" %s before it was ready",
               (int) w->pid, f->name, how);
        fr_func_start_failed(f);

    } else {
        level = FR_LOG_INFO;

        if (!w->killed && w->state == FR_WORKER_BUSY
            && w->mode == FR_MODE_FASTCGI)
        {
            level = FR_LOG_ERR;
        }

        if (!w->killed && w->mode == FR_MODE_CGI) {
            level = FR_LOG_DEBUG;
        }

        fr_log_error(level, 0, "worker %d of \"%s\" %s%s", (int) w->pid,
                     f->name, how, w->state == FR_WORKER_BUSY
                                   && w->mode == FR_MODE_FASTCGI
                                   ? " while serving a request" : "");
    }

    if (w->mode == FR_MODE_CGI && w->state == FR_WORKER_BUSY
        && !w->exec_failed)
    {
        if (w->io.fd != -1) {
            /*
             * Its output may still sit in the pipe: read it first. If
             * the pipes are still open a moment later, what holds them
             * was left behind by it.
             */
            fr_timer_add(&w->timer, FR_STRAYS_WAIT);
            return;
        }

        fr_timer_del(&w->timer);
        fr_cgi_finish(w);
        return;
    }

    r = w->req;
    w->req = NULL;

    fr_worker_set_stopping(w);

    if (r) {
        r->worker = NULL;
        fr_req_fail(r, w->exec_failed ? FR_OUTCOME_ERROR
                                      : FR_OUTCOME_CRASHED);
    }

    if (w->mode == FR_MODE_FASTCGI) {
        fr_worker_kill_strays(w);
    }

    fr_worker_free(w);
}


static void
fr_worker_free(fr_worker_t *w)
{
    fr_func_t  *f;

    f = w->func;

    if (w->log_dropped) {
        fr_log(FR_LOG_WARN, 0, "function \"%s\" (pid %d): %zu bytes of "
               "stderr not logged, over %d bytes a second", f->name,
               (int) w->pid, w->log_dropped, FR_STDERR_RATE);
    }

    fr_timer_del(&w->timer);
    fr_timer_del(&w->log_timer);
    fr_io_close(&w->io);
    fr_io_close(&w->in);
    fr_io_close(&w->err);
    fr_io_close(&w->exec);
    fr_buf_free(&w->out);
    fr_buf_free(&w->hdr);
    fr_meter_proc_close(w);

    if (w->sock[0]) {
        (void) unlink(w->sock);
    }

    fr_list_remove(&w->idle);
    fr_list_remove(&w->link);
    fr_list_remove(&w->all);

    f->nworkers--;
    fr_runner.nworkers--;

    fr_free_later(w);

    if (f->nworkers == 0 && !fr_list_empty(&f->queue)
        && fr_current_msec < f->throttled_until)
    {
        fr_func_fail_queue(f);
    }

    fr_func_maintain(f);
    fr_func_check(f);
}


void
fr_workers_stop_all(int sig)
{
    fr_link_t    *l, *next;
    fr_worker_t  *w;

    for (l = fr_list_first(&fr_runner.workers); l != &fr_runner.workers;
         l = next)
    {
        next = l->next;
        w = fr_list_data(l, fr_worker_t, all);

        if (w->state != FR_WORKER_STOPPING || sig == SIGKILL) {
            fr_worker_stop(w, sig, FR_STOP_GRACE);
        }
    }
}


static void
fr_cgi_stdout_handler(fr_io_t *io, uint32_t events)
{
    int           rc;
    ssize_t       n;
    u_char        buf[64 * 1024];
    fr_req_t     *r;
    fr_worker_t  *w;

    (void) events;

    w = io->data;

    if (w->exec.fd != -1) {
        /* exec and output in one batch: readiness is seen first */
        fr_worker_exec_handler(&w->exec, EPOLLIN);
    }

    n = read(io->fd, buf, sizeof(buf));

    if (n == -1 && (errno == EAGAIN || errno == EINTR)) {
        return;
    }

    r = w->req;

    if (n <= 0) {
        fr_io_close(io);

        if (!w->cgi_headers && r) {
            if (!w->exec_failed) {
                fr_log(FR_LOG_ERR, 0, "CGI function \"%s\" (pid %d) %s",
                       w->func->name, (int) w->pid,
                       w->hdr.len ? "sent an incomplete header"
                                  : "sent no response");
            }
            w->req = NULL;
            r->worker = NULL;
            fr_req_fail(r, w->exec_failed ? FR_OUTCOME_ERROR
                                          : FR_OUTCOME_CRASHED);
        }

        fr_cgi_finish(w);
        return;
    }

    if (r == NULL) {
        return;
    }

    if (w->cgi_headers) {
        rc = fr_req_stdout(r, FR_FCGI_STDOUT, buf, (size_t) n);

        if (rc == FR_AGAIN && io->fd != -1) {
            (void) fr_io_set(io, 0);
        }

        return;
    }

    (void) fr_buf_append(&w->hdr, buf, (size_t) n);

    rc = fr_cgi_headers(w);

    if (rc == FR_AGAIN) {
        return;
    }

    if (rc == FR_ERROR) {
        fr_log(FR_LOG_ERR, 0, "CGI function \"%s\" (pid %d) sent an invalid "
               "header", w->func->name, (int) w->pid);
        fr_worker_failed(w, NULL);
        return;
    }

    w->cgi_headers = 1;

    rc = fr_req_stdout(r, FR_FCGI_STDOUT, fr_buf_pos(&w->hdr), w->hdr.len);
    fr_buf_free(&w->hdr);

    if (rc == FR_AGAIN && io->fd != -1) {
        (void) fr_io_set(io, 0);
    }
}


/*
 * The CGI header block (RFC 3875 6.2): "Name: value" lines up to an empty
 * line. It goes on unchanged: the FastCGI client reads Status: and
 * Location: as from any responder; a block that is no header is a 502.
 */

static int
fr_cgi_headers(fr_worker_t *w)
{
    u_char  *p, *last, *eol, *colon, *c;
    size_t   lines;

    p = fr_buf_pos(&w->hdr);
    last = p + w->hdr.len;
    lines = 0;

    for ( ;; ) {
        eol = memchr(p, '\n', last - p);

        if (eol == NULL) {
            return w->hdr.len > FR_CGI_HEADER_MAX ? FR_ERROR : FR_AGAIN;
        }

        if (eol == p || (eol == p + 1 && *p == '\r')) {
            return lines ? FR_OK : FR_ERROR;
        }

        colon = memchr(p, ':', eol - p);

        if (colon == NULL || colon == p) {
            return FR_ERROR;
        }

        for (c = p; c < colon; c++) {
            if (*c <= ' ' || *c >= 127) {
                return FR_ERROR;
            }
        }

        lines++;
        p = eol + 1;
    }
}


static void
fr_worker_stderr_handler(fr_io_t *io, uint32_t events)
{
    int           rc;
    ssize_t       n;
    u_char        buf[8192];
    fr_worker_t  *w;

    (void) events;

    w = io->data;

    if (w->exec.fd != -1) {
        fr_worker_exec_handler(&w->exec, EPOLLIN);
    }

    n = read(io->fd, buf, sizeof(buf));

    if (n == -1 && (errno == EAGAIN || errno == EINTR)) {
        return;
    }

    if (n <= 0) {
        fr_io_close(io);

        if (w->mode == FR_MODE_CGI && w->state == FR_WORKER_BUSY) {
            fr_cgi_finish(w);
        }

        return;
    }

    if (w->mode == FR_MODE_CGI && w->req) {
        /* to the client as FastCGI STDERR, paced like its stdout */
        rc = fr_req_stdout(w->req, FR_FCGI_STDERR, buf, (size_t) n);

        if (rc == FR_AGAIN && io->fd != -1) {
            (void) fr_io_set(io, 0);
        }

        return;
    }

    fr_worker_log_stderr(w, buf, (size_t) n);
}


/*
 * What a worker writes to stderr with no client to take it goes to the
 * log, escaped, a line of output a log line, at most FR_STDERR_RATE
 * bytes a second a worker; the rest is counted and said once. Past the
 * rate the pipe is not read until the second is over: a flood blocks
 * its writer instead of spinning the runner.
 */

static void
fr_worker_log_stderr(fr_worker_t *w, const u_char *p, size_t n)
{
    size_t         chunk, len;
    u_char         line[FR_STDERR_LINE * 4];
    const u_char  *eol;

    if (fr_current_msec >= w->log_window + 1000) {
        if (w->log_dropped) {
            fr_log(FR_LOG_WARN, 0, "function \"%s\" (pid %d): %zu bytes of "
                   "stderr not logged, over %d bytes a second",
                   w->func->name, (int) w->pid, w->log_dropped,
                   FR_STDERR_RATE);
        }

        w->log_window = fr_current_msec;
        w->log_bytes = 0;
        w->log_dropped = 0;
    }

    while (n) {
        if (w->log_bytes >= FR_STDERR_RATE) {
            w->log_dropped += n;

            if (w->err.fd != -1) {
                (void) fr_io_set(&w->err, 0);
                fr_timer_add(&w->log_timer,
                             w->log_window + 1000 - fr_current_msec);
            }

            return;
        }

        chunk = n;

        if (chunk > FR_STDERR_LINE) {
            chunk = FR_STDERR_LINE;
        }

        if (chunk > FR_STDERR_RATE - w->log_bytes) {
            chunk = FR_STDERR_RATE - w->log_bytes;
        }

        eol = memchr(p, '\n', chunk);

        if (eol) {
            chunk = eol - p + 1;
        }

        len = fr_log_escape(line, p, eol ? chunk - 1 : chunk);

        if (len) {
            fr_log(FR_LOG_WARN, 0, "function \"%s\" (pid %d) stderr: "
                   "\"%.*s\"", w->func->name, (int) w->pid, (int) len,
                   line);
        }

        w->log_bytes += chunk;
        p += chunk;
        n -= chunk;
    }
}


static void
fr_worker_log_resume(fr_timer_t *t)
{
    fr_worker_t  *w;

    w = t->data;

    if (w->err.fd != -1) {
        (void) fr_io_set(&w->err, EPOLLIN);
    }
}


static void
fr_cgi_stdin_handler(fr_io_t *io, uint32_t events)
{
    (void) events;

    fr_worker_flush(io->data);
}


/* stdout and stderr are closed: the response is whole */

static void
fr_cgi_finish(fr_worker_t *w)
{
    int64_t    left;
    fr_req_t  *r;

    if (w->io.fd != -1) {
        /* the response goes on until its stdout ends */
        return;
    }

    if (w->err.fd != -1 && !w->err_waited) {
        /*
         * Its last words on stderr may come a moment after: they are
         * waited for briefly, not for as long as something holds the
         * pipe. What comes later goes to the log.
         */
        w->err_waited = 1;
        fr_timer_add(&w->timer, FR_STRAYS_WAIT);
        return;
    }

    r = w->req;

    if (r && r->meter && !w->reaped && !w->reap_waited) {
        /* its rusage is the measure: the exit is near, wait a moment */
        w->reap_waited = 1;
        fr_timer_add(&w->timer, FR_REAP_WAIT);
        return;
    }

    w->req = NULL;

    if (r) {
        if (r->meter) {
            fr_meter_stop(w, r);
        }

        r->worker = NULL;
        fr_req_end(r, w->reaped && WIFEXITED(w->status)
                      ? (uint32_t) WEXITSTATUS(w->status) : 0);
    }

    fr_io_close(&w->in);
    fr_buf_free(&w->out);

    if (w->reaped) {
        fr_worker_set_stopping(w);
        fr_worker_free(w);
        fr_func_dispatch(w->func);
        return;
    }

    /* it closed its output but lives on: to the end of its timeout */
    left = w->func->conf.timeout
           - (int64_t) (fr_current_usec - w->spawned) / 1000;

    fr_worker_set_stopping(w);
    fr_timer_add(&w->timer, left > 0 ? (uint64_t) left : 0);
}
