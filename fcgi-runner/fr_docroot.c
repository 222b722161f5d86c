/*
 * Copyright (C) ngx_faas developers
 *
 * document_root: a folder of the function's whose scripts are run by
 * the request's path, as fastcgi.conf's SCRIPT_FILENAME
 * ($document_root$fastcgi_script_name) with fastcgi_split_path_info
 * gives them to php-fpm. The path is PATH_INFO when the route gave one
 * (SCRIPT_NAME is then where the function is mounted, or, from a stock
 * fastcgi_pass, where it is mounted followed by PATH_INFO), else
 * SCRIPT_NAME. It is split after its first component that ends like
 * index (".php"), the rest being PATH_INFO; a folder runs its index, a
 * folder named without its slash is redirected to it, and so is the
 * function's mount (FAAS_MOUNT: "/fn/NAME", the route's path_info
 * empty). Only such files
 * run, as php-fpm's security.limit_extensions: an uploaded picture is
 * never a script. The folder is a customer's: the script is looked up
 * with the function's rights under the symlink rule (fr_path.c), and
 * what is found must still be under the root; else, and for what is
 * not there, the runner answers 404 without waking a worker. What the
 * worker gets (SCRIPT_FILENAME, SCRIPT_NAME, PATH_INFO, DOCUMENT_ROOT,
 * DOCUMENT_URI) replaces what the client sent.
 */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fr_log.h"
#include "fr_path.h"
#include "fr_docroot.h"


typedef struct {
    const u_char          *mount;           /* SCRIPT_NAME before path */
    size_t                 mount_len;
    const u_char          *path;            /* the path under the root */
    size_t                 path_len;
    size_t                 script_len;      /* path's part that is it */
    const char            *index;
    const char            *ext;             /* index's: ".php" */
    const u_char          *query;           /* QUERY_STRING */
    size_t                 query_len;
    unsigned               has_ext:1;       /* the script's name ends so */
    unsigned               named:1;         /* split at such a name */
    unsigned               folder:1;        /* a folder: its index runs */
    unsigned               slash:1;         /* a folder without its "/" */
    char                   root[PATH_MAX];  /* found: no symlink, no .. */
    char                   file[PATH_MAX];
} fr_docroot_req_t;


static int fr_docroot_dots(const u_char *p, size_t len, int parent_only);
static int fr_docroot_split(fr_docroot_req_t *d);
static int fr_docroot_open(fr_func_t *f, fr_docroot_req_t *d);
static int fr_docroot_replaced(const u_char *name, size_t len);
static int fr_docroot_params(fr_docroot_req_t *d, fr_buf_t *params);
static int fr_docroot_location(fr_docroot_req_t *d, fr_buf_t *location);


/*
 * At load: the keys make sense and, as the function's user sees it,
 * the folder is there (in --test a missing one is a problem; a refused
 * symlink is one always).
 */

