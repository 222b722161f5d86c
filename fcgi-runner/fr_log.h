/*
 * Copyright (C) ngx_faas developers
 */

#ifndef FR_LOG_H
#define FR_LOG_H


#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>


typedef enum {
    FR_LOG_EMERG = 0,
    FR_LOG_ALERT,
    FR_LOG_ERR,
    FR_LOG_WARN,
    FR_LOG_NOTICE,
    FR_LOG_INFO,
    FR_LOG_DEBUG
} fr_log_level_e;


extern int  fr_log_level;


void fr_log(fr_log_level_e level, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int fr_log_parse_level(const char *name);
void fr_log_file_init(void);
int fr_log_reopen(void);
size_t fr_log_escape(u_char *dst, const u_char *src, size_t n);
const char *fr_log_size(char *buf, size_t size, int64_t bytes);
size_t fr_utf8_len(const u_char *p, const u_char *last);


#define fr_log_error(level, err, ...)                                        \
    do {                                                                     \
        if ((int) (level) <= fr_log_level) {                                 \
            fr_log(level, err, __VA_ARGS__);                                 \
        }                                                                    \
    } while (0)


#endif /* FR_LOG_H */
