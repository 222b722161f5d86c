/*
 * Copyright (C) ngx_faas developers
 *
 * The start of a runner inside a libFuzzer target: the same wiring as
 * fr_main.c (fr_proxy_init()), a listening socket in the target's
 * folder, its functions loaded. See fuzz_runner.h.
 */

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fr_func.h"
#include "fr_listen.h"
#include "fr_log.h"
#include "fr_proxy.h"
#include "fuzz_runner.h"


char  fuzz_runner_sock[PATH_MAX];


/*
 * A fresh folder NAME.XXXXXX under TMPDIR (the test's prefix, which
 * goes with the test even when the fuzzer crashes), or /tmp; readable
 * by the functions' users.
 */

int
fuzz_runner_dir(char *dir, size_t size, const char *name)
{
    snprintf(dir, size, "%s/%s.XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", name);

    if (mkdtemp(dir) == NULL || chmod(dir, 0755) == -1) {
        return FR_ERROR;
    }

    return FR_OK;
}


/* the runner as fr_main.c starts it: FR_ERROR if it cannot listen or a
 * function does not load */

int
fuzz_runner_start(const char *dir, const char *functions)
{
    /* as the runner: a closed peer is an error return, not a signal */
    (void) signal(SIGPIPE, SIG_IGN);

    snprintf(fuzz_runner_sock, sizeof(fuzz_runner_sock), "%s/s", dir);

    fr_runner.is_root = (geteuid() == 0);

    fr_conf_init(&fr_runner.conf);
    fr_conf_defaults(&fr_runner.conf);

    /* the fuzzers' functions run without isolation, for speed: the
     * operator's floor lowered, as a provider of trusted code would */
    fr_runner.conf.limit_isolation = 0;
    fr_runner.conf.listen = malloc(strlen(fuzz_runner_sock) + 6);
    fr_runner.conf.functions = strdup(functions);
    fr_runner.rundir = strdup(dir);

    /* what the runner keeps (dynamic users) stays in the target's dir */
    free(fr_runner.conf.state_dir);
    fr_runner.conf.state_dir = strdup(dir);

    if (fr_runner.conf.listen == NULL || fr_runner.conf.functions == NULL
        || fr_runner.rundir == NULL)
    {
        return FR_ERROR;
    }

    sprintf(fr_runner.conf.listen, "unix:%s", fuzz_runner_sock);

    fr_proxy_init();

    if (fr_event_init() != FR_OK) {
        return FR_ERROR;
    }

    if (fr_funcs_load(0) != 0) {
        fprintf(stderr, "the fuzz functions did not load\n");
        return FR_ERROR;
    }

    return fr_listen_open();
}
