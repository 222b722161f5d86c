/*
 * Copyright (C) ngx_faas developers
 *
 * What no invocation used, still its function's: a FastCGI worker's CPU
 * between its invocations, and what a prototype's pid namespace reaped
 * that no one invocation could be billed (fr_meter.c's orphans), both
 * summed and written into meter_log as lines of trigger "idle"; the
 * runner's look at its idle workers every meter_idle_interval.
 */

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "faas_protocol.h"
#include "fr_func.h"
#include "fr_meter.h"
#include "fr_pids.h"
#include "fr_proto.h"


#define FR_METER_IDLE_MIN  100000   /* us of idle CPU: a meter_log line */
#define FR_METER_IDLE_EVERY_MIN  1000     /* ms: meter_idle_interval, least */


static void fr_meter_idle_line(fr_func_t *f, int64_t cpu_us, pid_t pid);
static u_char *fr_meter_idle_record(u_char *p, u_char *e, int64_t cpu_us,
    pid_t pid, int64_t memory);
static void fr_meter_idle_look(fr_timer_t *t);
static void fr_meter_idle_again(void);
static void fr_meter_proto_end(fr_proto_t *p, int64_t reaped_us);
static int fr_meter_holds(pid_t pid);
static void fr_meter_killed(fr_proto_t *p);
static void fr_meter_zygote(fr_proto_t *p, int64_t us, int end);
static int fr_meter_unbilled(pid_t sid);
static fr_proto_t *fr_meter_ns_proto(fr_link_t *head, ino_t ns);


static fr_timer_t  fr_meter_idle_timer;
/* prototypes freed whose namespace's process 1 is not reaped yet */
static fr_link_t   fr_meter_ends = { &fr_meter_ends, &fr_meter_ends };

/* prototypes and zygotes killed lately: their sessions bill nobody */
#define FR_METER_KILLED_KEEP  60000000    /* us */

typedef struct {
    pid_t      pid;
    uint64_t   until;                     /* fr_current_usec */
} fr_meter_killed_t;

static fr_meter_killed_t  *fr_meter_gone;
static size_t              fr_meter_ngone;
static size_t              fr_meter_gone_size;


/*
 * A worker's CPU between its invocations (its start, a thread or a
 * child that works on after a response, a timer): nobody's invocation,
 * still its function's. Summed per worker from its own CPU (orphans
 * are billed with invocations) and written into meter_log as a line of
 * trigger "idle" (duration 0, no invocation) once it reaches 100 ms at
 * an invocation's start or at its end; less is carried on (and lost at
 * its end: 100 ms a worker at most). own: its CPU now, -1 unknown.
 */

void
fr_meter_idle(fr_worker_t *w, int64_t own, int looked)
{
    if (!looked) {
        /* those it reaped since: their credit first; an ended one's
         * settled (fr_meter_kin.c) */
        w->cpu_idle += fr_meter_kin_look(w, 0) + w->kin_busy;
        w->kin_busy = 0;
    }

    if (own < 0 || w->per_request) {
        return;
    }

    if (w->cpu_unknown) {
        /* an invocation nobody metered (stock fastcgi_pass) ran since:
         * its CPU is not idle, and is not told apart */
        w->cpu_unknown = 0;
        w->cpu_mark = own;
        w->cpu_idle = 0;
        return;
    }

    if (own > w->cpu_mark) {
        w->cpu_idle += fr_meter_credit(w, own - w->cpu_mark);
    }

    w->cpu_mark = own;

    if (w->cpu_idle < FR_METER_IDLE_MIN) {
        return;
    }

    fr_meter_idle_line(w->func, w->cpu_idle, w->pid);
    w->cpu_idle = 0;
}


/*
 * Every meter_idle_interval, the idle workers' CPU since it was last
 * looked at: a worker no request reaches and that does not end (kept by
 * min_instances) is billed what it burns as it burns it, not at its end.
 * Not looked at while meter_log is unset (nowhere to write it); 0: only
 * at invocations and ends.
 */

