/*
 * Copyright (C) ngx_faas developers
 *
 * A function's folder, read as its owner would read it: function.conf,
 * the listing a reload compares, and where exec and script are. A root
 * runner does it with the rights of the customer who owns the folder
 * (or of the function's user) and under the symlink rule of fr_path.c,
 * never with its own.
 */

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fr_log.h"
#include "fr_path.h"
#include "fr_spawn.h"
#include "fr_strict.h"
#include "fr_folder.h"


/* the longest function.conf */
#define FR_FOLDER_CONF_MAX  (1024 * 1024)
#define FR_FOLDER_STAT_MAX  10000       /* files looked at one by one */


static int fr_folder_list(fr_func_t *f, int dfd, fr_buf_t *text);
static char *fr_find_exec_at(int dirfd, const char *cmd,
    char resolved[PATH_MAX]);


static int  fr_folder_no_handle;        /* said */


/*
 * function.conf's text, and the signature a reload compares (the
 * folder's listing and that text), read as the folder's owner would:
 * a customer's folder under the customer's rights and the symlink rule,
 * and only if it is still what the functions folder showed.
 */

int
fr_folder_read(fr_func_t *f, fr_buf_t *text)
{
    int             dfd, fd, owner;
    char            path[PATH_MAX];
    u_char         *p;
    ssize_t         n;
    struct stat     st;
    struct passwd  *pw;

    owner = fr_runner.is_root && f->dir_uid != 0;

    if (owner) {
        pw = getpwuid(f->dir_uid);

        if (pw == NULL) {
            fr_log(FR_LOG_ERR, 0, "function \"%s\" not loaded: its folder "
                   "is owned by uid %d, which is no user", f->name,
                   (int) f->dir_uid);
            return FR_ERROR;
        }

        fr_path_as(pw->pw_uid, pw->pw_gid);
    }

    fd = -1;
    dfd = fr_path_open(AT_FDCWD, f->dir, O_RDONLY | O_DIRECTORY, path);

    if (dfd != -1) {
        fr_path_handle(dfd, &f->dir_handle);

        /* the listing's folder: its owner too (ext4 gives a folder made
         * since the old one's inode number) */
        if (!fr_path_is(dfd, f->dir_dev, f->dir_ino, &f->dir_handle)
            || fstat(dfd, &st) == -1 || st.st_uid != f->dir_uid)
        {
            /* changed since the listing: the next reload sees it */
            close(dfd);
            dfd = -1;
            errno = ESTALE;

        } else {
            strcpy(path, f->dir);
            fd = fr_path_open(dfd, "function.conf", O_RDONLY, path);
        }
    }

    if (owner) {
        fr_path_as_runner();
    }

    if (dfd == -1 && errno == ESTALE) {
        fr_log(FR_LOG_ERR, 0, "function \"%s\" not loaded: \"%s\" changed "
               "while it was read (made again, or another owner's): the "
               "next reload takes it", f->name, f->dir);
        return FR_ERROR;
    }

    if (dfd == -1) {
        fr_log(FR_LOG_ERR, errno, "function \"%s\" not loaded: its %s "
               "cannot open \"%s\"", f->name, owner ? "owner" : "runner",
               f->dir);
        return FR_ERROR;
    }

    if (fd == -1 && errno == ENOENT) {
        /* a folder of something else: lost+found, .git, a marker */
        close(dfd);
        return FR_DECLINED;
    }

    if (f->dir_handle.len == 0 && !fr_folder_no_handle) {
        fr_log(FR_LOG_WARN, 0, "function \"%s\": the file system of \"%s\" "
               "gives no file handle: a folder made again under its name is "
               "told from it by device and inode only (said once)",
               f->name, f->dir);
        fr_folder_no_handle = 1;
    }

    if (fd == -1) {
        fr_log(FR_LOG_ERR, errno, "open() \"%s/function.conf\" failed%s",
               f->dir, errno == ELOOP ? FR_FOLDER_LINK_RULE
                       : errno == EINVAL ? ": not a regular file" : "");
        close(dfd);
        return FR_ERROR;
    }

    for ( ;; ) {
        p = fr_buf_reserve(text, 4096);

        if (p == NULL) {
            n = -1;
            break;
        }

        n = read(fd, p, 4096);

        if (n <= 0 || text->len + n > FR_FOLDER_CONF_MAX) {
            break;
        }

        text->len += n;
    }

    /*
     * The operator's, not a customer's: only root may have written it
     * (a runner that is not root has no customers, all runs as it)
     */
    f->operators = !fr_runner.is_root
                   || (f->dir_uid == 0
                       && fstat(dfd, &st) == 0 && !(st.st_mode & 022)
                       && fstat(fd, &st) == 0 && st.st_uid == 0
                       && !(st.st_mode & 022));

    close(fd);

    /* a newline at the end: never empty, a last line ended (one that
     * ends is no line more, which a message would name) */
    if (n != 0
        || ((text->len == 0 || fr_buf_pos(text)[text->len - 1] != '\n')
            && fr_buf_append(text, "\n", 1) != FR_OK))
    {
        fr_log(FR_LOG_ERR, n > 0 ? 0 : errno, "cannot read \"%s/"
               "function.conf\"%s", f->dir, n > 0 ? ": over 1M" : "");
        close(dfd);
        return FR_ERROR;
    }

    /* whose folder it is decides who runs it: nobody else may swap it */
    if (fr_runner.is_root
        && fr_strict_folder(f, dfd) != FR_OK)
    {
        close(dfd);
        return FR_ERROR;
    }

    return fr_folder_list(f, dfd, text);
}


