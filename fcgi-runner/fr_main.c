/*
 * Copyright (C) ngx_faas developers
 *
 * fcgi-runner: options, signals, startup and shutdown.
 */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "fr_async.h"
#include "fr_cgroup.h"
#include "fr_client.h"
#include "fr_conn.h"
#include "fr_dispatch.h"
#include "fr_func.h"
#include "fr_invocations.h"
#include "fr_listen.h"
#include "fr_log.h"
#include "fr_meter.h"
#include "fr_pool.h"
#include "fr_proto.h"
#include "fr_proxy.h"
#include "fr_reap.h"
#include "fr_sched.h"
#include "fr_state.h"
#include "fr_stats.h"
#include "fr_store.h"
#include "fr_store_pg.h"
#include "fr_tenant.h"
#include "fr_report.h"
#include "fr_upgrade.h"


#define FR_DEFAULT_LISTEN    "unix:/run/faas/runner.sock"
#define FR_DEFAULT_FUNCTIONS "/etc/faas/functions"
#define FR_SHUTDOWN_MSEC     5000


fr_runner_t  fr_runner;

static unsigned  fr_sig_child;
static unsigned  fr_sig_reload;
static unsigned  fr_sig_terminate;
static unsigned  fr_sig_quit;
static unsigned  fr_sig_reopen;
static unsigned  fr_sig_upgrade;
static unsigned  fr_shutdown_expired;

/* what the command line said, for a reload of the config */
static char     *fr_config;
static char     *fr_opt_listen;
static char     *fr_opt_functions;
static fr_buf_t  fr_config_text;       /* as last read, to apply */
static fr_buf_t  fr_config_applied;    /* the running config's */


static void fr_usage(FILE *out);
static int fr_signals_init(void);
static void fr_signal_handler(fr_io_t *io, uint32_t events);
static void fr_shutdown_handler(fr_timer_t *t);
static int fr_run(void);
static void fr_shutdown(void);
static void fr_rlimit_nofile(void);
static int fr_conf_load(fr_conf_t *conf, int reload);
static void fr_reload(void);
static int fr_config_changed(int level);
static int fr_config_apply(void);
static int fr_conf_parse_text(fr_conf_t *conf);
static void fr_conf_keep(fr_conf_t *conf, fr_conf_t *old);
static void fr_rundir_clean(const char *base);
static void fr_reopen(void);


static void
fr_usage(FILE *out)
{
    fprintf(out,
        "usage: fcgi-runner [--config FILE] [--listen ADDRESS] "
        "[--functions DIR] [--test]\n"
        "                   [--log-level LEVEL]\n"
        "       fcgi-runner meter [--by function|tenant] "
        "[--format table|json|csv|html]\n"
        "                   [--price-gb-second P] "
        "[--price-million-requests P] LOG...\n"
        "       fcgi-runner status [--config FILE] [--listen ADDRESS] "
        "[--format table|json|\n"
        "                   prometheus|openmetrics|html] [--function NAME] "
        "[--tenant NAME]\n"
        "                   [--watch SECONDS]\n"
        "       fcgi-runner invocations [--config FILE] [--state-dir DIR] "
        "[--function F]\n"
        "                   [--state S] [--format table|json]\n"
        "       fcgi-runner invocation ID [--config FILE] [--state-dir DIR] "
        "[--format table|json]\n"
        "                   [--raw]\n"
        "       fcgi-runner store migrate [--config FILE] "
        "[--state-dir DIR]\n"
        "       fcgi-runner schedule EXPR [--from YYYY-MM-DDTHH:MM] "
        "[--count N] [--local | --timezone ZONE]\n"
        "\n"
        "  --config FILE      the runner's config file\n"
        "  --listen ADDRESS   unix:/path or HOST:PORT (default %s)\n"
        "  --functions DIR    the functions folder (default %s)\n"
        "  --test             check every function's configuration, exit\n"
        "  --log-level LEVEL  emerg ... info (default), debug\n"
        "  --version          print the version, exit\n",
        FR_DEFAULT_LISTEN, FR_DEFAULT_FUNCTIONS);
}


