/*
 * Copyright (C) ngx_faas developers
 *
 * "key = value" files, '#' comments. One table names every key with its
 * type and where it is stored; errors give file and line.
 */

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fr_conf.h"
#include "fr_event.h"
#include "fr_log.h"


typedef enum {
    FR_CONF_STR = 0,
    FR_CONF_MSEC,
    FR_CONF_SIZE,
    FR_CONF_NUM,
    FR_CONF_OCTAL,
    FR_CONF_MODE,
    FR_CONF_RANGE,
    FR_CONF_ISOLATION
} fr_conf_type_e;


typedef struct {
    const char            *name;
    fr_conf_type_e         type;
    unsigned               global:1;    /* runner config only */
    size_t                 offset;
} fr_conf_key_t;


#define FR_G(f)  1, offsetof(fr_conf_t, f)
#define FR_F(f)  0, offsetof(fr_fconf_t, f)

#define FR_CONF_KEYS_MAX  64      /* keys, for the ones set twice */

static const fr_conf_key_t  fr_conf_keys[] = {
    { "listen",         FR_CONF_STR,   FR_G(listen) },
    { "listen_owner",   FR_CONF_STR,   FR_G(listen_owner) },
    { "listen_group",   FR_CONF_STR,   FR_G(listen_group) },
    { "listen_mode",    FR_CONF_OCTAL, FR_G(listen_mode) },
    { "listen_allow",   FR_CONF_STR,   FR_G(listen_allow) },
    { "functions",      FR_CONF_STR,   FR_G(functions) },
    { "max_workers",    FR_CONF_NUM,   FR_G(max_workers) },
    { "max_connections", FR_CONF_NUM,  FR_G(max_connections) },
    { "client_header_timeout", FR_CONF_MSEC, FR_G(client_header_timeout) },
    { "spool_max",      FR_CONF_SIZE,  FR_G(spool_max) },
    { "spool_max_total", FR_CONF_SIZE, FR_G(spool_max_total) },
    { "state_dir",      FR_CONF_STR,   FR_G(state_dir) },
    { "store",          FR_CONF_STR,   FR_G(store) },
    { "dynamic_users",  FR_CONF_RANGE, FR_G(dynamic_first) },
    { "limit_memory",   FR_CONF_SIZE,  FR_G(limit_memory) },
    { "limit_timeout",  FR_CONF_MSEC,  FR_G(limit_timeout) },
    { "limit_instances", FR_CONF_NUM,  FR_G(limit_instances) },
    { "limit_queue",    FR_CONF_NUM,   FR_G(limit_queue) },
    { "limit_processes", FR_CONF_NUM,  FR_G(limit_processes) },
    { "limit_files",    FR_CONF_NUM,   FR_G(limit_files) },
    { "limit_async_queued", FR_CONF_NUM, FR_G(limit_async_queued) },
    { "limit_isolation", FR_CONF_ISOLATION, FR_G(limit_isolation) },
    { "tenant_max_instances", FR_CONF_NUM, FR_G(tenant_max_instances) },
    { "tenant_max_memory", FR_CONF_SIZE, FR_G(tenant_max_memory) },
    { "tenant_async_kept", FR_CONF_SIZE, FR_G(tenant_async_kept) },
    { "async_max_body", FR_CONF_SIZE,  FR_G(async_max_body) },
    { "async_retries",  FR_CONF_NUM,   FR_G(async_retries) },
    { "async_backoff",  FR_CONF_MSEC,  FR_G(async_backoff) },
    { "async_retention", FR_CONF_MSEC, FR_G(async_retention) },
    { "prototype_idle_timeout", FR_CONF_MSEC, FR_G(prototype_idle_timeout) },
    { "upgrade_timeout", FR_CONF_MSEC, FR_G(upgrade_timeout) },
    { "meter_log",      FR_CONF_STR,   FR_G(meter_log) },
    { "meter_idle_interval", FR_CONF_MSEC, FR_G(meter_idle_interval) },

    { "exec",           FR_CONF_STR,   FR_F(exec) },
    { "script",         FR_CONF_STR,   FR_F(script) },
    { "mode",           FR_CONF_MODE,  FR_F(mode) },
    { "max_instances",  FR_CONF_NUM,   FR_F(max_instances) },
    { "min_instances",  FR_CONF_NUM,   FR_F(min_instances) },
    { "idle_timeout",   FR_CONF_MSEC,  FR_F(idle_timeout) },
    { "max_requests",   FR_CONF_NUM,   FR_F(max_requests) },
    { "timeout",        FR_CONF_MSEC,  FR_F(timeout) },
    { "queue",          FR_CONF_NUM,   FR_F(queue) },
    { "queue_timeout",  FR_CONF_MSEC,  FR_F(queue_timeout) },
    { "memory",         FR_CONF_SIZE,  FR_F(memory) },
    { "user",           FR_CONF_STR,   FR_F(user) },
    { "group",          FR_CONF_STR,   FR_F(group) },
    { "tenant",         FR_CONF_STR,   FR_F(tenant) },
    { "max_processes",  FR_CONF_NUM,   FR_F(max_processes) },
    { "max_files",      FR_CONF_NUM,   FR_F(max_files) },
    { "isolation",      FR_CONF_ISOLATION, FR_F(isolation) },
    { "on_success",     FR_CONF_STR,   FR_F(on_success) },
    { "on_failure",     FR_CONF_STR,   FR_F(on_failure) },
    { "schedule",       FR_CONF_STR,   FR_F(schedule) },
    { "schedule_timezone", FR_CONF_STR, FR_F(schedule_timezone) },
    { "schedule_catchup", FR_CONF_STR, FR_F(schedule_catchup) },
    { "document_root",  FR_CONF_STR,   FR_F(document_root) },
    { "index",          FR_CONF_STR,   FR_F(index) },
    { "runtime",        FR_CONF_STR,   FR_F(runtime) },
    { "app",            FR_CONF_STR,   FR_F(app) },
    { "python.path",    FR_CONF_STR,   FR_F(python_path) },
    { "async_max_queued", FR_CONF_NUM, FR_F(async_max_queued) },

    { NULL, 0, 0, 0 }
};