int
fr_docroot_check(fr_func_t *f, int test)
{
    int          dfd, fd, err, bad;
    char        *dr, *ix, path[PATH_MAX];

    dr = f->conf.document_root;
    ix = f->conf.index;

    if (dr == NULL) {
        /* an index of the file's own with nothing to index (runtime =
         * php's is its front controller, without script) */
        if (fr_fconf_line(&f->conf, "index") == 0
            || (f->conf.runtime && strcmp(f->conf.runtime, "php") == 0))
        {
            return 0;
        }

        fr_log(FR_LOG_ERR, 0, "%s/function.conf:%d: index is for "
               "document_root", f->dir, fr_fconf_line(&f->conf, "index"));
        return 1;
    }

    if (f->conf.script) {
        fr_log(FR_LOG_ERR, 0, "%s/function.conf:%d: \"script\" and "
               "\"document_root\" exclude each other", f->dir,
               fr_fconf_line(&f->conf, "document_root"));
        return 1;
    }

    if (dr[0] == '\0' || dr[0] == '/'
        || fr_docroot_dots((u_char *) dr, strlen(dr), 1))
    {
        fr_log(FR_LOG_ERR, 0, "%s/function.conf:%d: document_root \"%s\" "
               "is not a folder inside the function's", f->dir,
               fr_fconf_line(&f->conf, "document_root"), dr);
        return 1;
    }

    if (ix && (ix[0] == '\0' || strchr(ix, '/') || strcmp(ix, ".") == 0
               || strcmp(ix, "..") == 0))
    {
        fr_log(FR_LOG_ERR, 0, "%s/function.conf:%d: index \"%s\" is not a "
               "file name", f->dir, fr_fconf_line(&f->conf, "index"), ix);
        return 1;
    }

    if (f->set_user) {
        fr_path_as(f->uid, f->gid);
    }

    fd = -1;
    dfd = fr_path_open(AT_FDCWD, f->dir, O_PATH | O_DIRECTORY, path);

    if (dfd != -1) {
        fd = fr_path_open(dfd, dr, O_PATH | O_DIRECTORY, path);
        close(dfd);
    }

    err = errno;

    if (f->set_user) {
        fr_path_as_runner();
    }

    if (fd != -1) {
        close(fd);
        return 0;
    }

    bad = test || err == ELOOP;

    fr_log(bad ? FR_LOG_ERR : FR_LOG_WARN, err == ELOOP ? 0 : err,
           "%s/function.conf:%d: function \"%s\": document_root \"%s\" "
           "is not a folder%s", f->dir,
           fr_fconf_line(&f->conf, "document_root"), f->name, dr,
           err == ELOOP ? ": a symlink is followed only when its owner owns "
           "its target" : "");

    return bad;
}


/*
 * Per request: FR_OK with params rewritten for the script found,
 * FR_DECLINED when there is none to run (404), FR_DONE for a folder
 * named without its slash (location: the CGI answer of a 301 to where
 * nginx would redirect it), FR_ERROR.
 */

int
fr_docroot_resolve(fr_func_t *f, fr_buf_t *params, fr_buf_t *location)
{
    int                rc, mount;
    u_char             esc[4 * 128];
    size_t             nlen, vlen, len, ulen;
    const u_char      *pos, *last, *n, *v, *sn, *pi, *uri;
    fr_docroot_req_t   d;

    sn = NULL;
    pi = NULL;
    mount = 0;
    uri = NULL;
    ulen = 0;
    d.mount_len = 0;
    d.path_len = 0;
    d.query = NULL;
    d.query_len = 0;

    pos = fr_buf_pos(params);
    last = pos + params->len;

    while (fr_fcgi_nv_next(&pos, last, &n, &nlen, &v, &vlen) == FR_OK) {
        if (nlen == 11 && memcmp(n, "SCRIPT_NAME", 11) == 0) {
            sn = v;
            d.mount_len = vlen;

        } else if (nlen == 9 && memcmp(n, "PATH_INFO", 9) == 0) {
            pi = v;
            d.path_len = vlen;

        } else if (nlen == 12 && memcmp(n, "QUERY_STRING", 12) == 0) {
            d.query = v;
            d.query_len = vlen;

        } else if (nlen == 12 && memcmp(n, "DOCUMENT_URI", 12) == 0) {
            uri = v;
            ulen = vlen;

        } else if (nlen == 10 && memcmp(n, "FAAS_MOUNT", 10) == 0) {
            mount = (vlen == 1 && v[0] == '1');
        }
    }

    if (mount && d.path_len == 0 && sn && d.mount_len && sn[0] == '/'
        && sn[d.mount_len - 1] != '/')
    {
        /* the module's "/fn/NAME": the root named without its slash (a
         * mount that ends with one is its root: "/", "/app/") */
        d.mount = sn;
        d.path = (u_char *) "";

        return fr_docroot_location(&d, location) == FR_OK ? FR_DONE
                                                          : FR_ERROR;
    }

    if (d.path_len && d.mount_len > d.path_len
        && memcmp(sn + d.mount_len - d.path_len, pi, d.path_len) == 0
        && !(ulen == d.mount_len + d.path_len
             && memcmp(uri, sn, d.mount_len) == 0))
    {
        /* stock fastcgi_params: SCRIPT_NAME is all the URI, PATH_INFO
         * the end of it that the location captured */
        d.mount_len -= d.path_len;
    }

    if (d.path_len) {
        /* the route's path_info: the function is mounted at SCRIPT_NAME */
        d.mount = sn ? sn : (u_char *) "";
        d.path = pi;

    } else {
        d.mount = (u_char *) "";
        d.path = d.mount_len ? sn : (u_char *) "/";
        d.path_len = d.mount_len ? d.mount_len : 1;
        d.mount_len = 0;
    }

    d.index = f->conf.index ? f->conf.index : FR_DOCROOT_INDEX;
    d.ext = strrchr(d.index, '.');
    d.ext = d.ext ? d.ext : "";

    rc = fr_docroot_split(&d);

    if (rc == FR_OK) {
        rc = fr_docroot_open(f, &d);
    }


    if (rc == FR_DONE) {
        return fr_docroot_location(&d, location) == FR_OK ? FR_DONE
                                                          : FR_ERROR;
    }

    if (rc != FR_OK) {
        len = fr_log_escape(esc, d.path, d.path_len > 128 ? 128
                                                          : d.path_len);
        fr_log(FR_LOG_INFO, 0, "function \"%s\": no script for \"%.*s\" "
               "in its document_root", f->name, (int) len, esc);
        return FR_DECLINED;
    }

    return fr_docroot_params(&d, params);
}


