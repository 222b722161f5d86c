/*
 * Copyright (C) ngx_faas developers
 *
 * A PostgreSQL store's URI, checked where the config is read (the start,
 * SIGHUP, --test) rather than at the first connect, which fails later
 * and far from the line that caused it.
 */

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fr_log.h"
#include "fr_pg_uri.h"


static int fr_pg_number_ok(const char *v, long min, long max, int list);


/* the values libpq takes of options it reads only as it connects */
static const char  *fr_pg_enums[][8] = {
    { "sslmode", "disable", "allow", "prefer", "require", "verify-ca",
      "verify-full", NULL },
    { "gssencmode", "disable", "prefer", "require", NULL },
    { "target_session_attrs", "any", "read-write", "read-only", "primary",
      "standby", "prefer-standby", NULL },
    { NULL }
};


/*
 * A URI libpq reads (its own message may quote the URI, which may hold a
 * password: not shown), with the values it would refuse only as it
 * connects (a port that is no port, a mistyped sslmode) found now, as
 * --test runs: each said by its name, never its value (a password with
 * a slash in it is read as a host and a port). where: "FILE:LINE: ".
 */

int
fr_pg_uri_ok(const char *uri, const char *where, int level)
{
    int                 i, n, len, problems;
    char               *err, list[128];
    PQconninfoOption   *opts, *o;
    const char *const  *e;

    err = NULL;
    opts = PQconninfoParse(uri, &err);

    if (opts == NULL) {
        PQfreemem(err);
        fr_log(level, 0, "%sstore: not a PostgreSQL URI libpq can read "
               "(the value is not shown: it may hold a password)", where);
        return FR_ERROR;
    }

    problems = 0;

    for (o = opts; o->keyword; o++) {
        if (o->val == NULL) {
            continue;
        }

        if (strcmp(o->keyword, "port") == 0
            && !fr_pg_number_ok(o->val, 1, 65535, 1))
        {
            fr_log(level, 0, "%sstore: its port is no port (1 to 65535, "
                   "one for each host, a comma between); a password with "
                   "\"/\", \"?\", \"#\" or \"@\" must be percent-encoded "
                   "(%%2F, %%3F, %%23, %%40)", where);
            problems++;
        }

        if ((strcmp(o->keyword, "host") == 0
             || strcmp(o->keyword, "hostaddr") == 0
             || strcmp(o->keyword, "dbname") == 0)
            && strchr(o->val, '@'))
        {
            /* "u:p@ss@db": the password's tail read as the host */
            fr_log(level, 0, "%sstore: its %s has an \"@\": a password "
                   "with \"@\" or \"/\" must be percent-encoded (%%40, %%2F)",
                   where, o->keyword);
            problems++;
        }

        if (strcmp(o->keyword, "connect_timeout") == 0
            && !fr_pg_number_ok(o->val, INT_MIN, INT_MAX, 0))
        {
            fr_log(level, 0, "%sstore: its connect_timeout is no number of "
                   "seconds", where);
            problems++;
        }

        for (i = 0; fr_pg_enums[i][0]; i++) {
            e = fr_pg_enums[i];

            if (strcmp(o->keyword, e[0]) != 0) {
                continue;
            }

            len = 0;
            list[0] = '\0';

            for (n = 1; e[n] && strcmp(o->val, e[n]) != 0; n++) {
                if (len < (int) sizeof(list)) {
                    len += snprintf(list + len, sizeof(list) - len, "%s%s",
                                    n > 1 ? ", " : "", e[n]);
                }
            }

            if (e[n] == NULL) {
                fr_log(level, 0, "%sstore: its %s is none of %s",
                       where, o->keyword, list);
                problems++;
            }
        }
    }

    PQconninfoFree(opts);

    return problems ? FR_ERROR : FR_OK;
}


/*
 * An integer as libpq reads one (spaces around it), from min to max;
 * with list, a comma-separated list of them, an empty one the default.
 * An empty value is the default.
 */

static int
fr_pg_number_ok(const char *v, long min, long max, int list)
{
    long   n;
    char  *end;

    if (*v == '\0') {
        return 1;
    }

    for ( ;; ) {
        while (*v == ' ' || *v == '\t') {
            v++;
        }

        end = (char *) v;

        if (!list || (*v != ',' && *v != '\0')) {
            errno = 0;
            n = strtol(v, &end, 10);

            if (end == v || errno || n < min || n > max) {
                return 0;
            }
        }

        while (*end == ' ' || *end == '\t') {
            end++;
        }

        if (*end == '\0') {
            return 1;
        }

        if (*end != ',' || !list) {
            return 0;
        }

        v = end + 1;
    }
}