_Static_assert(sizeof(fr_conf_keys) / sizeof(fr_conf_keys[0])
               <= FR_CONF_KEYS_MAX, "FR_CONF_KEYS_MAX");


static int fr_conf_value(const fr_conf_key_t *k, char *value, void *base);
static int fr_conf_fkey(const fr_conf_key_t *k);
static int fr_conf_isolation(char *value, int *mask);
static int fr_conf_tenant_key(fr_conf_t *conf, char *key, char *value);
static char *fr_trim(char *s);


void
fr_fconf_init(fr_fconf_t *fc)
{
    memset(fc, 0, sizeof(fr_fconf_t));

    fc->idle_timeout = FR_UNSET_MSEC;
    fc->timeout = FR_UNSET_MSEC;
    fc->queue_timeout = FR_UNSET_MSEC;
    fc->memory = FR_UNSET_MSEC;
    fc->mode = FR_UNSET;
    fc->max_instances = FR_UNSET;
    fc->min_instances = FR_UNSET;
    fc->max_requests = FR_UNSET;
    fc->queue = FR_UNSET;
    fc->max_processes = FR_UNSET;
    fc->max_files = FR_UNSET;
    fc->isolation = FR_UNSET;
    fc->async_max_queued = FR_UNSET;
}


static char *
fr_strdup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}


/* what fc left unset, from prev or the defaults; fc's env.NAME win */

