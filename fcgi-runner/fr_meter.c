/*
 * Copyright (C) ngx_faas developers
 *
 * What one invocation used. For a reused worker the figures are taken
 * across the invocation: CPU of the function's process, all its threads
 * and the children it waited for (fr_meter_cpu_us), the peak resident
 * set from VmHWM after resetting it through /proc/PID/clear_refs. A CGI
 * process's come from wait4() when it is reaped in time, else from /proc
 * as for a worker.
 */

#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "faas_protocol.h"
#include "fr_fcgi.h"
#include "fr_meter.h"
#include "fr_pids.h"
#include "fr_proto.h"


#define FR_METER_ORPHANS_EVERY  1000000   /* us: a prototype's orphans */


static int fr_meter_pread(int fd, char *buf, size_t size);
static pid_t fr_meter_function_pid(fr_worker_t *w);
static pid_t fr_meter_parent(pid_t pid);
static int64_t fr_meter_cpu_us(fr_worker_t *w);
static int64_t fr_meter_hwm_kb(fr_worker_t *w);
static void fr_meter_peak_reset(fr_worker_t *w);
static void fr_meter_orphans(fr_worker_t *w, fr_req_t *r, int fresh);


static const char  *fr_outcomes[] = {
    [FR_OUTCOME_OK] = "ok",
    [FR_OUTCOME_NOT_FOUND] = "not_found",
    [FR_OUTCOME_THROTTLED] = "throttled",
    [FR_OUTCOME_TIMEOUT] = "timeout",
    [FR_OUTCOME_CRASHED] = "crashed",
    [FR_OUTCOME_ERROR] = "error",
    [FR_OUTCOME_ACCEPTED] = "accepted",
    [FR_OUTCOME_CLIENT_CLOSED] = "client_closed"
};


/* the status the runner answers a request with for its outcome */
static const int  fr_outcome_statuses[] = {
    [FR_OUTCOME_OK] = 200,
    [FR_OUTCOME_NOT_FOUND] = 404,
    [FR_OUTCOME_THROTTLED] = 503,
    [FR_OUTCOME_TIMEOUT] = 504,
    [FR_OUTCOME_CRASHED] = 502,
    [FR_OUTCOME_ERROR] = 502,
    [FR_OUTCOME_ACCEPTED] = 202,
    [FR_OUTCOME_CLIENT_CLOSED] = 502
};


const char *
fr_outcome_name(fr_outcome_e outcome)
{
    return fr_outcomes[outcome];
}


int
fr_outcome_status(fr_outcome_e outcome)
{
    return fr_outcome_statuses[outcome];
}


int
fr_meter_proc_open(fr_worker_t *w)
{
    char   path[64];
    pid_t  pid;

    if (w->proc_status > 0) {
        return FR_OK;
    }

    pid = fr_meter_function_pid(w);
    if (pid == -1) {
        return FR_ERROR;
    }

    w->proc_pid = pid;

    snprintf(path, sizeof(path), "/proc/%d/stat", (int) pid);
    w->proc_stat = open(path, O_RDONLY | O_CLOEXEC);

    snprintf(path, sizeof(path), "/proc/%d/status", (int) pid);
    w->proc_status = open(path, O_RDONLY | O_CLOEXEC);

    if (w->init) {
        /* what faas-init reaps: the orphans the function left */
        snprintf(path, sizeof(path), "/proc/%d/stat", (int) w->pid);
        w->proc_init_stat = open(path, O_RDONLY | O_CLOEXEC);
    }

    snprintf(path, sizeof(path), "/proc/%d/clear_refs", (int) pid);
    w->proc_clear_refs = open(path, O_WRONLY | O_CLOEXEC);

    if (w->proc_status <= 0) {
        /* none kept half open: the next look opens them again */
        fr_meter_proc_close(w);
        return FR_ERROR;
    }

    return FR_OK;
}


void
fr_meter_proc_close(fr_worker_t *w)
{
    if (w->proc_stat > 0) {
        close(w->proc_stat);
    }

    if (w->proc_status > 0) {
        close(w->proc_status);
    }

    if (w->proc_init_stat > 0) {
        close(w->proc_init_stat);
    }

    if (w->proc_clear_refs > 0) {
        close(w->proc_clear_refs);
    }

    w->proc_stat = w->proc_status = w->proc_clear_refs = 0;
    w->proc_init_stat = 0;
}


