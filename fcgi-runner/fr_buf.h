/*
 * Copyright (C) ngx_faas developers
 *
 * A byte queue: append at the tail, consume from the head, compacted
 * lazily. Bodies stream through these with a high-water mark that pauses
 * the producer.
 */

#ifndef FR_BUF_H
#define FR_BUF_H


#include <stddef.h>
#include <sys/types.h>


#define FR_BUF_HIGH  (256 * 1024)


typedef struct {
    u_char                *data;
    size_t                 start;
    size_t                 len;
    size_t                 cap;
} fr_buf_t;


#define fr_buf_pos(b)    ((b)->data + (b)->start)
#define fr_buf_full(b)   ((b)->len >= FR_BUF_HIGH)


u_char *fr_buf_reserve(fr_buf_t *b, size_t n);
int fr_buf_append(fr_buf_t *b, const void *p, size_t n);
void fr_buf_consume(fr_buf_t *b, size_t n);
void fr_buf_free(fr_buf_t *b);
int fr_buf_flush(fr_buf_t *b, int fd);


#endif /* FR_BUF_H */
