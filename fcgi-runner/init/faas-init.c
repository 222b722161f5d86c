/*
 * Copyright (C) ngx_faas developers
 *
 * faas-init: process 1 of a worker's pid namespace (isolation = pid),
 * when the runner starts the worker itself; "faas-init prototype ..."
 * is a function's prototype (faas-proto.c).
 *
 *     faas-init MAX_PROCESSES PATH ARGV0 [ARG...]
 *
 * The runner has set up the namespaces, limits and credentials and execs
 * this with the function's environment, its descriptors on 0, 1 and 2,
 * and its exec report pipe on 3. faas-init starts PATH in a process group
 * of its own, with RLIMIT_NPROC at MAX_PROCESSES (faas-init itself has no
 * such limit: its one fork must not fail because its user has many
 * processes; the function's own forks are held to it), forwards the
 * signals it is sent to that group, reaps every process the namespace
 * orphans (a function's double fork would otherwise leave zombies that
 * count against its user's max_processes), and exits when the function
 * does: exit code N for exit code N, 128 + S for a
 * death by signal S, as a shell reports it. First it kills and reaps
 * whatever the function left in the namespace (faas_ns_end()), so that
 * the runner's wait4() of it counts what those used.
 *
 * It runs as the function's user but is not the function's to control:
 * it makes itself not dumpable before it forks, so the function cannot
 * ptrace it (to make it fork past max_processes) nor read its memory
 * through /proc.
 *
 * Built static: nothing to load at exec, a few pages of memory.
 */

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "faas-proto.h"
#include "faas-sys.h"


static void
start(char **argv, char **envp, const sigset_t *mask)
{
    int            err;
    struct rlimit  rl;

    rl.rlim_cur = rl.rlim_max = (rlim_t) strtoul(argv[0], NULL, 10);

    if (setrlimit(RLIMIT_NPROC, &rl) == -1) {
        err = errno;
        (void) !write(3, &err, sizeof(int));
        _exit(127);
    }

    argv++;

    (void) setpgid(0, 0);
    (void) sigprocmask(SIG_SETMASK, mask, NULL);

    /* the report pipe closes when the function runs */
    (void) fcntl(3, F_SETFD, FD_CLOEXEC);

    /* an empty path: the runner's program, on 5 */
    if (argv[0][0] == '\0') {
        (void) fcntl(5, F_SETFD, FD_CLOEXEC);
        faas_execveat(5, "", argv + 1, envp, AT_EMPTY_PATH);

    } else {
        execve(argv[0], argv + 1, envp);
    }

    err = errno;
    (void) !write(3, &err, sizeof(int));
    _exit(127);
}


int
main(int argc, char **argv, char **envp)
{
    int        status;
    pid_t      child, pid;
    sigset_t   all, old;
    siginfo_t  si;

    if (argc > 1 && strcmp(argv[1], "prototype") == 0) {
        return faas_prototype(argc - 2, argv + 2);
    }

    if (argc < 4 || getpid() != 1) {
        static const char  usage[] =
            "faas-init: started by fcgi-runner as process 1 of a worker's "
            "pid namespace, not by hand\n";

        (void) !write(2, usage, sizeof(usage) - 1);
        return 2;
    }

    /* every signal, to forward: musl's sigfillset() leaves out 32-34
     * (its own), and 34 is a program's SIGRTMIN */
    memset(&all, 0xff, sizeof(sigset_t));
    (void) sigprocmask(SIG_SETMASK, &all, &old);

    child = (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1) ? -1 : fork();

    if (child == -1) {
        int  err = errno;

        (void) !write(3, &err, sizeof(int));
        return 127;
    }

    if (child == 0) {
        sigemptyset(&old);
        start(argv + 1, envp, &old);
    }

    (void) setpgid(child, child);

    /* the function's descriptors are its own: EOF comes when it closes */
    close(0);
    close(1);
    close(2);
    close(3);
    close(5);

    for ( ;; ) {
        if (sigwaitinfo(&all, &si) == -1) {
            continue;
        }

        if (si.si_signo != SIGCHLD) {
            if (kill(-child, si.si_signo) == -1) {
                (void) kill(child, si.si_signo);
            }
            continue;
        }

        while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
            if (pid != child) {
                continue;
            }

            faas_ns_end(FAAS_NS_END_WAIT_INIT);

            if (WIFSIGNALED(status)) {
                _exit(128 + WTERMSIG(status));
            }

            _exit(WEXITSTATUS(status));
        }
    }
}
