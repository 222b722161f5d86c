/*
 * Copyright (C) ngx_faas developers
 *
 * The end of worker processes: SIGCHLD reaps every exited child, says
 * how it ended, hands a request's process to its mode and frees the
 * rest; and, at shutdown, stopping them all.
 */

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fr_cgroup.h"
#include "fr_log.h"
#include "fr_meter.h"
#include "fr_pids.h"
#include "fr_pool.h"
#include "fr_proto.h"
#include "fr_reap.h"
#include "fr_sweep.h"


#define FR_REAP_BATCH  64


static void fr_worker_free_reaped(fr_worker_t *w, int status);


/*
 * SIGCHLD: reap the exited children, say how they ended. At most
 * FR_REAP_BATCH a round: a tenant that makes children as fast as they
 * are reaped (each it has to wait for frees a process for another)
 * does not keep the loop from the other events; the rest are reaped in
 * the next round, which does not wait (FR_AGAIN: not all reaped).
 */

int
fr_workers_reap(void)
{
    int            status, err, n;
    char           state;
    int64_t        us;
    pid_t          pid, sid, ppid;
    siginfo_t      si;
    fr_link_t     *l;
    fr_worker_t   *w;
    struct rusage  ru;

    fr_meter_owner_t  owner;

    for (n = 0; /* void */; n++) {
        if (n == FR_REAP_BATCH) {
            fr_io_post(&fr_runner.signal, EPOLLIN);
            fr_funcs_dispatch();
            return FR_AGAIN;
        }

        si.si_pid = 0;

        if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) == -1) {
            if (errno == EINTR) {
                continue;
            }
            break;
        }

        if (si.si_pid == 0) {
            break;
        }

        /*
         * A zombie's pid is still its own, and so is its process group's
         * id: the straggling helpers of its group go with it now, before
         * the pid is freed for reuse.
         */
        pid = si.si_pid;
        (void) kill(-pid, SIGKILL);

        w = NULL;

        for (l = fr_list_first(&fr_runner.workers); l != &fr_runner.workers;
             l = l->next)
        {
            if (fr_list_data(l, fr_worker_t, all)->pid == pid
                && !fr_list_data(l, fr_worker_t, all)->reaped)
            {
                w = fr_list_data(l, fr_worker_t, all);
                break;
            }
        }

        /* no worker: whose, while its /proc is still there */
        sid = 0;

        if (w == NULL) {
            (void) fr_meter_stray_owner(pid, &owner);
            sid = fr_proc_stat(pid, &state, &ppid);
        }

        while (wait4(pid, &status, 0, &ru) == -1 && errno == EINTR) {
            /* void */
        }

        /* its CPU, and what it reaped (a prototype's process 1's) */
        us = (int64_t) (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000
             + ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;

        if (w == NULL
            && (fr_meter_init_reaped(pid, us)
                || fr_proto_reaped(pid, status, us)))
        {
            continue;
        }

        if (w == NULL) {
            /* the runner is their subreaper: what workers leave comes
             * here when it ends, not to linger as init's zombie; what it
             * used is its function's */
            fr_log(FR_LOG_DEBUG, 0, "reaped process %d left by a worker",
                   (int) pid);
            fr_meter_stray(&owner, pid, us);
            fr_sweep_spare_reaped(pid, sid, us);
            continue;
        }

        if (w->init && WIFEXITED(status) && WEXITSTATUS(status) > 128
            && WEXITSTATUS(status) < 128 + 65)
        {
            /* faas-init's report of a death by signal, as a shell's */
            status = WEXITSTATUS(status) - 128;
        }

        w->ru_cpu_us = us;
        w->ru_maxrss_kb = ru.ru_maxrss;

        w->func->stats.cpu_us += (uint64_t) w->ru_cpu_us;

        if (w->ru_maxrss_kb > w->func->stats.max_memory_kb) {
            w->func->stats.max_memory_kb = w->ru_maxrss_kb;
        }

        if (w->exec.fd != -1
            && read(w->exec.fd, &err, sizeof(int)) == (ssize_t) sizeof(int))
        {
            w->exec_failed = 1;
            w->exec_errno = err;
        }

        fr_worker_free_reaped(w, status);
    }

    /* functions gone: their cgroups, once their last process has */
    fr_cgroup_sweep();
    fr_funcs_dispatch();

    return FR_OK;
}