void
fr_fconf_merge(fr_fconf_t *fc, const fr_fconf_t *prev)
{
#define fr_merge(f, def)                                                     \
    if (fc->f == FR_UNSET) { fc->f = prev ? prev->f : (def); }
#define fr_merge_msec(f, def)                                                \
    if (fc->f == FR_UNSET_MSEC) { fc->f = prev ? prev->f : (def); }
#define fr_merge_str(f)                                                      \
    if (fc->f == NULL && prev) { fc->f = fr_strdup_or_null(prev->f); }

    fr_merge_str(exec);
    fr_merge_str(script);
    fr_merge_str(user);
    fr_merge_str(group);
    fr_merge_str(tenant);
    fr_merge_str(on_success);
    fr_merge_str(on_failure);
    fr_merge_str(schedule);
    fr_merge_str(schedule_timezone);
    fr_merge_str(schedule_catchup);
    fr_merge_str(document_root);
    fr_merge_str(index);
    fr_merge_str(runtime);
    fr_merge_str(app);
    fr_merge_str(python_path);

    fr_merge(mode, FR_MODE_FASTCGI);
    fr_merge(max_instances, 4);
    fr_merge(min_instances, 0);
    fr_merge(max_requests, 10000);
    fr_merge(queue, 64);
    fr_merge(max_processes, 64);
    fr_merge(max_files, 1024);
    fr_merge(isolation, FR_ISOLATE_DEFAULT);
    fr_merge(async_max_queued, 10000);
    fr_merge_msec(idle_timeout, 60000);
    fr_merge_msec(timeout, 30000);
    fr_merge_msec(queue_timeout, 10000);
    fr_merge_msec(memory, (int64_t) 256 * 1024 * 1024);

#undef fr_merge
#undef fr_merge_msec
#undef fr_merge_str

    /* the defaults' environment and ini values, where the function does
     * not set them */
    if (prev) {
        fc->nphp_own = fc->nphp;
        fr_conf_merge_pairs(&fc->env, &fc->nenv, prev->env, prev->nenv);
        fr_conf_merge_pairs(&fc->php, &fc->nphp, prev->php, prev->nphp);

    } else {
        fr_conf_php_requests(fc);
    }
}


void
fr_fconf_free(fr_fconf_t *fc)
{
    int  i;

    free(fc->exec);
    free(fc->script);
    free(fc->user);
    free(fc->group);
    free(fc->tenant);
    free(fc->on_success);
    free(fc->on_failure);
    free(fc->schedule);
    free(fc->schedule_timezone);
    free(fc->schedule_catchup);
    free(fc->document_root);
    free(fc->index);
    free(fc->runtime);
    free(fc->app);
    free(fc->python_path);

    for (i = 0; i < fc->nenv; i++) {
        free(fc->env[i]);
    }

    free(fc->env);

    for (i = 0; i < fc->nphp; i++) {
        free(fc->php[i]);
    }

    free(fc->php);

    fr_fconf_init(fc);
}


void
fr_conf_init(fr_conf_t *conf)
{
    memset(conf, 0, sizeof(fr_conf_t));
    fr_fconf_init(&conf->defaults);

    conf->listen_mode = 0660;
    conf->max_workers = FR_UNSET;
    conf->max_connections = FR_UNSET;
    conf->client_header_timeout = FR_UNSET_MSEC;
    conf->spool_max = FR_UNSET_MSEC;
    conf->spool_max_total = FR_UNSET_MSEC;
    conf->dynamic_first = FR_UNSET;
    conf->limit_memory = FR_UNSET_MSEC;
    conf->limit_timeout = FR_UNSET_MSEC;
    conf->limit_instances = FR_UNSET;
    conf->limit_queue = FR_UNSET;
    conf->limit_processes = FR_UNSET;
    conf->limit_files = FR_UNSET;
    conf->limit_async_queued = FR_UNSET;
    conf->limit_isolation = FR_ISOLATE_DEFAULT;
    conf->tenant_max_instances = FR_UNSET;
    conf->tenant_max_memory = FR_UNSET_MSEC;
    conf->tenant_async_kept = FR_UNSET_MSEC;
    conf->async_max_body = FR_UNSET_MSEC;
    conf->async_retries = FR_UNSET;
    conf->async_backoff = FR_UNSET_MSEC;
    conf->async_retention = FR_UNSET_MSEC;
    conf->prototype_idle_timeout = FR_UNSET_MSEC;
    conf->meter_idle_interval = FR_UNSET_MSEC;
    conf->upgrade_timeout = FR_UNSET_MSEC;
}


/* the runner's own defaults, once its file is read */

