/*
 * Copyright (C) ngx_faas developers
 *
 * faas-php's side of PHP: a SAPI on libphp (Debian's libphp8.2-embed).
 * PHP is started once (its modules, php.ini, OPcache's shared memory)
 * in the zygote or a cold worker; each request is a request startup,
 * the script, a request shutdown, as php-fpm does them:
 *
 * - $_SERVER: the worker's environment, then every FastCGI parameter
 *   the runner sends (nginx's, and SCRIPT_FILENAME, SCRIPT_NAME,
 *   PATH_INFO as "script" or "document_root" found them), PHP_SELF;
 *   getenv() reads the parameters first.
 * - The body streams from the runner's STDIN records as the script or
 *   PHP's post readers ask for it ($_POST, $_FILES, php://input).
 * - Headers go out as a CGI header block, with the status always said.
 * - fastcgi_finish_request() ends the response; the script goes on.
 * - A client gone: PHP's connection_aborted(), ignore_user_abort().
 *
 * Its name is "cgi-fcgi", which it is (PHP's FastCGI SAPI name, what
 * OPcache serves). Its php.ini is /etc/php/X.Y/embed/php.ini when the
 * host has one, else PHP's php.ini-production, which is what Debian
 * gives php-fpm; the conf.d beside the first (extensions, OPcache) is
 * read as PHP reads it. Never a php.ini of the function's folder, nor
 * PHPRC.
 */

#include <php.h>
#include <SAPI.h>
#include <php_main.h>
#include <php_variables.h>
#include <php_ini.h>
#include <php_output.h>
#include <zend_ini.h>
#include <ext/standard/head.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "faas-php.h"


#define FP_STR(x)   FP_STR2(x)
#define FP_STR2(x)  #x
#define FP_PHP_DIR  FP_STR(PHP_MAJOR_VERSION) "." FP_STR(PHP_MINOR_VERSION)
#define FP_INI_HOST "/etc/php/" FP_PHP_DIR "/embed/php.ini"
#define FP_INI_PROD "/usr/lib/php/" FP_PHP_DIR "/php.ini-production"


static int fp_sapi_startup(sapi_module_struct *m);
static size_t fp_sapi_write(const char *str, size_t len);
static void fp_sapi_flush(void *ctx);
static char *fp_sapi_getenv(const char *name, size_t len);
static int fp_sapi_send_headers(sapi_headers_struct *h);
static size_t fp_sapi_read_post(char *buf, size_t size);
static char *fp_sapi_read_cookies(void);
static void fp_sapi_register(zval *vars);
static void fp_sapi_log(const char *msg, int syslog_type);
static int fp_ini_entries(char **defaults, char **admin);
static int fp_ini_entry(char *p, const char *kv);
static int fp_lock(char **admin, int lock);
static zend_ini_entry *fp_ini_setting(const char *kv);
static int fp_tenant(char **tenant, int apply);
static int fp_tenant_value(zend_ini_entry *e, const char *value);
static int fp_open_script(fp_conn_t *c, zend_file_handle *fh);
static PHP_FUNCTION(fastcgi_finish_request);
static void fp_deadline(int arm);
static const char *fp_reason(int code);


ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(fp_arginfo_finish, 0, 0, _IS_BOOL, 0)
ZEND_END_ARG_INFO()

static const zend_function_entry  fp_functions[] = {
    PHP_FE(fastcgi_finish_request, fp_arginfo_finish)
    PHP_FE_END
};


static sapi_module_struct  fp_sapi = {
    "cgi-fcgi",                     /* name */
    "ngx_faas PHP runtime",         /* pretty name */

    fp_sapi_startup,                /* startup */
    php_module_shutdown_wrapper,    /* shutdown */

    NULL,                           /* activate */
    NULL,                           /* deactivate */

    fp_sapi_write,                  /* unbuffered write */
    fp_sapi_flush,                  /* flush */
    NULL,                           /* get uid */
    fp_sapi_getenv,                 /* getenv */

    php_error,                      /* error handler */

    NULL,                           /* header handler */
    fp_sapi_send_headers,           /* send headers handler */
    NULL,                           /* send header handler */

    fp_sapi_read_post,              /* read POST data */
    fp_sapi_read_cookies,           /* read Cookies */

    fp_sapi_register,               /* register server variables */
    fp_sapi_log,                    /* log message */
    NULL,                           /* get request time */
    NULL,                           /* terminate process */

    STANDARD_SAPI_MODULE_PROPERTIES
};