/*
 * The signature: each file's name, size, time, inode and mode, and the
 * text. A customer's folder or file that other users may read or change
 * is marked, for a warning (as sshd's StrictModes). Past 10,000 files
 * the others are only named (a hash of their names): a folder of
 * hundreds of thousands held every reload for seconds and the runner's
 * memory in their lines; those files are seen added, removed or
 * renamed, not written in place.
 */

static int
fr_folder_list(fr_func_t *f, int dfd, fr_buf_t *text)
{
    int             n, loose, looked;
    char            line[NAME_MAX + 128];
    DIR            *d;
    size_t          more;
    unsigned        i;
    uint64_t        hash;
    fr_buf_t        b;
    struct stat     st;
    struct dirent  *de;
    const u_char   *p;

    memset(&b, 0, sizeof(fr_buf_t));

    d = fdopendir(dfd);

    if (d == NULL) {
        close(dfd);
        return FR_ERROR;
    }

    loose = 0;
    looked = 0;
    more = 0;
    hash = 14695981039346656037ULL;

    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, "..") == 0
            || (de->d_type != DT_UNKNOWN && de->d_type != DT_REG
                && de->d_type != DT_LNK && strcmp(de->d_name, ".") != 0))
        {
            continue;
        }

        if (looked >= FR_FOLDER_STAT_MAX && strcmp(de->d_name, ".") != 0) {
            /* FNV-1a of the names, each with its NUL */
            for (p = (const u_char *) de->d_name; ; p++) {
                hash = (hash ^ *p) * 1099511628211ULL;

                if (*p == '\0') {
                    break;
                }
            }

            more++;
            continue;
        }

        looked++;

        if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == -1) {
            continue;
        }

        if (S_ISREG(st.st_mode) || strcmp(de->d_name, ".") == 0) {
            loose |= (st.st_mode & (S_IROTH | S_IWOTH)) != 0;

        } else if (!S_ISLNK(st.st_mode)) {
            continue;
        }

        n = snprintf(line, sizeof(line), "%s:%lld:%lld.%ld:%llu:%o:%u\n",
                     de->d_name, (long long) st.st_size,
                     (long long) st.st_mtim.tv_sec, st.st_mtim.tv_nsec,
                     (unsigned long long) st.st_ino,
                     (unsigned) st.st_mode, (unsigned) st.st_uid);
        (void) fr_buf_append(&b, line, (size_t) n);
    }

    closedir(d);

    if (more) {
        n = snprintf(line, sizeof(line), "more:%zu:%016llx\n", more,
                     (unsigned long long) hash);
        (void) fr_buf_append(&b, line, (size_t) n);
    }

    /* a folder made again (its handle), or given to another (its
     * owner: a chown) is another function, however alike its files */
    n = snprintf(line, sizeof(line), "folder:%llu:%u:%d:",
                 (unsigned long long) f->dir_dev, (unsigned) f->dir_uid,
                 f->dir_handle.type);
    (void) fr_buf_append(&b, line, (size_t) n);

    for (i = 0; i < f->dir_handle.len; i++) {
        n = snprintf(line, sizeof(line), "%02x", f->dir_handle.bytes[i]);
        (void) fr_buf_append(&b, line, (size_t) n);
    }

    /* a changed runner config changes every function's defaults */
    n = snprintf(line, sizeof(line), "\nrunner:%u\n",
                 fr_runner.conf_generation);

    if (fr_buf_append(&b, line, (size_t) n) != FR_OK
        || fr_buf_append(&b, fr_buf_pos(text), text->len) != FR_OK
        || fr_buf_append(&b, "", 1) != FR_OK)
    {
        fr_buf_free(&b);
        return FR_ERROR;
    }

    f->signature = (char *) b.data;
    f->loose = loose && fr_runner.is_root && f->dir_uid != 0;

    return FR_OK;
}


