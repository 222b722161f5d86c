/*
 * Copyright (C) ngx_faas developers
 *
 * The functions folder: each folder a function, its function.conf read,
 * checked and resolved to whom it runs as and whom it is metered to;
 * found by name through a small hash. Loaded at start and again on
 * SIGHUP; what the pool must do about an added, changed or removed
 * function it is told through the events it registered.
 */

#include <dirent.h>
#include <glob.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fr_log.h"
#include "fr_path.h"
#include "fr_docroot.h"
#include "fr_folder.h"
#include "fr_func.h"
#include "fr_isolate.h"
#include "fr_spawn.h"
#include "fr_tenant.h"


static fr_func_t *fr_func_load(const char *name, const char *dir,
    const struct stat *st, int test, int *problems);
static int fr_func_configure(fr_func_t *f, int test);
static int fr_funcs_load_dir(const char *path, int test, int *problems);
static int fr_func_identity(fr_func_t *f, int test);
static int fr_func_owner(fr_func_t *f, uid_t uid);
static int fr_func_user(fr_func_t *f);
static int fr_func_tenant(fr_func_t *f, const char *tenant);
static int fr_func_caps(fr_func_t *f);
static void fr_func_update(fr_func_t *old, fr_func_t *f);
static void fr_func_not_one(const char *dir);
static void fr_func_modes(fr_func_t *f);
static void fr_func_free(fr_func_t *f);


static const fr_func_events_t  *fr_func_events;


void
fr_funcs_on(const fr_func_events_t *events)
{
    fr_func_events = events;
}


static uint32_t
fr_func_hash(const u_char *p, size_t len)
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

    for (f = fr_runner.hash[fr_func_hash(name, len)]; f; f = f->next) {
        if (strlen(f->name) == len && memcmp(f->name, name, len) == 0) {
            return f;
        }
    }

    return NULL;
}


static void
fr_func_unhash(fr_func_t *f)
{
    uint32_t     key;
    fr_func_t  **pp;

    key = fr_func_hash((u_char *) f->name, strlen(f->name));

    for (pp = &fr_runner.hash[key]; *pp; pp = &(*pp)->next) {
        if (*pp == f) {
            *pp = f->next;
            return;
        }
    }
}


/*
 * One folder of functions; FR_ERROR: it cannot be read. The folder and
 * each function's folder in it are opened under the symlink rule
 * (fr_path.c): a symlink whose owner does not own its target is not
 * followed, and the function is reported, not loaded.
 */