static fp_conn_t  *fp_c;            /* the request's connection */
static zend_long   fp_timeout;      /* max_execution_time, as started */
static timer_t     fp_timer;
static pid_t       fp_timer_pid;

/* the last script found a readable file, and when (see fp_open_script) */
static char        fp_checked[PATH_MAX];
static time_t      fp_checked_at;


/* PHP started: its modules, php.ini, the -d, -a and -u values */

int
fp_php_startup(char **defaults, char **admin, char **tenant)
{
    zend_signal_startup();
    sapi_startup(&fp_sapi);

    /* after sapi_startup(), which clears them */
    if (fp_ini_entries(defaults, admin) != 0) {
        return -1;
    }

    if (access(FP_INI_HOST, R_OK) == 0) {
        fp_sapi.php_ini_path_override = FP_INI_HOST;

    } else if (access(FP_INI_PROD, R_OK) == 0) {
        fp_sapi.php_ini_path_override = FP_INI_PROD;
    }

    fp_sapi.php_ini_ignore_cwd = 1;
    fp_sapi.additional_functions = fp_functions;

    if (fp_sapi.startup(&fp_sapi) == FAILURE) {
        fprintf(stderr, "faas-php: PHP did not start\n");
        return -1;
    }

    /* the customer's first, over the host's (as a .user.ini's), then
     * the host's locked */
    if (fp_tenant(tenant, 1) != 0 || fp_lock(admin, 1) != 0) {
        return -1;
    }

    fp_timeout = INI_INT("max_execution_time");

    return 0;
}


/*
 * Expired sessions in the user's own folder, at each start of its PHP
 * (a deploy, prototype_idle_timeout): PHP's own collection runs once in
 * gc_divisor session starts, and no cron sweeps this folder, so a
 * quiet site's sessions would outlive gc_maxlifetime. Only when the
 * folder is still session.save_path (php.session.save_path moves it).
 */

void
fp_php_sessions_sweep(const char *dir)
{
    DIR            *d;
    time_t          before;
    const char     *path;
    struct stat     st;
    struct dirent  *de;

    path = INI_STR("session.save_path");

    if (path == NULL || strcmp(path, dir) != 0) {
        return;
    }

    before = time(NULL) - (time_t) INI_INT("session.gc_maxlifetime");
    d = opendir(dir);

    if (d == NULL) {
        return;
    }

    while ((de = readdir(d)) != NULL) {
        if (strncmp(de->d_name, "sess_", 5) == 0
            && fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0
            && S_ISREG(st.st_mode) && st.st_mtime < before)
        {
            (void) unlinkat(dirfd(d), de->d_name, 0);
        }
    }

    closedir(d);
}


static int
fp_sapi_startup(sapi_module_struct *m)
{
    return php_module_startup(m, NULL);
}


/*
 * "NAME='VALUE'\n" each: a single-quoted ini value is raw (no
 * constants, variables nor escapes); NAME is checked, VALUE must not
 * hold a quote (the runner refuses one).
 */

static int
fp_ini_entries(char **defaults, char **admin)
{
    int      i;
    char    *p;
    size_t   size;

    size = 1;

    for (i = 0; defaults[i]; i++) {
        size += strlen(defaults[i]) + 4;
    }

    for (i = 0; admin[i]; i++) {
        size += strlen(admin[i]) + 4;
    }

    p = malloc(size);

    if (p == NULL) {
        return -1;
    }

    fp_sapi.ini_entries = p;

    for (i = 0; defaults[i]; i++) {
        if (fp_ini_entry(p, defaults[i]) != 0) {
            return -1;
        }

        p += strlen(p);
    }

    for (i = 0; admin[i]; i++) {
        if (fp_ini_entry(p, admin[i]) != 0) {
            return -1;
        }

        p += strlen(p);
    }

    *p = '\0';

    return 0;
}


static int
fp_ini_entry(char *p, const char *kv)
{
    size_t       n;
    const char  *eq;

    eq = strchr(kv, '=');
    n = eq ? (size_t) (eq - kv) : 0;

    /* extensions are the host's (php.ini's conf.d): PHP takes these
     * names in any case */
    if (n == 0 || strspn(kv, "abcdefghijklmnopqrstuvwxyz"
                              "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") != n
        || strpbrk(eq + 1, "'\r\n") != NULL
        || (n == 9 && strncasecmp(kv, "extension", 9) == 0)
        || (n == 14 && strncasecmp(kv, "zend_extension", 14) == 0))
    {
        fprintf(stderr, "faas-php: an ini setting NAME=VALUE, VALUE "
                "without quotes: \"%s\"\n", kv);
        return -1;
    }

    sprintf(p, "%.*s='%s'\n", (int) n, kv, eq + 1);

    return 0;
}