void
fr_conf_defaults(fr_conf_t *conf)
{
#define fr_default(f, def)  if (conf->f == FR_UNSET) { conf->f = (def); }
#define fr_default64(f, def)                                                 \
    if (conf->f == FR_UNSET_MSEC) { conf->f = (def); }

    fr_default(max_workers, 256);
    fr_default(max_connections, 4096);
    fr_default64(client_header_timeout, 60000);
    fr_default64(spool_max, (int64_t) 64 * 1024 * 1024);
    fr_default64(spool_max_total, (int64_t) 256 * 1024 * 1024);

    /* uids systemd leaves to dynamic users; caps for shared hosting */
    if (conf->dynamic_first == FR_UNSET) {
        conf->dynamic_first = 61184;
        conf->dynamic_last = 65519;
    }

    /* the default caps hold a customer's function.conf (fr_func.c) */
    conf->limits_set = (conf->limit_memory != FR_UNSET_MSEC)
                       | (conf->limit_timeout != FR_UNSET_MSEC) << 1
                       | (conf->limit_instances != FR_UNSET) << 2
                       | (conf->limit_queue != FR_UNSET) << 3
                       | (conf->limit_processes != FR_UNSET) << 4
                       | (conf->limit_files != FR_UNSET) << 5
                       | (conf->limit_async_queued != FR_UNSET) << 6;

    fr_default64(limit_memory, (int64_t) 1024 * 1024 * 1024);
    fr_default64(limit_timeout, 300000);
    fr_default(limit_instances, 64);
    fr_default(limit_queue, 4096);
    fr_default(limit_processes, 1024);
    fr_default(limit_files, 65536);
    fr_default(limit_async_queued, 100000);
    fr_default(tenant_max_instances, 0);
    fr_default64(tenant_max_memory, 0);
    fr_default64(tenant_async_kept, (int64_t) 64 * 1024 * 1024);
    fr_default64(async_max_body, 1024 * 1024);
    fr_default(async_retries, 2);
    fr_default64(async_backoff, 1000);
    fr_default64(async_retention, (int64_t) 24 * 3600 * 1000);
    fr_default64(prototype_idle_timeout, 600000);
    fr_default64(meter_idle_interval, 60000);
    fr_default64(upgrade_timeout, 60000);

    if (conf->state_dir == NULL) {
        conf->state_dir = strdup("/var/lib/faas");
    }
}


void
fr_conf_free(fr_conf_t *conf)
{
    int  i;

    free(conf->file);
    free(conf->listen);
    free(conf->listen_owner);
    free(conf->listen_group);
    free(conf->listen_allow);
    free(conf->functions);
    free(conf->state_dir);
    free(conf->store);
    free(conf->meter_log);

    for (i = 0; i < conf->ntenants; i++) {
        free(conf->tenants[i].name);
    }

    free(conf->tenants);
    fr_fconf_free(&conf->defaults);
}


/*
 * Parses a runner config (conf != NULL: global keys allowed, function
 * keys go to conf->defaults) or a function.conf (conf == NULL: into fc).
 * Every problem is logged with file and line; returns how many.
 */

int
fr_conf_parse(const char *file, fr_conf_t *conf, fr_fconf_t *fc)
{
    FILE  *f;

    f = fr_conf_fopen(file);

    if (f == NULL) {
        /* the runner's own file stops it; a function's only the function */
        fr_log((conf && !conf->reload) ? FR_LOG_EMERG : FR_LOG_ERR, errno,
               "open() \"%s\" failed", file);
        return 1;
    }

    if (conf) {
        free(conf->file);
        conf->file = strdup(file);
    }

    return fr_conf_parse_stream(f, file, conf, fc);
}


/* the lines of f, named file in messages; closes f */