static int
fr_funcs_load_dir(const char *path, int test, int *problems)
{
    int             dfd, fd;
    char            base[PATH_MAX], dir[PATH_MAX], file[NAME_MAX + 16];
    DIR            *d;
    fr_func_t      *f, *old;
    struct stat     st;
    struct dirent  *de;

    dfd = fr_path_open(AT_FDCWD, path, O_RDONLY | O_DIRECTORY, base);
    d = (dfd == -1) ? NULL : fdopendir(dfd);

    if (d == NULL) {
        fr_log(FR_LOG_ERR, errno, "opendir() \"%s\" failed%s", path,
               errno == ELOOP ? FR_FOLDER_LINK_RULE : "");

        if (dfd != -1) {
            close(dfd);
        }

        return FR_ERROR;
    }

    while ((de = readdir(d)) != NULL) {

        if (de->d_name[0] == '.') {
            continue;
        }

        strcpy(dir, base);
        fd = fr_path_open(dirfd(d), de->d_name, O_PATH, dir);

        if (fd == -1) {
            if (errno == ELOOP) {
                fr_log(FR_LOG_ERR, 0, "\"%s/%s\" not loaded"
                       FR_FOLDER_LINK_RULE, path, de->d_name);
                (*problems)++;
            }

            continue;
        }

        if (fstat(fd, &st) == -1 || !S_ISDIR(st.st_mode)) {
            close(fd);
            continue;
        }

        close(fd);

        if (!fr_name_valid((u_char *) de->d_name, strlen(de->d_name))) {
            snprintf(file, sizeof(file), "%s/function.conf", de->d_name);

            if (fstatat(dirfd(d), file, &st, AT_SYMLINK_NOFOLLOW) == -1) {
                fr_func_not_one(dir);
                continue;
            }

            fr_log(FR_LOG_WARN, 0, "folder \"%s\" is not a valid function "
                   "name, skipped", dir);
            (*problems)++;
            continue;
        }

        old = fr_func_find((u_char *) de->d_name, strlen(de->d_name));

        if (old && !old->removed) {
            /* found earlier in this load: another folder's */
            fr_log(FR_LOG_ERR, 0, "function \"%s\" is both \"%s\" and "
                   "\"%s\": the first stays", old->name, old->dir, dir);
            (*problems)++;
            continue;
        }

        f = fr_func_load(de->d_name, dir, &st, test, problems);

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

        fr_func_modes(f);

        if (old) {
            fr_func_update(old, f);
            continue;
        }

        f->next = fr_runner.hash[fr_func_hash((u_char *) f->name,
                                         strlen(f->name))];
        fr_runner.hash[fr_func_hash((u_char *) f->name, strlen(f->name))] = f;
        fr_list_insert_tail(&fr_runner.funcs, &f->link);

        if (!test) {
            fr_log(FR_LOG_INFO, 0, "function \"%s\" loaded", f->name);

            if (fr_func_events) {
                fr_func_events->added(f);
            }
        }
    }

    closedir(d);

    return FR_OK;
}


/*
 * Reads the functions folders (functions: folders and globs, in order):
 * at start, and again on SIGHUP, when added functions appear, changed
 * ones get the new settings (their workers are replaced once idle) and
 * removed ones take no new requests. A function with a bad
 * function.conf is reported and left out (on reload: the old one
 * stays), never stopping the others; a name found in two folders is
 * reported and the first stays. Returns the problem count.
 */

int
fr_funcs_load(int test)
{
    int          problems, unreadable;
    char        *list, *word, *save;
    size_t       i;
    glob_t       g;
    fr_func_t   *f;
    fr_link_t   *l, *next;

    for (l = fr_list_first(&fr_runner.funcs); l != &fr_runner.funcs;
         l = l->next)
    {
        fr_list_data(l, fr_func_t, link)->removed = 1;
    }

    problems = 0;
    unreadable = 0;

    list = strdup(fr_runner.conf.functions);
    if (list == NULL) {
        return 1;
    }

    /* folders and globs, in order: the first of a name stays */
    for (word = strtok_r(list, " \t,", &save); word;
         word = strtok_r(NULL, " \t,", &save))
    {
        if (glob(word, GLOB_NOCHECK, NULL, &g) != 0) {
            fr_log(FR_LOG_ERR, 0, "functions \"%s\": glob() failed", word);
            problems++;
            continue;
        }

        for (i = 0; i < g.gl_pathc; i++) {
            if (fr_funcs_load_dir(g.gl_pathv[i], test, &problems) != FR_OK) {
                unreadable = 1;
            }
        }

        globfree(&g);
    }

    free(list);

    fr_runner.functions_unreadable = unreadable;

    if (unreadable) {
        /* what an unreadable folder held is not taken as removed */
        for (l = fr_list_first(&fr_runner.funcs); l != &fr_runner.funcs;
             l = l->next)
        {
            fr_list_data(l, fr_func_t, link)->removed = 0;
        }

        problems++;
    }

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

        if (fr_func_events) {
            fr_func_events->removed(f);
        }

        fr_func_check(f);
    }

    return problems;
}


/*
 * A folder without function.conf is no function (lost+found, .git, a
 * provider's marker): said once, at notice, not at every reload.
 */