void
fr_meter_idle_init(void)
{
    static int64_t  armed = -1;

    fr_meter_idle_timer.handler = fr_meter_idle_look;
    fr_proto_meter_end = fr_meter_proto_end;
    fr_proto_meter_holds = fr_meter_holds;
    fr_proto_meter_killed = fr_meter_killed;

    /* a reload re-arms it only when it changes it */
    if (armed != fr_runner.conf.meter_idle_interval) {
        armed = fr_runner.conf.meter_idle_interval;
        fr_meter_idle_again();
    }
}


static void
fr_meter_idle_again(void)
{
    int64_t  ms;

    /* 0: looked at again in a minute, for a reload that sets it */
    ms = fr_runner.conf.meter_idle_interval;
    ms = (ms == 0) ? 60000 : (ms < FR_METER_IDLE_EVERY_MIN)
                             ? FR_METER_IDLE_EVERY_MIN : ms;

    fr_timer_add(&fr_meter_idle_timer, (uint64_t) ms);
}


static void
fr_meter_idle_look(fr_timer_t *t)
{
    int64_t      ms;
    long long    ticks;
    fr_link_t    *l;
    fr_proto_t   *p, *root;
    fr_worker_t  *w;

    static unsigned  look;

    (void) t;

    look++;

    /*
     * What no live worker's session holds in a pid namespace (a daemon
     * a worker or an app's import made, setsid and double fork) is
     * killed at a worker's end; a namespace whose workers never end
     * (min_instances, max_requests = 0) is swept here, each look, with
     * or without meter_log: else it worked unbilled, unbounded. What it
     * used is process 1's to reap, billed below. One retired (more than
     * a sweep holds: 256 a look) changed the list: the next look goes
     * on.
     */
    for (l = fr_list_first(&fr_runner.protos); l != &fr_runner.protos;
         l = l->next)
    {
        p = fr_list_data(l, fr_proto_t, link);
        root = p->parent ? p->parent : p;

        /* with live workers (one without was swept as its last ended),
         * retired too: its namespace lives on with them; once a look (a
         * zygote's is its prototype's: each killed twice, said twice) */
        if (p->refs && root->init && root->looked != look) {
            root->looked = look;

            if (fr_proto_strays(p) != FR_OK) {
                break;
            }
        }
    }

    /* what the prototypes' namespaces reaped that nobody was billed */
    for (l = fr_list_first(&fr_runner.protos);
         l != &fr_runner.protos && fr_runner.conf.meter_log != NULL
         && fr_runner.conf.meter_idle_interval != 0;
         l = l->next)
    {
        p = fr_list_data(l, fr_proto_t, link);
        ticks = (p->init_stat != -1) ? fr_meter_reaped_ticks(p->init_stat)
                                     : -1;

        /* not while its only worker's invocation counts them its own */
        if (ticks >= 0 && !p->orphans_owned) {
            p->orphans_read = fr_current_usec;
            fr_meter_orphans_idle(p, ticks, 0);
        }
    }

    /* a runtime's zygotes: the import, the forks, the app at work */
    for (l = fr_list_first(&fr_runner.protos);
         l != &fr_runner.protos && fr_runner.conf.meter_log != NULL
         && fr_runner.conf.meter_idle_interval != 0;
         l = l->next)
    {
        p = fr_list_data(l, fr_proto_t, link);

        if (p->zygote && p->pid > 0 && (ms = fr_proc_cpu_ms(p->pid)) >= 0) {
            fr_meter_zygote(p, ms * 1000, 0);
        }
    }

    for (l = fr_list_first(&fr_runner.workers);
         l != &fr_runner.workers && fr_runner.conf.meter_log != NULL
         && fr_runner.conf.meter_idle_interval != 0;
         l = l->next)
    {
        w = fr_list_data(l, fr_worker_t, all);

        if (w->per_request || w->reaped || fr_meter_proc_open(w) != FR_OK) {
            continue;
        }

        /* its live descendants' (fr_meter_kin.c): a busy one's are its
         * invocation's */
        if (w->state == FR_WORKER_IDLE && w->req == NULL) {
            w->cpu_idle += fr_meter_kin_look(w, 1);
            fr_meter_idle(w, fr_meter_cpu(w, 0), 1);
            continue;
        }

        w->kin_busy += fr_meter_kin_look(w, 1);

        if (w->cpu_idle >= FR_METER_IDLE_MIN) {
            fr_meter_idle_line(w->func, w->cpu_idle, w->pid);
            w->cpu_idle = 0;
        }
    }

    fr_meter_idle_again();
}


