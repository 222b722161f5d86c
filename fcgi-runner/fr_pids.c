/*
 * Copyright (C) ngx_faas developers
 *
 * Sets of pids (sorted, searched without a system call) and a process's
 * pid namespace: what a sweep of a function's namespace checks the
 * runner's own children against (fr_proto.c); a process's parent and
 * session; the sender of a message.
 */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fr_pids.h"


static int fr_pid_cmp(const void *a, const void *b);
static char *fr_proc_stat_read(pid_t pid, char *buf, size_t size);


#define FR_PF_EXITING  0x00000004      /* the kernel's task flag */


void
fr_pids_sort(pid_t *pids, size_t n)
{
    qsort(pids, n, sizeof(pid_t), fr_pid_cmp);
}


int
fr_pids_has(const pid_t *pids, size_t n, pid_t pid)
{
    return bsearch(&pid, pids, n, sizeof(pid_t), fr_pid_cmp) != NULL;
}


/*
 * A process the runner kills and forgets (a retired prototype or
 * zygote), a zygote with its process group (its spare): each is ending
 * at once, which the sweeps see (fr_proc_session), until it is reaped.
 * A prototype's group is itself alone: a worker leaves it before the
 * prototype answers with its pid (faas-proto.c), as a zygote's worker
 * leaves the zygote's before it answers (faas_wsgi.py, faas-php.c);
 * the reap of either kills its group again (fr_reap.c).
 */

void
fr_pids_kill(pid_t pid, int group)
{
    if (group) {
        (void) kill(-pid, SIGKILL);
    }

    (void) kill(pid, SIGKILL);
}


/* the inode of its pid namespace; 0: gone, or not ours to see */

ino_t
fr_pid_ns(pid_t pid)
{
    char         path[64];
    struct stat  st;

    snprintf(path, sizeof(path), "/proc/%d/ns/pid", (int) pid);

    return (stat(path, &st) == 0) ? st.st_ino : 0;
}


static int
fr_pid_cmp(const void *a, const void *b)
{
    pid_t  x = *(const pid_t *) a, y = *(const pid_t *) b;

    return (x > y) - (x < y);
}


/*
 * /proc/PID/stat read into buf: the ")" that ends "pid (comm)" (comm
 * may hold anything, ")" and blanks too), the fields after it; or NULL
 * (errno ENOENT: the process is gone).
 */

static char *
fr_proc_stat_read(pid_t pid, char *buf, size_t size)
{
    int      fd;
    char     path[64];
    ssize_t  n;

    snprintf(path, sizeof(path), "/proc/%d/stat", (int) pid);

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd == -1) {
        return NULL;
    }

    n = read(fd, buf, size - 1);
    close(fd);

    if (n <= 0) {
        errno = ESRCH;
        return NULL;
    }

    buf[n] = '\0';

    return strrchr(buf, ')');
}


/* the owner of a process (a zombie's too), by its /proc folder; -1: gone */

uid_t
fr_proc_owner(pid_t pid)
{
    char         path[32];
    struct stat  st;

    snprintf(path, sizeof(path), "/proc/%d", (int) pid);

    return stat(path, &st) == 0 ? st.st_uid : (uid_t) -1;
}


/* a process's state, parent and session, from /proc/PID/stat; or -1 */

pid_t
fr_proc_stat(pid_t pid, char *state, pid_t *ppid)
{
    int    parent, pgrp, sid;
    char   buf[1024], *p;

    *state = 'X';
    p = fr_proc_stat_read(pid, buf, sizeof(buf));

    /* "state ppid pgrp session ..." */
    if (p == NULL
        || sscanf(p + 1, " %c %d %d %d", state, &parent, &pgrp, &sid) != 4)
    {
        *state = 'X';
        return -1;
    }

    *ppid = parent;

    return sid;
}


/*
 * Whether the kernel is ending a process: SIGKILL pending on it (its
 * main thread's private set, where a kill of the group puts it too), or
 * exiting (PF_EXITING) before it is a zombie (a zombie is not: its
 * threads may run on). It cannot undo either, but may stay so as long
 * as its function likes (blocked uninterruptibly on a lock that a live
 * process of the function holds): what is under it lives on.
 */

int
fr_proc_ending(pid_t pid)
{
    int                 i;
    char                buf[1024], *p;
    unsigned long long  flags, pending;

    p = fr_proc_stat_read(pid, buf, sizeof(buf));

    if (p && p[1] == ' ' && p[2] == 'Z') {
        /* a leader that exited, its threads on (or reaped soon) */
        return 0;
    }

    /* after "pid (comm)": the blank before the 9th field, flags */
    for (i = 0; p && i < 7; i++) {
        p = strchr(p + 1, ' ');
    }

    if (p == NULL) {
        return 0;
    }

    flags = strtoull(p, &p, 10);

    /* the blank before the 31st field, signal */
    for (i = 0; p && i < 21; i++) {
        p = strchr(p + 1, ' ');
    }

    pending = p ? strtoull(p, NULL, 10) : 0;

    return (flags & FR_PF_EXITING) || (pending & (1ULL << (SIGKILL - 1)));
}


/*
 * A live process's session and parent (one the kernel is ending too:
 * its children are still its own); or -1. A leader that exited while
 * another of its threads runs on shows as a zombie: it lives.
 */

