/*
 * Copyright (C) ngx_faas developers
 *
 * The runner's objects and how they refer to each other:
 *
 *   fr_conn_t    a FastCGI connection from nginx (or any client);
 *   fr_req_t     the request in progress on it (no multiplexing);
 *   fr_func_t    a function: its settings, queue and workers;
 *   fr_worker_t  a worker process: a kept FastCGI connection to it, or
 *                in cgi mode the pipes of one CGI process.
 */

#ifndef FR_RUNNER_H
#define FR_RUNNER_H


#include <stdint.h>
#include <sys/types.h>

#include "fr_buf.h"
#include "fr_conf.h"
#include "fr_cron.h"
#include "fr_event.h"
#include "fr_fcgi.h"
#include "fr_path.h"


typedef struct fr_conn_s    fr_conn_t;
typedef struct fr_req_s     fr_req_t;
typedef struct fr_func_s    fr_func_t;
typedef struct fr_worker_s  fr_worker_t;
typedef struct fr_tenant_s  fr_tenant_t;
typedef struct fr_proto_s   fr_proto_t;
typedef struct fr_meter_kin_s  fr_meter_kin_t;


typedef enum {
    FR_OUTCOME_OK = 0,
    FR_OUTCOME_NOT_FOUND,
    FR_OUTCOME_THROTTLED,
    FR_OUTCOME_TIMEOUT,
    FR_OUTCOME_CRASHED,
    FR_OUTCOME_ERROR,
    FR_OUTCOME_ACCEPTED,    /* async: stored, 202; not a run */
    FR_OUTCOME_MAX,
    /* meter_log only: ran to its end, its client gone; never counted */
    FR_OUTCOME_CLIENT_CLOSED = FR_OUTCOME_MAX
} fr_outcome_e;


/* why a worker ended: the reasons of faas_function_worker_stops_total */
typedef enum {
    FR_STOP_NONE = 0,
    FR_STOP_EXITED,         /* on its own between requests (a retiring php) */
    FR_STOP_CRASHED,        /* on its own while serving */
    FR_STOP_FAILED,         /* never became ready */
    FR_STOP_IDLE,           /* idle_timeout */
    FR_STOP_RETIRED,        /* max_requests */
    FR_STOP_TIMEOUT,        /* its request's timeout */
    FR_STOP_BROKEN,         /* broke the protocol or its connection */
    FR_STOP_CLIENT,         /* its client went away mid-invocation */
    FR_STOP_EVICTED,        /* room for another function */
    FR_STOP_RELOAD,         /* its function changed or went */
    FR_STOP_SHUTDOWN,
    FR_STOP_MAX
} fr_stop_e;


/* of a stream cut short, its last bytes kept in twice their room */
typedef struct {
    u_char                *buf;
    size_t                 len;
    size_t                 dropped;         /* neither sent nor kept */
} fr_stderr_tail_t;


/* what its functions' requests sent nginx's error log (fr_stderr.c) */
typedef struct {
    uint64_t               window;          /* msec: its second began */
    size_t                 bytes;           /* of log in that second */
    size_t                 unsent;          /* since it was last said */
    fr_timer_t             timer;           /* says it, a second on */
    const char            *tenant;          /* whose, or NULL: no one's */
} fr_stderr_budget_t;


/* duration buckets of the status histogram: 1 ms to 30 s, then +Inf */
#define FR_DURATION_BUCKETS  14


/* what a function did, counted where it happens; the status shows it */
typedef struct {
    uint64_t               invocations[FR_OUTCOME_MAX];
    uint64_t               duration[FR_DURATION_BUCKETS + 1];
    uint64_t               duration_us;     /* summed */
    uint64_t               cold_starts;     /* requests that waited */
    uint64_t               starts;          /* workers that became ready */
    uint64_t               start_us;        /* their spawn to ready */
    uint64_t               start_failures;
    uint64_t               cpu_us;          /* of ended workers */
    int64_t                max_memory_kb;   /* the peak of one of them */
    uint64_t               stops[FR_STOP_MAX];
} fr_stats_t;


typedef enum {
    FR_REQ_PARAMS = 0,      /* reading FCGI_PARAMS */
    FR_REQ_ACCEPTING,       /* async: its body is read, to be stored */
    FR_REQ_QUEUED,          /* waiting for a worker */
    FR_REQ_RUNNING,         /* a worker has it */
    FR_REQ_ANSWERED         /* answered; the rest of its input is dropped */
} fr_req_state_e;