/*
 * The process that runs the function: the worker's own, or under
 * faas-init (isolation = pid) init's child, whose pid in our namespace
 * is found by its parent: most often the next pid, else by a look
 * through /proc. Once per worker, kept with its /proc files.
 */

static pid_t
fr_meter_function_pid(fr_worker_t *w)
{
    int             i;
    DIR            *proc;
    pid_t           pid;
    struct dirent  *de;

    if (!w->init) {
        return w->pid;
    }

    for (i = 1; i <= 8; i++) {
        if (fr_meter_parent(w->pid + i) == w->pid) {
            return w->pid + i;
        }
    }

    proc = opendir("/proc");
    if (proc == NULL) {
        return -1;
    }

    pid = -1;

    while (pid == -1 && (de = readdir(proc)) != NULL) {
        if (isdigit((u_char) de->d_name[0])
            && fr_meter_parent(atoi(de->d_name)) == w->pid)
        {
            pid = atoi(de->d_name);
        }
    }

    closedir(proc);

    return pid;
}


static pid_t
fr_meter_parent(pid_t pid)
{
    char   state;
    pid_t  ppid;

    return fr_proc_stat(pid, &state, &ppid) == -1 ? -1 : ppid;
}


/* a /proc file read afresh, as a string; FR_ERROR when it cannot be */

static int
fr_meter_pread(int fd, char *buf, size_t size)
{
    ssize_t  n;

    if (fd <= 0) {
        return FR_ERROR;
    }

    n = pread(fd, buf, size - 1, 0);
    if (n <= 0) {
        return FR_ERROR;
    }

    buf[n] = '\0';

    return FR_OK;
}


/*
 * The CPU the function's process has used, in microseconds: user and
 * system time of all its threads, those that ended included, plus that
 * of the children it has waited for (which wait4() also counts) and,
 * under faas-init, of the orphans it left that faas-init reaped. The
 * threads' part from the process's CPU clock (nanoseconds), the
 * children's from /proc/PID/stat (cutime and cstime, clock ticks: the
 * kernel keeps no finer sum of them). The stat file, read through its
 * descriptor, fails once the process is gone, so the clock, named by
 * pid, is read only while that pid is still the function's.
 */

static int64_t
fr_meter_cpu_us(fr_worker_t *w)
{
    return fr_meter_cpu(w, 1);
}


/* without the orphans: the process's own and its waited children's */

int64_t
fr_meter_cpu(fr_worker_t *w, int orphans_too)
{
    clockid_t         clock;
    long long         ticks, orphans;
    struct timespec   ts;

    static long       hz;

    ticks = fr_meter_reaped_ticks(w->proc_stat);

    if (ticks < 0
        || clock_getcpuclockid(w->proc_pid, &clock) != 0
        || clock_gettime(clock, &ts) == -1)
    {
        return -1;
    }

    if (orphans_too && w->proc_init_stat > 0) {
        orphans = fr_meter_reaped_ticks(w->proc_init_stat);
        ticks += orphans > 0 ? orphans : 0;
    }

    if (hz == 0) {
        hz = sysconf(_SC_CLK_TCK);
        hz = hz > 0 ? hz : 100;
    }

    return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000
           + ticks * 1000000 / hz;
}


/* cutime + cstime of a /proc/PID/stat: the CPU of reaped children */

long long
fr_meter_reaped_ticks(int fd)
{
    int         i;
    char        buf[1024], *p;
    long long   ticks;

    if (fr_meter_pread(fd, buf, sizeof(buf)) != FR_OK) {
        return -1;
    }

    /* "pid (comm) state ppid ...": comm may hold anything but its end */
    p = strrchr(buf, ')');

    /* to the 16th field, cutime; the 17th, cstime, follows */
    for (i = 2; i < 16 && p != NULL; i++) {
        p = strchr(p + 1, ' ');
    }

    if (p == NULL) {
        return -1;
    }

    ticks = strtoll(p + 1, &p, 10);

    return ticks + strtoll(p, NULL, 10);
}


static int64_t
fr_meter_hwm_kb(fr_worker_t *w)
{
    char  buf[2048], *p;

    if (fr_meter_pread(w->proc_status, buf, sizeof(buf)) != FR_OK) {
        return -1;
    }

    p = strstr(buf, "\nVmHWM:");
    if (p == NULL) {
        return -1;
    }

    return strtoll(p + 7, NULL, 10);
}


/* the request is handed to the worker */

