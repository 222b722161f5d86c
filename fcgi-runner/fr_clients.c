/*
 * Copyright (C) ngx_faas developers
 *
 * Who may be a client of the runner on a TCP listen. A function without
 * "net" isolation shares the host's network and, as a client, could run
 * any function as any tenant: a connection from a process of a
 * function's user is closed unread (fr_peer.c asks the kernel who owns
 * the other end). nginx's users are served.
 */

#include <grp.h>
#include <pwd.h>
#include <string.h>
#include <time.h>

#include "fr_log.h"
#include "fr_peer.h"
#include "fr_runner.h"
#include "fr_clients.h"


static int fr_clients_nginx(uid_t uid);


/*
 * Who nginx may be: root (its master), listen_owner, www-data (Debian's
 * nginx user), and the users of listen_group (the unix socket's, which
 * nginx's workers must be in). 1: one of them.
 */

static int
fr_clients_nginx(uid_t uid)
{
    char           **m;
    struct group    *gr;
    struct passwd   *pw;

    if (uid == 0) {
        return 1;
    }

    pw = fr_runner.conf.listen_owner ? getpwnam(fr_runner.conf.listen_owner)
                                     : NULL;
    if (pw && pw->pw_uid == uid) {
        return 1;
    }

    pw = getpwnam("www-data");
    if (pw && pw->pw_uid == uid) {
        return 1;
    }

    gr = fr_runner.conf.listen_group ? getgrnam(fr_runner.conf.listen_group)
                                     : NULL;
    pw = gr ? getpwuid(uid) : NULL;

    if (pw == NULL) {
        return 0;
    }

    if (pw->pw_gid == gr->gr_gid) {
        return 1;
    }

    for (m = gr->gr_mem; *m; m++) {
        if (strcmp(*m, pw->pw_name) == 0) {
            return 1;
        }
    }

    return 0;
}


/*
 * A connection from one of this host's functions (its customer's user,
 * a dynamic user, or the user an operator names in "user": a function
 * without "net" isolation shares the host's network) is closed unread:
 * a client of the runner may run any function as any tenant. So is one
 * from this host whose socket the kernel does not show (bound to a
 * device, or closed before the accept). nginx's users (fr_clients_nginx)
 * are served, whatever runs as them.
 */

int
fr_clients_refused(int fd)
{
    int              rc;
    uid_t            uid;
    time_t           now;
    fr_func_t       *f;
    fr_link_t       *l;
    static int       told;
    static time_t    logged;
    static uint64_t  refused;

    uid = (uid_t) -1;
    rc = fr_peer_uid(fd, &uid);

    if (rc == FR_PEER_UNKNOWN && !told) {
        told = 1;
        fr_log(FR_LOG_WARN, 0, "sock_diag tells no owner of connections "
               "from this host: functions without \"net\" isolation can "
               "be clients of the runner on its TCP listen");
    }

    if (rc == FR_PEER_AWAY || rc == FR_PEER_UNKNOWN) {
        return 0;
    }

    if (rc == FR_PEER_HIDDEN) {
        goto refused;
    }

    if (fr_clients_nginx(uid)) {
        return 0;
    }

    if ((int) uid < fr_runner.conf.dynamic_first
        || (int) uid > fr_runner.conf.dynamic_last)
    {
        for (l = fr_list_first(&fr_runner.funcs); l != &fr_runner.funcs;
             l = l->next)
        {
            f = fr_list_data(l, fr_func_t, link);

            if (f->dir_uid == uid || (f->set_user && f->uid == uid)) {
                break;
            }
        }

        if (l == &fr_runner.funcs) {
            return 0;
        }
    }

refused:

    refused++;
    now = time(NULL);

    if (now != logged) {
        fr_log(FR_LOG_WARN, 0, "connection refused (from %s): a function's "
               "user is no client of the runner (%llu refused)",
               rc == FR_PEER_HIDDEN ? "this host, its socket hidden"
               : "a process of a function's user",
               (unsigned long long) refused);
        logged = now;
        refused = 0;
    }

    return 1;
}
