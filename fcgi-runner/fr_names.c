/*
 * Copyright (C) ngx_faas developers
 *
 * Who had each function name when the runner last ran: a customer whose
 * folder a glob lists first must not take another's name at a restart
 * (a reload keeps the name with the function loaded; a restart has no
 * function loaded). Kept in STATE_DIR/function-names, "NAME DEV INO
 * PATH" lines of the folders the functions were loaded from (PATH with
 * its bytes below '!', '%' and DEL as %XX), written whole (a temporary
 * file, synced and renamed into place) after each load that changed
 * them. A folder is the one that had the name by its path (the
 * folders a path goes through are the holder's or root's: fr_strict.c
 * refuses a folder whose parents another user may change); a device's
 * number may change at a reboot, so device and inode only for the file
 * of a runner before paths were kept.
 */

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fr_log.h"
#include "fr_tenant.h"
#include "fr_names.h"


#define FR_NAMES_FILE  "function-names"


typedef struct {
    char                   name[FR_NAME_MAX + 1];
    dev_t                  dev;
    ino_t                  ino;
    char                  *dir;             /* NULL: not known */
    unsigned               met:1;           /* found at this start */
} fr_name_t;

/* at start, a name another folder had when the runner last ran */
typedef struct {
    char                  *name;
    char                  *dir;
    char                  *from;
    struct stat            st;
} fr_later_t;


static fr_name_t  *fr_names;
static int         fr_nnames;
static fr_buf_t    fr_names_saved;    /* what the file holds */
static fr_later_t  *fr_later;
static int          fr_nlater;


static void fr_names_drop(fr_name_t *names, int n);
static char *fr_names_unescape(const char *p);
static int fr_names_escape(fr_buf_t *b, const char *dir);


/* at start: what the last run left; none at the first start */

int
fr_names_load(void)
{
    int                 at;
    char                path[PATH_MAX], line[3 * PATH_MAX + 128];
    FILE               *fp;
    fr_name_t          *n;
    unsigned long long  dev, ino;

    snprintf(path, sizeof(path), "%s/" FR_NAMES_FILE,
             fr_runner.conf.state_dir);

    fp = fopen(path, "re");

    if (fp == NULL) {
        if (errno != ENOENT) {
            fr_log(FR_LOG_ERR, errno, "cannot read \"%s\"", path);
        }

        return FR_OK;
    }

    while (fgets(line, sizeof(line), fp)) {
        n = realloc(fr_names, (fr_nnames + 1) * sizeof(fr_name_t));
        if (n == NULL) {
            break;
        }

        fr_names = n;
        n += fr_nnames;

        at = 0;

        if (sscanf(line, "%64s %llu %llu %n", n->name, &dev, &ino, &at) < 3
            || !fr_name_valid((u_char *) n->name, strlen(n->name)))
        {
            fr_log(FR_LOG_WARN, 0, "skipped a line of \"%s\": not a "
                   "function name and a folder", path);
            continue;
        }

        n->dev = (dev_t) dev;
        n->ino = (ino_t) ino;
        n->met = 0;

        /* the path: none in the file of a runner before it */
        line[strcspn(line, "\n")] = '\0';
        n->dir = (at && line[at] == '/') ? fr_names_unescape(&line[at])
                                         : NULL;
        fr_nnames++;
    }

    fclose(fp);

    return FR_OK;
}


/*
 * 1: another folder had the name at the last run; 0: this one (marked
 * met: there, whether it loads or not), or none
 */

int
fr_names_other(const char *name, const char *dir, const struct stat *st)
{
    int  i;

    for (i = 0; i < fr_nnames; i++) {
        if (strcmp(fr_names[i].name, name) != 0) {
            continue;
        }

        /* by path where it was kept (a device renumbered at a reboot
         * may give another folder the holder's numbers), else as the
         * file of a runner before it said */
        if (fr_names[i].dir ? strcmp(fr_names[i].dir, dir) == 0
                            : (fr_names[i].dev == st->st_dev
                               && fr_names[i].ino == st->st_ino))
        {
            fr_names[i].met = 1;
            return 0;
        }

        return 1;
    }

    return 0;
}


/* the folder that had the name was found at this start */

int
fr_names_met(const char *name)
{
    int  i;

    for (i = 0; i < fr_nnames; i++) {
        if (strcmp(fr_names[i].name, name) == 0) {
            return fr_names[i].met;
        }
    }

    return 0;
}


/* after a load: the functions loaded, if they changed */