int
fr_conf_parse_stream(FILE *f, const char *file, fr_conf_t *conf,
    fr_fconf_t *fc)
{
    int                   line, errors, level, n, over, seen[FR_CONF_KEYS_MAX];
    char                  buf[4096], *p, *key, *value, *eq;
    const fr_conf_key_t  *k;

    /* a reload that fails changes nothing: the runner goes on */
    level = (conf && !conf->reload) ? FR_LOG_EMERG : FR_LOG_ERR;

    if (conf) {
        fc = &conf->defaults;
        fr_conf_where_set(file, NULL, 0);
    }

    line = 0;
    errors = 0;
    over = 0;
    memset(seen, 0, sizeof(seen));

    while ((n = fr_conf_line(f, buf, sizeof(buf))) != FR_DONE) {
        line++;

        if (n == FR_ERROR) {
            fr_log(level, 0, "line too long in %s:%d", file, line);
            errors++;
            break;
        }

        if (n == FR_DECLINED) {
            /* what follows it would be read as nothing, said nowhere */
            fr_log(level, 0, "a NUL byte in %s:%d", file, line);
            errors++;
            continue;
        }

        /* an env.* value is all the rest of its line, a '#' too (a
         * password, a URL's fragment): its comment is a line of its own */
        p = buf + strspn(buf, " \t");

        if (strncmp(p, "env.", 4) != 0 && (p = strchr(buf, '#')) != NULL) {
            *p = '\0';
        }

        p = fr_trim(buf);
        if (*p == '\0') {
            continue;
        }

        eq = strchr(p, '=');
        if (eq == NULL) {
            fr_log(level, 0, "expected \"key = value\" in %s:%d",
                   file, line);
            errors++;
            continue;
        }

        *eq = '\0';
        key = fr_trim(p);
        value = fr_trim(eq + 1);

        if (conf && strncmp(key, "tenant.", 7) == 0) {
            if (fr_conf_tenant_key(conf, key + 7, value) != FR_OK) {
                fr_log(level, 0, "invalid \"%s = %s\" in %s:%d: "
                       "tenant.NAME.max_instances, .max_memory, "
                       ".async_max_queued or .async_kept", key, value, file,
                       line);
                errors++;
            }
            continue;
        }

        if (fr_conf_pairs_over(fc, key, file, line, level, &over)) {
            errors++;
            continue;
        }

        if (strncmp(key, "php.", 4) == 0) {
            n = fr_conf_php(fc, key + 4, value);
            fr_conf_again(n, key, file, line);
            fc->php_line = fc->php_line ? fc->php_line : line;

            if (n == FR_ERROR) {
                fr_log(level, 0, "invalid \"%s = %s\" in %s:%d: php.NAME "
                       "is an ini setting's name (letters, digits, \"_\", "
                       "\".\"; not extension nor zend_extension), its "
                       "value without quotes \"'\"", key, value, file, line);
                errors++;
            }
            continue;
        }

        if (strncmp(key, "env.", 4) == 0) {
            n = fr_conf_env(fc, key + 4, value);
            fr_conf_again(n, key, file, line);

            if (n == FR_ERROR || n == FR_DONE) {
                fr_log(level, 0, "invalid environment variable name "
                       "\"%s\" in %s:%d%s", key + 4, file, line,
                       n == FR_DONE ? ": the runner's to set" : "");
                errors++;

            } else if (strstr(value, " #") || strstr(value, "\t#")) {
                fr_log(FR_LOG_WARN, 0, "%s:%d: \"%s\" is all the rest of "
                       "the line, \"#\" too: a comment goes on a line of "
                       "its own", file, line, key);
            }
            continue;
        }

        for (k = fr_conf_keys; k->name; k++) {
            if (strcmp(k->name, key) == 0) {
                break;
            }
        }

        if (k->name == NULL || (k->global && conf == NULL)) {
            fr_log(level, 0, "unknown key \"%s\" in %s:%d",
                   key, file, line);
            errors++;
            continue;
        }

        n = (int) (k - fr_conf_keys);

        fr_conf_again(seen[n] ? FR_DECLINED : FR_OK, key, file, line);
        seen[n] = line;

        if (fr_conf_value(k, value, k->global ? (void *) conf : (void *) fc)
            != FR_OK)
        {
            fr_log(level, 0, "invalid value \"%s\" of \"%s\" in %s:%d",
                   value, key, file, line);
            errors++;

        } else if (k->global) {
            fr_conf_where_set(file, k->name, line);

        } else if (fr_conf_fkey(k) < FR_FKEYS) {
            fc->lines[fr_conf_fkey(k)] = line;
        }
    }

    fc->nlines = line;
    fclose(f);

    return errors;
}