/*
 * fcgi-runner --test: PHP started with the runner's values alone, then
 * the function's names looked up. None of its values is applied: one
 * such as opcache.preload would run its code outside its sandbox.
 */

int
fp_php_check(char **defaults, char **admin, char **tenant)
{
    static char  *none[] = { NULL };

    if (fp_php_startup(defaults, none, none) != 0) {
        return -1;
    }

    return (fp_lock(admin, 0) == 0 && fp_tenant(tenant, 0) == 0) ? 0 : -1;
}


/* what the code may not change (php-fpm's php_admin_value); lock 0:
 * only that PHP has each */

static int
fp_lock(char **admin, int lock)
{
    int              i;
    zend_ini_entry  *e;

    for (i = 0; admin[i]; i++) {
        e = fp_ini_setting(admin[i]);

        if (e == NULL) {
            return -1;
        }

        if (lock) {
            e->modifiable = ZEND_INI_SYSTEM;
        }
    }

    return 0;
}


/* the setting "NAME=VALUE" names, or NULL (said) */

static zend_ini_entry *
fp_ini_setting(const char *kv)
{
    size_t           n;
    zend_ini_entry  *e;

    n = strcspn(kv, "=");
    e = (kv[n] == '=') ? zend_hash_str_find_ptr(EG(ini_directives), kv, n)
                       : NULL;

    if (e == NULL) {
        fprintf(stderr, "faas-php: php.%.*s: PHP has no such setting\n",
                (int) n, kv);
    }

    return e;
}


/*
 * A customer's values (-u), once PHP has started with the host's: only a
 * setting a script or a .user.ini may change (PHP_INI_USER,
 * PHP_INI_PERDIR), set as a .user.ini sets it (PHP_INI_STAGE_HTACCESS:
 * open_basedir only narrows what php.ini or the host gave). Each becomes
 * the setting's value for every request (as php.ini's is: not one
 * restored at a request's end), then locked as -a ones are. apply 0:
 * only checked.
 */

static int
fp_tenant(char **tenant, int apply)
{
    int              i;
    size_t           n;
    zend_ini_entry  *e;

    for (i = 0; tenant[i]; i++) {
        n = strcspn(tenant[i], "=");
        e = fp_ini_setting(tenant[i]);

        if (e == NULL) {
            return -1;
        }

        if (!(e->modifiable & (ZEND_INI_USER | ZEND_INI_PERDIR))) {
            fprintf(stderr, "faas-php: php.%.*s: only the host sets it "
                    "(php.ini, or php.%.*s in the runner's configuration): "
                    "a customer's function.conf sets what a .user.ini "
                    "may\n", (int) n, tenant[i], (int) n, tenant[i]);
            return -1;
        }

        if (!apply) {
            continue;
        }

        if (fp_tenant_value(e, &tenant[i][n + 1]) != 0) {
            fprintf(stderr, "faas-php: php.%.*s: PHP did not take \"%s\"\n",
                    (int) n, tenant[i], &tenant[i][n + 1]);
            return -1;
        }

        e->modifiable = ZEND_INI_SYSTEM;
    }

    return 0;
}


static int
fp_tenant_value(zend_ini_entry *e, const char *value)
{
    zend_string  *v;

    v = zend_string_init(value, strlen(value), 1);

    if (e->on_modify
        && e->on_modify(e, v, e->mh_arg1, e->mh_arg2, e->mh_arg3,
                        ZEND_INI_STAGE_HTACCESS) != SUCCESS)
    {
        zend_string_release_ex(v, 1);
        return -1;
    }

    /* the value before stays allocated: it may be referred to still */
    e->value = v;

    return 0;
}


/* one request, on c, from its parameters to its shutdown */