void
fr_names_save(void)
{
    int         ok, i, j, nn;
    char        line[128];
    fr_buf_t    b;
    fr_func_t  *f;
    fr_link_t  *l;
    fr_name_t  *names;

    /* the functions loaded, and the folders that had a name, were found
     * and did not load (they keep it until they are gone) */
    nn = (int) fr_list_count(&fr_runner.funcs);

    names = malloc((nn + fr_nnames + 1) * sizeof(fr_name_t));
    if (names == NULL) {
        return;
    }

    nn = 0;

    for (l = fr_list_first(&fr_runner.funcs); l != &fr_runner.funcs;
         l = l->next)
    {
        f = fr_list_data(l, fr_func_t, link);

        if (!f->removed) {
            snprintf(names[nn].name, sizeof(names[nn].name), "%s", f->name);
            names[nn].dev = f->dir_dev;
            names[nn].ino = f->dir_ino;
            names[nn].dir = strdup(f->dir);
            names[nn++].met = 0;
        }
    }

    for (i = 0, j = nn; i < fr_nnames; i++) {
        for (j = 0; fr_names[i].met && j < nn; j++) {
            if (strcmp(names[j].name, fr_names[i].name) == 0) {
                break;
            }
        }

        if (fr_names[i].met && j == nn) {
            names[nn] = fr_names[i];
            names[nn++].met = 0;
            fr_names[i].dir = NULL;
        }
    }

    fr_names_drop(fr_names, fr_nnames);
    fr_names = names;
    fr_nnames = nn;

    memset(&b, 0, sizeof(fr_buf_t));
    ok = 1;

    for (i = 0; i < fr_nnames; i++) {
        snprintf(line, sizeof(line), "%s %llu %llu", fr_names[i].name,
                 (unsigned long long) fr_names[i].dev,
                 (unsigned long long) fr_names[i].ino);
        ok &= (fr_buf_append(&b, line, strlen(line)) == FR_OK);

        /* a path not kept (out of memory): the device and inode only */
        if (fr_names[i].dir) {
            ok &= (fr_names_escape(&b, fr_names[i].dir) == FR_OK);
        }

        ok &= (fr_buf_append(&b, "\n", 1) == FR_OK);
    }

    if (!ok || (b.len == fr_names_saved.len
                && (b.len == 0 || memcmp(fr_buf_pos(&b),
                                         fr_buf_pos(&fr_names_saved),
                                         b.len) == 0)))
    {
        fr_buf_free(&b);
        return;
    }

    if (fr_state_write(FR_NAMES_FILE, fr_buf_pos(&b), b.len) != FR_OK) {
        /* said: who had each name is not kept for the next start */
        fr_buf_free(&b);
        return;
    }

    fr_buf_free(&fr_names_saved);
    fr_names_saved = b;
}


/* a folder met first at start, whose name another folder had */

void
fr_names_defer(const char *name, const char *dir, const char *from,
    const struct stat *st)
{
    fr_later_t  *l;

    l = realloc(fr_later, (fr_nlater + 1) * sizeof(fr_later_t));
    if (l == NULL) {
        return;
    }

    fr_later = l;
    l += fr_nlater;

    l->name = strdup(name);
    l->dir = strdup(dir);
    l->from = strdup(from);
    l->st = *st;

    if (l->name && l->dir && l->from) {
        fr_nlater++;
        return;
    }

    free(l->name);
    free(l->dir);
    free(l->from);
}


/* once all folders are read: each, to the loader (fr_func.c) */

void
fr_names_undefer(fr_names_add_pt add, int test, int *problems)
{
    int          i;
    fr_later_t  *l;

    for (i = 0; i < fr_nlater; i++) {
        l = &fr_later[i];

        add(l->name, l->dir, l->from, &l->st, test, problems);

        free(l->name);
        free(l->dir);
        free(l->from);
    }

    free(fr_later);
    fr_later = NULL;
    fr_nlater = 0;
}


void
fr_names_free(void)
{
    fr_names_drop(fr_names, fr_nnames);
    fr_names = NULL;
    fr_nnames = 0;
    fr_buf_free(&fr_names_saved);
}


static void
fr_names_drop(fr_name_t *names, int n)
{
    while (n--) {
        free(names[n].dir);
    }

    free(names);
}


/* " PATH": a byte below '!', '%' or DEL as %XX, so a line stays one */

static int
fr_names_escape(fr_buf_t *b, const char *dir)
{
    char                  hex[4];
    const unsigned char  *p;

    if (fr_buf_append(b, " ", 1) != FR_OK) {
        return FR_ERROR;
    }

    for (p = (const unsigned char *) dir; *p; p++) {

        if (*p > ' ' && *p != '%' && *p != 0x7f) {
            if (fr_buf_append(b, (const char *) p, 1) != FR_OK) {
                return FR_ERROR;
            }
            continue;
        }

        snprintf(hex, sizeof(hex), "%%%02X", *p);

        if (fr_buf_append(b, hex, 3) != FR_OK) {
            return FR_ERROR;
        }
    }

    return FR_OK;
}


static char *
fr_names_unescape(const char *p)
{
    char          *dir, *d;
    unsigned int   c;

    dir = malloc(strlen(p) + 1);
    if (dir == NULL) {
        return NULL;
    }

    for (d = dir; *p; p++) {

        if (*p == '%' && isxdigit((unsigned char) p[1])
            && isxdigit((unsigned char) p[2])
            && sscanf(p + 1, "%2X", &c) == 1 && c != 0)
        {
            *d++ = (char) c;
            p += 2;
            continue;
        }

        *d++ = *p;
    }

    *d = '\0';

    return dir;
}