/*
 * exec and script, looked up as the function's user would look them up
 * (fr_path.c: its rights, the symlink rule): where they are, with no
 * symlink and no "..", so that what isolation keeps of /tmp is found by
 * its path. In --test a missing one is a problem; a refused symlink is
 * one always.
 */

int
fr_folder_paths(fr_func_t *f, int test)
{
    int          problems, err, dfd, fd, as, line, entered;
    char         path[PATH_MAX], at[16];
    uid_t        uid;
    size_t       len;
    struct stat  st;

    as = f->set_user;
    uid = f->uid;

    if (!as && test && fr_runner.is_root) {
        /* --test makes no dynamic user: any uid of no rights will do */
        as = 1;
        uid = (uid_t) fr_runner.conf.dynamic_last;
    }

    if (as) {
        fr_path_as(uid, as == f->set_user ? f->gid : (gid_t) uid);
    }

    problems = 0;

    /* where it starts: a folder under /root is no dynamic user's */
    dfd = fr_path_open(AT_FDCWD, f->dir, O_PATH | O_DIRECTORY, path);

    entered = (dfd != -1
               && faccessat(dfd, "", X_OK, AT_EMPTY_PATH | AT_EACCESS) == 0);

    if (!entered) {
        fr_log(test ? FR_LOG_ERR : FR_LOG_WARN, errno, "function \"%s\" "
               "cannot start: its user cannot enter \"%s\"", f->name,
               f->dir);
        problems += test;
    }

    if (dfd != -1) {
        close(dfd);
    }

    /* a runtime's own program, held by the runner, is exec'd by it */
    f->exec_path = f->exec_by_fd ? strdup(f->argv[0])
                                 : fr_find_exec(f->argv[0], f->dir,
                                                f->dir_dev, f->dir_ino,
                                                &f->exec_rel);
    err = errno;

    /* a folder its user cannot enter hides what is in it: said above */
    if (f->exec_path == NULL && (entered || err == ELOOP)) {
        /* its line, else runtime's (python3, a runtime's own), else 0 */
        line = fr_fconf_line(&f->conf, "exec");
        line = line ? line : fr_fconf_line(&f->conf, "runtime");

        fr_log(test || err == ELOOP ? FR_LOG_ERR : FR_LOG_WARN,
               err == ELOOP ? 0 : err, "%s/function.conf:%d: function "
               "\"%s\": exec \"%s\" is not an executable file%s", f->dir,
               line, f->name, f->argv[0],
               err == ELOOP ? FR_FOLDER_LINK_RULE : "");
        problems += (test || err == ELOOP);
    }

    /* what is not in the folder (a link out, PATH): nobody else's */
    if (fr_runner.is_root && f->exec_path && !f->exec_rel && !f->exec_by_fd
        && fr_strict_outside(f, "its program", f->exec_path) != FR_OK)
    {
        problems++;
    }

    if (f->conf.script) {
        dfd = fr_path_open(AT_FDCWD, f->dir, O_PATH | O_DIRECTORY, path);

        if (dfd != -1
            && !fr_path_is(dfd, f->dir_dev, f->dir_ino, &f->dir_handle))
        {
            /* not the folder that was read: swapped since */
            close(dfd);
            dfd = -1;
            errno = ESTALE;
        }

        fd = (dfd == -1) ? -1
                         : fr_path_open(dfd, f->conf.script, O_PATH, path);
        err = errno;

        if (dfd != -1) {
            close(dfd);
        }

        if (fd != -1 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
            f->script_path = strdup(path);
            len = strlen(f->dir);

            if (fr_runner.is_root
                && (strncmp(path, f->dir, len) != 0 || path[len] != '/')
                && fr_strict_outside(f, "its script", path) != FR_OK)
            {
                problems++;
            }

        } else if (!entered && err != ELOOP) {
            /* the folder's problem, said above */
            snprintf(path, sizeof(path), "%s/%s", f->dir, f->conf.script);
            f->script_path = strdup(path);

        } else {
            /* its line, else runtime's (php's index.php), else none */
            line = fr_fconf_line(&f->conf, "script");
            line = line ? line : fr_fconf_line(&f->conf, "runtime");
            at[0] = '\0';

            if (line) {
                snprintf(at, sizeof(at), ":%d", line);
            }

            fr_log(test || err == ELOOP ? FR_LOG_ERR : FR_LOG_WARN,
                   err == ELOOP ? 0 : err, "%s/function.conf%s: function "
                   "\"%s\": script \"%s\" not found%s", f->dir, at,
                   f->name, f->conf.script,
                   err == ELOOP ? FR_FOLDER_LINK_RULE : "");
            problems += (test || err == ELOOP);

            snprintf(path, sizeof(path), "%s/%s", f->dir, f->conf.script);
            f->script_path = strdup(path);
        }

        if (fd != -1) {
            close(fd);
        }
    }

    if (as) {
        fr_path_as_runner();
    }

    return problems;
}


