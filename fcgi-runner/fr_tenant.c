/*
 * Copyright (C) ngx_faas developers
 *
 * Tenants: whom use is billed to and whose limits apply (theirs, and
 * the operator's caps on every function, limit_*). A tenant of
 * root-owned functions without a user runs as its dynamic user: a uid
 * (and a gid of the same number) from dynamic_users, one per tenant,
 * never one the passwd or group database knows, never shared, and the
 * same after a restart: the assignments are kept in
 * STATE_DIR/dynamic-users ("NAME UID" lines), written whole to a
 * temporary file, synced and renamed into place.
 */

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
#include "fr_tenant.h"


#define FR_DYNAMIC_FILE  "dynamic-users"


typedef struct {
    char                  *name;
    uid_t                  uid;
} fr_dynamic_t;


static int fr_dynamic_load(void);
static int fr_dynamic_save(void);
static uid_t fr_dynamic_find(const char *name);
static uid_t fr_dynamic_new(void);
static int fr_tenant_over(fr_func_t *f, const char *key, int64_t value,
    const char *limit, int64_t cap, const char *unit);


static fr_dynamic_t  *fr_dynamic;
static int            fr_ndynamic;
static int            fr_dynamic_loaded;


/* the tenant of this name, made on first use with its limits */

fr_tenant_t *
fr_tenant_get(const char *name)
{
    fr_link_t         *l;
    fr_tenant_t       *t;

    if (fr_runner.tenants.next == NULL) {
        fr_list_init(&fr_runner.tenants);
    }

    for (l = fr_list_first(&fr_runner.tenants); l != &fr_runner.tenants;
         l = l->next)
    {
        t = fr_list_data(l, fr_tenant_t, link);

        if (strcmp(t->name, name) == 0) {
            return t;
        }
    }

    t = calloc(1, sizeof(fr_tenant_t));
    if (t == NULL) {
        return NULL;
    }

    t->name = strdup(name);
    if (t->name == NULL) {
        free(t);
        return NULL;
    }

    fr_tenant_limits(t);
    fr_list_insert_tail(&fr_runner.tenants, &t->link);

    return t;
}


/* its limits from the runner config: at its making, and on reload */

void
fr_tenant_limits(fr_tenant_t *t)
{
    const fr_tconf_t  *tc;

    tc = fr_conf_tenant(&fr_runner.conf, t->name);

    t->max_instances = (tc && tc->max_instances != FR_UNSET)
                       ? tc->max_instances
                       : fr_runner.conf.tenant_max_instances;
    t->max_memory = (tc && tc->max_memory != FR_UNSET_MSEC)
                    ? tc->max_memory
                    : fr_runner.conf.tenant_max_memory;
    t->async_kept_max = (tc && tc->async_kept != FR_UNSET_MSEC)
                        ? tc->async_kept
                        : fr_runner.conf.tenant_async_kept;
}


void
fr_tenants_limits(void)
{
    fr_link_t  *l;

    for (l = fr_list_first(&fr_runner.tenants); l != &fr_runner.tenants;
         l = l->next)
    {
        fr_tenant_limits(fr_list_data(l, fr_tenant_t, link));
    }
}


/*
 * The runner config's tenant.NAME.* for a tenant no function is of: a
 * name mistyped leaves the customer it meant without those limits. Said
 * at start, in --test and at each reload, as a notice: a tenant whose
 * functions are still to come is no mistake.
 */

void
fr_tenants_unused(void)
{
    int          i;
    fr_link_t   *l;
    fr_func_t   *f;
    const char  *name;

    for (i = 0; i < fr_runner.conf.ntenants; i++) {
        name = fr_runner.conf.tenants[i].name;

        for (l = fr_list_first(&fr_runner.funcs); l != &fr_runner.funcs;
             l = l->next)
        {
            f = fr_list_data(l, fr_func_t, link);

            if (!f->removed && f->tenant && strcmp(f->tenant, name) == 0) {
                break;
            }
        }

        if (l == &fr_runner.funcs) {
            fr_log(FR_LOG_NOTICE, 0, "\"%s\": tenant.%s.* names a tenant no "
                   "function is of (a name mistyped limits nobody)",
                   fr_runner.conf.file ? fr_runner.conf.file : "", name);
        }
    }
}