static void
fr_func_not_one(const char *dir)
{
    size_t           len;
    static fr_buf_t  told;

    len = strlen(dir);

    if (told.len && memmem(fr_buf_pos(&told), told.len, dir, len + 1)) {
        return;
    }

    (void) fr_buf_append(&told, dir, len + 1);

    fr_log(FR_LOG_NOTICE, 0, "folder \"%s\" has no function.conf: not a "
           "function", dir);
}


/* a new or changed customer's folder that others may read: say how */

static void
fr_func_modes(fr_func_t *f)
{
    if (f->loose) {
        fr_log(FR_LOG_WARN, 0, "function \"%s\": other users may read or "
               "change its folder or files in it: chmod 0700 \"%s\", "
               "0600 (0700 programs) its files", f->name, f->dir);
    }
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
    fr_swap(old->dir, f->dir);
#undef fr_swap

    old->dir_dev = f->dir_dev;
    old->dir_ino = f->dir_ino;
    old->dir_uid = f->dir_uid;
    old->owner = f->owner;
    old->cron = f->cron;
    old->sched_next = 0;
    old->uid = f->uid;
    old->gid = f->gid;
    old->set_user = f->set_user;
    old->removed = 0;
    old->generation++;
    old->failures = 0;
    old->throttled_until = 0;

    fr_func_free(f);

    fr_log(FR_LOG_NOTICE, 0, "function \"%s\" changed", old->name);

    if (fr_func_events) {
        fr_func_events->changed(old);
    }
}


