/*
 * Copyright (C) ngx_faas developers
 */

#ifndef FR_CONF_H
#define FR_CONF_H


#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>


#define FR_MODE_FASTCGI    0
#define FR_MODE_CGI        1

#define FR_NAME_MAX        64
/* env.NAME and php.NAME keys a file may set, each (a customer's file is
 * read at every reload: thousands would hold up every tenant's) */
#define FR_CONF_PAIRS_MAX  256
#define FR_FKEYS           32       /* function keys, room for more */

/* isolation: namespaces of the workers */
#define FR_ISOLATE_PID     0x01
#define FR_ISOLATE_IPC     0x02
#define FR_ISOLATE_NET     0x04
#define FR_ISOLATE_UTS     0x08
#define FR_ISOLATE_TMP     0x10
/* not set: tmp pid ipc for a root runner, nothing otherwise */
#define FR_ISOLATE_DEFAULT 0x100

#define FR_UNSET           (-1)
#define FR_UNSET_MSEC      ((int64_t) -1)


/* one function's settings; the runner config holds the defaults */
typedef struct {
    char                  *exec;
    char                  *script;
    char                  *user;
    char                  *group;
    char                  *tenant;
    int64_t                idle_timeout;    /* ms */
    int64_t                timeout;         /* ms */
    int64_t                queue_timeout;   /* ms */
    int64_t                memory;          /* bytes, 0: no limit */
    int                    mode;
    int                    max_instances;
    int                    min_instances;
    int                    max_requests;
    int                    queue;
    int                    max_processes;   /* RLIMIT_NPROC */
    int                    max_files;       /* RLIMIT_NOFILE */
    int                    isolation;       /* FR_ISOLATE_* */
    int                    async_max_queued;   /* stored, not run; 0: any */
    char                  *on_success;      /* destinations: functions */
    char                  *on_failure;
    char                  *schedule;        /* cron, @hourly, @every 30s */
    char                  *schedule_timezone;  /* NULL: UTC */
    char                  *schedule_catchup;   /* on, off (NULL) */
    char                  *document_root;   /* scripts run by path */
    char                  *index;           /* NULL: index.php */
    char                  *runtime;         /* python, php; NULL: exec */
    char                  *app;             /* python: module:callable */
    char                  *python_path;     /* python: sys.path */
    char                 **env;             /* "NAME=VALUE", NULL ended */
    int                    nenv;
    char                 **php;             /* php.NAME: "NAME=VALUE" */
    int                    nphp;
    int                    nphp_own;        /* the first, the function's */
    int                    php_line;        /* the first php.NAME's */
    int                    lines[FR_FKEYS]; /* where each key was set */
    int                    nlines;          /* of its file */
} fr_fconf_t;


/* tenant.NAME.max_instances, .max_memory, .async_max_queued,
 * .async_kept */
typedef struct {
    char                  *name;
    int                    max_instances;
    int64_t                max_memory;
    int                    async_max_queued;
    int64_t                async_kept;
} fr_tconf_t;


typedef struct {
    char                  *file;                    /* for messages */
    char                  *listen;
    char                  *listen_owner;
    char                  *listen_group;
    char                  *listen_allow;            /* CIDRs, TCP */
    char                  *functions;
    int                    listen_mode;
    int                    max_workers;
    int                    max_connections;
    int64_t                client_header_timeout;   /* ms */
    int64_t                spool_max;               /* bytes */
    int64_t                spool_max_total;
    char                  *state_dir;
    char                  *store;                   /* sqlite (NULL) */
    int                    dynamic_first;           /* dynamic_users */
    int                    dynamic_last;
    int64_t                limit_memory;            /* 0: no cap */
    int64_t                limit_timeout;
    int                    limit_instances;
    int                    limit_queue;
    int                    limit_processes;
    int                    limit_files;
    int                    limit_async_queued;
    unsigned               limits_set;    /* of limit_*: those the file set */
    int                    limit_isolation;         /* FR_ISOLATE_* */
    int                    tenant_max_instances;    /* 0: no limit */
    int64_t                tenant_max_memory;
    int64_t                tenant_async_kept;
    int64_t                async_max_body;          /* bytes */
    int                    async_retries;
    int64_t                async_backoff;           /* ms */
    int64_t                async_retention;         /* ms */
    int64_t                prototype_idle_timeout;  /* ms */
    int64_t                upgrade_timeout;         /* ms */
    char                  *meter_log;               /* what nginx does
                                                       not see, metered */
    int64_t                meter_idle_interval;     /* ms */
    fr_tconf_t            *tenants;
    int                    ntenants;
    fr_fconf_t             defaults;
    unsigned               reload:1;        /* read again on SIGHUP */
} fr_conf_t;


void fr_fconf_init(fr_fconf_t *fc);
void fr_fconf_merge(fr_fconf_t *fc, const fr_fconf_t *prev);
void fr_fconf_free(fr_fconf_t *fc);

int fr_conf_parse(const char *file, fr_conf_t *conf, fr_fconf_t *fc);
int fr_conf_parse_stream(FILE *f, const char *file, fr_conf_t *conf,
    fr_fconf_t *fc);
void fr_conf_init(fr_conf_t *conf);
void fr_conf_defaults(fr_conf_t *conf);
void fr_conf_free(fr_conf_t *conf);

int fr_fconf_line(const fr_fconf_t *fc, const char *key);
void fr_conf_again(int rc, const char *key, const char *file, int line);
void fr_conf_where_set(const char *file, const char *key, int line);
const char *fr_conf_at(const char *key);

/* fr_conf_pairs.c: env.NAME and php.NAME */
int fr_conf_env(fr_fconf_t *fc, const char *name, const char *value);
int fr_conf_php(fr_fconf_t *fc, const char *name, const char *value);
int fr_conf_pair(char ***list, int *n, const char *name, const char *value);
int fr_conf_pairs_over(fr_fconf_t *fc, const char *key, const char *file,
    int line, int level, int *over);
void fr_conf_merge_pairs(char ***list, int *n, char **prev, int nprev);
void fr_conf_php_requests(fr_fconf_t *fc);
const fr_tconf_t *fr_conf_tenant(const fr_conf_t *conf, const char *name);
int fr_name_valid(const u_char *name, size_t len);


/* a tenant's: 1-64 of A-Z a-z 0-9 _ - ., a letter or digit first but
 * for "_" and "-" (a user's name may be one: Debian's "_apt", "j.doe");
 * never "-" nor "_" alone (nginx logs "-" for no tenant: a tenant "-"
 * was billed with requests for no function) */

static inline int
fr_tenant_valid(const u_char *name, size_t len)
{
    size_t  i, j;

    for (i = 0; i < len && (name[i] == '_' || name[i] == '-'); i++) {
        /* void */
    }

    for (j = i + 1; j < len; j++) {
        if (!isalnum(name[j]) && name[j] != '_' && name[j] != '-'
            && name[j] != '.')
        {
            return 0;
        }
    }

    return len <= FR_NAME_MAX && i < len && isalnum(name[i]);
}
int fr_addr_split(const char *addr, char *host, size_t size,
    const char **port);
int fr_conf_same_defaults(const u_char *a, size_t alen, const u_char *b,
    size_t blen);
FILE *fr_conf_fopen(const char *file);
int fr_conf_line(FILE *f, char *buf, size_t size);


#endif /* FR_CONF_H */