/* 1: a component of p is ".." (or, unless parent_only, ".") */

static int
fr_docroot_dots(const u_char *p, size_t len, int parent_only)
{
    size_t         n;
    const u_char  *last, *end;

    last = p + len;

    while (p < last) {
        end = memchr(p, '/', last - p);
        end = end ? end : last;
        n = end - p;

        if ((n == 2 && p[0] == '.' && p[1] == '.')
            || (!parent_only && n == 1 && p[0] == '.'))
        {
            return 1;
        }

        p = end + 1;
    }

    return 0;
}


/* the script's part of the path: up to its first "NAME.php" */

static int
fr_docroot_split(fr_docroot_req_t *d)
{
    size_t         n, elen;
    const u_char  *p, *last, *end;

    if (d->path_len == 0 || d->path[0] != '/' || d->path_len >= PATH_MAX
        || d->mount_len >= PATH_MAX
        || memchr(d->path, '\0', d->path_len)
        || fr_docroot_dots(d->path, d->path_len, 0))
    {
        return FR_DECLINED;
    }

    elen = strlen(d->ext);
    d->script_len = d->path_len;
    d->has_ext = (elen == 0);
    d->named = 0;

    p = d->path;
    last = p + d->path_len;

    while (elen && p < last) {
        end = memchr(p, '/', last - p);
        end = end ? end : last;
        n = end - p;

        if (n > elen && memcmp(end - elen, d->ext, elen) == 0) {
            d->script_len = end - d->path;
            d->has_ext = 1;
            d->named = 1;
            break;
        }

        p = end + 1;
    }

    return FR_OK;
}


/*
 * The script, looked up as the function's user: the root, then the
 * script's part of the path (its index for a folder); a regular file
 * named like index, under the root once symlinks are followed. A
 * folder named without its slash: FR_DONE, as nginx redirects it.
 */