struct fr_req_s {
    fr_conn_t             *conn;
    fr_func_t             *func;
    fr_worker_t           *worker;
    fr_req_state_e         state;
    uint16_t               id;
    unsigned               keep_conn:1;
    unsigned               drain_fresh:1;   /* awaited by a stopping runner */
    unsigned               stdin_done:1;
    unsigned               stdin_started:1;
    unsigned               response_started:1;
    unsigned               retried:3;       /* unread, sent again */
    unsigned               meter:1;         /* the client asked */
    unsigned               cold:1;
    unsigned               async:1;         /* to be stored, 202 */
    unsigned               stored:1;        /* a stored one's run */
    unsigned               hdr_done:1;      /* its header block seen */
    unsigned               bad_status:1;    /* garbage: outcome error */
    unsigned               hdr_cr:1;        /* its line's last byte a CR */
    unsigned               hdr_junk:1;      /* a NUL, a CR alone in it */
    unsigned               hdr_accel:1;     /* its X-Accel-Redirect: */
    unsigned               after_response:1;    /* answered, running on */
    unsigned               runner_closed:1;     /* its connection, at a
                                                   fast stop: nginx 502 */
    unsigned               meter_log:1;     /* FAAS_METER=log: a line
                                               nginx does not log */
    unsigned               answering:1;     /* the runner's own answer
                                               is being written */
    uint16_t               hdr_line;        /* bytes of the line so far */
    uint16_t               http_status;     /* its Status: line's; 0: none */
    uint32_t               hdr_bytes;
    uint32_t               header_max;      /* nginx's; 0: 64 KiB */
    uint64_t               lease_end;       /* msec: a stored one's run
                                               ends by it; 0: none */
    u_char                 hdr_buf[64];     /* the line's first bytes */
    fr_outcome_e           outcome;
    fr_buf_t               body;            /* async: the body to store */
    fr_link_t              pending;         /* async: awaits its commit */
    char                   inv_id[36];      /* async: its invocation */
    fr_buf_t               params;          /* the raw PARAMS stream */
    const u_char          *function;        /* in params: FAAS_FUNCTION */
    size_t                 function_len;
    const u_char          *method;          /* REQUEST_METHOD */
    size_t                 method_len;
    const u_char          *query;           /* QUERY_STRING */
    size_t                 query_len;
    size_t                 uri_len;         /* REQUEST_URI's, Host's,
                                               Referer's */
    const u_char          *request_id;      /* FAAS_REQUEST_ID */
    size_t                 request_id_len;
    const u_char          *only_tenant;     /* FAAS_ONLY_TENANT */
    size_t                 only_tenant_len;
    const u_char          *accept;          /* HTTP_ACCEPT */
    size_t                 accept_len;
    unsigned               has_function:1;
    unsigned               has_only_tenant:1;
    unsigned               status:1;        /* FAAS_STATUS */
    unsigned               stderr_raw:1;    /* FAAS_STDERR raw: nginx's
                                               module escapes it */
    fr_link_t              queue;           /* in func->queue */
    fr_tenant_t           *waits_for;       /* its tenant's nqueued counts
                                               it (a client's, queued) */
    fr_timer_t             timer;           /* queue, then invocation */

    /* measurements; -1: not applicable */
    uint64_t               t_queued;        /* usec */
    uint64_t               t_assigned;
    uint64_t               cpu_start;       /* usec of the worker's */
    long long              orphans_start;   /* ticks; -1: not billed */
    uint64_t               orphans_forks;   /* its prototype's, then */
    int64_t                orphans_us;      /* their CPU, its own */
    int64_t                kin_us;          /* its worker's descendants',
                                               while it ran */
    int64_t                credit_us;       /* taken off it, billed ahead
                                               (fr_meter_credit) */
    int64_t                queue_us;
    int64_t                init_us;
    int64_t                duration_us;
    size_t                 orphan_out;      /* stdout nobody reads */
    size_t                 stderr_sent;     /* to its client, and not */
    fr_stderr_tail_t       stderr_tail;     /* its last, sent at its end */
    int64_t                responded_us;    /* after_response: until it */
    int64_t                cpu_us;
    int64_t                max_memory_kb;
    pid_t                  worker_pid;
};


struct fr_conn_s {
    fr_io_t                io;
    fr_fcgi_parser_t       parser;
    fr_buf_t               in;
    fr_buf_t               out;
    fr_req_t              *req;
    fr_link_t              link;            /* in fr_conns */
    fr_timer_t             timer;           /* lingering close */
    fr_buf_t               mgmt;
    fr_spool_t             spool;           /* output held back */
    fr_buf_t               unread;          /* the last answer's
                                               measurements: nginx's? */
    unsigned               paused:1;        /* stdin waits for downstream */
    unsigned               closing:1;       /* close when out is flushed */
    unsigned               own:1;           /* the runner's: an async run */
    unsigned               served:1;        /* a request began on it */
    unsigned               fresh:1;         /* its first, awaited: drain */
};


