/*
 * Copyright (C) ngx_faas developers
 *
 * Whom a function runs as and whom its use is billed to: the owner of
 * its folder (as found by descriptor, fr_folder.c), its user and group
 * keys, its tenant and the tenant's dynamic user.
 */

#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>

#include "fr_log.h"
#include "fr_tenant.h"
#include "fr_identity.h"


static int fr_identity_owner(fr_func_t *f, uid_t uid);
static int fr_identity_user(fr_func_t *f);
static int fr_identity_tenant(fr_func_t *f, const char *tenant,
    const char *user);


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

int
fr_identity(fr_func_t *f, int test)
{
    const char     *tenant;
    fr_fconf_t     *fc;

    fc = &f->conf;

    if (fr_runner.is_root && f->dir_uid != 0) {
        /* the folder's owner, as found by descriptor (fr_func_read) */
        return fr_identity_owner(f, f->dir_uid);
    }

    if (fr_runner.is_root && !f->operators) {
        /*
         * A root-owned folder's function.conf names whom it runs as
         * (user = root, another's tenant): only root may have written
         * it, or anybody could be anybody
         */
        fr_log(FR_LOG_ERR, 0, "%s/function.conf: not loaded: in a folder "
               "of root's, the folder and its function.conf must be root's "
               "and writable by root alone (chown root, chmod go-w)",
               f->dir);
        return 1;
    }

    tenant = fc->tenant ? fc->tenant : (fc->user ? fc->user : "default");

    if (fr_identity_tenant(f, tenant, fc->user) != FR_OK) {
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
        return fr_identity_user(f);
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
fr_identity_owner(fr_func_t *f, uid_t uid)
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

    if (fr_identity_tenant(f, pw->pw_name, pw->pw_name) != FR_OK) {
        return 1;
    }

    f->uid = pw->pw_uid;
    f->gid = pw->pw_gid;
    f->set_user = 1;

    return 0;
}


/* "user" (and "group") in a root-owned folder */

static int
fr_identity_user(fr_func_t *f)
{
    char          **m;
    struct group   *gr;
    struct passwd  *pw;
    fr_fconf_t     *fc;

    fc = &f->conf;
    pw = getpwnam(fc->user);

    if (pw == NULL) {
        fr_log(FR_LOG_ERR, 0, "%s/function.conf:%d: unknown user \"%s\", "
               "function not loaded", f->dir, fr_fconf_line(fc, "user"),
               fc->user);
        return 1;
    }

    f->uid = pw->pw_uid;
    f->gid = pw->pw_gid;

    if (fc->group) {
        gr = getgrnam(fc->group);

        if (gr == NULL) {
            fr_log(FR_LOG_ERR, 0, "%s/function.conf:%d: unknown group "
                   "\"%s\", function not loaded", f->dir,
                   fr_fconf_line(fc, "group"), fc->group);
            return 1;
        }

        /* the user's primary group, or one it is a member of */
        for (m = gr->gr_mem; gr->gr_gid != pw->pw_gid && *m; m++) {
            if (strcmp(*m, pw->pw_name) == 0) {
                break;
            }
        }

        if (gr->gr_gid != pw->pw_gid && *m == NULL) {
            fr_log(FR_LOG_ERR, 0, "%s/function.conf:%d: user \"%s\" is not "
                   "a member of group \"%s\", function not loaded", f->dir,
                   fr_fconf_line(fc, "group"), fc->user, fc->group);
            return 1;
        }

        f->gid = gr->gr_gid;
    }

    f->set_user = 1;

    return 0;
}


/* the tenant's name is checked, its object found or made */

static int
fr_identity_tenant(fr_func_t *f, const char *tenant, const char *user)
{
    int   line;
    char  want[32], max[32], at[16];

    /* a "." is a user's (Debian's "j.doe"): "tenant" names one only as
     * the user the function runs as, DESIGN's set otherwise */

    if (f->conf.tenant && strchr(tenant, '.')
        && (user == NULL || strcmp(user, tenant) != 0))
    {
        fr_log(FR_LOG_ERR, 0, "%s/function.conf:%d: invalid tenant "
               "\"%.64s%s\": 1-64 characters of A-Z a-z 0-9 _ - (a \".\" "
               "only in the name of the user it runs as)", f->dir,
               fr_fconf_line(&f->conf, "tenant"), tenant,
               strlen(tenant) > 64 ? "..." : "");
        return FR_ERROR;
    }

    if (!fr_tenant_valid((const u_char *) tenant, strlen(tenant))) {
        /* of tenant, of user, or of no line: the folder's owner's name */
        line = fr_fconf_line(&f->conf, f->conf.tenant ? "tenant" : "user");
        at[0] = '\0';

        if (line) {
            snprintf(at, sizeof(at), ":%d", line);
        }

        fr_log(FR_LOG_ERR, 0, "%s/function.conf%s: invalid tenant "
               "\"%.64s%s\"%s: 1-64 characters of A-Z a-z 0-9 _ - ., a "
               "letter or digit first after any _ or -", f->dir, at, tenant,
               strlen(tenant) > 64 ? "..." : "",
               f->conf.tenant ? ""
               : " (a user's name: a root-owned folder may set \"tenant\")");
        return FR_ERROR;
    }

    f->tenant = strdup(tenant);
    f->owner = fr_tenant_get(tenant);

    if (f->owner && f->owner->max_memory
        && f->conf.memory > f->owner->max_memory)
    {
        /* its requests wait for room that never comes: 503 (a limit's
         * answer), and this says why, at each load (a reload too); a
         * worker started before a reload lowered it serves on */
        fr_log(FR_LOG_WARN, 0, "%s/function.conf: memory %s is over the "
               "max_memory of its tenant \"%s\" (%s): no worker of it "
               "starts, a request none serves is a 503", f->dir,
               fr_log_size(want, sizeof(want), f->conf.memory), tenant,
               fr_log_size(max, sizeof(max), f->owner->max_memory));
    }

    return (f->tenant && f->owner) ? FR_OK : FR_ERROR;
}
