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


/* FR_OK: path (in dir, made unless readonly) is a store to open;
 * FR_DECLINED: one to make */

int
fr_store_found(const char *dir, const char *path, int readonly)
{
    char         wal[4200];
    struct stat  st;

    if (!readonly && mkdir(dir, 0755) == -1 && errno != EEXIST) {
        fr_log(FR_LOG_EMERG, errno, "cannot create \"%s\" for the store of "
               "asynchronous invocations", dir);
        return FR_ERROR;
    }

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

        return FR_DECLINED;
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


/* a store this runner began to make and could not: gone, if it is still
 * SQLite's empty file with no log beside it, for the next try */

void
fr_store_unmade(const char *path)
{
    char         wal[4200];
    struct stat  st;

    snprintf(wal, sizeof(wal), "%s-wal", path);

    if (stat(path, &st) == 0 && st.st_size == 0 && access(wal, F_OK) == -1
        && unlink(path) == -1)
    {
        fr_log(FR_LOG_ALERT, errno, "unlink(\"%s\") failed", path);
    }
}