typedef enum {
    FR_WORKER_NEW = 0,       /* being spawned */
    FR_WORKER_STARTING,      /* forked, not yet answered the probe */
    FR_WORKER_IDLE,
    FR_WORKER_BUSY,
    FR_WORKER_STOPPING       /* signalled or exited; waits to be reaped */
} fr_worker_state_e;


/*
 * A worker mode (FastCGI, CGI): how a worker's descriptors are made and
 * how a request goes to it and its answer comes back. Registered at
 * startup; no branch on the mode outside the mode's own file.
 */
typedef struct {
    const char  *name;
    /* a process per request (CGI), not kept workers that are reused */
    unsigned     per_request;
    /* the child's fd 0 and 1; the runner's ends go into w */
    int   (*open)(fr_worker_t *w, int fd[2]);
    /* spawned: probe it (r NULL), or prepare for its request r;
     * FR_ERROR: the pool stops it */
    int   (*started)(fr_worker_t *w, fr_req_t *r);
    /* send r to an idle worker; FR_DECLINED: it is gone, try another */
    int   (*assign)(fr_worker_t *w, fr_req_t *r);
    /* a slice of the request body; n == 0: the body ended */
    void  (*stdin)(fr_worker_t *w, const u_char *p, size_t n);
    /* stderr while a request runs; FR_DECLINED (or none): to the log */
    int   (*stderr)(fr_worker_t *w, const u_char *p, size_t n);
    /* stderr ended (or none) */
    void  (*stderr_end)(fr_worker_t *w);
    /* the process exited; FR_DONE: the mode finishes the worker */
    int   (*reaped)(fr_worker_t *w);
    /* the timer of a busy worker */
    void  (*timer)(fr_worker_t *w);
    /* its request's client left: told, if it listens; its output read */
    void  (*orphaned)(fr_worker_t *w);
} fr_mode_t;

struct fr_worker_s {
    pid_t                  pid;
    fr_worker_state_e      state;
    fr_func_t             *func;
    fr_req_t              *req;
    unsigned               generation;
    unsigned               requests;
    uint16_t               fcgi_id;         /* its request's FastCGI id */
    uint16_t               connects;        /* connections made to it */
    size_t                 sent;            /* bytes of that request sent */
    unsigned               flushed:1;       /* some of that request sent */
    unsigned               split:1;         /* ... in more than one go */
    unsigned               awaited:1;       /* its exit decides its
                                               request (fr_fastcgi_lost) */
    unsigned               connected:1;     /* io is a live connection */
    unsigned               unwritable:1;    /* it stopped reading: what
                                               it wrote is read first */
    unsigned               write_reset:1;   /* ... a write took the reset */
    unsigned               exec_failed:1;
    unsigned               killed:1;
    unsigned               responded:1;     /* a record for this request */
    unsigned               cgi_headers:1;   /* cgi: header block passed */
    unsigned               reaped:1;
    unsigned               draining:1;      /* reaped, its answer read */
    unsigned               reap_waited:1;   /* cgi: for its rusage */
    unsigned               err_waited:1;    /* cgi: for its stderr */
    unsigned               no_answer:1;     /* cgi: output ended, no header */
    size_t                 err_late;        /* cgi: stderr after stdout */
    unsigned               per_request:1;   /* its mode's: cgi */
    unsigned               ino_socket:1;    /* ino[0] is a socket */
    unsigned               evicted:1;       /* stopped for its tenant */
    unsigned               evicted_host:1;  /* stopped for max_workers */
    unsigned               init:1;          /* faas-init is its pid 1 */
    unsigned               swept:1;         /* what it left: killed */
    unsigned               ends_early:1;    /* its response may end before
                                               its invocation, a client
                                               gone is said to it: ours
                                               (faas-php, faas_wsgi.py) */
    unsigned               stdout_ended:1;  /* its request's, not yet it */
    unsigned               stdout_over:1;   /* its empty STDOUT came */
    unsigned               stdout_late:1;   /* STDOUT after it: said */
    unsigned               cpu_unknown:1;   /* an invocation not metered
                                               since cpu_mark */
    fr_proto_t            *proto;           /* forked it, or NULL */
    fr_stop_e              why;             /* it was stopped */
    int64_t                memory;          /* its function's, counted */
    int                    status;          /* as wait4() gave it */
    int64_t                ru_cpu_us;       /* of the reaped process */
    int64_t                ru_maxrss_kb;
    int64_t                cpu_mark;        /* its own CPU at its last
                                               invocation's end */
    int64_t                cpu_idle;        /* used between invocations,
                                               not yet in meter_log */
    int64_t                cpu_credit;      /* billed ahead, not again */
    int64_t                kin_busy;        /* its descendants' while it
                                               serves, looked at */
    fr_meter_kin_t        *kin;             /* its descendants, looked */
    size_t                 nkin;            /* at (fr_meter_kin.c) */
    int                    proc_stat;       /* /proc/PID files, for */
    int                    proc_status;     /* metering, opened once */
    int                    proc_clear_refs;
    pid_t                  proc_pid;        /* the function's process */
    int                    proc_init_stat;  /* faas-init's, its orphans */
    uint64_t               ready_at;        /* usec */
    int                    exec_errno;
    int                    mode;      /* the function's when it started */
    const fr_mode_t       *ops;       /* the mode's */
    uid_t                  uid;       /* whom it runs as */
    ino_t                  ino[3];    /* its pipes' or socket's inodes */
    uint64_t               log_window;      /* msec: stderr rate limit */
    size_t                 log_bytes;
    size_t                 log_dropped;
    fr_io_t                io;        /* fastcgi: the connection; cgi: stdout */
    fr_io_t                in;        /* cgi: the request body pipe */
    fr_io_t                err;       /* stderr */
    fr_io_t                exec;      /* reports a failed exec */
    fr_fcgi_parser_t       parser;
    fr_buf_t               out;       /* to the worker */
    fr_buf_t               hdr;       /* cgi: the header block so far */
    uint32_t               hdr_at;    /* cgi: its line not yet whole */
    uint32_t               hdr_seen;  /* cgi: looked at for its end */
    unsigned               hdr_status:1;    /* cgi: its Status: seen */
    fr_link_t              link;      /* in func->workers */
    fr_link_t              idle;      /* in func->idle, most recent first */
    fr_link_t              all;       /* in fr_workers */
    fr_timer_t             timer;     /* idle timeout, kill grace */
    fr_timer_t             log_timer; /* stderr resumes after its pause */
    uint64_t               spawned;   /* usec */
    char                   sock[108];
};


