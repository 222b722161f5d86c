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
#include "fr_cgroup.h"
#include "fr_docroot.h"
#include "fr_folder.h"
#include "fr_identity.h"
#include "fr_func.h"
#include "fr_isolate.h"
#include "fr_names.h"
#include "fr_proto.h"
#include "fr_runtime.h"
#include "fr_spawn.h"
#include "fr_tenant.h"


static fr_func_t *fr_func_load(const char *name, const char *dir,
    const struct stat *st, int test, int *problems);
static int fr_func_configure(fr_func_t *f, int test);
static int fr_funcs_load_dir(const char *path, int test, int *problems);
static void fr_func_add(const char *name, const char *dir, const char *from,
    const struct stat *st, fr_func_t *old, int test, int *problems);
static int fr_func_entry(fr_func_t *f);
static char *fr_func_from(const char *from);
static void fr_func_later(const char *name, const char *dir,
    const char *from, const struct stat *st, int test, int *problems);
static void fr_func_update(fr_func_t *old, fr_func_t *f);
static int fr_func_same(const char *a, const char *b);
static void fr_func_not_one(const char *dir);
static void fr_func_modes(fr_func_t *f);
static void fr_func_free(fr_func_t *f);
static int fr_funcs_destinations(void);


static const fr_func_events_t  *fr_func_events;

static int                      fr_funcs_loaded;   /* not the start */


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
    fr_func_t      *old;
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

        if (old && old->from && strcmp(old->from, path) != 0
            && fr_func_entry(old))
        {
            /*
             * The name of a function loaded from another functions
             * folder that still has a folder of that name (a later one
             * in this load): it keeps its name, whatever folder comes
             * first; one customer's folder cannot take another's
             * function by a name. That folder may be a new one, the
             * owner's next release (switched by a symlink, or renamed
             * into place: another inode).
             */
            fr_log(FR_LOG_ERR, 0, "function \"%s\" is both \"%s\" and "
                   "\"%s\": the one loaded before stays", old->name,
                   old->dir, dir);
            (*problems)++;
            continue;
        }

        if (old == NULL && fr_names_other(de->d_name, dir, &st)) {
            /* another folder had it at the last load (or run): first */
            fr_names_defer(de->d_name, dir, path, &st);
            continue;
        }

        fr_func_add(de->d_name, dir, path, &st, old, test, problems);
    }

    closedir(d);

    return FR_OK;
}


/*
 * The functions folder that loaded f still has an entry of its name,
 * of its folder's owner: the folder, or a link to its next release (not
 * followed: the release may be one the owner has not made yet)
 */

static int
fr_func_entry(fr_func_t *f)
{
    char         entry[PATH_MAX];
    struct stat  st;

    if (snprintf(entry, sizeof(entry), "%s/%s", f->from, f->name)
        >= (int) sizeof(entry))
    {
        return 0;
    }

    return lstat(entry, &st) == 0 && st.st_uid == f->dir_uid
           && (S_ISDIR(st.st_mode) || S_ISLNK(st.st_mode));
}


/*
 * The functions folder "from", resolved as fr_funcs_load_dir does (an
 * absolute path, no link), or NULL: the folder tmp isolation covers in
 * the workers' mounts (fr_isolate_keep.c), that of a function whose
 * folder is a link to elsewhere too.
 */

static char *
fr_func_from(const char *from)
{
    int   fd;
    char  base[PATH_MAX];

    fd = fr_path_open(AT_FDCWD, from, O_PATH | O_DIRECTORY, base);

    if (fd == -1) {
        return NULL;
    }

    close(fd);

    return strdup(base);
}


/* a function folder found: loaded, or the function loaded before
 * updated (a problem keeps the one before) */

