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


/*
 * A spool: memory first, then an unlinked temporary file. It holds a
 * response while nginx must not see it yet, without bounding what the
 * worker may write before it reads its body.
 */
typedef struct {
    fr_buf_t               mem;
    int                    fd;
    off_t                  wpos;
    off_t                  rpos;
} fr_spool_t;


#define fr_buf_pos(b)    ((b)->data + (b)->start)
#define fr_buf_full(b)   ((b)->len >= FR_BUF_HIGH)


u_char *fr_buf_reserve(fr_buf_t *b, size_t n);
int fr_buf_append(fr_buf_t *b, const void *p, size_t n);
int fr_buf_append_max(fr_buf_t *b, const void *p, size_t n, size_t max);
void fr_buf_json_str(fr_buf_t *doc, const u_char *p, size_t n);
void fr_buf_consume(fr_buf_t *b, size_t n);
void fr_buf_free(fr_buf_t *b);
int fr_buf_flush(fr_buf_t *b, int fd);

#define fr_spool_size(s)  ((s)->mem.len + (size_t) ((s)->wpos - (s)->rpos))
int fr_spool_write(fr_spool_t *s, const u_char *p, size_t n,
    const char *dir);
int fr_spool_move(fr_spool_t *s, fr_buf_t *b, size_t max);
void fr_spool_free(fr_spool_t *s);


#endif /* FR_BUF_H */
