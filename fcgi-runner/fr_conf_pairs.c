/*
 * Copyright (C) ngx_faas developers
 *
 * The NAME=VALUE keys of function.conf and of the runner config's
 * function defaults: env.NAME (the function's environment) and
 * php.NAME (ini values for runtime = php); each kept as "NAME=VALUE"
 * in a NULL-ended list, a NAME set again replaced, the defaults' added
 * where the function does not set them. And the names and addresses
 * the config's values are checked as; a config file opened, and
 * whether a runner config read again says anything new of functions.
 */

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "fr_core.h"
#include "fr_conf.h"
#include "fr_log.h"


#define FR_CONF_WHERE_MAX  48      /* runner keys */


/* where the runner config read last set its keys */
typedef struct {
    const char            *key;         /* fr_conf_keys' name */
    int                    line;
} fr_conf_where_t;


static const u_char *fr_conf_text_line(const u_char *text, size_t size,
    size_t *pos, size_t *len);
static int fr_conf_runner_only(const u_char *s, const u_char *e);


static char             fr_conf_where_file[512];
static fr_conf_where_t  fr_conf_where[FR_CONF_WHERE_MAX];
static char             fr_conf_at_buf[600];


/* a key set twice in a file (FR_DECLINED): said, the last one holds */

void
fr_conf_again(int rc, const char *key, const char *file, int line)
{
    if (rc == FR_DECLINED) {
        fr_log(FR_LOG_WARN, 0, "\"%s\" set again in %s:%d: the last one "
               "holds", key, file, line);
    }
}


/* the runner config being read set key at line (key NULL: a new one) */

void
fr_conf_where_set(const char *file, const char *key, int line)
{
    int  i;

    if (key == NULL) {
        snprintf(fr_conf_where_file, sizeof(fr_conf_where_file), "%s",
                 file);
        memset(fr_conf_where, 0, sizeof(fr_conf_where));
        return;
    }

    for (i = 0; i < FR_CONF_WHERE_MAX; i++) {
        if (fr_conf_where[i].key == NULL
            || strcmp(fr_conf_where[i].key, key) == 0)
        {
            fr_conf_where[i].key = key;
            fr_conf_where[i].line = line;
            return;
        }
    }
}


/*
 * "FILE:LINE: " where the runner config read last set key, for a
 * problem of its value found past its parse (an address, a user, a
 * store: --test says each with file and line); "" where it did not
 * (a default, --listen). One at a time: its buffer is static.
 */

const char *
fr_conf_at(const char *key)
{
    int  i;

    for (i = 0; i < FR_CONF_WHERE_MAX && fr_conf_where[i].key; i++) {
        if (strcmp(fr_conf_where[i].key, key) == 0
            && fr_conf_where[i].line > 0)
        {
            snprintf(fr_conf_at_buf, sizeof(fr_conf_at_buf), "%s:%d: ",
                     fr_conf_where_file, fr_conf_where[i].line);
            return fr_conf_at_buf;
        }
    }

    return "";
}

void
fr_conf_merge_pairs(char ***list, int *n, char **prev, int nprev)
{
    int     i, j;
    size_t  nlen;

    for (i = 0; i < nprev; i++) {
        nlen = strcspn(prev[i], "=");

        for (j = 0; j < *n; j++) {
            if (strncmp((*list)[j], prev[i], nlen + 1) == 0) {
                break;
            }
        }

        if (j == *n) {
            prev[i][nlen] = '\0';
            (void) fr_conf_pair(list, n, prev[i], prev[i] + nlen + 1);
            prev[i][nlen] = '=';
        }
    }
}


/*
 * An env.PHP_FCGI_MAX_REQUESTS under max_requests (or with it 0): php-cgi
 * would retire itself first, and it keeps its listening socket open
 * while PHP shuts down, so the request the runner connects with then is
 * reset unread, and one that may not be sent again (a POST) fails. The
 * runner retires it in step instead: its max_requests is lowered. Read
 * as php-cgi does (atoi: leading digits; 0 is no limit).
 */

void
fr_conf_php_requests(fr_fconf_t *fc)
{
    int    i, n;
    char  *v, *end;

    for (i = 0; i < fc->nenv; i++) {
        if (strncmp(fc->env[i], "PHP_FCGI_MAX_REQUESTS=", 22) != 0) {
            continue;
        }

        v = fc->env[i] + 22;
        n = (int) strtol(v, &end, 10);          /* glibc's atoi() */

        if (end != v && n > 0
            && (fc->max_requests == 0 || n < fc->max_requests))
        {
            fc->max_requests = n;
        }

        return;
    }
}


