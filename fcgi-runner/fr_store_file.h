/*
 * Copyright (C) ngx_faas developers
 */

#ifndef FR_STORE_FILE_H
#define FR_STORE_FILE_H


int fr_store_found(const char *path, int readonly);


#endif /* FR_STORE_FILE_H */