static void
fr_func_add(const char *name, const char *dir, const char *from,
    const struct stat *st, fr_func_t *old, int test, int *problems)
{
    char       *t;
    fr_func_t  *f;

    f = fr_func_load(name, dir, st, test, problems);

    if (f && (f->from = strdup(from)) == NULL) {
        fr_func_free(f);
        f = NULL;
    }

    if (f) {
        f->from_dir = fr_func_from(from);
    }

    if (f == NULL) {
        if (old) {
            old->removed = 0;
            fr_log(FR_LOG_WARN, 0, "function \"%s\" keeps its previous "
                   "configuration", old->name);
        }
        return;
    }

    if (old && strcmp(old->signature, f->signature) == 0) {
        /* the same, found in another functions folder (a release
         * switched by a symlink): its workers' cover is that one */
        t = old->from_dir;
        old->from_dir = f->from_dir;
        f->from_dir = t;
        old->removed = 0;
        fr_func_free(f);
        return;
    }

    fr_func_modes(f);

    if (old && (strcmp(old->tenant, f->tenant) != 0 || old->uid != f->uid)) {
        /*
         * Another tenant's or user's now: not a change of the old one,
         * which ends as a removed one does (what is queued for it, made
         * for its tenant, runs its code as its user, never the new
         * one's), but a new function
         */
        fr_log(FR_LOG_NOTICE, 0, "function \"%s\" is tenant \"%s\"'s now "
               "(was \"%s\"'s): a new function", f->name, f->tenant,
               old->tenant);
        fr_func_unhash(old);
        old = NULL;
    }

    if (old) {
        fr_func_update(old, f);
        return;
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


/*
 * At start, once all folders are read, a folder whose name another had
 * when the runner last ran: that one stays; if it is gone, the first
 * met of the others has it.
 */

static void
fr_func_later(const char *name, const char *dir, const char *from,
    const struct stat *st, int test, int *problems)
{
    fr_func_t    *f;
    struct stat   had;

    f = fr_func_find((u_char *) name, strlen(name));

    if (f == NULL && fr_names_met(name)) {
        /* there, but it did not load (said): fixed, it has it again */
        fr_log(FR_LOG_ERR, 0, "function \"%s\": \"%s\" does not take the "
               "name of a folder that is there but did not load", name, dir);
        (*problems)++;
        return;
    }

    if (f == NULL) {
        fr_func_add(name, dir, from, st, NULL, test, problems);
        return;
    }

    had.st_dev = f->dir_dev;
    had.st_ino = f->dir_ino;

    fr_log(FR_LOG_ERR, 0, "function \"%s\" is both \"%s\" and \"%s\": %s",
           f->name, f->dir, dir, fr_names_other(name, f->dir, &had)
           ? "the first stays" : "the one that had it when the runner last "
           "ran stays");
    (*problems)++;
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

    if (!fr_funcs_loaded) {
        (void) fr_names_load();
    }

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

    fr_names_undefer(fr_func_later, test, &problems);
    fr_funcs_loaded = 1;

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

    problems += fr_funcs_destinations();

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

    if (!test && !unreadable) {
        /* an unreadable folder's names are not given away for good */
        fr_names_save();
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


/* two settings alike, unset ones too */

static int
fr_func_same(const char *a, const char *b)
{
    return (a == NULL || b == NULL) ? a == b : strcmp(a, b) == 0;
}


/* a changed function: the new settings, and new workers from now on */

static void
fr_func_update(fr_func_t *old, fr_func_t *f)
{
    int  same_schedule;

    /* its next tick kept (a reload just before a tick skipped it) */
    same_schedule = fr_func_same(old->conf.schedule, f->conf.schedule)
                    && fr_func_same(old->conf.schedule_timezone,
                                    f->conf.schedule_timezone);

    fr_fconf_free(&old->conf);
    old->conf = f->conf;
    fr_fconf_init(&f->conf);

#define fr_swap(a, b)  do { void *t_ = a; a = b; b = t_; } while (0)
    fr_swap(old->argv, f->argv);
    fr_swap(old->exec_path, f->exec_path);
    fr_swap(old->exec_rel, f->exec_rel);
    fr_swap(old->script_path, f->script_path);
    fr_swap(old->tenant, f->tenant);
    fr_swap(old->signature, f->signature);
    fr_swap(old->dir, f->dir);
    fr_swap(old->from, f->from);
    fr_swap(old->from_dir, f->from_dir);
#undef fr_swap

    old->dir_dev = f->dir_dev;
    old->dir_ino = f->dir_ino;
    old->dir_handle = f->dir_handle;
    old->dir_uid = f->dir_uid;
    old->owner = f->owner;
    old->cron = f->cron;
    old->sched_next = same_schedule ? old->sched_next : 0;
    old->uid = f->uid;
    old->gid = f->gid;
    old->set_user = f->set_user;
    old->exec_fd = f->exec_fd;
    old->exec_by_fd = f->exec_by_fd;
    old->ends_early = f->ends_early;
    old->operators = f->operators;
    old->removed = 0;
    old->generation++;
    old->failures = 0;

    if (old->zygote) {
        fr_proto_retire(old->zygote);
    }

    if (old->proto) {
        /* its workers finish on the old one */
        fr_proto_retire(old->proto);
    }

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

    /* never empty (fr_folder_read): fmemopen() takes no empty buffer */
    fp = fmemopen(fr_buf_pos(&text), text.len, "r");

    n = fp ? fr_conf_parse_stream(fp, file, NULL, &f->conf) : 1;

    fr_buf_free(&text);

    /* a line that does not parse hides none of the other problems */
    if (fp) {
        fr_fconf_merge(&f->conf, &fr_runner.conf.defaults);
        fr_fconf_merge(&f->conf, NULL);
        n += fr_func_configure(f, test);
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
    char            path[PATH_MAX + 16];
    fr_fconf_t     *fc;

    fc = &f->conf;
    problems = 0;

    /* every problem of the file is told at once: none hides another */

    /* first: a default lowered to a cap is what the rest is made of */
    problems += fr_tenant_caps(f);

    /* (the runner config's php.NAME are defaults: the file's own count) */
    if (fc->runtime || fc->nphp_own || fr_fconf_line(fc, "app")
        || fr_fconf_line(fc, "python.path"))
    {
        problems += fr_runtime_configure(f, test);

    } else if (fc->exec == NULL) {
        fr_log(FR_LOG_ERR, 0, "%s/function.conf:%d: no \"exec\" in the "
               "file", f->dir, fc->nlines > 0 ? fc->nlines : 1);
        problems++;

    } else if (fr_split_args(fc->exec, &f->argv) < 0) {
        fr_log(FR_LOG_ERR, 0, "%s/function.conf:%d: invalid \"exec\"",
               f->dir, fr_fconf_line(fc, "exec"));
        problems++;
    }

    if (fc->min_instances > fc->max_instances) {
        fr_log(FR_LOG_ERR, 0, "%s/function.conf:%d: min_instances %d is "
               "more than max_instances %d", f->dir,
               fr_fconf_line(fc, "min_instances"), fc->min_instances,
               fc->max_instances);
        problems++;
    }

    if (fc->max_instances == 0) {
        fr_log(FR_LOG_ERR, 0, "%s/function.conf:%d: max_instances is 0",
               f->dir, fr_fconf_line(fc, "max_instances"));
        problems++;
    }

    if (fc->timeout == 0) {
        fr_log(FR_LOG_ERR, 0, "%s/function.conf:%d: timeout is 0", f->dir,
               fr_fconf_line(fc, "timeout"));
        problems++;
    }

    problems += fr_isolate_resolve(f);

    snprintf(path, sizeof(path), "%s/function.conf", f->dir);
    problems += fr_cron_conf(fc, path, &f->cron, FR_LOG_ERR);

    if (fc->max_processes < 1 || fc->max_files < 4) {
        fr_log(FR_LOG_ERR, 0, "%s/function.conf:%d: max_processes must be "
               "at least 1 and max_files at least 4", f->dir,
               fr_fconf_line(fc, fc->max_processes < 1 ? "max_processes"
                                                       : "max_files"));
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

    if (fr_identity(f, test) != 0) {
        /* nobody to look the paths up as */
        return problems + 1;
    }

    if (!test && fc->runtime && strcmp(fc->runtime, "php") == 0) {
        fr_runtime_php_sessions(f);
    }

    return problems + (f->argv ? fr_folder_paths(f, test) : 0)
           + fr_docroot_check(f, test);
}


/* function.conf and the folder's files: a reload compares these */

static void
fr_func_free(fr_func_t *f)
{
    int  i;

    fr_timer_del(&f->timer);

    if (f->zygote) {
        fr_proto_retire(f->zygote);
    }

    if (f->proto) {
        fr_proto_retire(f->proto);
    }

    if (f->argv) {
        for (i = 0; f->argv[i]; i++) {
            free(f->argv[i]);
        }
        free(f->argv);
    }

    fr_cgroup_func_free(f);
    fr_fconf_free(&f->conf);
    free(f->name);
    free(f->dir);
    free(f->from);
    free(f->from_dir);
    free(f->signature);
    free(f->exec_path);
    free(f->exec_rel);
    free(f->script_path);
    free(f->tenant);

    /* a caller up the stack may still look at its (empty) queue */
    fr_list_init(&f->queue);
    fr_free_later(f);
}


/*
 * Once all are read: on_success and on_failure name a function of the
 * same tenant, or the function is refused (taken out as removed).
 */

static int
fr_funcs_destinations(void)
{
    int          problems, i;
    char        *to;
    fr_func_t   *f, *d;
    fr_link_t   *l;

    static const char  *keys[] = { "on_success", "on_failure" };

    problems = 0;

    for (l = fr_list_first(&fr_runner.funcs); l != &fr_runner.funcs;
         l = l->next)
    {
        f = fr_list_data(l, fr_func_t, link);

        for (i = 0; i < 2 && !f->removed; i++) {
            to = i ? f->conf.on_failure : f->conf.on_success;
            d = to ? fr_func_find((u_char *) to, strlen(to)) : NULL;

            if (to && (d == NULL || d->removed)) {
                /* deployed later, maybe: said, not refused */
                fr_log(FR_LOG_WARN, 0, "%s/function.conf:%d: %s \"%s\" "
                       "names no function (yet): its outcomes are not sent "
                       "until one is loaded", f->dir,
                       fr_fconf_line(&f->conf, keys[i]), keys[i], to);
            }

            /*
             * Refused, not unloaded: another tenant that takes the name
             * of a destination deployed later would take the function
             * down with it. Its outcomes are never sent there
             * (fr_dispatch_destination looks again at each).
             */
            if (d && !d->removed && strcmp(d->tenant, f->tenant) != 0) {
                fr_log(FR_LOG_ERR, 0, "%s/function.conf:%d: %s \"%s\" is a "
                       "function of another tenant: \"%s\" sends it no "
                       "outcome", f->dir, fr_fconf_line(&f->conf, keys[i]),
                       keys[i], to, f->name);
                problems++;
            }
        }
    }

    return problems;
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

    fr_names_free();

    while (!fr_list_empty(&fr_runner.funcs)) {
        f = fr_list_data(fr_list_first(&fr_runner.funcs), fr_func_t, link);
        fr_list_remove(&f->link);
        fr_func_free(f);
    }

    memset(fr_runner.hash, 0, sizeof(fr_runner.hash));
}