int
fr_conf_env(fr_fconf_t *fc, const char *name, const char *value)
{
    const char  *p;

    if (*name == '\0' || isdigit((u_char) *name)) {
        return FR_ERROR;
    }

    for (p = name; *p; p++) {
        if (!isalnum((u_char) *p) && *p != '_') {
            return FR_ERROR;
        }
    }

    /* what started an invocation is the runner's to say: FR_DONE */
    if (strcmp(name, "FAAS_TRIGGER") == 0 || strcmp(name, "FAAS_ATTEMPT") == 0
        || strcmp(name, "FAAS_INVOCATION_ID") == 0)
    {
        return FR_DONE;
    }

    return fr_conf_pair(&fc->env, &fc->nenv, name, value);
}


/* php.NAME = VALUE: given to PHP as NAME='VALUE' (raw, no quote in it) */

int
fr_conf_php(fr_fconf_t *fc, const char *name, const char *value)
{
    const char  *p;

    /* extensions are the host's (php.ini's conf.d), not a function's:
     * PHP takes these names in any case */
    if (!isalpha((u_char) *name) || strpbrk(value, "'\r\n") != NULL
        || strcasecmp(name, "extension") == 0
        || strcasecmp(name, "zend_extension") == 0)
    {
        return FR_ERROR;
    }

    for (p = name; *p; p++) {
        if (!isalnum((u_char) *p) && *p != '_' && *p != '.') {
            return FR_ERROR;
        }
    }

    return fr_conf_pair(&fc->php, &fc->nphp, name, value);
}


/* an env.NAME or php.NAME over FR_CONF_PAIRS_MAX: said once a file */

int
fr_conf_pairs_over(fr_fconf_t *fc, const char *key, const char *file,
    int line, int level, int *over)
{
    int      i, n;
    char   **l;
    size_t   len;

    if ((strncmp(key, "php.", 4) != 0 || fc->nphp < FR_CONF_PAIRS_MAX)
        && (strncmp(key, "env.", 4) != 0 || fc->nenv < FR_CONF_PAIRS_MAX))
    {
        return 0;
    }

    /* one set again is replaced, not one more */
    l = key[0] == 'p' ? fc->php : fc->env;
    n = key[0] == 'p' ? fc->nphp : fc->nenv;
    len = strlen(key + 4);

    for (i = 0; i < n; i++) {
        if (strncmp(l[i], key + 4, len) == 0 && l[i][len] == '=') {
            return 0;
        }
    }

    if ((*over)++ == 0) {
        fr_log(level, 0, "\"%s\" in %s:%d: more than %d %.3s.NAME keys "
               "(said once)", key, file, line, FR_CONF_PAIRS_MAX, key);
    }

    return 1;
}


/* NAME=VALUE into a NULL-ended list; a NAME set again is replaced:
 * FR_DECLINED */

int
fr_conf_pair(char ***list, int *n, const char *name, const char *value)
{
    int      i;
    char    *e, **l;
    size_t   nlen;

    nlen = strlen(name);
    e = malloc(nlen + strlen(value) + 2);

    if (e == NULL) {
        return FR_ERROR;
    }

    sprintf(e, "%s=%s", name, value);

    for (i = 0; i < *n; i++) {
        if (strncmp((*list)[i], e, nlen + 1) == 0) {
            free((*list)[i]);
            (*list)[i] = e;
            return FR_DECLINED;
        }
    }

    l = realloc(*list, (*n + 2) * sizeof(char *));

    if (l == NULL) {
        free(e);
        return FR_ERROR;
    }

    l[(*n)++] = e;
    l[*n] = NULL;
    *list = l;

    return FR_OK;
}


/* 1-64 of A-Z a-z 0-9 _ -, starting with a letter or digit */

int
fr_name_valid(const u_char *name, size_t len)
{
    size_t  i;

    if (len == 0 || len > FR_NAME_MAX || !isalnum(name[0])) {
        return 0;
    }

    for (i = 1; i < len; i++) {
        if (!isalnum(name[i]) && name[i] != '_' && name[i] != '-') {
            return 0;
        }
    }

    return 1;
}


/* "HOST:PORT" or "[V6]:PORT": the host into host, *port at its port */

int
fr_addr_split(const char *addr, char *host, size_t size, const char **port)
{
    size_t       len;
    const char  *colon;

    colon = strrchr(addr, ':');

    if (colon == NULL || colon == addr || (size_t) (colon - addr) >= size) {
        return FR_ERROR;
    }

    len = colon - addr;
    memcpy(host, addr, len);
    host[len] = '\0';

    if (host[0] == '[' && len > 1 && host[len - 1] == ']') {
        memmove(host, host + 1, len - 2);
        host[len - 2] = '\0';
    }

    *port = colon + 1;

    /* a port number, 1 to 65535: getaddrinfo() takes 99999 as 34463
     * and 0 as any port */
    len = strspn(*port, "0123456789");

    if (len == 0 || len > 5 || (*port)[len] != '\0' || atoi(*port) == 0
        || atoi(*port) > 65535)
    {
        return FR_ERROR;
    }

    return FR_OK;
}