int
fp_php_request(fp_conn_t *c)
{
    volatile int       rc;
    const char        *s;
    zend_file_handle   fh;

    fp_c = c;
    rc = 0;

    SG(server_context) = c;
    SG(sapi_headers).http_response_code = 200;
    SG(request_info).request_method = fp_param(c, "REQUEST_METHOD");
    SG(request_info).query_string = (char *) fp_param(c, "QUERY_STRING");
    SG(request_info).content_type = fp_param(c, "CONTENT_TYPE");
    SG(request_info).path_translated = (char *) fp_param(c,
                                                         "SCRIPT_FILENAME");
    SG(request_info).request_uri = (char *) fp_param(c, "SCRIPT_NAME");

    s = fp_param(c, "CONTENT_LENGTH");
    SG(request_info).content_length = s ? ZEND_STRTOL(s, NULL, 10) : 0;

    s = SG(request_info).request_method;
    SG(request_info).headers_only = (s && strcmp(s, "HEAD") == 0);

    s = fp_param(c, "SERVER_PROTOCOL");
    SG(request_info).proto_num = (s && strcmp(s, "HTTP/1.0") == 0) ? 1000
                                                                   : 1001;

    s = fp_param(c, "HTTP_AUTHORIZATION");
    php_handle_auth_data(s);

    zend_first_try {

        if (php_request_startup() == FAILURE) {
            rc = -1;

        } else if (fp_open_script(c, &fh) != 0) {
            SG(sapi_headers).http_response_code = 404;
            PUTS("File not found.\n");

        } else {
            php_execute_script(&fh);
            zend_destroy_file_handle(&fh);
        }

    } zend_end_try();

    php_request_shutdown(NULL);
    fp_deadline(0);

    SG(server_context) = NULL;
    memset(&SG(request_info), 0, sizeof(SG(request_info)));

    return rc;
}


static int
fp_open_script(fp_conn_t *c, zend_file_handle *fh)
{
    int               fd;
    size_t            len;
    const char       *path;
    struct stat       st;
    struct timespec   now;

    path = fp_param(c, "SCRIPT_FILENAME");

    if (path == NULL || path[0] == '\0') {
        fprintf(stderr, "faas-php: no SCRIPT_FILENAME\n");
        return -1;
    }

    /*
     * The script the last request ran, found within the second: no
     * look again (three system calls of some twenty a request; OPcache
     * then opens nothing either). A script removed is answered 404 a
     * second later at most, as OPcache's own revalidation goes.
     */
    (void) clock_gettime(CLOCK_MONOTONIC_COARSE, &now);
    len = strlen(path);

    if (now.tv_sec == fp_checked_at && len < sizeof(fp_checked)
        && memcmp(path, fp_checked, len + 1) == 0)
    {
        zend_stream_init_filename(fh, path);
        return 0;
    }

    fp_checked[0] = '\0';

    /* as the worker's user, before PHP says so in its own words; a
     * file (a FIFO would hold the worker) */
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

    if (fd == -1 || fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
        fprintf(stderr, "faas-php: \"%s\": %s (Primary script unknown)\n",
                path, fd == -1 ? strerror(errno) : "not a file");

        if (fd != -1) {
            close(fd);
        }

        return -1;
    }

    close(fd);

    if (len < sizeof(fp_checked)) {
        memcpy(fp_checked, path, len + 1);
        fp_checked_at = now.tv_sec;
    }

    zend_stream_init_filename(fh, path);

    return 0;
}


/* the SAPI ------------------------------------------------------------- */

static size_t
fp_sapi_write(const char *str, size_t len)
{
    if (fp_c == NULL || fp_c->answered) {
        return len;
    }

    if (fp_write(fp_c, str, len) != 0) {
        php_handle_aborted_connection();
    }

    return len;
}


static void
fp_sapi_flush(void *ctx)
{
    if (ctx == NULL || fp_c == NULL || fp_c->answered) {
        return;
    }

    /* what is ours to send: never the headers while PHP's output
     * buffer still holds the body (the script may change them) */
    if (fp_flush(fp_c) != 0) {
        php_handle_aborted_connection();
    }
}


static char *
fp_sapi_getenv(const char *name, size_t len)
{
    char  buf[256];

    if (fp_c == NULL || len >= sizeof(buf)) {
        return NULL;
    }

    memcpy(buf, name, len);
    buf[len] = '\0';

    return (char *) fp_param(fp_c, buf);
}


/* a CGI header block: "Status: ...", the headers, an empty line */

