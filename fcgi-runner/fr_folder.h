/*
 * Copyright (C) ngx_faas developers
 */

#ifndef FR_FOLDER_H
#define FR_FOLDER_H


#include "fr_runner.h"


/* what a refused symlink is told */
#define FR_FOLDER_LINK_RULE                                                  \
    ": a symlink is followed only when its owner owns its target"


int fr_folder_read(fr_func_t *f, fr_buf_t *text);
int fr_folder_paths(fr_func_t *f, int test);
int fr_split_args(const char *line, char ***argv);
char *fr_find_exec(const char *cmd, const char *dir, dev_t dev, ino_t ino,
    char **rel);


#endif /* FR_FOLDER_H */
