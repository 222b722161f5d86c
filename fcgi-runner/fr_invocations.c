/*
 * Copyright (C) ngx_faas developers
 *
 * fcgi-runner invocations, fcgi-runner invocation ID: the store of
 * asynchronous invocations, read (read-only, beside a running runner).
 * fcgi-runner store migrate: the store made, or brought to this
 * version's schema, and checked, before a runner starts on it.
 */

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fr_log.h"
#include "fr_conf.h"
#include "fr_cron.h"
#include "fr_invocations.h"
#include "fr_store.h"
#include "fr_pg.h"
#include "fr_store_pg.h"
#include "fr_store_pg_sql.h"


typedef struct {
    int                    json;
    int                    n;
    int                    full;            /* one, with its response */
    int                    raw;             /* its bytes as they are */
    int                    head;            /* the list's head printed */
} fr_list_ctx_t;


static void fr_inv_head(fr_list_ctx_t *ctx);
static int fr_inv_print(const fr_inv_t *inv, void *data);
static void fr_inv_json_str(const u_char *p, size_t len);
static void fr_inv_text(const u_char *p, size_t len);
static int fr_inv_none_yet(const char *dir);
static void fr_inv_time(char *buf, size_t size, uint64_t usec);
static PGconn *fr_inv_pg_connect(const char *uri);
static int fr_inv_pg_migrate(const char *uri);
static int fr_inv_pg_list(const char *uri, const char *function, int state,
    const char *id, fr_store_each_pt each, void *data);


int
fr_invocations_main(int argc, char **argv)
{
    int            c, state, one, rc, raw, pg, empty;
    char          *config, *state_dir, *function, *format;
    struct stat    st;
    fr_conf_t      conf;
    fr_list_ctx_t  ctx;

    static const struct option  opts[] = {
        { "config",    required_argument, NULL, 'c' },
        { "state-dir", required_argument, NULL, 'd' },
        { "function",  required_argument, NULL, 'f' },
        { "state",     required_argument, NULL, 's' },
        { "format",    required_argument, NULL, 'F' },
        { "raw",       no_argument,       NULL, 'r' },
        { NULL, 0, NULL, 0 }
    };

    one = (strcmp(argv[0], "invocation") == 0);
    config = NULL;
    state_dir = NULL;
    function = NULL;
    format = "table";
    state = -1;
    raw = 0;
    optind = 1;

    while ((c = getopt_long(argc, argv, "c:d:f:s:F:r", opts, NULL)) != -1) {
        switch (c) {
        case 'r': raw = 1; break;
        case 'c': config = optarg; break;
        case 'd': state_dir = optarg; break;
        case 'f': function = optarg; break;
        case 'F': format = optarg; break;

        case 's':
            for (state = 0; state < FR_INV_STATES; state++) {
                if (strcmp(optarg, fr_inv_state_name(state)) == 0) {
                    break;
                }
            }

            if (state == FR_INV_STATES) {
                fprintf(stderr, "fcgi-runner: --state is queued, running, "
                        "succeeded or failed\n");
                return 2;
            }
            break;

        default:
            fprintf(stderr, "usage: fcgi-runner invocations [--config FILE] "
                    "[--state-dir DIR] [--function F]\n"
                    "           [--state queued|running|succeeded|failed] "
                    "[--format table|json]\n"
                    "       fcgi-runner invocation ID [--config FILE] "
                    "[--state-dir DIR] [--format table|json] "
                    "[--raw]\n");
            return 2;
        }
    }

    if (strcmp(format, "table") != 0 && strcmp(format, "json") != 0) {
        fprintf(stderr, "fcgi-runner: --format is table or json\n");
        return 2;
    }

    if (one != (optind + 1 == argc) || (!one && optind < argc)) {
        fprintf(stderr, "fcgi-runner: %s\n", one ? "which invocation?"
                                                 : "unexpected argument");
        return 2;
    }

    fr_conf_init(&conf);

    if (config && fr_conf_parse(config, &conf, NULL) != 0) {
        return 2;
    }

    fr_conf_defaults(&conf);

    pg = fr_store_is_pg(conf.store);
    state_dir = state_dir ? state_dir : conf.state_dir;
    empty = !pg && fr_inv_none_yet(state_dir);

    if (!pg && stat(state_dir, &st) == -1) {
        fprintf(stderr, "fcgi-runner: state_dir \"%s\": %s\n", state_dir,
                strerror(errno));
        fr_conf_free(&conf);
        return 1;
    }

    if (fr_store_kind(conf.store, FR_LOG_EMERG) != FR_OK
        || (!pg && !empty && fr_store_open(state_dir, 1) != FR_OK))
    {
        fr_conf_free(&conf);
        return 1;
    }

    memset(&ctx, 0, sizeof(ctx));
    ctx.json = (format[0] == 'j');
    ctx.full = one;
    /* a function's bytes reach a terminal escaped: no escape sequence of
     * its own runs there */
    ctx.raw = raw || !isatty(STDOUT_FILENO);

    if (pg) {
        rc = fr_inv_pg_list(conf.store, one ? NULL : function,
                         one ? -1 : state, one ? argv[optind] : NULL,
                         fr_inv_print, &ctx);

    } else if (!empty) {
        rc = one ? fr_store_get(argv[optind], fr_inv_print, &ctx)
                 : fr_store_list(function, state, fr_inv_print, &ctx);

    } else {
        rc = 0;
    }

    /* a store that cannot be read prints no list: only why, on stderr */
    if (!one && (rc >= 0 || ctx.head)) {
        fr_inv_head(&ctx);

        if (ctx.json) {
            printf("%s]\n", ctx.n ? "\n" : "");
        }
    }

    fr_store_close();
    fr_conf_free(&conf);

    if (rc < 0) {
        return 1;
    }

    if (one && rc == 0) {
        fprintf(stderr, "fcgi-runner: no invocation \"%s\"\n", argv[optind]);
        return 1;
    }

    return 0;
}