static int
fr_docroot_open(fr_func_t *f, fr_docroot_req_t *d)
{
    int          dfd, fd, ifd, ok;
    char         rel[PATH_MAX];
    size_t       skip, len;
    struct stat  st;

    for (skip = 0; skip < d->script_len && d->path[skip] == '/'; skip++) {
        /* void */
    }

    len = d->script_len - skip;

    if (len == 0) {
        rel[len++] = '.';

    } else {
        memcpy(rel, d->path + skip, len);
    }

    rel[len] = '\0';
    d->folder = 0;
    d->slash = 0;

    if (f->set_user) {
        fr_path_as(f->uid, f->gid);
    }

    fd = -1;
    dfd = fr_path_open(AT_FDCWD, f->dir, O_PATH | O_DIRECTORY, d->root);

    if (dfd != -1
        && !fr_path_is(dfd, f->dir_dev, f->dir_ino, &f->dir_handle))
    {
        /* another folder made there since the load: none of its */
        close(dfd);
        dfd = -1;
    }

    if (dfd != -1) {
        ifd = fr_path_open(dfd, f->conf.document_root, O_PATH | O_DIRECTORY,
                           d->root);
        close(dfd);

        if (ifd != -1) {
            strcpy(d->file, d->root);
            fd = fr_path_open(ifd, rel, O_PATH, d->file);
            close(ifd);
        }
    }

    ok = (fd != -1 && fstat(fd, &st) == 0);

    if (ok && S_ISDIR(st.st_mode) && !d->named) {

        if (d->path[d->path_len - 1] != '/') {
            d->slash = 1;

        } else {
            /* a folder: its index */
            d->folder = 1;
            ifd = fr_path_open(fd, d->index, O_PATH, d->file);
            close(fd);
            fd = ifd;
            ok = (fd != -1 && fstat(fd, &st) == 0);
        }
    }

    if (f->set_user) {
        fr_path_as_runner();
    }

    if (fd != -1) {
        close(fd);
    }

    len = strlen(d->root);

    if (!ok || strncmp(d->file, d->root, len) != 0
        || (d->file[len] != '/' && !(d->slash && d->file[len] == '\0')))
    {
        return FR_DECLINED;
    }

    if (d->slash) {
        return FR_DONE;
    }

    if (!S_ISREG(st.st_mode) || !(d->has_ext || d->folder)) {
        return FR_DECLINED;
    }

    return FR_OK;
}


/* what the runner sets in place of the client's */

static int
fr_docroot_replaced(const u_char *name, size_t len)
{
    static const char  *names[] = {
        "SCRIPT_FILENAME", "SCRIPT_NAME", "PATH_INFO", "PATH_TRANSLATED",
        "DOCUMENT_ROOT", "DOCUMENT_URI", NULL
    };

    const char  **s;

    for (s = names; *s; s++) {
        if (strlen(*s) == len && memcmp(*s, name, len) == 0) {
            return 1;
        }
    }

    return 0;
}


/*
 * The request's parameters again, with SCRIPT_FILENAME the script found,
 * SCRIPT_NAME its URI (where the function is mounted, the script, its
 * index), PATH_INFO the rest of the path, DOCUMENT_ROOT the root and
 * DOCUMENT_URI the script's URI too, as nginx gives them to php-fpm
 * with Debian's snippets/fastcgi-php.conf (its try_files makes the
 * script the URI).
 */