/* a meter_log line of trigger "idle": CPU no invocation used */

static void
fr_meter_idle_line(fr_func_t *f, int64_t cpu_us, pid_t pid)
{
    u_char  rec[FR_METER_RECORD_MAX], *p, *e;

    p = rec;
    e = rec + sizeof(rec);

    p = fr_meter_pair(p, e, FAAS_METER_TENANT, f->tenant);
    p = fr_meter_idle_record(p, e, cpu_us, pid, f->conf.memory);

    fr_meter_log_write(f->name, "idle", "-", 0, rec, p - rec);
}


static u_char *
fr_meter_idle_record(u_char *p, u_char *e, int64_t cpu_us, pid_t pid,
    int64_t memory)
{
    p = fr_meter_pair(p, e, FAAS_METER_OUTCOME, "ok");
    p = fr_meter_num(p, e, FAAS_METER_DURATION, 0);
    p = fr_meter_num(p, e, FAAS_METER_COLD, 0);
    p = fr_meter_num(p, e, FAAS_METER_CPU, cpu_us);
    p = fr_meter_num(p, e, FAAS_METER_WORKER, pid);

    return fr_meter_num(p, e, FAAS_METER_MEMORY_SIZE, memory / 1024);
}


/*
 * A worker reaped: what it used since its last invocation (wait4()'s
 * figure is its own and its waited children's, as fr_meter_cpu()
 * without orphans; under a faas-init of its own, init's, orphans in)
 */

void
fr_meter_worker_end(fr_worker_t *w)
{
    if (w->proto != NULL) {
        /* an invocation dropped unmetered counts its orphans no more */
        w->proto->orphans_owned = 0;
    }

    if (w->reaped && !w->init && w->req == NULL) {
        /* its descendants settled first (fr_meter_kin_look) */
        fr_meter_idle(w, w->ru_cpu_us, 0);

    } else {
        w->cpu_idle += fr_meter_kin_look(w, 0) + w->kin_busy;
    }

    fr_meter_kin_end(w);

    /* under 100 ms left: its function's, summed over its workers' ends
     * (with max_requests = 1, an end an invocation), as strays are; what
     * is left of that as the function is freed, lost (a reload's) */
    if (w->cpu_idle > 0 && w->func != NULL) {
        w->func->strays_us += w->cpu_idle;
        w->cpu_idle = 0;

        if (w->func->strays_us >= FR_METER_IDLE_MIN) {
            fr_meter_idle_line(w->func, w->func->strays_us, w->pid);
            w->func->strays_us = 0;
        }
    }
}



/*
 * The orphans' CPU up to ticks that no invocation took: summed per
 * prototype and written as an idle line from 100 ms ("end": whatever
 * there is, the prototype ending).
 */

void
fr_meter_orphans_idle(fr_proto_t *p, long long ticks, int end)
{
    u_char  rec[FR_METER_RECORD_MAX], *e, *q;

    if (ticks > p->orphans_mark) {
        p->orphans_idle += fr_meter_ticks_us(ticks - p->orphans_mark);
        p->orphans_mark = ticks;
    }

    if (p->orphans_idle < (end ? 1000 : FR_METER_IDLE_MIN)) {
        return;
    }

    q = rec;
    e = rec + sizeof(rec);

    q = fr_meter_pair(q, e, FAAS_METER_TENANT, p->tenant);
    q = fr_meter_idle_record(q, e, p->orphans_idle, p->init ? p->init : p->pid,
                             p->memory);

    fr_meter_log_write(p->name, "idle", "-", 0, rec, q - rec);

    p->orphans_idle = 0;
}


/*
 * A prototype's process 1 reaped: what it and the processes it reaped
 * used (wait4()'s figure, in microseconds) since the last read, of
 * which its own start is a few ms: its function's all the same
 */