/*
 * Whether two texts of the runner config say the same of functions: the
 * same lines but for blank ones, comments, the tenants' limits
 * (tenant_* and tenant.NAME.*), which apply as they are, no function
 * reconfigured (fr_tenants_limits, fr_cgroup_reload): one tenant's
 * bound changed replaced every worker of the host, what they held gone;
 * and the runner's own keys (fr_conf_runner_only).
 */

int
fr_conf_same_defaults(const u_char *a, size_t alen, const u_char *b,
    size_t blen)
{
    size_t         ai, bi, al, bl;
    const u_char  *as, *bs;

    ai = 0;
    bi = 0;

    for ( ;; ) {
        as = fr_conf_text_line(a, alen, &ai, &al);
        bs = fr_conf_text_line(b, blen, &bi, &bl);

        if (as == NULL || bs == NULL) {
            return as == bs;
        }

        if (al != bl || memcmp(as, bs, al) != 0) {
            return 0;
        }
    }
}


/* the next line of text from *pos that may say something of functions,
 * trimmed as fr_conf_load reads it; NULL: none left */

static const u_char *
fr_conf_text_line(const u_char *text, size_t size, size_t *pos,
    size_t *len)
{
    const u_char  *s, *e, *nl, *end;

    end = text + size;

    for (s = text + *pos; s < end; s = text + *pos) {
        nl = memchr(s, '\n', end - s);
        nl = nl ? nl : end;
        *pos = (nl < end ? nl + 1 : end) - text;

        for (e = nl; s < e && (*s == ' ' || *s == '\t'); s++) {
            /* void */
        }

        /* an env.* value keeps its '#' */
        if (e - s < 4 || memcmp(s, "env.", 4) != 0) {
            e = memchr(s, '#', nl - s);
            e = e ? e : nl;
        }

        /* the parser's trim is isspace()'s: '\v', '\f' too */
        while (s < e && isspace(*s)) {
            s++;
        }

        while (e > s && isspace(e[-1])) {
            e--;
        }

        if (e > s
            && (e - s < 7 || (memcmp(s, "tenant.", 7) != 0
                              && memcmp(s, "tenant_", 7) != 0))
            && !fr_conf_runner_only(s, e))
        {
            *len = e - s;
            return s;
        }
    }

    return NULL;
}


/*
 * A line of a key the runner reads where it uses it, or that takes a
 * restart: it says nothing of functions (max_connections changed made
 * every function cold). The functions folder and the limit_* caps are
 * said of functions.
 */

static int
fr_conf_runner_only(const u_char *s, const u_char *e)
{
    size_t        n;
    const char  **k;

    static const char  *keys[] = {
        "listen", "listen_owner", "listen_group", "listen_mode",
        "listen_allow", "max_workers", "max_connections",
        "client_header_timeout", "spool_max", "spool_max_total",
        "state_dir", "store", "dynamic_users", "async_max_body",
        "async_retries", "async_backoff", "async_retention",
        "prototype_idle_timeout", "upgrade_timeout", "meter_log",
        "meter_idle_interval", NULL
    };

    for (n = 0; s + n < e && s[n] != '=' && !isspace(s[n]); n++) {
        /* void */
    }

    for (k = keys; *k; k++) {
        if (strlen(*k) == n && memcmp(s, *k, n) == 0) {
            return 1;
        }
    }

    return 0;
}


/*
 * A line of f into buf, without its '\n': FR_OK; FR_DONE at the end;
 * FR_ERROR: longer than size - 1 (its rest unread); FR_DECLINED: a NUL
 * byte in it (fgets() would end the line there and go on with the rest)
 */

int
fr_conf_line(FILE *f, char *buf, size_t size)
{
    int     c, nul;
    size_t  n;

    n = 0;
    nul = 0;

    while ((c = getc(f)) != EOF && c != '\n') {
        if (n == size - 1) {
            return FR_ERROR;
        }

        nul |= (c == '\0');
        buf[n++] = (char) c;
    }

    buf[n] = '\0';

    if (c == EOF && n == 0) {
        return FR_DONE;
    }

    return nul ? FR_DECLINED : FR_OK;
}


/* a config file, for reading: a regular file (a folder reads as empty,
 * every key its default, and nothing said), or NULL and errno */

FILE *
fr_conf_fopen(const char *file)
{
    int          err;
    FILE        *f;
    struct stat  st;

    f = fopen(file, "re");

    if (f == NULL) {
        return NULL;
    }

    if (fstat(fileno(f), &st) == -1) {
        err = errno;

    } else if (S_ISREG(st.st_mode)) {
        return f;

    } else {
        err = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
    }

    fclose(f);
    errno = err;

    return NULL;
}