/* a runner's state_dir with no asynchronous invocation yet: no store,
 * nor its log (a store missing beside its log is an error) */

static int
fr_inv_none_yet(const char *dir)
{
    char         path[4200];
    struct stat  st;

    snprintf(path, sizeof(path), "%s/async.db", dir);

    if (stat(path, &st) == 0 || errno != ENOENT) {
        return 0;
    }

    snprintf(path, sizeof(path), "%s/async.db-wal", dir);

    if (stat(path, &st) == 0 || errno != ENOENT) {
        return 0;
    }

    return stat(dir, &st) == 0 && S_ISDIR(st.st_mode);
}


static void
fr_inv_head(fr_list_ctx_t *ctx)
{
    if (ctx->head) {
        return;
    }

    ctx->head = 1;

    if (ctx->json) {
        printf("[");

    } else {
        printf("%-32s  %-16s  %-11s  %-9s  %3s  %6s  %s\n", "ID",
               "FUNCTION", "TRIGGER", "STATE", "TRY", "STATUS", "CREATED");
    }
}


static int
fr_inv_print(const fr_inv_t *inv, void *data)
{
    char            created[32], started[32], finished[32];
    fr_list_ctx_t  *ctx;

    ctx = data;

    if (!ctx->full) {
        fr_inv_head(ctx);
    }

    fr_inv_time(created, sizeof(created), inv->created);
    fr_inv_time(started, sizeof(started), inv->started);
    fr_inv_time(finished, sizeof(finished), inv->finished);

    if (!ctx->json) {
        if (!ctx->full) {
            printf("%-32s  %-16s  %-11s  %-9s  %3d  %6d  %-19s\n", inv->id,
                   inv->function, inv->trigger,
                   fr_inv_state_name(inv->state), inv->attempts,
                   inv->status, created);
            ctx->n++;
            return FR_OK;
        }

        printf("id:        %s\nfunction:  %s\ntrigger:   %s\nstate:     %s\n"
               "attempts:  %d\nstatus:    %d\ncreated:   %s\n"
               "started:   %s\nfinished:  %s\nerror:     %s\n"
               "body:      %zu bytes\nresponse:  %zu bytes\n\n",
               inv->id, inv->function, inv->trigger,
               fr_inv_state_name(inv->state), inv->attempts, inv->status,
               created, started, finished, inv->error ? inv->error : "-",
               inv->body_len, inv->response_len);
        if (inv->response_len == 0) {
            /* none kept (a failed one): its pointer is NULL */

        } else if (ctx->raw) {
            fwrite(inv->response, 1, inv->response_len, stdout);

        } else {
            fr_inv_text(inv->response, inv->response_len);
        }

        ctx->n++;
        return FR_OK;
    }

    printf("%s{\"id\": \"%s\", \"function\": \"%s\", \"trigger\": \"%s\", "
           "\"state\": \"%s\", \"attempts\": %d, \"status\": %d, "
           "\"created\": \"%s\", \"started\": \"%s\", \"finished\": \"%s\", "
           "\"body_bytes\": %zu, \"error\": ",
           ctx->full ? "" : (ctx->n ? ",\n" : "\n"), inv->id, inv->function,
           inv->trigger, fr_inv_state_name(inv->state), inv->attempts,
           inv->status, created, started, finished, inv->body_len);

    if (inv->error) {
        fr_inv_json_str((const u_char *) inv->error, strlen(inv->error));

    } else {
        printf("null");
    }

    if (ctx->full) {
        printf(", \"response\": ");
        fr_inv_json_str(inv->response, inv->response_len);
    }

    printf("}%s", ctx->full ? "\n" : "");
    ctx->n++;

    return FR_OK;
}