static void
fr_meter_proto_end(fr_proto_t *p, int64_t reaped_us)
{
    int64_t    read_us;
    long long  ticks;

    if (reaped_us < 0) {
        /* freed: what it reaped so far now (a runner that stops waits
         * for no reap), kept for its process 1's figure */
        ticks = fr_meter_reaped_ticks(p->init_stat);

        if (ticks >= 0) {
            fr_meter_orphans_idle(p, ticks, 0);
        }

        fr_list_insert_tail(&fr_meter_ends, &p->link);
        return;
    }

    read_us = fr_meter_ticks_us(p->orphans_mark);

    if (reaped_us > read_us) {
        p->orphans_idle += reaped_us - read_us;
    }

    p->orphans_mark = LLONG_MAX;
    fr_meter_orphans_idle(p, 0, 1);
}


/*
 * A runtime's zygote: its import, its forks and what its app does in it
 * serve no invocation, still its function's: billed as idle CPU at each
 * look, at its kill and at its reap (us: its CPU so far), once.
 */

static void
fr_meter_zygote(fr_proto_t *p, int64_t us, int end)
{
    if (fr_runner.conf.meter_log == NULL) {
        return;
    }

    if (us > p->cpu_billed) {
        p->orphans_idle += us - p->cpu_billed;
        p->cpu_billed = us;
    }

    fr_meter_orphans_idle(p, 0, end);
}


/* a child reaped: a freed prototype's process 1, its last figure billed;
 * a zygote's last CPU (it is the prototype list's to forget) */

int
fr_meter_init_reaped(pid_t pid, int64_t reaped_us)
{
    fr_link_t   *l;
    fr_proto_t  *p;

    for (l = fr_list_first(&fr_runner.protos); l != &fr_runner.protos;
         l = l->next)
    {
        p = fr_list_data(l, fr_proto_t, link);

        if (p->zygote && p->pid == pid) {
            fr_meter_zygote(p, reaped_us, 1);
            return 0;
        }
    }

    for (l = fr_list_first(&fr_meter_ends); l != &fr_meter_ends;
         l = l->next)
    {
        p = fr_list_data(l, fr_proto_t, link);

        if (p->init == pid) {
            fr_meter_proto_end(p, reaped_us);
            fr_list_remove(&p->link);
            free(p->name);
            fr_free_later(p);
            return 1;
        }
    }

    return 0;
}


/*
 * A child of the runner's that is no worker, prototype nor process 1,
 * looked at as a zombie before its reap: what a worker orphaned outside
 * a pid namespace (the runner is a subreaper) or made the runner's own
 * with clone(CLONE_PARENT). Whose it was: the worker's whose session it
 * is in; else the prototype's whose pid namespace it is in (billed by
 * the prototype's name and tenant, which a reload cannot hand to
 * another); else, under a root runner, the function of a worker of its
 * user, when every function of that user is one tenant's (a helper in a
 * session of its own with no namespace to tell). Nobody's: root's, the
 * runner's own, a user that tenants share, a zygote's session (its
 * spare; the zygote is billed itself, fr_meter_zygote()).
 */

int
fr_meter_stray_owner(pid_t pid, fr_meter_owner_t *o)
{
    char          state;
    ino_t         ns;
    uid_t         uid;
    pid_t         sid, ppid;
    fr_link_t    *l;
    fr_func_t    *f, *g;
    fr_proto_t   *p;
    fr_worker_t  *w;

    static ino_t  own_ns;

    o->func = NULL;
    o->proto = NULL;

    if (fr_runner.conf.meter_log == NULL) {
        /* nowhere to bill it: no look */
        return 0;
    }

    sid = fr_proc_stat(pid, &state, &ppid);
    uid = fr_proc_owner(pid);

    if (sid <= 0 || uid == (uid_t) -1 || fr_meter_unbilled(sid)) {
        return 0;
    }

    f = NULL;

    for (l = fr_list_first(&fr_runner.workers); l != &fr_runner.workers;
         l = l->next)
    {
        w = fr_list_data(l, fr_worker_t, all);

        if (w->reaped || w->uid != uid) {
            continue;
        }

        if (w->pid == sid) {
            o->func = w->func;
            return 1;
        }

        f = (f == NULL) ? w->func : f;
    }

    if (own_ns == 0) {
        own_ns = fr_pid_ns(getpid());
    }

    ns = fr_pid_ns(pid);

    /* the live prototypes, then the freed ones whose 1 is not reaped */
    if (ns != 0 && ns != own_ns
        && ((p = fr_meter_ns_proto(&fr_runner.protos, ns)) != NULL
            || (p = fr_meter_ns_proto(&fr_meter_ends, ns)) != NULL))
    {
        o->proto = p;
        return 1;
    }

    if (!fr_runner.is_root || uid == 0) {
        return 0;
    }

    /* a user that more than one tenant's functions run as tells none */
    for (l = fr_list_first(&fr_runner.funcs); l != &fr_runner.funcs;
         l = l->next)
    {
        g = fr_list_data(l, fr_func_t, link);

        if (!g->set_user || g->uid != uid) {
            continue;
        }

        if (f != NULL && strcmp(f->tenant, g->tenant) != 0) {
            return 0;
        }

        f = (f == NULL) ? g : f;
    }

    o->func = f;

    return f != NULL;
}