static int
fr_docroot_params(fr_docroot_req_t *d, fr_buf_t *params)
{
    size_t         nlen, vlen, size, snlen, pilen, ilen, flen, rlen;
    u_char        *uri, *s, *h;
    fr_buf_t       b;
    const u_char  *pos, *last, *n, *v, *pi;

    ilen = d->folder ? strlen(d->index) : 0;

    uri = malloc(d->mount_len + d->path_len + ilen + 2);
    if (uri == NULL) {
        return FR_ERROR;
    }

    s = uri;
    memcpy(s, d->mount, d->mount_len);
    s += d->mount_len;
    memcpy(s, d->path, d->script_len);
    s += d->script_len;

    if (d->folder) {
        if (s[-1] != '/') {
            *s++ = '/';
        }

        memcpy(s, d->index, ilen);
        s += ilen;
    }

    snlen = s - uri;
    pi = d->path + d->script_len;
    pilen = d->path_len - d->script_len;
    memcpy(s, pi, pilen);

    flen = strlen(d->file);
    rlen = strlen(d->root);

    size = fr_fcgi_nv_size(15, flen) + fr_fcgi_nv_size(11, snlen)
           + fr_fcgi_nv_size(9, pilen) + fr_fcgi_nv_size(13, rlen)
           + fr_fcgi_nv_size(12, snlen);

    pos = fr_buf_pos(params);
    last = pos + params->len;

    while (fr_fcgi_nv_next(&pos, last, &n, &nlen, &v, &vlen) == FR_OK) {
        size += fr_docroot_replaced(n, nlen) ? 0
                                             : fr_fcgi_nv_size(nlen, vlen);
    }

    memset(&b, 0, sizeof(fr_buf_t));

    h = fr_buf_reserve(&b, size);
    if (h == NULL) {
        free(uri);
        return FR_ERROR;
    }

    pos = fr_buf_pos(params);

    while (fr_fcgi_nv_next(&pos, last, &n, &nlen, &v, &vlen) == FR_OK) {
        if (!fr_docroot_replaced(n, nlen)) {
            h = fr_fcgi_nv_write(h, n, nlen, v, vlen);
        }
    }

    h = fr_fcgi_nv_write(h, (u_char *) "SCRIPT_FILENAME", 15,
                         (u_char *) d->file, flen);
    h = fr_fcgi_nv_write(h, (u_char *) "SCRIPT_NAME", 11, uri, snlen);
    h = fr_fcgi_nv_write(h, (u_char *) "PATH_INFO", 9, pi, pilen);
    h = fr_fcgi_nv_write(h, (u_char *) "DOCUMENT_ROOT", 13,
                         (u_char *) d->root, rlen);
    h = fr_fcgi_nv_write(h, (u_char *) "DOCUMENT_URI", 12, uri, snlen);

    b.len = size;

    free(uri);
    fr_buf_free(params);
    *params = b;

    return FR_OK;
}


/*
 * The CGI answer that redirects a folder named without its slash: 301
 * to the URI with "/" and the query, escaped (a decoded URI may hold
 * any byte).
 */

static int
fr_docroot_location(fr_docroot_req_t *d, fr_buf_t *location)
{
    u_char         *p;
    size_t          i, n, len, off;
    const u_char   *s;

    static const char  hex[] = "0123456789ABCDEF";
    static const char  head[] = "Status: 301 Moved Permanently\r\n"
                                "Location: ";
    static const char  tail[] = "\r\nContent-Type: text/plain\r\n"
                                "Content-Length: 22\r\n\r\n"
                                "301 Moved Permanently\n";

    len = (d->mount_len + d->path_len + d->query_len) * 3 + 2;

    if (fr_buf_append(location, head, sizeof(head) - 1) != FR_OK) {
        return FR_ERROR;
    }

    off = location->len;

    p = fr_buf_reserve(location, len);
    if (p == NULL) {
        return FR_ERROR;
    }

    for (i = 0; i < 3; i++) {
        s = (i == 0) ? d->mount : (i == 1) ? d->path : d->query;
        n = (i == 0) ? d->mount_len : (i == 1) ? d->path_len : d->query_len;

        if (i == 2 && n) {
            *p++ = '?';
        }

        for ( /* void */ ; n; n--, s++) {
            if (*s > 0x20 && *s < 0x7f && *s != '"' && *s != '\\'
                && (i == 2 || (*s != '%' && *s != '?' && *s != '#')))
            {
                *p++ = *s;
                continue;
            }

            *p++ = '%';
            *p++ = hex[*s >> 4];
            *p++ = hex[*s & 0xf];
        }

        if (i == 1) {
            *p++ = '/';
        }
    }

    /* "//host/...": the client's own slashes (merge_slashes off) would
     * name another site; one stays */
    s = fr_buf_pos(location) + off;

    for (n = 0; s + n + 1 < p && s[n] == '/' && s[n + 1] == '/'; n++) {
        /* void */
    }

    memmove((u_char *) s, s + n, p - s - n);
    location->len = p - n - fr_buf_pos(location);

    return fr_buf_append(location, tail, sizeof(tail) - 1);
}