static int
fr_conf_value(const fr_conf_key_t *k, char *value, void *base)
{
    char      *end, **sp;
    long long  n, unit;

    if (*value == '"' && strlen(value) >= 2 && value[strlen(value) - 1] == '"')
    {
        value[strlen(value) - 1] = '\0';
        value++;
    }

    if (k->type == FR_CONF_STR) {
        if (*value == '\0') {
            return FR_ERROR;
        }

        sp = (char **) ((char *) base + k->offset);
        free(*sp);
        *sp = strdup(value);
        return *sp ? FR_OK : FR_ERROR;
    }

    if (k->type == FR_CONF_RANGE) {
        int  *range = (int *) ((char *) base + k->offset);
        int   first, last, used;

        /* "FIRST-LAST", both uids above 0, at most 2^31 - 1 */
        used = 0;

        if (sscanf(value, "%d-%d%n", &first, &last, &used) != 2
            || value[used] != '\0' || first <= 0 || last < first)
        {
            return FR_ERROR;
        }

        range[0] = first;
        range[1] = last;
        return FR_OK;
    }

    if (k->type == FR_CONF_ISOLATION) {
        return fr_conf_isolation(value, (int *) ((char *) base + k->offset));
    }

    if (k->type == FR_CONF_MODE) {
        if (strcmp(value, "fastcgi") == 0) {
            n = FR_MODE_FASTCGI;

        } else if (strcmp(value, "cgi") == 0) {
            n = FR_MODE_CGI;

        } else {
            return FR_ERROR;
        }

        *(int *) ((char *) base + k->offset) = (int) n;
        return FR_OK;
    }

    if (!isdigit((u_char) *value)) {
        return FR_ERROR;
    }

    errno = 0;
    n = strtoll(value, &end, k->type == FR_CONF_OCTAL ? 8 : 10);

    /* a mode: permission bits (12345 made the socket setgid) */
    if (errno || n < 0 || (k->type == FR_CONF_OCTAL && n > 0777)) {
        return FR_ERROR;
    }

    unit = 1;

    switch (k->type) {

    case FR_CONF_MSEC:
        if (strcmp(end, "ms") == 0) {
            unit = 1;

        } else if (strcmp(end, "s") == 0 || *end == '\0') {
            unit = 1000;

        } else if (strcmp(end, "m") == 0) {
            unit = 60000;

        } else if (strcmp(end, "h") == 0) {
            unit = 3600000;

        } else {
            return FR_ERROR;
        }

        break;

    case FR_CONF_SIZE:
        switch (*end) {
        case 'k': case 'K': unit = 1024; end++; break;
        case 'm': case 'M': unit = 1024 * 1024; end++; break;
        case 'g': case 'G': unit = 1024 * 1024 * 1024; end++; break;
        }

        if (*end != '\0') {
            return FR_ERROR;
        }

        break;

    default:
        if (*end != '\0' || n > INT_MAX) {
            return FR_ERROR;
        }
    }

    if (n > INT64_MAX / unit) {
        return FR_ERROR;
    }

    /* no wait for a worker at all: every cold start a 503 (queue = 0
     * is the way to wait for no busy one) */
    if (!k->global && k->name && strcmp(k->name, "queue_timeout") == 0
        && n == 0)
    {
        return FR_ERROR;
    }

    /* a cap no function can keep to: each needs max_files >= 4 */
    if (k->global && strcmp(k->name, "limit_files") == 0 && n && n < 4) {
        return FR_ERROR;
    }

    /* below 1M no program starts: a unit forgotten (0: no limit) */
    if (!k->global && k->name && strcmp(k->name, "memory") == 0 && n
        && n * unit < 1024 * 1024)
    {
        return FR_ERROR;
    }

    if (k->type == FR_CONF_MSEC || k->type == FR_CONF_SIZE) {
        *(int64_t *) ((char *) base + k->offset) = n * unit;

    } else {
        *(int *) ((char *) base + k->offset) = (int) n;
    }

    return FR_OK;
}


static char *
fr_trim(char *s)
{
    char  *e;

    while (isspace((u_char) *s)) {
        s++;
    }

    e = s + strlen(s);

    while (e > s && isspace((u_char) e[-1])) {
        *--e = '\0';
    }

    return s;
}


/* "isolation = tmp pid ipc net uts" (spaces or commas), or "none" */