pid_t
fr_proc_session(pid_t pid, pid_t *ppid)
{
    char     state, buf[2048], *p;
    pid_t    sid;

    sid = fr_proc_stat(pid, &state, ppid);

    if (state == 'X') {
        return -1;
    }

    if (state != 'Z') {
        return sid;
    }

    (void) fr_proc_read(pid, "status", buf, sizeof(buf));
    p = strstr(buf, "\nThreads:");

    /* one dead already is process 1's to reap */
    return (p && strtol(p + 9, NULL, 10) > 1) ? sid : -1;
}


/*
 * /proc/PID/FILE (FILE may be a path under it): at most size - 1 bytes,
 * NUL-ended (empty if it cannot be read). Its length, or -1.
 */

ssize_t
fr_proc_read(pid_t pid, const char *file, char *buf, size_t size)
{
    int      fd;
    char     path[128];
    ssize_t  n;

    snprintf(path, sizeof(path), "/proc/%d/%s", (int) pid, file);

    fd = open(path, O_RDONLY | O_CLOEXEC);
    n = (fd == -1) ? -1 : read(fd, buf, size - 1);

    if (fd != -1) {
        close(fd);
    }

    buf[n > 0 ? n : 0] = '\0';

    return n;
}


/*
 * A message of len bytes on a socket with SO_PASSCRED, and the pid of
 * its sender as the kernel gives it (0: none). Returns its length, or -1.
 */

ssize_t
fr_pid_recv(int fd, void *buf, size_t len, pid_t *pid)
{
    ssize_t          n;
    struct ucred     cred;
    struct iovec     iov;
    struct msghdr    mh;
    struct cmsghdr  *cm;
    union {
        struct cmsghdr  align;
        char            buf[CMSG_SPACE(sizeof(struct ucred))];
    } ctl;

    iov.iov_base = buf;
    iov.iov_len = len;

    memset(&mh, 0, sizeof(mh));
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    mh.msg_control = ctl.buf;
    mh.msg_controllen = sizeof(ctl.buf);

    n = recvmsg(fd, &mh, MSG_DONTWAIT | MSG_TRUNC);
    *pid = 0;

    for (cm = (n >= 0) ? CMSG_FIRSTHDR(&mh) : NULL; cm;
         cm = CMSG_NXTHDR(&mh, cm))
    {
        if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_CREDENTIALS)
        {
            memcpy(&cred, CMSG_DATA(cm), sizeof(cred));
            *pid = cred.pid;
        }
    }

    return n;
}


/* a process's start, in ticks from boot (field 22); or 0 */

uint64_t
fr_proc_start(pid_t pid)
{
    int    i;
    char   buf[1024], *p;

    p = fr_proc_stat_read(pid, buf, sizeof(buf));

    /* after "pid (comm)", the blank before the 22nd field */
    for (i = 0; p && i < 20; i++) {
        p = strchr(p + 1, ' ');
    }

    return p ? strtoull(p, NULL, 10) : 0;
}


/* a live process's user and system time, with its reaped children's,
 * in ms; or -1 (errno ENOENT: it is gone) */

int64_t
fr_proc_cpu_ms(pid_t pid)
{
    int                 i;
    char                buf[1024], *p;
    unsigned long long  utime, stime, cutime, cstime;

    p = fr_proc_stat_read(pid, buf, sizeof(buf));

    if (p == NULL) {
        return -1;
    }

    /* after "pid (comm)", the 14th to 17th fields */
    for (i = 2; p && i < 14; i++) {
        p = strchr(p + 1, ' ');
    }

    if (p == NULL
        || sscanf(p, " %llu %llu %llu %llu", &utime, &stime, &cutime,
                  &cstime) != 4)
    {
        errno = EINVAL;
        return -1;
    }

    return (int64_t) ((utime + stime + cutime + cstime) * 1000
                      / sysconf(_SC_CLK_TCK));
}


/*
 * The children of every thread of pid, each followed by a blank: a
 * child a thread forked is that thread's (its task's children file),
 * not the main thread's, as long as the thread lives. malloc()ed, or
 * NULL.
 */

char *
fr_proc_children(pid_t pid)
{
    int             fd;
    DIR            *d;
    char            path[96], *buf, *b;
    size_t          size, len;
    ssize_t         n;
    struct dirent  *e;

    snprintf(path, sizeof(path), "/proc/%d/task", (int) pid);

    d = opendir(path);
    if (d == NULL) {
        return NULL;
    }

    size = 4096;
    len = 0;
    buf = malloc(size);

    while (buf && (e = readdir(d)) != NULL) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9') {
            continue;
        }

        snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int) pid,
                 (int) strtol(e->d_name, NULL, 10));

        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd == -1) {
            continue;
        }

        for ( ;; ) {
            if (size - len < 2048) {
                b = realloc(buf, size * 2);

                if (b == NULL) {
                    break;
                }

                buf = b;
                size *= 2;
            }

            n = read(fd, buf + len, size - len - 1);

            if (n <= 0) {
                break;
            }

            len += n;
        }

        close(fd);
    }

    closedir(d);

    if (buf) {
        buf[len] = '\0';
    }

    return buf;
}