void
fr_meter_start(fr_worker_t *w, fr_req_t *r)
{
    r->t_assigned = fr_current_usec;
    r->queue_us = (int64_t) (r->t_assigned - r->t_queued);
    r->worker_pid = w->pid;

    /*
     * The orphans a prototype's namespace reaps are its function's,
     * not one worker's: billed to an invocation only when no other
     * worker of its prototype lived or started meanwhile, never twice;
     * what they used outside one is its function's idle CPU.
     */
    r->orphans_start = -1;
    r->orphans_us = 0;
    r->orphans_forks = w->proto ? w->proto->forks : 0;
    r->kin_us = 0;
    r->credit_us = 0;

    if (r->meter && w->proto && w->proto->refs == 1
        && fr_meter_reaper(w) == w->proto)
    {
        r->orphans_start = fr_meter_reaped_ticks(w->proto->init_stat);

        if (r->orphans_start >= 0) {
            fr_meter_orphans_idle(w->proto, r->orphans_start, 0);
            w->proto->orphans_owned = 1;
        }
    }

    if (w->per_request) {
        /* every CGI invocation waits for its process */
        r->cold = 1;
        return;
    }

    /* cold: the first request of a worker that was not ready when it came */
    if (w->requests == 0 && r->t_queued < w->ready_at) {
        r->cold = 1;
        r->init_us = (int64_t) (w->ready_at - w->spawned);

    } else {
        r->init_us = 0;
    }

    if (!r->meter || fr_meter_proc_open(w) != FR_OK) {
        /* nothing to take a difference from, then or at its reap; nor
         * can what it uses between invocations be told from this one */
        w->cpu_unknown = 1;
        r->cpu_start = (uint64_t) -1;
        return;
    }

    fr_meter_peak_reset(w);

    r->cpu_start = (uint64_t) fr_meter_cpu_us(w);

    /* what it used since its last invocation: not this one's */
    fr_meter_idle(w, fr_meter_cpu(w, 0), 0);
}


/* the response ended, or the invocation is cut short */

void
fr_meter_stop(fr_worker_t *w, fr_req_t *r)
{
    int64_t   cpu, d;
    uint64_t  from;

    if (w->per_request && r->after_response) {
        /* a CGI's work after its response: from fr_meter_restart on,
         * the response's part is on nginx's line */
        r->duration_us = (int64_t) (fr_current_usec - r->t_assigned);
        cpu = w->reaped ? w->ru_cpu_us
              : (fr_meter_proc_open(w) == FR_OK ? fr_meter_cpu_us(w) : -1);

        if (cpu >= 0 && r->cpu_start != (uint64_t) -1
            && (uint64_t) cpu >= r->cpu_start)
        {
            r->cpu_us = (int64_t) ((uint64_t) cpu - r->cpu_start);
        }

        r->max_memory_kb = w->reaped ? w->ru_maxrss_kb : fr_meter_hwm_kb(w);

        return;
    }

    if (w->per_request) {
        /*
         * A process per request: its duration spans what its CPU
         * spans, the whole process from its spawn (init, the part
         * before its program ran, included), so that cpu is never
         * more than duration for one thread
         */
        from = w->spawned ? w->spawned : r->t_assigned;
        r->init_us = w->ready_at ? (int64_t) (w->ready_at - w->spawned) : 0;
        r->duration_us = (int64_t) (fr_current_usec - from);

        cpu = -1;

        if (w->reaped) {
            cpu = w->ru_cpu_us;
            r->max_memory_kb = w->ru_maxrss_kb;

        } else if (fr_meter_proc_open(w) == FR_OK) {
            cpu = fr_meter_cpu_us(w);
            r->max_memory_kb = fr_meter_hwm_kb(w);
        }

        fr_meter_orphans(w, r, cpu >= 0);

        if (cpu >= 0) {
            r->cpu_us = cpu + r->orphans_us;
        }

        return;
    }

    if (!w->reaped || r->duration_us < 0) {
        /* measured at its failure: the wait for its reap is not billed */
        r->duration_us = (int64_t) (fr_current_usec - r->t_assigned);
    }

    /* the credit of those it reaped meanwhile, the use of the others
     * (kept on r: a failed one is measured again at its reap) */
    r->kin_us += fr_meter_kin_look(w, 0) + w->kin_busy;
    w->kin_busy = 0;

    /*
     * A worker that died with the request: what wait4() said of its
     * whole life (its waited children and, under faas-init, its init
     * with it), less what it had used before; its peak, the life's
     */
    cpu = w->reaped ? w->ru_cpu_us : fr_meter_cpu_us(w);

    if (cpu >= 0 && (uint64_t) cpu >= r->cpu_start) {
        fr_meter_orphans(w, r, 1);
        /* less what a look billed ahead of what it reaped meanwhile
         * (taken again from what this one took before); plus what its
         * live descendants used while it ran, looked at */
        w->cpu_credit += r->credit_us;
        d = (int64_t) ((uint64_t) cpu - r->cpu_start);
        r->credit_us = d - fr_meter_credit(w, d);
        r->cpu_us = d - r->credit_us + r->orphans_us + r->kin_us;

    } else {
        fr_meter_orphans(w, r, 0);
    }

    /* from here, what it uses is its own until its next invocation */
    w->cpu_mark = w->reaped ? w->ru_cpu_us : fr_meter_cpu(w, 0);

    if (w->cpu_mark < 0) {
        /* not told: what it uses next is not taken for idle */
        w->cpu_unknown = 1;
    }

    r->max_memory_kb = w->reaped ? w->ru_maxrss_kb : fr_meter_hwm_kb(w);
}