/*
 * The operator's caps (limit_*): a function asking for more, or for no
 * limit at all (memory = 0), is refused; a cap of 0 is no cap.
 */

int
fr_tenant_caps(fr_func_t *f)
{
    int          problems;
    fr_conf_t   *c;
    fr_fconf_t  *fc;

    c = &fr_runner.conf;
    fc = &f->conf;
    problems = 0;

    /*
     * The default caps hold a customer's function.conf; the operator's
     * own word (a function.conf only root may write, the runner
     * config's defaults) is what it says. Caps the operator set hold
     * every function.
     */
#define fr_cap(key, value, limit, cap, unit, unlimited, bit)                 \
    if ((cap) && ((unlimited) || (value) > (cap))                            \
        && ((c->limits_set & (bit))                                          \
            || (!f->operators && fr_fconf_line(fc, key))))                   \
    {                                                                        \
        if (fr_tenant_over(f, key, value, limit, cap, unit) == FR_OK) {    \
            (value) = (cap);                                                 \
                                                                             \
        } else {                                                             \
            problems++;                                                      \
        }                                                                    \
    }

    /* memory = 0 and async_max_queued = 0 are no limit; 0 is no wait
     * in queue, an error in the others */
    fr_cap("memory", fc->memory, "limit_memory", c->limit_memory, " bytes",
           fc->memory == 0, 1);
    fr_cap("timeout", fc->timeout, "limit_timeout", c->limit_timeout, " ms",
           0, 2);
    fr_cap("max_instances", fc->max_instances, "limit_instances",
           c->limit_instances, "", 0, 4);
    fr_cap("queue", fc->queue, "limit_queue", c->limit_queue, "", 0, 8);
    fr_cap("max_processes", fc->max_processes, "limit_processes",
           c->limit_processes, "", 0, 16);
    fr_cap("max_files", fc->max_files, "limit_files", c->limit_files, "",
           0, 32);
    fr_cap("async_max_queued", fc->async_max_queued, "limit_async_queued",
           c->limit_async_queued, "", fc->async_max_queued == 0, 64);

#undef fr_cap

    return problems;
}


/*
 * A value over a cap, told where it was set: the function's file, the
 * runner config's default for every function (errors); the runner's own
 * default, which nobody asked for, is lowered to the cap (FR_OK), as a
 * cap of limit_files under 1024 makes max_files that cap.
 */

static int
fr_tenant_over(fr_func_t *f, const char *key, int64_t value, const char *limit,
    int64_t cap, const char *unit)
{
    int          line;
    fr_conf_t   *c;

    c = &fr_runner.conf;
    line = fr_fconf_line(&f->conf, key);

    if (line) {
        fr_log(FR_LOG_ERR, 0, "%s/function.conf:%d: %s %lld%s is over %s "
               "%lld%s", f->dir, line, key, (long long) value, unit, limit,
               (long long) cap, unit);

    } else if (c->file && (line = fr_fconf_line(&c->defaults, key))) {
        fr_log(FR_LOG_ERR, 0, "%s:%d: %s %lld%s, the default of function "
               "\"%s\", is over %s %lld%s (set %s lower here or in %s/"
               "function.conf)", c->file, line, key, (long long) value, unit,
               f->name, limit, (long long) cap, unit, key, f->dir);

    } else {
        fr_log(FR_LOG_DEBUG, 0, "function \"%s\": %s %lld%s, the runner's "
               "default, lowered to %s %lld%s", f->name, key,
               (long long) value, unit, limit, (long long) cap, unit);
        return FR_OK;
    }

    return FR_ERROR;
}


/*
 * The tenant's dynamic user, assigned on first need. In --test nothing
 * is written: a tenant without one yet is fine.
 */