static int
fp_sapi_send_headers(sapi_headers_struct *h)
{
    int                   n, code;
    char                  status[64];
    const char           *line, *reason;
    zend_llist_position   pos;
    sapi_header_struct   *hd;

    if (fp_c == NULL || fp_c->answered) {
        return SAPI_HEADER_SENT_SUCCESSFULLY;
    }

    line = h->http_status_line;
    code = h->http_response_code ? h->http_response_code : 200;

    /* a "Status:" header of the script's own says it, as under php-cgi */
    for (hd = zend_llist_get_first_ex(&h->headers, &pos);
         hd != NULL;
         hd = zend_llist_get_next_ex(&h->headers, &pos))
    {
        if (hd->header_len >= 7 && strncasecmp(hd->header, "Status:", 7) == 0)
        {
            break;
        }
    }

    if (hd != NULL) {
        n = 0;

    /*
     * "HTTP/1.1 404 Not Here", from header(): its code and reason, as
     * php-fpm's; but for a code set back to 200 since (php-fpm says no
     * status at 200)
     */
    } else if (code != 200 && line && strncmp(line, "HTTP/", 5) == 0
        && (line = strchr(line, ' ')) != NULL
        && strlen(line + 1) >= 3)
    {
        n = snprintf(status, sizeof(status), "Status: %.50s\r\n", line + 1);
        code = atoi(line + 1);          /* the code that goes out */

    } else {
        reason = fp_reason(code);
        n = snprintf(status, sizeof(status), "Status: %d%s%s\r\n", code,
                     reason ? " " : "", reason ? reason : "");
    }

    if (n > 0) {
        (void) fp_write(fp_c, status, n);
    }

    for (hd = zend_llist_get_first_ex(&h->headers, &pos);
         hd != NULL;
         hd = zend_llist_get_next_ex(&h->headers, &pos))
    {
        /* a 304 has no Content-Type: PHP's CGI SAPIs drop it (of the
         * status that goes out, a status line's too) */
        if (code == 304 && hd->header_len >= 13
            && strncasecmp(hd->header, "Content-Type:", 13) == 0)
        {
            continue;
        }

        (void) fp_write(fp_c, hd->header, hd->header_len);
        (void) fp_write(fp_c, "\r\n", 2);
    }

    (void) fp_write(fp_c, "\r\n", 2);

    return SAPI_HEADER_SENT_SUCCESSFULLY;
}


/* all that is asked for, unless the body ends first (PHP stops at less) */

static size_t
fp_sapi_read_post(char *buf, size_t size)
{
    size_t  n, got, left;

    if (fp_c == NULL) {
        return 0;
    }

    /* the body is CONTENT_LENGTH bytes, as php-fpm reads it: what a
     * client sent past it is not the script's */
    left = (SG(request_info).content_length > SG(read_post_bytes))
           ? (size_t) (SG(request_info).content_length - SG(read_post_bytes))
           : 0;

    if (size > left) {
        size = left;
    }

    for (got = 0; got < size; got += n) {
        n = fp_read_body(fp_c, buf + got, size - got);

        if (n == 0) {
            break;
        }
    }

    return got;
}


static char *
fp_sapi_read_cookies(void)
{
    return fp_c ? (char *) fp_param(fp_c, "HTTP_COOKIE") : NULL;
}


static void
fp_sapi_register(zval *vars)
{
    char        *val, *self;
    size_t       i, len, nlen;
    const char  *script, *info;
    fp_param_t  *v;

    php_import_environment_variables(vars);

    if (fp_c == NULL) {
        return;
    }

    for (i = 0; i < fp_c->nvars; i++) {
        v = &fp_c->vars[i];
        val = estrndup(v->value, v->value_len);

        if (sapi_module.input_filter(PARSE_SERVER, v->name, &val,
                                     v->value_len, &nlen))
        {
            php_register_variable_safe((char *) v->name, val, nlen, vars);
        }

        efree(val);
    }

    /* PHP_SELF: the script's URI and the path after it */
    script = fp_param(fp_c, "SCRIPT_NAME");
    info = fp_param(fp_c, "PATH_INFO");
    script = script ? script : "";
    info = info ? info : "";

    len = strlen(script) + strlen(info);
    self = emalloc(len + 1);
    memcpy(self, script, strlen(script));
    memcpy(self + strlen(script), info, strlen(info) + 1);

    if (sapi_module.input_filter(PARSE_SERVER, "PHP_SELF", &self, len,
                                 &nlen))
    {
        php_register_variable_safe("PHP_SELF", self, nlen, vars);
    }

    efree(self);
}


