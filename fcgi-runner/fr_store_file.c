/*
 * Copyright (C) ngx_faas developers
 *
 * The store's file as found, before SQLite opens it: SQLite takes a
 * missing file, or one of 0 bytes, for a new database, and what the
 * store held would be gone without a word.
 */

#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fr_core.h"
#include "fr_log.h"
#include "fr_store_file.h"


/* FR_OK: path is a store to open, or one to make (unless readonly) */

int
fr_store_found(const char *path, int readonly)
{
    char         wal[4200];
    struct stat  st;

    if (stat(path, &st) == -1 && errno != ENOENT) {
        /* a state_dir not ours to enter (a user not the runner's) */
        fr_log(FR_LOG_EMERG, errno, "cannot reach the store \"%s\"", path);
        return FR_ERROR;
    }

    if (stat(path, &st) == -1) {
        snprintf(wal, sizeof(wal), "%s-wal", path);

        if (readonly || access(wal, F_OK) == 0) {
            /* its log without it: what it held is gone, not replaced */
            fr_log(FR_LOG_EMERG, 0, "the store \"%s\" is missing%s", path,
                   readonly ? ""
                   : " but its write-ahead log is there: move the log "
                     "away to start with an empty store");
            return FR_ERROR;
        }

        return FR_OK;
    }

    if (st.st_size == 0) {
        /* what it held cut away (truncated, a copy gone wrong); SQLite
         * writes its first page as it is made, before any invocation */
        fr_log(FR_LOG_EMERG, 0, "the store \"%s\" is empty (0 bytes): move "
               "it away to start with an empty store", path);
        return FR_ERROR;
    }

    return FR_OK;
}