struct fr_func_s {
    char                  *name;
    char                  *dir;             /* where found: no symlink */
    char                  *from;            /* the functions folder, as
                                               the config names it */
    char                  *from_dir;        /* it resolved, or NULL */
    dev_t                  dir_dev;         /* what was found there */
    ino_t                  dir_ino;
    fr_path_handle_t       dir_handle;
    uid_t                  dir_uid;         /* its owner */
    char                  *signature;       /* what a reload compares */
    fr_fconf_t             conf;
    char                 **argv;
    char                  *exec_path;
    char                  *exec_rel;        /* "./" from its folder */
    int                    exec_fd;         /* exec_by_fd: the runner's */
    char                  *script_path;
    char                  *tenant;
    fr_tenant_t           *owner;           /* the tenant's object */
    uid_t                  uid;
    gid_t                  gid;
    unsigned               set_user:1;
    unsigned               removed:1;
    unsigned               loose:1;         /* others may read its files */
    unsigned               operators:1;     /* function.conf root's alone */
    unsigned               generation;
    fr_func_t             *next;            /* hash chain */
    fr_link_t              link;            /* in fr_funcs */
    fr_link_t              queue;
    fr_link_t              workers;
    fr_link_t              idle;
    int                    nqueued;
    int                    nworkers;
    int                    nstarting;
    int                    nreqs;
    unsigned               failures;        /* consecutive failed starts */
    unsigned               start_crashed:1; /* the last: a worker dead by
                                               a signal (SIGKILLed, the OOM
                                               killer), not a function that
                                               cannot start */
    int                    nasync;          /* stored invocations running */
    unsigned               async_throttled; /* of them, in a row */
    int64_t                async_queued;    /* stored, not yet run */
    int64_t                strays_us;       /* CPU of the runner's children
                                               that were no worker of its,
                                               not yet in meter_log */
    fr_cron_t              cron;            /* schedule */
    int64_t                sched_next;      /* its next tick, or 0 */
    fr_stats_t             stats;
    uint64_t               throttled_until; /* msec */
    fr_timer_t             timer;           /* end of the throttle */
    fr_proto_t            *proto;           /* its workers fork from */
    fr_proto_t            *zygote;          /* a runtime's: app loaded */
    unsigned               zygote_failed;   /* in generation - 1 */
    unsigned               zygote_generation;   /* of zygote_starts */
    unsigned               zygote_starts;
    uint64_t               zygote_tried;    /* fr_current_msec + 1 */
    unsigned               zygote_spawning:1;
    unsigned               exec_by_fd:1;    /* a runtime's own program */
    unsigned               ends_early:1;    /* its workers': runtime = php */
    char                  *cgroup_dir;      /* fr_cgroup.c's, or NULL */
    int64_t                cgroup_limit;    /* as written; -1: not yet */
};