static void
fp_sapi_log(const char *msg, int syslog_type)
{
    size_t        len;
    struct iovec  iov[2];

    (void) syslog_type;

    len = strlen(msg);

    iov[0].iov_base = (void *) msg;
    iov[0].iov_len = len;
    iov[1].iov_base = "\n";
    iov[1].iov_len = 1;

    (void) !writev(STDERR_FILENO, iov, 2);
}


/* fastcgi_finish_request(): the response ends, the script goes on */

static
PHP_FUNCTION(fastcgi_finish_request)
{
    ZEND_PARSE_PARAMETERS_NONE();

    if (fp_c == NULL || fp_c->answered) {
        RETURN_FALSE;
    }

    php_output_end_all();
    php_header();

    (void) fp_answer(fp_c);
    fp_deadline(1);

    RETURN_TRUE;
}


/*
 * After fastcgi_finish_request() the runner has answered the client and
 * keeps the worker busy until its END_REQUEST, within the invocation's
 * timeout. The script has the function's timeout (max_execution_time
 * as the runner set it, which set_time_limit() does not move) to end,
 * or this timer of the worker's own kills it, whatever the runner does.
 * Made at its first use (timers are not inherited by a fork).
 */

static void
fp_deadline(int arm)
{
    struct sigevent    sev;
    struct itimerspec  its;

    /* nothing armed here or before a fork: no getpid() a request */
    if (fp_timeout <= 0 || (!arm && fp_timer_pid == 0)
        || (!arm && fp_timer_pid != getpid()))
    {
        return;
    }

    if (fp_timer_pid != getpid()) {
        memset(&sev, 0, sizeof(sev));
        sev.sigev_notify = SIGEV_SIGNAL;
        sev.sigev_signo = SIGKILL;

        if (timer_create(CLOCK_MONOTONIC, &sev, &fp_timer) == -1) {
            return;
        }

        fp_timer_pid = getpid();
    }

    memset(&its, 0, sizeof(its));
    its.it_value.tv_sec = arm ? fp_timeout : 0;

    (void) timer_settime(fp_timer, 0, &its, NULL);
}


/* the reason phrase of a status: those php-fpm gives, with its words;
 * another code goes without one, as there */

static const char *
fp_reason(int code)
{
    static const struct {
        int          code;
        const char  *reason;
    } reasons[] = {
        { 100, "Continue" }, { 101, "Switching Protocols" },
        { 200, "OK" }, { 201, "Created" }, { 202, "Accepted" },
        { 203, "Non-Authoritative Information" }, { 204, "No Content" },
        { 205, "Reset Content" }, { 206, "Partial Content" },
        { 300, "Multiple Choices" }, { 301, "Moved Permanently" },
        { 302, "Found" }, { 303, "See Other" }, { 304, "Not Modified" },
        { 305, "Use Proxy" }, { 307, "Temporary Redirect" },
        { 308, "Permanent Redirect" },
        { 400, "Bad Request" }, { 401, "Unauthorized" },
        { 402, "Payment Required" }, { 403, "Forbidden" },
        { 404, "Not Found" }, { 405, "Method Not Allowed" },
        { 406, "Not Acceptable" }, { 407, "Proxy Authentication Required" },
        { 408, "Request Timeout" }, { 409, "Conflict" }, { 410, "Gone" },
        { 411, "Length Required" }, { 412, "Precondition Failed" },
        { 413, "Request Entity Too Large" }, { 414, "Request-URI Too Long" },
        { 415, "Unsupported Media Type" },
        { 416, "Requested Range Not Satisfiable" },
        { 417, "Expectation Failed" }, { 426, "Upgrade Required" },
        { 428, "Precondition Required" }, { 429, "Too Many Requests" },
        { 431, "Request Header Fields Too Large" },
        { 451, "Unavailable For Legal Reasons" },
        { 500, "Internal Server Error" }, { 501, "Not Implemented" },
        { 502, "Bad Gateway" }, { 503, "Service Unavailable" },
        { 504, "Gateway Timeout" }, { 505, "HTTP Version Not Supported" },
        { 506, "Variant Also Negotiates" },
        { 511, "Network Authentication Required" }
    };

    size_t  i;

    for (i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++) {
        if (reasons[i].code == code) {
            return reasons[i].reason;
        }
    }

    return NULL;
}