static void
fr_inv_json_str(const u_char *p, size_t len)
{
    fr_buf_t  b;

    /* as the destination's document has it: UTF-8 as it is */
    memset(&b, 0, sizeof(b));
    fr_buf_json_str(&b, p, len);

    if (b.data) {
        fwrite(b.data + b.start, 1, b.len, stdout);
    }

    fr_buf_free(&b);
}


/*
 * A function's response for a terminal: lines, tabs and well-formed
 * UTF-8 as they are; other control bytes (ESC, CR not before LF, the
 * C1 controls), DEL and bytes that are no UTF-8 as \xNN escapes.
 */

static void
fr_inv_text(const u_char *p, size_t len)
{
    size_t         n;
    const u_char  *last;

    last = p + len;

    while (p < last) {
        n = fr_utf8_len(p, last);

        if ((n == 1 && ((*p >= 0x20 && *p < 0x7f) || *p == '\n'
                        || *p == '\t'
                        || (*p == '\r' && p + 1 < last && p[1] == '\n')))
            || (n > 1 && !(p[0] == 0xc2 && p[1] < 0xa0)))
        {
            fwrite(p, 1, n, stdout);
            p += n;
            continue;
        }

        printf("\\x%02x", *p++);
    }
}


/* UTC, ISO 8601; "" when it has not happened */

static void
fr_inv_time(char *buf, size_t size, uint64_t usec)
{
    time_t     t;
    struct tm  tm;

    if (usec == 0) {
        buf[0] = '\0';
        return;
    }

    t = (time_t) (usec / 1000000);
    gmtime_r(&t, &tm);
    strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}


/*
 * fcgi-runner schedule EXPR [--from YYYY-MM-DDTHH:MM] [--count N]: the
 * next ticks of a schedule, in UTC (or in TZ with --local, or in a
 * function's schedule_timezone with --timezone), to check an expression
 * before a function.conf takes it.
 */

