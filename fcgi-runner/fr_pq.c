/*
 * Copyright (C) ngx_faas developers
 *
 * libpq by dlopen(), the first time a store names PostgreSQL (fr_pq.h).
 */

#include <dlfcn.h>
#include <stddef.h>
#include <string.h>

#include <libpq-fe.h>

#include "fr_log.h"
#include "fr_pq.h"


/* the soname libpq has had since PostgreSQL 8.0 */
#define FR_PQ_LIBRARY  "libpq.so.5"


fr_pq_t  fr_pq;


int
fr_pq_load(int level)
{
    void         *lib, *sym;
    const char   *name;
    static int    loaded;

    if (loaded) {
        return FR_OK;
    }

    /* kept for the runner's life: never dlclose()d */
    lib = dlopen(FR_PQ_LIBRARY, RTLD_NOW | RTLD_LOCAL);

    if (lib == NULL) {
        fr_log(level, 0, "store: a PostgreSQL store needs libpq "
               "(Debian's package libpq5): %s", dlerror());
        return FR_ERROR;
    }

#define FR_PQ_SYM(n)                                                        \
    name = #n;                                                              \
    if ((sym = dlsym(lib, name)) == NULL) {                                 \
        goto missing;                                                       \
    }                                                                       \
    *(void **) &fr_pq.n = sym;

    FR_PQ_FUNCS(FR_PQ_SYM)

#undef FR_PQ_SYM

    loaded = 1;

    return FR_OK;

missing:

    fr_log(level, 0, "store: %s has no %s", FR_PQ_LIBRARY, name);
    memset(&fr_pq, 0, sizeof(fr_pq_t));

    return FR_ERROR;
}