/*
 * The response went with what was measured so far; what the invocation
 * does after it (fastcgi_finish_request()) is measured from now, as a
 * run of its own: not cold (meter_log says so; the status still counts
 * the invocation's cold start and whole duration), nothing queued, no
 * orphans (their CPU went with the response's or goes with the next).
 */

void
fr_meter_restart(fr_worker_t *w, fr_req_t *r)
{
    r->responded_us = r->duration_us > 0 ? r->duration_us : 0;
    r->t_assigned = fr_current_usec;
    r->queue_us = 0;
    r->init_us = 0;
    r->duration_us = -1;
    r->cpu_us = -1;
    r->max_memory_kb = -1;
    r->orphans_start = -1;
    r->orphans_us = 0;
    r->kin_us = 0;
    r->credit_us = 0;

    if (fr_meter_proc_open(w) != FR_OK) {
        r->cpu_start = (uint64_t) -1;
        return;
    }

    fr_meter_peak_reset(w);

    r->cpu_start = (uint64_t) fr_meter_cpu_us(w);
}


/*
 * 5: reset the peak resident set size (Linux 4.0), for the next
 * invocation's; the peak so far is kept first as its function's (the
 * status shows the largest of one worker; wait4()'s is only since)
 */

static void
fr_meter_peak_reset(fr_worker_t *w)
{
    int64_t  kb;

    if (w->proc_clear_refs <= 0) {
        return;
    }

    kb = fr_meter_hwm_kb(w);

    if (kb > w->func->stats.max_memory_kb) {
        w->func->stats.max_memory_kb = kb;
    }

    (void) !pwrite(w->proc_clear_refs, "5", 1, 0);
}


/*
 * What the namespace's process 1 reaped meanwhile: the invocation's
 * (r->orphans_us, kept across a second look at a failed one) if no
 * other worker of its prototype lived or started while it ran and its
 * own CPU was read now ("fresh"), else its function's idle CPU, looked
 * at once a second at most while its workers run at once (a read of
 * /proc saved on their requests' way). A zygote's workers' orphans are
 * reaped by its prototype's process 1: always its function's idle CPU.
 */

static void
fr_meter_orphans(fr_worker_t *w, fr_req_t *r, int fresh)
{
    int          own;
    long long    ticks, from;
    fr_proto_t  *p;

    p = fr_meter_reaper(w);

    if (p == NULL) {
        return;
    }

    p->orphans_owned = 0;

    own = r->orphans_start >= 0 && p == w->proto && p->refs == 1
          && p->forks == r->orphans_forks;

    if ((own && !fresh)
        || (!own
            && fr_current_usec - p->orphans_read < FR_METER_ORPHANS_EVERY))
    {
        /* its own CPU not read now: its orphans are left for a look
         * that reads it (at the reap), or for the function's idle */
        return;
    }

    ticks = fr_meter_reaped_ticks(p->init_stat);

    if (ticks < 0) {
        return;
    }

    p->orphans_read = fr_current_usec;

    if (!own) {
        fr_meter_orphans_idle(p, ticks, 0);
        return;
    }

    /* from where the function's idle CPU stopped: counted once */
    from = r->orphans_start > p->orphans_mark
           ? r->orphans_start : p->orphans_mark;

    if (ticks > from) {
        r->orphans_us += fr_meter_ticks_us(ticks - from);
        /* only up: a mark past it holds what fr_meter_kin_end billed */
        p->orphans_mark = ticks;
    }
}