int
fr_tenant_dynamic_user(fr_tenant_t *t, int test)
{
    uid_t          uid;
    fr_dynamic_t  *d;

    if (t->uid) {
        return FR_OK;
    }

    if (fr_dynamic_load() != FR_OK) {
        return FR_ERROR;
    }

    uid = fr_dynamic_find(t->name);

    if (uid && (getpwuid(uid) != NULL || getgrgid((gid_t) uid) != NULL)) {
        /* somebody made a user of it since: never share it */
        fr_log(FR_LOG_ERR, 0, "dynamic user %d of tenant \"%s\" now exists "
               "in the passwd or group database; remove its line from "
               "%s/" FR_DYNAMIC_FILE " to have another one", (int) uid,
               t->name, fr_runner.conf.state_dir);
        return FR_ERROR;
    }

    if (uid == 0) {
        if (test) {
            return FR_OK;
        }

        uid = fr_dynamic_new();

        if (uid == 0) {
            fr_log(FR_LOG_ERR, 0, "no free uid left in dynamic_users "
                   "%d-%d for tenant \"%s\"", fr_runner.conf.dynamic_first,
                   fr_runner.conf.dynamic_last, t->name);
            return FR_ERROR;
        }

        d = realloc(fr_dynamic, (fr_ndynamic + 1) * sizeof(fr_dynamic_t));
        if (d == NULL) {
            return FR_ERROR;
        }

        fr_dynamic = d;
        fr_dynamic[fr_ndynamic].name = strdup(t->name);
        fr_dynamic[fr_ndynamic].uid = uid;

        if (fr_dynamic[fr_ndynamic].name == NULL) {
            return FR_ERROR;
        }

        fr_ndynamic++;

        if (fr_dynamic_save() != FR_OK) {
            free(fr_dynamic[--fr_ndynamic].name);
            return FR_ERROR;
        }

        fr_log(FR_LOG_NOTICE, 0, "tenant \"%s\" runs as dynamic user %d",
               t->name, (int) uid);
    }

    t->uid = uid;
    t->gid = (gid_t) uid;

    return FR_OK;
}


static int
fr_dynamic_load(void)
{
    int           uid;
    char          path[PATH_MAX], line[256], name[FR_NAME_MAX + 1];
    FILE         *f;
    fr_dynamic_t  *d;

    if (fr_dynamic_loaded) {
        return FR_OK;
    }

    snprintf(path, sizeof(path), "%s/" FR_DYNAMIC_FILE,
             fr_runner.conf.state_dir);

    f = fopen(path, "re");

    if (f == NULL && errno != ENOENT) {
        fr_log(FR_LOG_ERR, errno, "cannot read \"%s\"", path);
        return FR_ERROR;
    }

    while (f && fgets(line, sizeof(line), f)) {
        if (sscanf(line, "%64s %d", name, &uid) != 2
            || uid < fr_runner.conf.dynamic_first
            || uid > fr_runner.conf.dynamic_last)
        {
            fr_log(FR_LOG_WARN, 0, "skipped a line of \"%s\": not a tenant "
                   "and a uid of dynamic_users", path);
            continue;
        }

        if (!fr_tenant_valid((u_char *) name, strlen(name))) {
            /* a name an older runner took ("-"): its uid kept, never
             * another tenant's (its files in /tmp, /dev/shm are its) */
            fr_log(FR_LOG_NOTICE, 0, "dynamic user %d of \"%s\", no "
                   "tenant's name now, is kept: never another tenant's",
                   uid, name);
        }

        d = realloc(fr_dynamic, (fr_ndynamic + 1) * sizeof(fr_dynamic_t));
        if (d == NULL) {
            fclose(f);
            return FR_ERROR;
        }

        fr_dynamic = d;
        d[fr_ndynamic].name = strdup(name);
        d[fr_ndynamic].uid = (uid_t) uid;

        if (d[fr_ndynamic].name) {
            fr_ndynamic++;
        }
    }

    if (f) {
        fclose(f);
    }

    fr_dynamic_loaded = 1;

    return FR_OK;
}


