/*
 * Copyright (C) ngx_faas developers
 *
 * A FastCGI function for the tests: QUERY_STRING "op=NAME&n=NUMBER"
 * picks a behaviour, good or bad. TESTFN_EXIT at start makes it a
 * function that cannot start.
 */

#define _GNU_SOURCE      /* CLONE_PARENT */

#include <errno.h>
#include <fcgiapp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sched.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>


extern char **environ;


static long
arg(FCGX_Request *req, const char *name, long def)
{
    char        key[64];
    const char *qs, *p;

    qs = FCGX_GetParam("QUERY_STRING", req->envp);
    if (qs == NULL) {
        return def;
    }

    snprintf(key, sizeof(key), "%s=", name);

    for (p = qs; (p = strstr(p, key)) != NULL; p++) {
        if (p == qs || p[-1] == '&') {
            return atol(p + strlen(key));
        }
    }

    return def;
}


static int
op_is(FCGX_Request *req, const char *op)
{
    char        key[64];
    size_t      n;
    const char *qs, *p;

    qs = FCGX_GetParam("QUERY_STRING", req->envp);
    if (qs == NULL) {
        return strcmp(op, "pid") == 0;
    }

    n = (size_t) snprintf(key, sizeof(key), "op=%s", op);

    for (p = qs; (p = strstr(p, key)) != NULL; p++) {
        if ((p == qs || p[-1] == '&') && (p[n] == '\0' || p[n] == '&')) {
            return 1;
        }
    }

    return strstr(qs, "op=") == NULL && strcmp(op, "pid") == 0;
}


static void
sleep_ms(long ms)
{
    struct timespec  ts;

    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (ms % 1000) * 1000000;
    nanosleep(&ts, NULL);
}


/* ms of CPU on the calling thread's own clock */

static void
burn_ms(long ms)
{
    long             i;
    struct timespec  a, b;
    volatile long    x = 0;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &a);
    do {
        for (i = 0; i < 100000; i++) {
            x += i;
        }
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &b);
    } while ((b.tv_sec - a.tv_sec) * 1000
             + (b.tv_nsec - a.tv_nsec) / 1000000 < ms);
}


/* say=1: what burnt says so on its stderr when done (a test waits for it) */
static int  burn_say;


static void
burn_ms_said(long ms)
{
    burn_ms(ms);

    if (burn_say) {
        (void) dprintf(2, "testfn: burnt %ld ms\n", ms);
    }
}


static void *
burn_thread(void *arg)
{
    burn_ms_said(*(long *) arg);
    return NULL;
}


/* all of n bytes to fd, blocking: 0, or -1 */

static int
write_all(int fd, const void *p, size_t n)
{
    ssize_t  w;

    while (n) {
        w = write(fd, p, n);
        if (w <= 0) {
            return -1;
        }
        p = (const char *) p + w;
        n -= (size_t) w;
    }

    return 0;
}


static long
ru_ms(int who)
{
    struct rusage  ru;

    getrusage(who, &ru);

    return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000
           + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000;
}