/* the prototype whose namespace's process 1 reaps w's orphans, if any */

fr_proto_t *
fr_meter_reaper(fr_worker_t *w)
{
    fr_proto_t  *p;

    p = w->proto;

    if (p != NULL && p->init == 0) {
        p = p->parent;
    }

    return (p != NULL && p->init != 0 && p->init_stat != -1) ? p : NULL;
}


/* clock ticks as microseconds */

int64_t
fr_meter_ticks_us(long long ticks)
{
    static long  hz;

    if (hz == 0) {
        hz = sysconf(_SC_CLK_TCK);
        hz = hz > 0 ? hz : 100;
    }

    return (int64_t) ticks * 1000000 / hz;
}


/*
 * A live worker's CPU so far and its peak resident set (since the last
 * metered request reset it), for the status; FR_ERROR if /proc says
 * nothing.
 */

int
fr_meter_live(fr_worker_t *w, int64_t *cpu_us, int64_t *peak_kb)
{
    int64_t  cpu;

    if (w->reaped || w->pid <= 0 || fr_meter_proc_open(w) != FR_OK) {
        return FR_ERROR;
    }

    cpu = fr_meter_cpu_us(w);
    *cpu_us = cpu >= 0 ? cpu : 0;
    *peak_kb = fr_meter_hwm_kb(w);

    return FR_OK;
}


/* a pair that does not fit what is left of the record is left out */

u_char *
fr_meter_pair(u_char *p, u_char *end, const char *name, const char *value)
{
    size_t  nlen, vlen;

    nlen = strlen(name);
    vlen = strlen(value);

    if (fr_fcgi_nv_size(nlen, vlen) > (size_t) (end - p)) {
        return p;
    }

    return fr_fcgi_nv_write(p, (const u_char *) name, nlen,
                            (const u_char *) value, vlen);
}


u_char *
fr_meter_num(u_char *p, u_char *end, const char *name, int64_t value)
{
    char  num[32];

    if (value < 0) {
        return p;
    }

    snprintf(num, sizeof(num), "%lld", (long long) value);

    return fr_meter_pair(p, end, name, num);
}


/*
 * The measurements record into buf (FR_METER_RECORD_MAX bytes: eleven
 * pairs of short names and numbers, names up to 64, so all fit; what
 * would not is left out, never written past the end); returns its size.
 */

size_t
fr_meter_record(fr_req_t *r, u_char *start)
{
    u_char      *p, *e;
    size_t       len;
    fr_func_t   *f;
    const char  *name;

    f = r->func;
    p = start + FR_FCGI_HEADER_LEN;
    e = start + FR_METER_RECORD_MAX;

    name = f ? f->name : NULL;

    if (name) {
        p = fr_meter_pair(p, e, FAAS_METER_FUNCTION, name);
        p = fr_meter_pair(p, e, FAAS_METER_TENANT, f->tenant);
    }

    p = fr_meter_pair(p, e, FAAS_METER_OUTCOME, fr_outcome_name(r->outcome));
    p = fr_meter_num(p, e, FAAS_METER_QUEUE, r->queue_us);

    if (r->t_assigned) {
        p = fr_meter_num(p, e, FAAS_METER_DURATION, r->duration_us);
        p = fr_meter_num(p, e, FAAS_METER_INIT, r->init_us);
        p = fr_meter_num(p, e, FAAS_METER_COLD,
                         r->after_response ? 0 : r->cold);
        p = fr_meter_num(p, e, FAAS_METER_CPU, r->cpu_us);
        p = fr_meter_num(p, e, FAAS_METER_MAX_MEMORY, r->max_memory_kb);
        p = fr_meter_num(p, e, FAAS_METER_WORKER, r->worker_pid);
    }

    if (f) {
        p = fr_meter_num(p, e, FAAS_METER_MEMORY_SIZE, f->conf.memory / 1024);
    }

    len = p - start - FR_FCGI_HEADER_LEN;

    fr_fcgi_write_header(start, FAAS_METER_RECORD, r->id, (uint16_t) len, 0);

    return FR_FCGI_HEADER_LEN + len;
}