int
fr_schedule_main(int argc, char **argv)
{
    int        c, count, utc, i;
    char       buf[64], *from, *end;
    time_t     t;
    struct tm  tm;
    fr_cron_t  cron;

    static const struct option  opts[] = {
        { "from",  required_argument, NULL, 'f' },
        { "count", required_argument, NULL, 'n' },
        { "local", no_argument,       NULL, 'l' },
        { "timezone", required_argument, NULL, 'z' },
        { NULL, 0, NULL, 0 }
    };

    count = 5;
    utc = 1;
    from = NULL;
    optind = 1;

    while ((c = getopt_long(argc, argv, "f:n:lz:", opts, NULL)) != -1) {
        switch (c) {
        case 'n': count = atoi(optarg); break;
        case 'l': utc = 0; break;
        case 'f': from = optarg; break;

        case 'z':
            /* the zone a function's schedule_timezone takes, as it does */
            if (!fr_cron_zone_ok(optarg)) {
                fprintf(stderr, "fcgi-runner: unknown time zone \"%s\"\n",
                        optarg);
                return 2;
            }

            (void) setenv("TZ", optarg, 1);
            tzset();
            utc = 0;
            break;

        default:
            fprintf(stderr, "usage: fcgi-runner schedule EXPR "
                    "[--from YYYY-MM-DDTHH:MM] [--count N] [--local | "
                    "--timezone ZONE]\n");
            return 2;
        }
    }

    /* after every option: --local says in which clock --from is */
    t = time(NULL);

    if (from) {
        memset(&tm, 0, sizeof(tm));
        end = strptime(from, "%Y-%m-%dT%H:%M", &tm);

        if (end == NULL || *end != '\0') {
            fprintf(stderr, "fcgi-runner: --from is YYYY-MM-DDTHH:MM\n");
            return 2;
        }

        tm.tm_isdst = -1;
        t = utc ? timegm(&tm) : mktime(&tm);
    }

    if (optind + 1 != argc || count < 1 || count > 1000) {
        fprintf(stderr, "usage: fcgi-runner schedule EXPR "
                "[--from YYYY-MM-DDTHH:MM] [--count N] [--local | "
                    "--timezone ZONE]\n");
        return 2;
    }

    if (fr_cron_parse(argv[optind], &cron) != FR_OK) {
        fprintf(stderr, "fcgi-runner: invalid schedule \"%s\"\n",
                argv[optind]);
        return 1;
    }

    for (i = 0; i < count; i++) {
        t = fr_cron_next(&cron, t, utc);

        if (t < 0) {
            printf("no tick within nine years\n");

            /* none at all: a schedule that never runs is a mistake */
            return i ? 0 : 1;
        }

        if (utc) {
            gmtime_r(&t, &tm);

        } else {
            localtime_r(&t, &tm);
        }

        strftime(buf, sizeof(buf), utc ? "%Y-%m-%dT%H:%M:%SZ %a"
                                       : "%Y-%m-%dT%H:%M:%S%z %a", &tm);
        printf("%s\n", buf);
    }

    return 0;
}


int
fr_store_main(int argc, char **argv)
{
    int         c, rc;
    char       *config, *state_dir;
    fr_conf_t   conf;

    static const struct option  opts[] = {
        { "config",    required_argument, NULL, 'c' },
        { "state-dir", required_argument, NULL, 'd' },
        { NULL, 0, NULL, 0 }
    };

    config = NULL;
    state_dir = NULL;
    optind = 1;

    while ((c = getopt_long(argc, argv, "c:d:", opts, NULL)) != -1) {
        switch (c) {
        case 'c': config = optarg; break;
        case 'd': state_dir = optarg; break;
        default: goto usage;
        }
    }

    if (optind + 1 != argc || strcmp(argv[optind], "migrate") != 0) {
        goto usage;
    }

    fr_conf_init(&conf);

    if (config && fr_conf_parse(config, &conf, NULL) != 0) {
        return 2;
    }

    fr_conf_defaults(&conf);

    if (state_dir == NULL) {
        state_dir = conf.state_dir;
    }

    /* what it makes is the runner's alone, as the runner makes it */
    (void) umask(077);

    if (fr_store_kind(conf.store, FR_LOG_EMERG) != FR_OK) {
        fr_conf_free(&conf);
        return 1;
    }

    if (fr_store_is_pg(conf.store)) {
        /* the database's name, never the URI: it may hold a password */
        rc = fr_inv_pg_migrate(conf.store) == FR_OK ? 0 : 1;

        if (rc == 0) {
            printf("store: postgresql, schema \"faas\" up to date\n");
        }

        fr_conf_free(&conf);
        return rc;
    }

    rc = (fr_store_kind(conf.store, FR_LOG_EMERG) == FR_OK
          && fr_store_open(state_dir, 0) == FR_OK) ? 0 : 1;

    if (rc == 0) {
        printf("store: sqlite \"%s/async.db\": schema up to date, checked\n",
               state_dir);
    }

    fr_store_close();
    fr_conf_free(&conf);

    return rc;

usage:

    fprintf(stderr, "usage: fcgi-runner store migrate [--config FILE] "
            "[--state-dir DIR]\n");
    return 2;
}