static void
handle(FCGX_Request *req)
{
    char    buf[65536], **e;
    long    n, i, got;
    int     c;

    if (op_is(req, "env")) {
        FCGX_PutS("Content-Type: text/plain\r\n\r\n", req->out);
        for (e = req->envp; *e; e++) {
            FCGX_FPrintF(req->out, "PARAM %s\n", *e);
        }
        for (e = environ; *e; e++) {
            FCGX_FPrintF(req->out, "ENV %s\n", *e);
        }
        FCGX_FPrintF(req->out, "UID %d\n", (int) getuid());
        return;
    }

    if (op_is(req, "echo")) {
        FCGX_PutS("Content-Type: application/octet-stream\r\n\r\n", req->out);
        while ((c = FCGX_GetStr(buf, sizeof(buf), req->in)) > 0) {
            FCGX_PutStr(buf, c, req->out);
        }
        return;
    }

    if (op_is(req, "early")) {
        /* answer before reading the body, then count the body */
        FCGX_PutS("Content-Type: text/plain\r\n\r\n", req->out);
        memset(buf, 'e', sizeof(buf));
        for (i = arg(req, "n", 0); i > 0; i -= (long) sizeof(buf)) {
            FCGX_PutStr(buf, i > (long) sizeof(buf) ? (int) sizeof(buf)
                                                   : (int) i, req->out);
        }
        got = 0;
        while ((c = FCGX_GetStr(buf, sizeof(buf), req->in)) > 0) {
            got += c;
        }
        FCGX_FPrintF(req->out, "\nbody=%ld\n", got);
        return;
    }

    if (op_is(req, "big")) {
        /* s: a status; accel: X-Accel-Redirect to /accel/ */
        if (arg(req, "s", 0)) {
            FCGX_FPrintF(req->out, "Status: %ld\r\n", arg(req, "s", 0));
        }
        if (arg(req, "accel", 0)) {
            FCGX_PutS("X-Accel-Redirect: /accel/\r\n", req->out);
        }
        FCGX_PutS("Content-Type: application/octet-stream\r\n\r\n", req->out);
        for (i = 0; i < (long) sizeof(buf); i++) {
            buf[i] = (char) ('a' + i % 26);
        }
        for (i = arg(req, "n", 0); i > 0; i -= (long) sizeof(buf)) {
            FCGX_PutStr(buf, i > (long) sizeof(buf) ? (int) sizeof(buf)
                                                   : (int) i, req->out);
        }
        return;
    }

    if (op_is(req, "stream")) {
        /* n parts of 2 kB, flushed, ms apart */
        FCGX_PutS("Content-Type: text/plain\r\n\r\n", req->out);
        memset(buf, 's', 2048);
        for (i = 0; i < arg(req, "n", 3); i++) {
            FCGX_FPrintF(req->out, "part %ld ", i);
            FCGX_PutStr(buf, 2048, req->out);
            FCGX_PutS("\n", req->out);
            FCGX_FFlush(req->out);
            sleep_ms(arg(req, "ms", 500));
        }
        return;
    }

    if (op_is(req, "fd2")) {
        /* raw bytes on the process's own stderr for ms milliseconds */
        struct timespec  a, b;
        static const char  junk[] = "raw \033[31m red \"quoted\"\n";

        clock_gettime(CLOCK_MONOTONIC, &a);
        do {
            for (i = 0; i < 64; i++) {
                (void) !write(2, junk, sizeof(junk) - 1);
            }
            clock_gettime(CLOCK_MONOTONIC, &b);
        } while ((b.tv_sec - a.tv_sec) * 1000
                 + (b.tv_nsec - a.tv_nsec) / 1000000 < arg(req, "ms", 100));
        FCGX_PutS("Content-Type: text/plain\r\n\r\nwritten\n", req->out);
        return;
    }

    if (op_is(req, "headfirst")) {
        /* the header block alone in its record, the body later */
        FCGX_PutS("Content-Type: text/plain\r\n\r\n", req->out);
        FCGX_FFlush(req->out);
        sleep_ms(arg(req, "ms", 50));
        FCGX_PutS("body after the header\n", req->out);
        return;
    }

    if (op_is(req, "after")) {
        /* the whole response, then work: a marker file ms later */
        FILE             *f;
        char              path[4096];
        const char       *dir;
        struct timespec   ts;

        FCGX_FPrintF(req->out, "Content-Type: text/plain\r\n\r\n"
                     "pid=%d end\n", (int) getpid());
        FCGX_FFlush(req->out);

        /* all of it: libfcgi's SIGTERM handler only marks its shutdown */
        ts.tv_sec = arg(req, "ms", 2000) / 1000;
        ts.tv_nsec = arg(req, "ms", 2000) % 1000 * 1000000;
        while (nanosleep(&ts, &ts) == -1 && errno == EINTR) {
            /* void */
        }

        dir = getenv("TESTFN_MARKER_DIR");
        snprintf(path, sizeof(path), "%s/after-%ld", dir ? dir : ".",
                 arg(req, "n", 0));
        f = fopen(path, "w");
        if (f) {
            fprintf(f, "%d\n", (int) getpid());
            fclose(f);
        }
        return;
    }

    if (op_is(req, "sleep")) {
        sleep_ms(arg(req, "ms", 100));
        FCGX_FPrintF(req->out, "Content-Type: text/plain\r\n\r\n"
                     "slept pid=%d\n", (int) getpid());
        return;
    }

    if (op_is(req, "burn")) {
        /* n ms of CPU, measured on the process's own clock */
        struct timespec  a, b;
        volatile long    x = 0;

        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &a);
        do {
            for (i = 0; i < 100000; i++) {
                x += i;
            }
            clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &b);
        } while ((b.tv_sec - a.tv_sec) * 1000
                 + (b.tv_nsec - a.tv_nsec) / 1000000 < arg(req, "ms", 100));
        FCGX_PutS("Content-Type: text/plain\r\n\r\nburnt\n", req->out);
        return;
    }

    if (op_is(req, "idleburn")) {
        /* n ms of CPU in a detached thread, after the response */
        static long  idle_ms;
        pthread_t    th;

        idle_ms = arg(req, "ms", 100);
        burn_say = (arg(req, "say", 0) != 0);

        if (pthread_create(&th, NULL, burn_thread, &idle_ms) == 0) {
            pthread_detach(th);
        }

        FCGX_PutS("Content-Type: text/plain\r\n\r\nlater\n", req->out);
        return;
    }

    if (op_is(req, "threadburn") || op_is(req, "childburn")) {
        /*
         * n ms of CPU in a joined thread or in a child waited for; the
         * body says what getrusage() counted of it
         */
        long       ms, self, kids;
        pid_t      pid;
        pthread_t  th;

        ms = arg(req, "ms", 100);
        self = ru_ms(RUSAGE_SELF);
        kids = ru_ms(RUSAGE_CHILDREN);

        if (op_is(req, "threadburn")) {
            if (pthread_create(&th, NULL, burn_thread, &ms) == 0) {
                pthread_join(th, NULL);
            }

        } else {
            pid = fork();
            if (pid == 0) {
                burn_ms(ms);
                _exit(0);
            }
            if (pid > 0) {
                waitpid(pid, NULL, 0);
            }
        }

        FCGX_FPrintF(req->out, "Content-Type: text/plain\r\n\r\n"
                     "self_ms=%ld children_ms=%ld\n",
                     ru_ms(RUSAGE_SELF) - self, ru_ms(RUSAGE_CHILDREN) - kids);
        return;
    }

    if (op_is(req, "orphanburn")) {
        /*
         * n ms of CPU in a grandchild whose parent exits at once (an
         * orphan: faas-init's to reap under isolation = pid); it says
         * what it burnt through a pipe, and is waited for by its EOF.
         * clone=1: a child made the runner's (clone(CLONE_PARENT)) burns
         * instead; setsid=1: in a session of its own.
         */
        int              p[2];
        long             ms;
        pid_t            pid;
        struct timespec  ts;

        ms = arg(req, "ms", 100);
        got = -1;

        if (pipe(p) == 0) {
            pid = arg(req, "clone", 0)
                  ? (pid_t) syscall(SYS_clone, CLONE_PARENT | SIGCHLD, 0,
                                    NULL, NULL, 0)
                  : fork();
            if (pid == 0 && arg(req, "clone", 0)) {
                close(p[0]);
                if (arg(req, "setsid", 0)) {
                    (void) setsid();
                }
                burn_ms(ms);
                clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
                got = ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
                (void) !write(p[1], &got, sizeof(got));
                _exit(0);
            }
            if (pid == 0) {
                close(p[0]);
                if (fork() == 0) {
                    burn_ms(ms);
                    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
                    got = ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
                    (void) !write(p[1], &got, sizeof(got));
                }
                _exit(0);
            }
            close(p[1]);
            if (pid > 0 && !arg(req, "clone", 0)) {
                waitpid(pid, NULL, 0);
            }
            while (read(p[0], &got, sizeof(got)) > 0) {
                /* void */
            }
            close(p[0]);
            /* its reaper's turn */
            sleep_ms(200);
        }

        if (arg(req, "crash", 0)) {
            /* then dies with the request: its orphan still billed */
            signal(SIGSEGV, SIG_DFL);
            raise(SIGSEGV);
        }

        FCGX_FPrintF(req->out, "Content-Type: text/plain\r\n\r\n"
                     "orphan_ms=%ld\n", got);
        return;
    }

    if (op_is(req, "alloc")) {
        /* n MB touched, then given back (kids=N: by N children that
         * keep it and idle on, each under its own address space) */
        long            size = arg(req, "mb", 100) * 1024 * 1024;
        volatile char  *m;

        for (n = arg(req, "kids", 0); n > 0; n--) {
            if (fork() == 0) {
                m = malloc(size);
                for (i = 0; m && i < size; i += 4096) {
                    m[i] = 1;
                }
                for ( ;; ) {
                    pause();
                }
            }
        }

        /* volatile: the compiler may not drop the pages we touch */
        m = malloc(size);
        if (m) {
            for (i = 0; i < size; i += 4096) {
                m[i] = 1;
            }
            free((void *) m);
        }
        FCGX_FPrintF(req->out, "Content-Type: text/plain\r\n\r\n"
                     "alloc %s\n", m ? "ok" : "failed");
        return;
    }

    if (op_is(req, "memfd")) {
        /* mb MB written into a memfd kept open: no address space of the
         * process holds it (child=1: a child that idles on holds it) */
        static char  page[65536];
        long         want = arg(req, "mb", 100) * 1024 * 1024, done = 0;
        int          mfd = memfd_create("testfn", 0);
        ssize_t      w = 0;

        memset(page, 'm', sizeof(page));

        while (mfd != -1 && done < want
               && (w = write(mfd, page, sizeof(page))) > 0)
        {
            done += w;
        }

        if (mfd != -1 && arg(req, "child", 0) && fork() == 0) {
            (void) setsid();
            for ( ;; ) {
                pause();
            }
        }

        FCGX_FPrintF(req->out, "Content-Type: text/plain\r\n\r\n"
                     "memfd %ld of %ld %s\n", done, want,
                     (mfd == -1 || w < 0) ? strerror(errno) : "ok");
        return;
    }

    if (op_is(req, "bgburn")) {
        /* a child never waited for: n ms of CPU, then it idles on
         * (setsid=1: in a session of its own; orphan=1: its child does
         * it, a daemon, the child gone; count=N daemons) */
        burn_say = (arg(req, "say", 0) != 0);

        if (fork() == 0) {
            if (arg(req, "setsid", 0)) {
                /* out of the worker's group: not killed with it */
                (void) setsid();
            }
            /* count=N: N such daemons */
            for (n = arg(req, "count", 1); arg(req, "orphan", 0); n--) {
                if (fork() == 0) {
                    break;
                }

                if (n <= 1) {
                    _exit(0);
                }
            }
            burn_ms_said(arg(req, "ms", 100));
            if (arg(req, "exit", 0)) {
                /* a zombie until the worker waits (op=reap) */
                _exit(0);
            }
            for ( ;; ) {
                pause();
            }
        }
        FCGX_PutS("Content-Type: text/plain\r\n\r\nstarted\n", req->out);
        return;
    }

    if (op_is(req, "reap")) {
        /* the children that ended, waited for */
        for (n = 0; waitpid(-1, NULL, WNOHANG) > 0; n++) { /* void */ }
        FCGX_FPrintF(req->out, "Content-Type: text/plain\r\n\r\n"
                     "reaped %ld\n", (long) n);
        return;
    }

    if (op_is(req, "forkanswer")) {
        /*
         * a child with the worker's connection answers this request
         * again, ms later: whatever the worker does next (a forked
         * PHP or Python child that returns into the request loop)
         */
        if (fork() == 0) {
            sleep_ms(arg(req, "ms", 300));
            FCGX_FPrintF(req->out, "Content-Type: text/plain\r\n\r\n"
                         "stale answer from child %d\n", (int) getpid());
            FCGX_Finish_r(req);
            sleep_ms(30000);
            _exit(0);
        }
        FCGX_FPrintF(req->out, "Content-Type: text/plain\r\n\r\n"
                     "parent pid=%d\n", (int) getpid());
        return;
    }

    if (op_is(req, "spawnchild")) {
        /* a helper process in the worker's group, then hang */
        if (fork() == 0) {
            for ( ;; ) {
                pause();
            }
        }
        sleep_ms(arg(req, "ms", 100000));
        return;
    }

    if (op_is(req, "crash")) {
        if (arg(req, "burn", 0) > 0) {
            burn_ms(arg(req, "burn", 0));
        }
        FCGX_PutS("Content-Type: text/plain\r\n\r\npartial", req->out);
        if (arg(req, "flush", 0)) {
            FCGX_FFlush(req->out);
        }
        signal(SIGSEGV, SIG_DFL);
        raise(SIGSEGV);
    }

    if (op_is(req, "crashhead")) {
        /* CPU burnt, half a header sent, then a crash */
        burn_ms(arg(req, "burn", 0));
        FCGX_PutS("Content-Type: text/pl", req->out);
        FCGX_FFlush(req->out);
        sleep_ms(50);
        signal(SIGSEGV, SIG_DFL);
        raise(SIGSEGV);
    }

    if (op_is(req, "slowhead")) {
        /* half a header (bad=1: after a bad Status line; two=1: half a
         * Status line; st=1: after a good one), err=1: a line on stderr,
         * a pause of ms, the rest */
        FCGX_PutS(arg(req, "bad", 0) ? "Status: abc\r\nX-A: b"
                  : arg(req, "two", 0) ? "Status: 2"
                  : arg(req, "st", 0) ? "Status: 201 Made\r\nContent-Type: t"
                  : "Content-Type: text/pl", req->out);
        FCGX_FFlush(req->out);
        if (arg(req, "err", 0)) {
            FCGX_PutS("slowhead says why\n", req->err);
            FCGX_FFlush(req->err);
        }
        sleep_ms(arg(req, "ms", 10000));
        FCGX_PutS("ain\r\nX-Slow: yes\r\n\r\nslow head\n", req->out);
        return;
    }

    if (op_is(req, "exit")) {
        _exit(3);
    }

    if (op_is(req, "tinyerr")) {
        /* n STDERR records of 1 byte each, written 64 KB at a time */
        static unsigned char  rec[7281 * 9];

        for (i = 0; i < 7281; i++) {
            rec[i * 9] = 1;
            rec[i * 9 + 1] = 7;                         /* STDERR */
            rec[i * 9 + 2] = (unsigned char) (req->requestId >> 8);
            rec[i * 9 + 3] = (unsigned char) req->requestId;
            rec[i * 9 + 5] = 1;                         /* length */
            rec[i * 9 + 8] = 'e';
        }
        for (i = arg(req, "n", 0); i > 0; i -= 7281) {
            c = i > 7281 ? 7281 : (int) i;
            if (write_all(req->ipcFd, rec, (size_t) c * 9) != 0) {
                break;
            }
        }
        FCGX_PutS("Content-Type: text/plain\r\n\r\ntiny\n", req->out);
        return;
    }

    if (op_is(req, "garbage")) {
        (void) !write(req->ipcFd, "HTTP/1.0 200 OK\r\n\r\nnot fastcgi", 30);
        sleep_ms(200);
        return;
    }

    if (op_is(req, "stderr")) {
        FCGX_PutS("testfn says hello on stderr\n", req->err);
        FCGX_PutS("Content-Type: text/plain\r\n\r\nok\n", req->out);
        return;
    }

    if (op_is(req, "status")) {
        FCGX_PutS("Status: 201 Created\r\nX-Test: yes\r\n"
                  "Set-Cookie: a=1\r\nSet-Cookie: b=2\r\n"
                  "Content-Type: text/plain\r\n\r\ncreated\n", req->out);
        return;
    }

    if (op_is(req, "badstatus")) {
        /* garbage for a status: the runner must not count it a success */
        FCGX_PutS("Content-Type: text/plain\r\nStatus: abc\r\n\r\n"
                  "garbage\n", req->out);
        return;
    }

    if (op_is(req, "badthen")) {
        /* a header nginx takes not (kind=1: the runner neither), sent,
         * then a hang (ms) or a crash (crash=1) */
        FCGX_PutS(arg(req, "kind", 0) ? "Content-Length: x\r\n\r\n"
                  : "Content-Type: text/plain\r\nStatus: abc\r\n\r\n",
                  req->out);
        FCGX_FFlush(req->out);

        if (arg(req, "crash", 0)) {
            signal(SIGSEGV, SIG_DFL);
            raise(SIGSEGV);
        }

        sleep_ms(arg(req, "ms", 10000));
        return;
    }

    if (op_is(req, "nohead")) {
        /* no response at all: an empty STDOUT, END_REQUEST */
        return;
    }

    if (op_is(req, "openhead")) {
        FCGX_PutS("Content-Type: text/plain\r\nX-Never: ended", req->out);
        return;
    }

    if (op_is(req, "hugehead")) {
        /* 1,200 header lines, 80 KB; ended by a blank line with end=1 */
        for (n = 0; n < 1200; n++) {
            FCGX_FPrintF(req->out, "X-Pad-%05d: %060d\r\n", (int) n, 0);
        }

        if (arg(req, "end", 0)) {
            FCGX_PutS("\r\nbody\n", req->out);
        }

        return;
    }

    if (op_is(req, "bigstatus")) {
        FCGX_PutS("Status: 2000 Too Much\r\n\r\ngarbage\n", req->out);
        return;
    }

    n = arg(req, "n", 0);
    FCGX_FPrintF(req->out, "Content-Type: text/plain\r\n\r\npid=%d%s\n",
                 (int) getpid(), n ? " extra" : "");
}


int
main(void)
{
    long           retire, served;
    const char    *s;
    FCGX_Request   req;

    s = getenv("TESTFN_EXIT");
    if (s) {
        return atoi(s);
    }

    s = getenv("TESTFN_START_DELAY_MS");
    if (s) {
        sleep_ms(atol(s));
    }

    s = getenv("TESTFN_START_SPIN_MS");
    if (s) {
        /* n ms of CPU before it takes its first request */
        burn_ms(atol(s));
    }

    s = getenv("TESTFN_START_BURN_MS");
    if (s) {
        /* n ms of CPU in a thread of its own from its start: no request's */
        static long  start_ms;
        pthread_t    th;

        start_ms = atol(s);

        if (pthread_create(&th, NULL, burn_thread, &start_ms) == 0) {
            pthread_detach(th);
        }
    }

    /* retires itself after n requests, as an app with its own limit */
    s = getenv("TESTFN_RETIRE");
    retire = s ? atol(s) : 0;
    served = 0;

    FCGX_Init();
    FCGX_InitRequest(&req, 0, 0);

    while (FCGX_Accept_r(&req) >= 0) {
        handle(&req);
        FCGX_Finish_r(&req);

        if (++served == retire) {
            break;
        }
    }

    return 0;
}
