/*
 * Copyright (C) ngx_faas developers
 */

#ifndef FR_ISOLATE_H
#define FR_ISOLATE_H


#include <limits.h>

#include "fr_runner.h"


#define FR_ISOLATE_KEEP  3
#define FR_ISOLATE_KEPT  (FR_ISOLATE_KEEP + 1)  /* and the cover */
#define FR_ISOLATE_NTMPS  4


/* prepared by the runner for one spawn, read by the child */
typedef struct {
    int                    flags;           /* CLONE_NEW* */
    int                    nkeep;
    char                   keep[FR_ISOLATE_KEPT][PATH_MAX];
    unsigned char          file[FR_ISOLATE_KEPT];   /* kept alone */
    char                   cover[PATH_MAX]; /* the folder's parent, or "" */
    char                   tmpfs[64];       /* mount options */
    char                   tmp_size[24];    /* of the one for them all */
    char                 **argv;            /* faas-init's, for pid */
    char                   num[8][24];      /* its numbers */
    unsigned               proto:1;         /* starting a prototype */
    unsigned               unshare_pid:1;   /* for its children */
} fr_isolate_t;


void fr_isolate_find_init(void);
int fr_isolate_resolve(fr_func_t *f);
int fr_isolate_prepare(fr_func_t *f, fr_isolate_t *iso, int proto);
void fr_isolate_done(fr_isolate_t *iso);
int fr_isolate_child(fr_func_t *f, fr_isolate_t *iso);
void fr_isolate_exec(fr_func_t *f, fr_isolate_t *iso, char **env);

/* fr_isolate_keep.c */
extern const char  *fr_isolate_tmps[FR_ISOLATE_NTMPS];

int fr_isolate_kept(fr_func_t *f, dev_t *dev, ino_t *ino);
void fr_isolate_keeps(fr_func_t *f, fr_isolate_t *iso);
int fr_isolate_tmp_of(const char *path);
int fr_isolate_trees(fr_func_t *f, fr_isolate_t *iso, int *tree, int *cover);
int fr_isolate_cover(fr_isolate_t *iso, int cover, int *tree);
int fr_isolate_point(int dfd, const char *path, int file);


#endif /* FR_ISOLATE_H */