static fr_proto_t *
fr_meter_ns_proto(fr_link_t *head, ino_t ns)
{
    fr_link_t   *l;
    fr_proto_t  *p;

    for (l = fr_list_first(head); l != head; l = l->next) {
        p = fr_list_data(l, fr_proto_t, link);

        if (p->init != 0 && p->init_ns == ns) {
            return p;
        }
    }

    return NULL;
}


/* such a child reaped: what it used (wait4()'s), its function's, from
 * 100 ms in meter_log as the function's idle CPU */

void
fr_meter_stray(fr_meter_owner_t *o, pid_t pid, int64_t us)
{
    if (us <= 0) {
        return;
    }

    if (o->proto != NULL) {
        o->proto->orphans_idle += us;
        fr_meter_orphans_idle(o->proto, 0, 0);
        return;
    }

    if (o->func == NULL) {
        return;
    }

    o->func->strays_us += us;

    if (o->func->strays_us >= FR_METER_IDLE_MIN) {
        fr_meter_idle_line(o->func, o->func->strays_us, pid);
        o->func->strays_us = 0;
    }
}


/* a prototype or zygote killed: its session is nobody's to bill while
 * what is in it may be reaped; a zygote's own CPU up to its kill (its
 * stat read as it dies) billed */

static void
fr_meter_killed(fr_proto_t *p)
{
    size_t              i, n;
    int64_t             ms;
    fr_meter_killed_t  *k;

    if (p->zygote && (ms = fr_proc_cpu_ms(p->pid)) >= 0) {
        fr_meter_zygote(p, ms * 1000, 1);
    }

    for (i = 0, n = 0; i < fr_meter_ngone; i++) {
        if (fr_meter_gone[i].until > fr_current_usec) {
            fr_meter_gone[n++] = fr_meter_gone[i];
        }
    }

    fr_meter_ngone = n;

    if (n == fr_meter_gone_size) {
        k = realloc(fr_meter_gone, (2 * n + 16) * sizeof(*k));

        if (k == NULL) {
            return;
        }

        fr_meter_gone = k;
        fr_meter_gone_size = 2 * n + 16;
    }

    fr_meter_gone[n].pid = p->pid;
    fr_meter_gone[n].until = fr_current_usec + FR_METER_KILLED_KEEP;
    fr_meter_ngone++;
}


/* in the session of a zygote alive or killed lately (or a prototype) */

static int
fr_meter_unbilled(pid_t sid)
{
    size_t       i;
    fr_link_t   *l;

    for (i = 0; i < fr_meter_ngone; i++) {
        if (fr_meter_gone[i].pid == sid
            && fr_meter_gone[i].until > fr_current_usec)
        {
            return 1;
        }
    }

    for (l = fr_list_first(&fr_runner.protos); l != &fr_runner.protos;
         l = l->next)
    {
        if (fr_list_data(l, fr_proto_t, link)->pid == sid) {
            return 1;
        }
    }

    return 0;
}


/* a freed prototype's process 1 not reaped yet (a runner that stops
 * waits for it, within its deadline: it bills what it reaped) */

int
fr_meter_ending(void)
{
    return !fr_list_empty(&fr_meter_ends);
}


/* a process 1 of a freed prototype, not reaped yet: no worker's pid */

static int
fr_meter_holds(pid_t pid)
{
    fr_link_t  *l;

    for (l = fr_list_first(&fr_meter_ends); l != &fr_meter_ends;
         l = l->next)
    {
        if (fr_list_data(l, fr_proto_t, link)->init == pid) {
            return 1;
        }
    }

    return 0;
}