/* the command line's: one connection, waited for */

static PGconn *
fr_inv_pg_connect(const char *uri)
{
    PGconn  *conn;

    if (fr_pq_load(FR_LOG_EMERG) != FR_OK) {
        return NULL;
    }

    conn = PQconnectdb(uri);

    if (conn == NULL || PQstatus(conn) != CONNECTION_OK) {
        fr_log(FR_LOG_EMERG, 0, "cannot connect to the PostgreSQL store: %s",
               conn ? fr_pg_text(PQerrorMessage(conn)) : "no memory");
        PQfinish(conn);
        return NULL;
    }

    return conn;
}


static int
fr_inv_pg_migrate(const char *uri)
{
    int        rc;
    PGconn    *conn;
    PGresult  *res;

    conn = fr_inv_pg_connect(uri);
    if (conn == NULL) {
        return FR_ERROR;
    }

    res = PQexec(conn, FR_PGS_SCHEMA);
    rc = fr_pg_ok(res) ? FR_OK : FR_ERROR;

    if (rc != FR_OK) {
        fr_log(FR_LOG_EMERG, 0, "the PostgreSQL store refused its schema: %s",
               res ? fr_pg_said(res) : fr_pg_text(PQerrorMessage(conn)));
    }

    PQclear(res);
    PQfinish(conn);

    return rc;
}


/* each invocation (of function, in state; or the one id); the count */

static int
fr_inv_pg_list(const char *uri, const char *function, int state,
    const char *id, fr_store_each_pt each, void *data)
{
    int          i, n, lengths[3];
    char         st[16];
    PGconn      *conn;
    fr_inv_t     inv;
    PGresult    *res;
    const char  *values[3];

    conn = fr_inv_pg_connect(uri);
    if (conn == NULL) {
        return FR_ERROR;
    }

    snprintf(st, sizeof(st), "%d", state);

    values[0] = id;
    values[1] = function;
    values[2] = st;
    lengths[0] = id ? (int) strlen(id) : 0;
    lengths[1] = function ? (int) strlen(function) : 0;
    lengths[2] = strlen(st);

    res = PQexecParams(conn, "SELECT " FR_PGS_COLUMNS " FROM "
                       "faas.invocations WHERE ($1::text IS NULL OR id = $1)"
                       " AND ($2::text IS NULL OR function = $2) AND "
                       "($3::int < 0 OR state = $3::int) ORDER BY created, id",
                       3, NULL, values, lengths, NULL, 1);

    if (!fr_pg_ok(res)) {
        fr_log(FR_LOG_EMERG, 0, "cannot read the PostgreSQL store: %s",
               fr_pg_text(PQerrorMessage(conn)));
        PQclear(res);
        PQfinish(conn);
        return FR_ERROR;
    }

    n = PQntuples(res);

    for (i = 0; i < n; i++) {
        fr_pgs_row(res, i, &inv);

        if (each(&inv, data) != FR_OK) {
            break;
        }
    }

    PQclear(res);
    PQfinish(conn);

    return n;
}