static int
fr_conf_isolation(char *value, int *mask)
{
    int    m, words, none;
    char  *w, *save, copy[256];

    static const struct {
        const char  *name;
        int          bit;
    } names[] = {
        { "none", 0 },
        { "tmp", FR_ISOLATE_TMP },
        { "pid", FR_ISOLATE_PID },
        { "ipc", FR_ISOLATE_IPC },
        { "net", FR_ISOLATE_NET },
        { "uts", FR_ISOLATE_UTS },
    };

    m = words = none = 0;

    /* the value stays whole for the error message */
    if (strlen(value) >= sizeof(copy)) {
        return FR_ERROR;
    }

    strcpy(copy, value);

    for (w = strtok_r(copy, " ,", &save); w; w = strtok_r(NULL, " ,", &save))
    {
        size_t  i;

        for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
            if (strcmp(w, names[i].name) == 0) {
                m |= names[i].bit;
                break;
            }
        }

        if (i == sizeof(names) / sizeof(names[0])) {
            return FR_ERROR;
        }

        words++;
        none |= (i == 0);
    }

    /* "none" alone: "none tmp" says two things; an empty value says
     * nothing (taken for "none", it ran a function unisolated) */
    if (words == 0 || (none && words > 1)) {
        return FR_ERROR;
    }

    *mask = m;

    return FR_OK;
}


/* the line of function.conf that set key, 0: not set there */

int
fr_fconf_line(const fr_fconf_t *fc, const char *key)
{
    const fr_conf_key_t  *k;

    for (k = fr_conf_keys; k->name; k++) {
        if (!k->global && strcmp(k->name, key) == 0) {
            return fr_conf_fkey(k) < FR_FKEYS ? fc->lines[fr_conf_fkey(k)] : 0;
        }
    }

    return 0;
}


/* a function key's index among the function keys */

static int
fr_conf_fkey(const fr_conf_key_t *k)
{
    int                   n;
    const fr_conf_key_t  *p;

    n = 0;

    for (p = fr_conf_keys; p < k; p++) {
        n += !p->global;
    }

    return n;
}


/*
 * tenant.NAME.max_instances = N, .max_memory = SIZE, .async_max_queued
 * = N, .async_kept = SIZE
 */

static int
fr_conf_tenant_key(fr_conf_t *conf, char *key, char *value)
{
    int            i;
    char          *dot;
    fr_tconf_t    *t, v;
    fr_conf_key_t  k;

#define FR_T(field)  1, offsetof(fr_tconf_t, field)

    /* keys of the runner's config, named as written */
    static const fr_conf_key_t  keys[] = {
        { "max_instances",    FR_CONF_NUM,  FR_T(max_instances) },
        { "max_memory",       FR_CONF_SIZE, FR_T(max_memory) },
        { "async_max_queued", FR_CONF_NUM,  FR_T(async_max_queued) },
        { "async_kept",       FR_CONF_SIZE, FR_T(async_kept) },
        { NULL, 0, 0, 0 }
    };

#undef FR_T

    dot = strrchr(key, '.');

    if (dot == NULL || !fr_tenant_valid((u_char *) key, dot - key)) {
        return FR_ERROR;
    }

    for (i = 0; keys[i].name && strcmp(keys[i].name, dot + 1) != 0; i++) {
        /* void */
    }

    k = keys[i];

    if (k.name == NULL || fr_conf_value(&k, value, &v) != FR_OK) {
        return FR_ERROR;
    }

    *dot = '\0';

    for (i = 0; i < conf->ntenants; i++) {
        if (strcmp(conf->tenants[i].name, key) == 0) {
            break;
        }
    }

    if (i == conf->ntenants) {
        t = realloc(conf->tenants, (i + 1) * sizeof(fr_tconf_t));
        if (t == NULL) {
            return FR_ERROR;
        }

        conf->tenants = t;
        t[i].name = strdup(key);
        t[i].max_instances = FR_UNSET;
        t[i].max_memory = FR_UNSET_MSEC;
        t[i].async_max_queued = FR_UNSET;
        t[i].async_kept = FR_UNSET_MSEC;
        conf->ntenants++;

        if (t[i].name == NULL) {
            return FR_ERROR;
        }
    }

    memcpy((char *) &conf->tenants[i] + k.offset, (char *) &v + k.offset,
           k.type == FR_CONF_SIZE ? sizeof(int64_t) : sizeof(int));

    return FR_OK;
}


const fr_tconf_t *
fr_conf_tenant(const fr_conf_t *conf, const char *name)
{
    int  i;

    for (i = 0; i < conf->ntenants; i++) {
        if (strcmp(conf->tenants[i].name, name) == 0) {
            return &conf->tenants[i];
        }
    }

    return NULL;
}