static fr_func_t *
fr_func_load(const char *name, const char *dir, const struct stat *st,
    int test, int *problems)
{
    int         n;
    char        file[PATH_MAX + 32];
    FILE       *fp;
    fr_buf_t    text;
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

    f->name = strdup(name);
    f->dir = strdup(dir);
    f->dir_dev = st->st_dev;
    f->dir_ino = st->st_ino;
    f->dir_uid = st->st_uid;

    memset(&text, 0, sizeof(fr_buf_t));

    n = (f->name && f->dir) ? fr_folder_read(f, &text) : FR_ERROR;

    if (n != FR_OK) {
        if (n == FR_DECLINED) {
            fr_func_not_one(dir);

        } else {
            (*problems)++;
        }

        fr_buf_free(&text);
        fr_func_free(f);
        return NULL;
    }

    snprintf(file, sizeof(file), "%s/function.conf", dir);

    /* the text and a newline: fmemopen() takes no empty buffer */
    fp = fmemopen(fr_buf_pos(&text), text.len, "r");

    n = fp ? fr_conf_parse_stream(fp, file, NULL, &f->conf) : 1;

    fr_buf_free(&text);

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

    problems += fr_isolate_resolve(f);

    if (fc->schedule && fr_cron_parse(fc->schedule, &f->cron) != FR_OK) {
        fr_log(FR_LOG_ERR, 0, "%s/function.conf:%d: invalid schedule "
               "\"%s\": five cron fields, @hourly, @daily, @weekly, "
               "@monthly, @yearly or \"@every 30s\"", f->dir,
               fr_fconf_line(fc, "schedule"), fc->schedule);
        problems++;
    }

    if (fc->schedule_timezone && strcmp(fc->schedule_timezone, "UTC") != 0
        && (strstr(fc->schedule_timezone, "..")
            || (snprintf(path, sizeof(path), "/usr/share/zoneinfo/%s",
                         fc->schedule_timezone), access(path, R_OK) != 0)))
    {
        fr_log(FR_LOG_ERR, 0, "%s/function.conf:%d: unknown "
               "schedule_timezone \"%s\"", f->dir,
               fr_fconf_line(fc, "schedule_timezone"), fc->schedule_timezone);
        problems++;
    }

    if (fc->schedule_catchup && strcmp(fc->schedule_catchup, "on") != 0
        && strcmp(fc->schedule_catchup, "off") != 0)
    {
        fr_log(FR_LOG_ERR, 0, "%s/function.conf:%d: schedule_catchup is on "
               "or off, not \"%s\"", f->dir,
               fr_fconf_line(fc, "schedule_catchup"), fc->schedule_catchup);
        problems++;
    }

    if (fc->max_processes < 1 || fc->max_files < 4) {
        fr_log(FR_LOG_ERR, 0, "function \"%s\": max_processes must be at "
               "least 1 and max_files at least 4", f->name);
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

    problems += fr_func_caps(f);

    if (fr_func_identity(f, test) != 0) {
        /* nobody to look the paths up as */
        return problems + 1;
    }

    return problems + fr_folder_paths(f, test) + fr_docroot_check(f, test);
}


/*
 * Whom the workers run as and whom the use is metered to. A runner that
 * is not root runs everything as itself. With a root runner:
 *
 *   a folder owned by a user runs as that user and its primary group,
 *   billed to the tenant of its name; "user", "group" and "tenant"
 *   there may only name that user;
 *
 *   a root-owned folder may name any user (and a group the user may
 *   use) and any tenant; without "user" it runs as the dynamic user of
 *   its tenant ("tenant", else "default").
 *
 * Any problem leaves the function unloaded: never running as root, or
 * as somebody else, by mistake.
 */

static int
fr_func_identity(fr_func_t *f, int test)
{
    const char     *tenant;
    fr_fconf_t     *fc;

    fc = &f->conf;

    if (fr_runner.is_root && f->dir_uid != 0) {
        /* the folder's owner, as found by descriptor (fr_func_read) */
        return fr_func_owner(f, f->dir_uid);
    }

    tenant = fc->tenant ? fc->tenant : (fc->user ? fc->user : "default");

    if (fr_func_tenant(f, tenant) != FR_OK) {
        return 1;
    }

    if (!fr_runner.is_root) {
        if (fc->user) {
            fr_log(FR_LOG_WARN, 0, "function \"%s\": user \"%s\" is "
                   "ignored, the runner is not root", f->name, fc->user);
        }

        return 0;
    }

    if (fc->user) {
        return fr_func_user(f);
    }

    if (fc->group) {
        fr_log(FR_LOG_ERR, 0, "%s/function.conf:%d: \"group\" without "
               "\"user\": the tenant's dynamic user has a group of its own",
               f->dir, fr_fconf_line(fc, "group"));
        return 1;
    }

    if (fr_tenant_dynamic_user(f->owner, test) != FR_OK) {
        fr_log(FR_LOG_ERR, 0, "function \"%s\" not loaded: no dynamic "
               "user for tenant \"%s\"", f->name, f->tenant);
        return 1;
    }

    f->uid = f->owner->uid;
    f->gid = f->owner->gid;
    f->set_user = (f->uid != 0);

    return 0;
}


/* a folder owned by a user: that user, its group, its tenant */

static int
fr_func_owner(fr_func_t *f, uid_t uid)
{
    int             problems;
    struct group   *gr;
    struct passwd  *pw;
    fr_fconf_t     *fc;

    fc = &f->conf;
    pw = getpwuid(uid);

    if (pw == NULL) {
        fr_log(FR_LOG_ERR, 0, "function \"%s\" not loaded: its folder is "
               "owned by uid %d, which is no user", f->name, (int) uid);
        return 1;
    }

    problems = 0;

#define fr_only_owner(key, value)                                            \
    if (value) {                                                             \
        fr_log(FR_LOG_ERR, 0, "%s/function.conf:%d: \"" key " = %s\" in a "  \
               "folder owned by \"%s\": only a root-owned folder may name "   \
               "another", f->dir, fr_fconf_line(fc, key), value,              \
               pw->pw_name);                                                 \
        problems++;                                                          \
    }

    fr_only_owner("user", fc->user && strcmp(fc->user, pw->pw_name) != 0
                          ? fc->user : NULL);
    fr_only_owner("tenant", fc->tenant && strcmp(fc->tenant, pw->pw_name) != 0
                            ? fc->tenant : NULL);

    if (fc->group) {
        gr = getgrgid(pw->pw_gid);

        fr_only_owner("group", gr == NULL || strcmp(gr->gr_name, fc->group)
                               ? fc->group : NULL);
    }

#undef fr_only_owner

    if (problems) {
        return problems;
    }

    if (fr_func_tenant(f, pw->pw_name) != FR_OK) {
        return 1;
    }

    f->uid = pw->pw_uid;
    f->gid = pw->pw_gid;
    f->set_user = 1;

    return 0;
}


/* "user" (and "group") in a root-owned folder */

static int
fr_func_user(fr_func_t *f)
{
    char          **m;
    struct group   *gr;
    struct passwd  *pw;
    fr_fconf_t     *fc;

    fc = &f->conf;
    pw = getpwnam(fc->user);

    if (pw == NULL) {
        fr_log(FR_LOG_ERR, 0, "function \"%s\": unknown user \"%s\", "
               "function not loaded", f->name, fc->user);
        return 1;
    }

    f->uid = pw->pw_uid;
    f->gid = pw->pw_gid;

    if (fc->group) {
        gr = getgrnam(fc->group);

        if (gr == NULL) {
            fr_log(FR_LOG_ERR, 0, "function \"%s\": unknown group \"%s\", "
                   "function not loaded", f->name, fc->group);
            return 1;
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
                   fc->user, fc->group);
            return 1;
        }

        f->gid = gr->gr_gid;
    }

    f->set_user = 1;

    return 0;
}


