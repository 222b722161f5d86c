/*
 * Copyright (C) ngx_faas developers
 */

#ifndef FR_STORE_FILE_H
#define FR_STORE_FILE_H


int fr_store_found(const char *dir, const char *path, int readonly);
void fr_store_unmade(const char *path);


#endif /* FR_STORE_FILE_H */