static int
fr_dynamic_save(void)
{
    int       i, rc;
    char      line[FR_NAME_MAX + 32];
    fr_buf_t  b;

    memset(&b, 0, sizeof(fr_buf_t));
    rc = FR_OK;

    for (i = 0; i < fr_ndynamic && rc == FR_OK; i++) {
        snprintf(line, sizeof(line), "%s %d\n", fr_dynamic[i].name,
                 (int) fr_dynamic[i].uid);
        rc = fr_buf_append(&b, line, strlen(line));
    }

    rc = (rc == FR_OK) ? fr_state_write(FR_DYNAMIC_FILE, fr_buf_pos(&b),
                                        b.len)
                       : FR_ERROR;

    fr_buf_free(&b);

    return rc;
}


/*
 * A file of state_dir written whole: a temporary file of the runner's
 * alone (0600), synced and renamed into place, the rename synced too,
 * so that a crash leaves the old file or the new one. Logged on error.
 */

int
fr_state_write(const char *name, const u_char *p, size_t len)
{
    int   fd, ok;
    char  path[PATH_MAX], tmp[PATH_MAX + 8];

    snprintf(path, sizeof(path), "%s/%s", fr_runner.conf.state_dir, name);
    snprintf(tmp, sizeof(tmp), "%s.new", path);

    if (mkdir(fr_runner.conf.state_dir, 0700) == -1 && errno != EEXIST) {
        fr_log(FR_LOG_ERR, errno, "mkdir() \"%s\" failed",
               fr_runner.conf.state_dir);
        return FR_ERROR;
    }

    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
              0600);

    ok = (fd != -1
          && (len == 0 || write(fd, p, len) == (ssize_t) len)
          && fsync(fd) == 0);

    if (fd != -1) {
        ok &= (close(fd) == 0);
    }

    if (!ok || rename(tmp, path) == -1) {
        fr_log(FR_LOG_ERR, errno, "cannot write \"%s\"", path);
        (void) unlink(tmp);
        return FR_ERROR;
    }

    fd = open(fr_runner.conf.state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

    if (fd != -1) {
        (void) fsync(fd);
        close(fd);
    }

    return FR_OK;
}


static uid_t
fr_dynamic_find(const char *name)
{
    int  i;

    for (i = 0; i < fr_ndynamic; i++) {
        if (strcmp(fr_dynamic[i].name, name) == 0) {
            return fr_dynamic[i].uid;
        }
    }

    return 0;
}


/* the first uid of the range nobody has: not assigned, not a user, not
 * a group */

static uid_t
fr_dynamic_new(void)
{
    int    i;
    uid_t  uid;

    for (uid = (uid_t) fr_runner.conf.dynamic_first;
         uid <= (uid_t) fr_runner.conf.dynamic_last;
         uid++)
    {
        for (i = 0; i < fr_ndynamic; i++) {
            if (fr_dynamic[i].uid == uid) {
                break;
            }
        }

        if (i == fr_ndynamic && getpwuid(uid) == NULL
            && getgrgid((gid_t) uid) == NULL)
        {
            return uid;
        }
    }

    return 0;
}


/*
 * How many more stored invocations may be on their way, for tenant t
 * (NULL: the host): each holds a connection of the runner's own
 * (fr_dispatch.c) and waits in its function's queue; unbounded, one
 * tenant's backlog (4,200 functions on a schedule, or thousands of
 * async calls) held every descriptor and slot. A quarter of
 * max_connections for all (1,024 without it); for one tenant, its
 * max_instances (no more can run at once), else half of that when
 * there are others.
 */

int
fr_tenant_call_room(fr_tenant_t *t)
{
    int  host, most;

    host = fr_runner.conf.max_connections / 4;
    host = fr_runner.conf.max_connections == 0 ? 1024
           : host > 16 ? host : 16;

    if (t == NULL) {
        return host - fr_runner.ncalls;
    }

    most = t->max_instances ? t->max_instances
           : (fr_list_first(&fr_runner.tenants)
              == fr_list_last(&fr_runner.tenants)) ? host : host / 2;

    most -= t->ncalls;

    return most < host - fr_runner.ncalls ? most : host - fr_runner.ncalls;
}