/*
 * Splits a command line at blanks; single and double quotes group,
 * a backslash escapes the next character. Returns argc, or -1.
 */

int
fr_split_args(const char *line, char ***argv)
{
    int          argc, quote;
    char       **av, *arg, *a;
    const char  *p;

    av = calloc(strlen(line) / 2 + 2, sizeof(char *));
    arg = malloc(strlen(line) + 1);

    if (av == NULL || arg == NULL) {
        free(av);
        free(arg);
        return -1;
    }

    argc = 0;
    p = line;

    for ( ;; ) {
        while (isspace((u_char) *p)) {
            p++;
        }

        if (*p == '\0') {
            break;
        }

        a = arg;
        quote = 0;

        for ( /* void */ ; *p; p++) {
            if (quote) {
                if (*p == quote) {
                    quote = 0;

                } else {
                    *a++ = *p;
                }

                continue;
            }

            if (*p == '"' || *p == '\'') {
                quote = *p;
                continue;
            }

            if (*p == '\\' && p[1]) {
                *a++ = *++p;
                continue;
            }

            if (isspace((u_char) *p)) {
                break;
            }

            *a++ = *p;
        }

        if (quote) {
            goto failed;
        }

        *a = '\0';

        av[argc] = strdup(arg);
        if (av[argc] == NULL) {
            goto failed;
        }

        argc++;
    }

    free(arg);

    if (argc == 0) {
        free(av);
        return -1;
    }

    *argv = av;
    return argc;

failed:

    while (argc) {
        free(av[--argc]);
    }

    free(av);
    free(arg);

    return -1;
}


/*
 * A relative path is taken from the function's folder; a bare name
 * that is nothing there is looked up in the default PATH (php-cgi).
 * NULL when nothing executable. A program found in the folder also
 * gets *rel, "./" and its path from there: what is exec'd from the
 * folder the spawn checked and stands in, so a folder renamed or
 * swapped in its parent after the check runs nothing else.
 */

char *
fr_find_exec(const char *cmd, const char *dir, dev_t dev, ino_t ino,
    char **rel)
{
    int           dfd;
    char         *r, path[PATH_MAX], folder[PATH_MAX];
    size_t        len;
    const char   *p, *e;
    struct stat   st;

    *rel = NULL;

    dfd = fr_path_open(AT_FDCWD, dir, O_PATH | O_DIRECTORY, path);

    if (dfd == -1) {
        return NULL;
    }

    if (fstat(dfd, &st) == -1 || st.st_dev != dev || st.st_ino != ino) {
        /* not the folder that was read: swapped since */
        close(dfd);
        errno = ESTALE;
        return NULL;
    }

    /* the folder's path, as resolved: path becomes the program's */
    len = strlen(path);
    memcpy(folder, path, len + 1);

    r = fr_find_exec_at(dfd, cmd, path);
    close(dfd);

    if (r != NULL && strncmp(r, folder, len) == 0 && r[len] == '/') {
        /* the folder's own, not a link out of it */
        *rel = malloc(strlen(r + len) + 2);

        if (*rel == NULL) {
            free(r);
            return NULL;
        }

        (*rel)[0] = '.';
        strcpy(*rel + 1, r + len);
    }

    if (r != NULL || strchr(cmd, '/') || errno != ENOENT) {
        return r;
    }

    for (p = FR_SEARCH_PATH; *p; p = *e ? e + 1 : e) {
        e = strchr(p, ':');
        if (e == NULL) {
            e = p + strlen(p);
        }

        snprintf(path, sizeof(path), "%.*s/%s", (int) (e - p), p, cmd);

        r = fr_find_exec_at(AT_FDCWD, path, path);

        if (r != NULL || errno == ELOOP) {
            return r;
        }
    }

    errno = ENOENT;

    return NULL;
}


/*
 * An executable regular file under the symlink rule, for the current
 * file-system identity (faccessat() with AT_EACCESS checks the fsuid);
 * where it is, allocated. resolved: dirfd's path.
 */

static char *
fr_find_exec_at(int dirfd, const char *cmd, char resolved[PATH_MAX])
{
    int          fd, ok;
    struct stat  st;

    fd = fr_path_open(dirfd, cmd, O_PATH, resolved);

    if (fd == -1) {
        return NULL;
    }

    ok = fstat(fd, &st) == 0 && S_ISREG(st.st_mode)
         && faccessat(fd, "", X_OK, AT_EMPTY_PATH | AT_EACCESS) == 0;

    close(fd);

    if (!ok) {
        errno = EACCES;
        return NULL;
    }

    return strdup(resolved);
}
