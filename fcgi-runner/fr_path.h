/*
 * Copyright (C) ngx_faas developers
 */

#ifndef FR_PATH_H
#define FR_PATH_H


#include <sys/types.h>
#include <limits.h>


/* symlinks followed in one lookup, as the kernel's MAXSYMLINKS */
#define FR_PATH_MAX_LINKS  40


/*
 * The file system's handle of a file (name_to_handle_at): with its
 * inode number, the inode's generation where the file system keeps one
 * (ext4, xfs, btrfs, tmpfs), so a file removed and another made with
 * the same inode number are told apart. len 0: none given.
 */
typedef struct {
    unsigned               len;
    int                    type;
    unsigned char          bytes[128];      /* MAX_HANDLE_SZ */
} fr_path_handle_t;


void fr_path_as(uid_t uid, gid_t gid);
void fr_path_as_runner(void);
int fr_path_open(int dirfd, const char *path, int flags,
    char resolved[PATH_MAX]);
void fr_path_handle(int fd, fr_path_handle_t *h);
int fr_path_is(int fd, dev_t dev, ino_t ino, const fr_path_handle_t *h);


#endif /* FR_PATH_H */