/*
 * The functions, from one further on at each call: a look at what is
 * due begins there (fr_dispatch.c, fr_store_pg.c), so that the room
 * fr_tenant_call_room() leaves is not always the first ones'. The next
 * of the last is the first (fr_tenant_func_next).
 */

fr_link_t *
fr_tenant_funcs_turn(size_t *n)
{
    size_t          i, skip;
    fr_link_t      *l;
    static size_t   turn;

    *n = 0;

    for (l = fr_list_first(&fr_runner.funcs); l != &fr_runner.funcs;
         l = l->next)
    {
        (*n)++;
    }

    skip = *n ? turn++ % *n : 0;
    l = fr_list_first(&fr_runner.funcs);

    for (i = 0; i < skip; i++) {
        l = l->next;
    }

    return l;
}


fr_link_t *
fr_tenant_func_next(fr_link_t *l)
{
    return (l->next != &fr_runner.funcs) ? l->next
                                         : fr_list_first(&fr_runner.funcs);
}


/* n more (or less) stored invocations of t's on their way */

void
fr_tenant_call(fr_tenant_t *t, int n)
{
    fr_runner.ncalls += n;

    if (t != NULL) {
        t->ncalls += n;
    }
}


void
fr_tenants_free(void)
{
    int           i;
    fr_tenant_t  *t;

    while (fr_runner.tenants.next && !fr_list_empty(&fr_runner.tenants)) {
        t = fr_list_data(fr_list_first(&fr_runner.tenants), fr_tenant_t,
                         link);
        fr_list_remove(&t->link);

        if (t->nginx_log.timer.index) {
            /* what its functions' stderr did not send nginx: said now */
            t->nginx_log.timer.handler(&t->nginx_log.timer);
            fr_timer_del(&t->nginx_log.timer);
        }

        free(t->name);
        free(t);
    }

    for (i = 0; i < fr_ndynamic; i++) {
        free(fr_dynamic[i].name);
    }

    free(fr_dynamic);
    fr_dynamic = NULL;
    fr_ndynamic = 0;
    fr_dynamic_loaded = 0;
}


/*
 * An answer is kept whole (64 KiB at most) while its tenant's answers
 * kept within async_retention are under tenant_async_kept; past it the
 * outcome is kept without it: a function run often (a schedule of every
 * second, 64 KiB an answer: 5.6 GB a day) cannot fill state_dir
 */

size_t
fr_tenant_kept(fr_func_t *f, size_t len)
{
    int                own;
    char               kept[32];
    uint64_t           window;
    fr_tenant_t       *t;
    const fr_tconf_t  *tc;

    t = f ? f->owner : NULL;

    if (t == NULL || t->async_kept_max == 0) {
        return len;
    }

    window = (uint64_t) fr_runner.conf.async_retention;

    /* since: the window's first msec, plus one (0: none yet) */
    if (t->async_kept_since == 0
        || fr_current_msec + 1 - t->async_kept_since >= window)
    {
        t->async_kept_since = fr_current_msec + 1;
        t->async_kept = 0;
        t->async_kept_said = 0;
    }

    if (t->async_kept + (int64_t) len <= t->async_kept_max) {
        t->async_kept += (int64_t) len;
        return len;
    }

    if (!t->async_kept_said) {
        t->async_kept_said = 1;
        tc = fr_conf_tenant(&fr_runner.conf, t->name);
        own = (tc && tc->async_kept != FR_UNSET_MSEC);

        fr_log(FR_LOG_WARN, 0, "tenant \"%s\": its answers kept are at "
               "%s%s%s (%s) within async_retention: outcomes kept "
               "without their answers", t->name,
               own ? "tenant." : "tenant_async_kept", own ? t->name : "",
               own ? ".async_kept" : "",
               fr_log_size(kept, sizeof(kept), t->async_kept_max));
    }

    return 0;
}