/* the tenant's name is checked, its object found or made */

static int
fr_func_tenant(fr_func_t *f, const char *tenant)
{
    if (!fr_name_valid((const u_char *) tenant, strlen(tenant))) {
        fr_log(FR_LOG_ERR, 0, "invalid tenant \"%.64s%s\"%s in "
               "%s/function.conf: 1-64 characters of A-Z a-z 0-9 _ -, "
               "starting with a letter or digit", tenant,
               strlen(tenant) > 64 ? "..." : "",
               f->conf.tenant ? "" : " (a user's name, set \"tenant\")",
               f->dir);
        return FR_ERROR;
    }

    f->tenant = strdup(tenant);
    f->owner = fr_tenant_get(tenant);

    return (f->tenant && f->owner) ? FR_OK : FR_ERROR;
}


/*
 * The operator's caps (limit_*): a function asking for more, or for no
 * limit at all (memory = 0), is refused; a cap of 0 is no cap.
 */

static int
fr_func_caps(fr_func_t *f)
{
    int          problems;
    fr_conf_t   *c;
    fr_fconf_t  *fc;

    c = &fr_runner.conf;
    fc = &f->conf;
    problems = 0;

#define fr_cap(key, value, limit, cap, unit, unlimited)                      \
    if ((cap) && ((unlimited) || (value) > (cap))) {                         \
        fr_log(FR_LOG_ERR, 0, "%s/function.conf:%d: " key " %lld" unit       \
               " is over " limit " %lld" unit "%s", f->dir,                  \
               fr_fconf_line(fc, key), (long long) (value),                  \
               (long long) (cap), fr_fconf_line(fc, key) ? ""                \
               : " (the default; set " key " lower)");                       \
        problems++;                                                          \
    }

    /* memory = 0 is no limit; 0 is no wait in queue, an error in the
     * others */
    fr_cap("memory", fc->memory, "limit_memory", c->limit_memory, " bytes",
           fc->memory == 0);
    fr_cap("timeout", fc->timeout, "limit_timeout", c->limit_timeout, " ms",
           0);
    fr_cap("max_instances", fc->max_instances, "limit_instances",
           c->limit_instances, "", 0);
    fr_cap("queue", fc->queue, "limit_queue", c->limit_queue, "", 0);

#undef fr_cap

    return problems;
}


/* function.conf and the folder's files: a reload compares these */

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
