/*
 * Copyright (C) ngx_faas developers
 *
 * A CGI that tries what a hostile function would with ptrace: attach to
 * process 1 of its namespace (faas-init, which runs as the same user and
 * is exempt from max_processes), and, as the control, to a child of its
 * own. Prints each outcome and its NoNewPrivs flag.
 */

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>


static const char *
seize(pid_t pid)
{
    if (ptrace(PTRACE_SEIZE, pid, NULL, NULL) == 0) {
        return "attached";
    }

    return strerror(errno);
}


int
main(void)
{
    int    status;
    char   line[256];
    FILE  *f;
    pid_t  pid;

    printf("Content-Type: text/plain\r\n\r\n");
    printf("init: %s\n", seize(1));

    pid = fork();

    if (pid == 0) {
        pause();
        _exit(0);
    }

    printf("child: %s\n", pid == -1 ? strerror(errno) : seize(pid));

    if (pid > 0) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
    }

    f = fopen("/proc/self/status", "r");

    while (f && fgets(line, sizeof(line), f)) {
        if (strncmp(line, "NoNewPrivs:", 11) == 0) {
            fputs(line, stdout);
        }
    }

    return 0;
}