static void
fr_worker_free_reaped(fr_worker_t *w, int status)
{
    int          level, starting;
    char         how[64];
    fr_req_t    *r;
    fr_func_t   *f;

    f = w->func;
    starting = (w->state == FR_WORKER_STARTING);

    w->reaped = 1;
    w->status = status;

    if (WIFSIGNALED(status)) {
        snprintf(how, sizeof(how), "exited on signal %d%s", WTERMSIG(status),
                 WCOREDUMP(status) ? " (core dumped)" : "");

    } else {
        snprintf(how, sizeof(how), "exited with code %d",
                 WEXITSTATUS(status));
    }

    if (w->exec_failed && w->exec_errno == ESTALE) {
        /* fr_spawn_chdir(): another folder at its path since the load */
        fr_log(FR_LOG_ERR, 0, "function \"%s\" cannot start: \"%s\" is "
               "not the folder it was loaded from (made again, removed or "
               "swapped for a link since?): a reload takes what is there "
               "now", f->name, f->dir);
        fr_func_start_failed(f, 0);

    } else if (w->exec_failed) {
        fr_log(FR_LOG_ERR, w->exec_errno, "function \"%s\" cannot start: "
               "execve() \"%s\" failed", f->name, f->exec_path);
        fr_func_start_failed(f, 0);

    } else if (starting) {
        fr_log(FR_LOG_ERR, 0, "worker %d of \"%s\" %s before it was ready",
               (int) w->pid, f->name, how);
        fr_func_start_failed(f, WIFSIGNALED(status));

    } else if (w->per_request) {
        /* the end of a request's process: its exit is its answer's end */
        fr_log_error(w->killed ? FR_LOG_INFO : FR_LOG_DEBUG, 0,
                     "worker %d of \"%s\" %s", (int) w->pid, f->name, how);
    }

    if (w->why == FR_STOP_BROKEN && WIFSIGNALED(status)
        && WTERMSIG(status) != SIGKILL && WTERMSIG(status) != SIGTERM)
    {
        /* it broke its request by dying: a crash */
        w->why = FR_STOP_CRASHED;
    }

    if (w->why == FR_STOP_NONE && (starting || !w->per_request)) {
        /* it ended on its own */
        w->why = starting ? FR_STOP_FAILED
                          : (w->state == FR_WORKER_BUSY ? FR_STOP_CRASHED
                                                        : FR_STOP_EXITED);
    }

    if (!w->exec_failed && w->ops->reaped(w) == FR_DONE) {
        return;
    }

    if (!w->exec_failed && !starting && !w->per_request) {
        /* after its mode's look: what it answered before its end */
        level = (!w->killed && w->req) ? FR_LOG_ERR : FR_LOG_INFO;

        fr_log_error(level, 0, "worker %d of \"%s\" %s%s", (int) w->pid,
                     f->name, how, w->req ? " while serving a request" : "");
    }

    r = w->req;
    w->req = NULL;

    fr_worker_set_state(w, FR_WORKER_STOPPING);

    if (r && r->meter && (r->cpu_us < 0 || r->max_memory_kb < 0)
        && !w->per_request)
    {
        /* it died with the request (fr_worker_failed): its rusage */
        fr_meter_stop(w, r);
    }

    if (r) {
        r->worker = NULL;
        fr_req_ops->fail(r, w->exec_failed ? FR_OUTCOME_ERROR
                                      : FR_OUTCOME_CRASHED);
    }

    fr_worker_free(w);
}


void
fr_workers_stop_all(int sig)
{
    fr_link_t    *l, *next;
    fr_worker_t  *w;

    for (l = fr_list_first(&fr_runner.workers); l != &fr_runner.workers;
         l = next)
    {
        next = l->next;
        w = fr_list_data(l, fr_worker_t, all);

        if (w->state != FR_WORKER_STOPPING || sig == SIGKILL) {
            fr_worker_stop(w, FR_STOP_SHUTDOWN, sig, FR_STOP_GRACE);
        }
    }
}