/* what a spawn execs: from the folder it stands in, when it is there */
#define fr_func_exec(f)  ((f)->exec_rel ? (f)->exec_rel : (f)->exec_path)


/* whom use is billed to, and whose limits apply: one per tenant name */
struct fr_tenant_s {
    char                  *name;
    uid_t                  uid;             /* its dynamic user, or 0 */
    gid_t                  gid;
    int                    max_instances;   /* 0: no limit */
    int64_t                max_memory;
    int                    nworkers;        /* live, until reaped */
    int64_t                memory;          /* their memory, summed */
    int                    nevicting;       /* idle ones stopped for room */
    unsigned               waiting:1;       /* a request waits for room */
    int64_t                async_queued;    /* stored, of its functions */
    int64_t                async_kept_max;  /* tenant_async_kept's */
    int64_t                async_kept;      /* answers kept, since: */
    uint64_t               async_kept_since;    /* msec */
    unsigned               async_kept_said:1;
    int                    nqueued;         /* clients' requests waiting in
                                               its functions' queues */
    int                    ncalls;          /* its stored invocations on
                                               their way (fr_dispatch.c) */
    int                    claim_room;      /* fr_store_pg.c's, a claim */
    int64_t                cgroup_limit;    /* fr_cgroup.c's, as written */
    int64_t                cgroup_use[3];   /* its figures, read at: */
    uint64_t               cgroup_read;     /* msec, + 1 (0: never) */
    unsigned               cgroup_made:1;
    unsigned               view_gen;        /* the status: its view */
    int                    view;
    uint64_t               log_window;      /* msec: its workers' stderr */
    size_t                 log_bytes;       /* ... logged in it */
    fr_stderr_budget_t     nginx_log;       /* ... sent nginx */
    fr_link_t              link;            /* in fr_runner.tenants */
};


typedef struct {
    fr_conf_t              conf;
    fr_link_t              tenants;
    fr_link_t              funcs;
    fr_link_t              conns;
    fr_link_t              workers;
    fr_link_t              protos;
    fr_func_t             *hash[256];
    fr_io_t                listen;
    fr_io_t                signal;
    char                  *listen_path;     /* unix socket to unlink */
    ino_t                  listen_ino;
    char                  *rundir;
    int                    state_fd;        /* state_dir, locked; -1 */
    mode_t                 umask;           /* the operator's: workers' */
    char                  *init_path;       /* faas-init, for pid */
    int                    init_fd;         /* O_PATH; -1: none found */
    pid_t                  upgrade_pid;     /* a binary upgrade's new
                                               runner, under way or
                                               over (fr_upgrade.c); 0 */
    int                    nworkers;
    int                    nreqs;
    int                    nconns;
    int                    nown;            /* of them, the runner's own
                                               (stored invocations) */
    int                    nfresh;          /* fr_conn_t.fresh */
    int                    ncalls;          /* stored ones running */
    off_t                  spooled;         /* held responses, all */
    unsigned               accept_paused:1; /* at max_connections */
    unsigned               draining:1;
    unsigned               quitting:1;
    unsigned               is_root:1;
    unsigned               functions_unreadable:1;
    uint64_t               spawn_seq;
    uint64_t               started;         /* usec, wall clock */
    uint64_t               started_mono;    /* usec, monotonic */
    uint64_t               accepted;        /* connections */
    uint64_t               reloads;
    unsigned               conf_generation; /* runner config changes */
    uint64_t               start_failures;  /* of all functions */
    uint64_t               unrouted;        /* no such function */
    int                    nprotos;         /* prototypes alive */
    int                    nevicting;       /* idle ones stopped, host */
    unsigned               waiting:1;       /* for room, at max_workers */
    uint64_t               proto_starts;
    uint64_t               proto_forks;     /* workers forked by them */
} fr_runner_t;


extern fr_runner_t  fr_runner;


/* draining, and nothing left to finish: no request, no connection that
 * may bring one, no stored invocation whose outcome is still to come */
static inline int
fr_runner_drained(void)
{
    return fr_runner.nreqs == 0 && fr_runner.nfresh == 0
           && fr_runner.ncalls == 0;
}


#endif /* FR_RUNNER_H */