int
main(int argc, char **argv)
{
    int          c, test, problems, level;
    char        *config, *listen, *functions;
    uid_t        uid;
    gid_t        gid;
    fr_conf_t   *conf;

    static const struct option  opts[] = {
        { "config",    required_argument, NULL, 'c' },
        { "listen",    required_argument, NULL, 'l' },
        { "functions", required_argument, NULL, 'f' },
        { "test",      no_argument,       NULL, 't' },
        { "log-level", required_argument, NULL, 'L' },
        { "version",   no_argument,       NULL, 'V' },
        { "help",      no_argument,       NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };

    if (argc > 1 && strcmp(argv[1], "meter") == 0) {
        return fr_meter_main(argc - 1, argv + 1);
    }

    if (argc > 1 && (strcmp(argv[1], "invocations") == 0
                     || strcmp(argv[1], "invocation") == 0))
    {
        return fr_invocations_main(argc - 1, argv + 1);
    }

    if (argc > 1 && strcmp(argv[1], "schedule") == 0) {
        return fr_schedule_main(argc - 1, argv + 1);
    }

    if (argc > 1 && strcmp(argv[1], "store") == 0) {
        return fr_store_main(argc - 1, argv + 1);
    }

    if (argc > 1 && strcmp(argv[1], "status") == 0) {
        return fr_client_main(argc - 1, argv + 1, FR_DEFAULT_LISTEN);
    }

    config = NULL;
    listen = NULL;
    functions = NULL;
    test = 0;

    while ((c = getopt_long(argc, argv, "c:l:f:tL:Vh", opts, NULL)) != -1) {
        switch (c) {
        case 'c': config = optarg; break;
        case 'l': listen = optarg; break;
        case 'f': functions = optarg; break;
        case 't': test = 1; break;

        case 'L':
            level = fr_log_parse_level(optarg);
            if (level < 0) {
                fprintf(stderr, "fcgi-runner: unknown log level \"%s\"\n",
                        optarg);
                return 2;
            }
            fr_log_level = level;
            break;

        case 'V':
            printf("fcgi-runner " FR_VERSION "\n");
            return 0;

        case 'h':
            fr_usage(stdout);
            return 0;

        default:
            fr_usage(stderr);
            return 2;
        }
    }

    if (optind < argc) {
        fprintf(stderr, "fcgi-runner: unexpected argument \"%s\"\n",
                argv[optind]);
        fr_usage(stderr);
        return 2;
    }

    fr_config = config;
    fr_opt_listen = listen;
    fr_opt_functions = functions;

    conf = &fr_runner.conf;

    if (fr_config_changed(FR_LOG_EMERG) == -1 || fr_conf_load(conf, 0) != 0)
    {
        return 1;
    }

    (void) fr_config_apply();

    fr_runner.is_root = (geteuid() == 0);
    fr_proxy_init();

    if (test) {
        fr_time_update();
        problems = fr_funcs_load(1)
                   + (fr_store_kind(conf->store, FR_LOG_EMERG) != FR_OK)
                   + (fr_listen_ids(&uid, &gid) != FR_OK);
        fr_tenants_unused();

        /* in turn: the address's check needs listen_allow's rules */
        if (fr_listen_allow(conf->listen_allow, FR_LOG_EMERG) != FR_OK) {
            problems++;

        } else {
            problems += (fr_listen_check(conf->listen) != FR_OK);
        }

        problems += (fr_meter_log_check(conf->meter_log) != FR_OK);
        fr_funcs_free();
        fr_tenants_free();
        fr_conf_free(conf);
        fr_buf_free(&fr_config_text);
        fr_buf_free(&fr_config_applied);

        if (problems) {
            fprintf(stderr, "fcgi-runner: %d problem%s found\n", problems,
                    problems == 1 ? "" : "s");
            return 1;
        }

        fprintf(stderr, "fcgi-runner: configuration is ok\n");
        return 0;
    }

    if (fr_upgrade_init(argv) != FR_OK) {
        fr_log(FR_LOG_EMERG, ENOMEM, "cannot keep the command line");
        return 1;
    }

    return fr_run();
}


static int
fr_run(void)
{
    int             rc;
    char            tmpl[256];
    char           *base;
    struct timeval  now;

    rc = 1;

    (void) signal(SIGPIPE, SIG_IGN);
    fr_rlimit_nofile();
    fr_log_file_init();

    /* what the runner creates (state_dir, the store, dynamic-users) is
     * its own from the start; workers get the operator's umask back */
    fr_runner.umask = umask(077);

    /*
     * What a worker leaves behind (a double fork, a daemon) is
     * reparented to the runner, not to init: reaped at once, so it
     * neither lingers as a zombie counted against its user's
     * max_processes nor leaves the runner's sight.
     */
    (void) prctl(PR_SET_CHILD_SUBREAPER, 1);

    if (fr_event_init() != FR_OK || fr_signals_init() != FR_OK
        || fr_state_dir_check() != FR_OK)
    {
        goto done;
    }

    base = getenv("RUNTIME_DIRECTORY");
    base = (base && *base) ? base : "/tmp";

    fr_rundir_clean(base);

    /* its pid in its name: a later runner knows a stale one */
    snprintf(tmpl, sizeof(tmpl), "%s/fcgi-runner.%d.XXXXXX", base,
             (int) getpid());

    fr_runner.rundir = mkdtemp(tmpl);

    if (fr_runner.rundir == NULL) {
        fr_log(FR_LOG_EMERG, errno, "mkdtemp() \"%s\" failed", tmpl);
        goto done;
    }

    fr_runner.rundir = strdup(tmpl);

    fr_cgroup_init();

    gettimeofday(&now, NULL);
    fr_runner.started = (uint64_t) now.tv_sec * 1000000 + now.tv_usec;
    fr_runner.started_mono = fr_uptime_usec();

    if (fr_funcs_load(0) != 0 && fr_list_empty(&fr_runner.funcs)
        && fr_runner.functions_unreadable)
    {
        fr_log(FR_LOG_EMERG, 0, "no function could be read from \"%s\"",
               fr_runner.conf.functions);
        goto done;
    }

    fr_tenants_unused();

    /* a store the runner cannot read is not replaced: it stops here */
    if (fr_store_kind(fr_runner.conf.store, FR_LOG_EMERG) != FR_OK
        || fr_dispatch_init() != FR_OK || fr_sched_init() != FR_OK)
    {
        goto done;
    }

    fr_meter_idle_init();

    if (fr_listen_open() != FR_OK) {
        goto done;
    }

    fr_log(FR_LOG_NOTICE, 0, "fcgi-runner " FR_VERSION " listening on "
           "\"%s\", functions in \"%s\"", fr_listen_name(),
           fr_runner.conf.functions);

    fr_upgrade_ready();

    while (!fr_runner.quitting) {
        if (fr_event_process() != FR_OK) {
            goto done;
        }

        if (fr_sig_child) {
            fr_sig_child = (fr_workers_reap() == FR_AGAIN);
        }

        if (fr_sig_reload) {
            fr_sig_reload = 0;
            fr_reload();
        }

        if (fr_sig_reopen) {
            fr_sig_reopen = 0;
            fr_reopen();
        }

        if (fr_sig_upgrade) {
            fr_sig_upgrade = 0;
            fr_upgrade_start();
        }

        if (fr_sig_quit) {
            fr_upgrade_abandon();
            fr_log(FR_LOG_NOTICE, 0, "fast shutdown");
            fr_runner.draining = 1;
            fr_listen_close();
            fr_conns_drain(1);
            break;
        }

        if (fr_sig_terminate) {
            fr_sig_terminate = 0;

            if (!fr_runner.draining) {
                fr_upgrade_abandon();
                fr_log(FR_LOG_NOTICE, 0, "graceful shutdown: finishing %d "
                       "request(s)", fr_runner.nreqs);
                fr_runner.draining = 1;
                fr_listen_close();
                fr_conns_drain(0);
            }

            if (fr_runner_drained()) {
                break;
            }
        }
    }

    rc = 0;

done:

    fr_shutdown();
    fr_store_close();

    return rc;
}


/* the runner config, what the command line says over it, the defaults */

static int
fr_conf_load(fr_conf_t *conf, int reload)
{
    fr_cron_t  cron;

    fr_conf_init(conf);
    conf->reload = reload;

    /* the text fr_config_changed read, not the file again (an edit
     * between the two would be applied with the generation of the
     * first); the defaults' event keys too: told once, by this file */
    if (fr_config
        && (fr_conf_parse_text(conf) != 0
            || fr_cron_conf(&conf->defaults, fr_config, &cron,
                             reload ? FR_LOG_ERR : FR_LOG_EMERG) != 0))
    {
        fr_conf_free(conf);
        return 1;
    }

#define fr_set(field, opt, def)                                              \
    if (opt) { free(conf->field); conf->field = strdup(opt);                 \
               fr_conf_where_set("", #field, 0); }                           \
    else if (conf->field == NULL) { conf->field = strdup(def); }

    fr_set(listen, fr_opt_listen, FR_DEFAULT_LISTEN);
    fr_set(functions, fr_opt_functions, FR_DEFAULT_FUNCTIONS);
#undef fr_set

    fr_conf_defaults(conf);

    return 0;
}


/*
 * SIGHUP: the runner config again (a file with errors changes nothing;
 * what takes a restart is said and kept), the tenants' limits, then the
 * functions folders. A changed config is a change of every function's
 * defaults: each is reconfigured, its workers replaced once idle.
 */

static void
fr_reload(void)
{
    int        changed;
    fr_conf_t  conf;

    fr_runner.reloads++;
    fr_log(FR_LOG_NOTICE, 0, "reloading \"%s\" and \"%s\"",
           fr_config ? fr_config : "(no config)", fr_runner.conf.functions);

    if (fr_config && (changed = fr_config_changed(FR_LOG_ERR)) != 0) {
        if (changed == -1 || fr_conf_load(&conf, 1) != 0) {
            fr_log(FR_LOG_ERR, 0, "\"%s\" not reloaded: the running "
                   "configuration stays", fr_config);

        } else if ((!fr_store_is_pg(conf.store)
                    && fr_store_kind(conf.store, FR_LOG_ERR) != FR_OK)
                   || fr_listen_allow(conf.listen_allow, FR_LOG_ERR) != FR_OK)
        {
            /* a store the next start would refuse: said now (a
             * PostgreSQL URI is checked by libpq, not mapped here) */
            fr_log(FR_LOG_ERR, 0, "\"%s\" not reloaded: the running "
                   "configuration stays", fr_config);
            fr_conf_free(&conf);

        } else {
            fr_conf_keep(&conf, &fr_runner.conf);
            fr_conf_free(&fr_runner.conf);
            fr_runner.conf = conf;
            fr_runner.conf_generation += fr_config_apply();
            fr_tenants_limits();
            /* meter_idle_interval as it is now, not at the next look */
            fr_meter_idle_init();
        }
    }

    (void) fr_funcs_load(0);
    fr_tenants_unused();

    /* limits as they are now, for the processes that live on too */
    fr_cgroup_reload();

    /* what waits may fit in them now (a function reconfigured is
     * dispatched anyway; a tenant's limit raised reconfigures none) */
    fr_funcs_dispatch();
}


/*
 * A reload (SIGHUP): what the running process cannot change (its socket,
 * its state, the uids it hands out) stays as it started, moved from old
 * to conf, and is logged as needing a restart when the file changed it.
 */

static void
fr_conf_keep(fr_conf_t *conf, fr_conf_t *old)
{
#define fr_keep_str(f, def)                                                  \
    if (strcmp(conf->f ? conf->f : def, old->f ? old->f : def) != 0) {      \
        fr_log(FR_LOG_WARN, 0, "\"" #f "\" changed: it takes a restart");    \
    }                                                                        \
    free(conf->f);                                                           \
    conf->f = old->f;                                                        \
    old->f = NULL;
#define fr_keep(f)                                                           \
    if (conf->f != old->f) {                                                 \
        fr_log(FR_LOG_WARN, 0, "\"" #f "\" changed: it takes a restart");    \
        conf->f = old->f;                                                    \
    }

    fr_keep_str(listen, "");
    fr_keep_str(listen_owner, "");
    fr_keep_str(listen_group, "");
    fr_keep(listen_mode);
    fr_keep_str(state_dir, "");
    fr_keep_str(store, "sqlite");
    fr_keep_str(meter_log, "");

    if (conf->dynamic_first != old->dynamic_first
        || conf->dynamic_last != old->dynamic_last)
    {
        fr_log(FR_LOG_WARN, 0, "\"dynamic_users\" changed: it takes a "
               "restart");
        conf->dynamic_first = old->dynamic_first;
        conf->dynamic_last = old->dynamic_last;
    }

#undef fr_keep_str
#undef fr_keep
}


/*
 * The config file read: whether its bytes differ from the running
 * config's (one that was refused is tried again at each SIGHUP, said
 * each time); -1: not read, said at level, the text read before kept
 */

static int
fr_config_changed(int level)
{
    int       changed, err;
    char      chunk[4096];
    FILE     *f;
    size_t    n;
    fr_buf_t  text;

    if (fr_config == NULL) {
        return 0;
    }

    memset(&text, 0, sizeof(fr_buf_t));

    f = fr_conf_fopen(fr_config);

    if (f == NULL) {
        fr_log(level, errno, "open() \"%s\" failed", fr_config);
        return -1;
    }

    err = 0;

    while (err == 0 && (n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        err = (fr_buf_append(&text, chunk, n) != FR_OK) ? ENOMEM : 0;
    }

    err = err ? err : (ferror(f) ? EIO : 0);
    fclose(f);

    if (err) {
        fr_log(level, err, "read() \"%s\" failed", fr_config);
        fr_buf_free(&text);
        return -1;
    }

    changed = text.len != fr_config_applied.len
              || (text.len && memcmp(fr_buf_pos(&text),
                                     fr_buf_pos(&fr_config_applied),
                                     text.len) != 0);

    fr_buf_free(&fr_config_text);
    fr_config_text = text;

    return changed;
}


/* the text fr_config_changed read, parsed as the file's (conf->file) */

static int
fr_conf_parse_text(fr_conf_t *conf)
{
    FILE  *f;

    free(conf->file);
    conf->file = strdup(fr_config);

    if (fr_config_text.len == 0) {
        /* fmemopen() takes no empty buffer: every key its default */
        return 0;
    }

    f = fmemopen(fr_buf_pos(&fr_config_text), fr_config_text.len, "r");

    if (f == NULL) {
        fr_log(conf->reload ? FR_LOG_ERR : FR_LOG_EMERG, errno,
               "fmemopen() of \"%s\" failed", fr_config);
        return 1;
    }

    return fr_conf_parse_stream(f, fr_config, conf, NULL);
}


/*
 * The text last read is the running config's: 1 if what it says of
 * functions differs from the one it replaces (a text that failed to
 * load in between is not compared with)
 */

static int
fr_config_apply(void)
{
    int  same;

    same = fr_conf_same_defaults(fr_buf_pos(&fr_config_text),
                                 fr_config_text.len,
                                 fr_buf_pos(&fr_config_applied),
                                 fr_config_applied.len);

    fr_config_applied.len = 0;
    fr_config_applied.start = 0;

    if (fr_buf_append(&fr_config_applied, fr_buf_pos(&fr_config_text),
                      fr_config_text.len) != FR_OK)
    {
        /* compared with nothing next time: a change, to be safe */
        fr_config_applied.len = 0;
    }

    return !same;
}


/*
 * What a runner killed with SIGKILL left in base: its folder of worker
 * sockets, "fcgi-runner.PID.XXXXXX" of a PID that is gone. Only the
 * runner's own folders, nothing followed, nothing but its files.
 */

static void
fr_rundir_clean(const char *base)
{
    int             bfd, dfd, pid;
    DIR            *b, *d;
    struct stat     st;
    struct dirent  *de, *fe;

    bfd = open(base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    b = (bfd == -1) ? NULL : fdopendir(bfd);

    if (b == NULL) {
        if (bfd != -1) {
            close(bfd);
        }
        return;
    }

    while ((de = readdir(b)) != NULL) {
        if (sscanf(de->d_name, "fcgi-runner.%d.", &pid) != 1
            || pid <= 0 || pid == getpid()
            || kill(pid, 0) == 0 || errno != ESRCH)
        {
            continue;
        }

        dfd = openat(bfd, de->d_name,
                     O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        d = (dfd == -1) ? NULL : fdopendir(dfd);

        if (d == NULL) {
            if (dfd != -1) {
                close(dfd);
            }
            continue;
        }

        if (fstat(dfd, &st) == 0 && st.st_uid == geteuid()) {
            while ((fe = readdir(d)) != NULL) {
                if (fe->d_name[0] != '.') {
                    (void) unlinkat(dfd, fe->d_name, 0);
                }
            }

            if (unlinkat(bfd, de->d_name, AT_REMOVEDIR) == 0) {
                fr_log(FR_LOG_NOTICE, 0, "removed \"%s/%s\", left by a "
                       "runner that is gone", base, de->d_name);
            }
        }

        closedir(d);
    }

    closedir(b);
}


/* connections closed; workers: TERM, KILL after a grace, all reaped */

static void
fr_shutdown(void)
{
    fr_timer_t  deadline;

    fr_listen_close();
    fr_conns_drain(1);

    memset(&deadline, 0, sizeof(deadline));
    deadline.handler = fr_shutdown_handler;

    fr_workers_stop_all(fr_sig_quit ? SIGKILL : SIGTERM);
    fr_protos_stop();
    fr_timer_add(&deadline, FR_SHUTDOWN_MSEC);

    /* connections still sending a whole answer close as it is sent */
    while ((fr_runner.nworkers || fr_meter_ending() || fr_runner.nconns)
           && !fr_shutdown_expired && fr_runner.signal.fd != -1)
    {
        if (fr_event_process() != FR_OK) {
            break;
        }

        fr_workers_reap();
    }

    /* what a flood of strays left to reap (64 a round): billed too */
    while (fr_workers_reap() == FR_AGAIN) {
        /* void */
    }

    fr_timer_del(&deadline);

    if (fr_runner.nworkers) {
        fr_log(FR_LOG_ALERT, 0, "%d worker(s) did not exit",
               fr_runner.nworkers);
    }

    fr_dispatch_quit();

    if (fr_runner.rundir) {
        (void) rmdir(fr_runner.rundir);
        free(fr_runner.rundir);
    }

    fr_io_close(&fr_runner.signal);
    fr_funcs_free();
    fr_cgroup_exit();
    fr_tenants_free();
    fr_event_done();
    fr_conf_free(&fr_runner.conf);
    fr_buf_free(&fr_config_text);
    fr_buf_free(&fr_config_applied);

    fr_log(FR_LOG_NOTICE, 0, "exit");
}


static int
fr_signals_init(void)
{
    int       fd;
    sigset_t  set;

    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGQUIT);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGUSR2);

    if (sigprocmask(SIG_BLOCK, &set, NULL) == -1) {
        fr_log(FR_LOG_EMERG, errno, "sigprocmask() failed");
        return FR_ERROR;
    }

    fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);

    if (fd == -1) {
        fr_log(FR_LOG_EMERG, errno, "signalfd() failed");
        return FR_ERROR;
    }

    fr_runner.signal.fd = fd;
    fr_runner.signal.handler = fr_signal_handler;

    return fr_io_set(&fr_runner.signal, EPOLLIN);
}


/* a signal is an event: note it, the main loop does the work */

static void
fr_signal_handler(fr_io_t *io, uint32_t events)
{
    struct signalfd_siginfo  si;

    (void) events;

    while (read(io->fd, &si, sizeof(si)) == (ssize_t) sizeof(si)) {
        switch (si.ssi_signo) {
        case SIGCHLD: fr_sig_child = 1; break;
        case SIGHUP:  fr_sig_reload = 1; break;
        case SIGTERM: fr_sig_terminate = 1; break;
        case SIGUSR1: fr_sig_reopen = 1; break;
        case SIGUSR2: fr_sig_upgrade = 1; break;
        default:      fr_sig_quit = 1; break;
        }
    }
}


/* SIGUSR1: the log files opened again, as nginx does (logrotate) */

static void
fr_reopen(void)
{
    mode_t  mask;

    fr_log(FR_LOG_NOTICE, 0, "reopening logs");

    /* a new log file gets the operator's umask, not the store's */
    mask = umask(fr_runner.umask);
    (void) fr_log_reopen();
    (void) umask(mask);

    (void) fr_meter_log_reopen();

    fr_log(FR_LOG_NOTICE, 0, "logs reopened");
}


static void
fr_shutdown_handler(fr_timer_t *t)
{
    (void) t;

    fr_shutdown_expired = 1;
}


/*
 * Enough descriptors for max_connections and max_workers (a worker
 * holds up to eight: connection or pipes, stderr, exec report, /proc
 * files; its prototype two: its socket, its namespace's process 1's
 * /proc stat) and the stored invocations on their way (a socket pair
 * each, fr_tenant_call_room()), not the hard limit whatever it is.
 */

static void
fr_rlimit_nofile(void)
{
    rlim_t         need;
    struct rlimit  rl;

    need = (rlim_t) fr_runner.conf.max_connections
           + 2 * (rlim_t) fr_tenant_call_room(NULL)
           + 10 * (rlim_t) fr_runner.conf.max_workers + 64;

    if (getrlimit(RLIMIT_NOFILE, &rl) == -1 || rl.rlim_cur >= need) {
        return;
    }

    if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need) {
        fr_log(FR_LOG_WARN, 0, "RLIMIT_NOFILE hard limit %llu is below the "
               "%llu descriptors max_connections and max_workers need",
               (unsigned long long) rl.rlim_max, (unsigned long long) need);
        need = rl.rlim_max;
    }

    rl.rlim_cur = need;
    (void) setrlimit(RLIMIT_NOFILE, &rl);
}
