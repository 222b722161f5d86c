/*
 * Copyright (C) ngx_faas developers
 */

#ifndef FR_PROTO_H
#define FR_PROTO_H


#include "fr_event.h"
#include "fr_runner.h"
#include "fr_isolate.h"


struct fr_proto_s {
    char                  *name;        /* its function's, for the log */
    char                  *tenant;      /* its function's, after name */
    int64_t                memory;      /* its function's, bytes */
    fr_func_t             *func;        /* NULL once retired */
    unsigned               generation;  /* of the function it was made for */
    pid_t                  pid;         /* the prototype; 0: gone */
    pid_t                  init;        /* its pid namespace's 1; 0: none */
    ino_t                  init_ns;     /* that namespace's inode */
    int                    init_stat;   /* its /proc stat, held; or -1 */
    long long              orphans_mark; /* ticks its 1 reaped, billed */
    int64_t                orphans_idle; /* us of them no invocation's */
    uint64_t               orphans_read; /* us, when last read */
    unsigned               orphans_owned:1; /* an invocation's, now */
    int                    fd;          /* its socket */
    unsigned               refs;        /* live workers forked by it */
    int                    nkept;       /* folders it mounted (tmp) */
    dev_t                  kept_dev[FR_ISOLATE_KEPT];
    ino_t                  kept_ino[FR_ISOLATE_KEPT];
    unsigned               retired:1;
    unsigned               zygote:1;    /* a runtime's (fr_runtime.c) */
    unsigned               ready:1;     /* its app loaded */
    fr_proto_t            *parent;      /* the zygote's prototype */
    fr_io_t                io;          /* the zygote's, until ready */
    fr_timer_t             check;       /* the zygote's CPU, looked at */
    int64_t                cpu_base;    /* ms, when it was ready */
    int64_t                cpu_billed;  /* us of its own, billed idle */
    uint64_t               slow;        /* us the runner waited, drained */
    uint64_t               slow_at;     /* us, when last drained */
    unsigned               spares;      /* unknown in its session */
    unsigned               looked;      /* fr_meter_idle.c's last look */
    uint64_t               ready_at;    /* ms */
    uint64_t               forks;
    fr_timer_t             timer;       /* prototype_idle_timeout */
    fr_link_t              link;        /* in fr_runner.protos */
};


int fr_proto_wanted(fr_func_t *f);
fr_proto_t *fr_proto_current(fr_func_t *f);
fr_proto_t *fr_proto_new(fr_func_t *f, int *child_fd);
int fr_proto_started(fr_proto_t *p, pid_t pid, int exec_fd);
/* fr_proto_fork(): failed, fd[] given to a prototype that failed */
#define FR_PROTO_GIVEN  (-2)

pid_t fr_proto_fork(fr_proto_t *p, char **env, int fd[3], int *exec_fd);
void fr_proto_unfault(fr_proto_t *p);
void fr_proto_release(fr_proto_t *p, int sweep);
int fr_proto_strays(fr_proto_t *p);
void fr_proto_retire(fr_proto_t *p);
int fr_proto_reaped(pid_t pid, int status, int64_t us);
void fr_protos_stop(void);
void fr_proto_idle(fr_timer_t *t);

extern int  (*fr_proto_sweep)(fr_proto_t *p);
extern void (*fr_proto_meter_end)(fr_proto_t *p, int64_t reaped_us);
extern int  (*fr_proto_meter_holds)(pid_t pid);
extern void (*fr_proto_meter_killed)(fr_proto_t *p);


#endif /* FR_PROTO_H */
