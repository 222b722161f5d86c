/*
 * Copyright (C) ngx_faas developers
 *
 * What every file of the runner uses: return codes, basic types, the
 * intrusive list.
 */

#ifndef FR_CORE_H
#define FR_CORE_H


#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>


#define FR_VERSION     "0.1.0"


#define FR_OK          0
#define FR_ERROR      -1
#define FR_AGAIN      -2
#define FR_DONE       -4
#define FR_DECLINED   -5


/* an intrusive doubly linked list, as ngx_queue_t */
typedef struct fr_link_s  fr_link_t;

struct fr_link_s {
    fr_link_t             *prev;
    fr_link_t             *next;
};

#define fr_list_init(h)      (h)->prev = (h); (h)->next = (h)
#define fr_list_empty(h)     ((h) == (h)->next)
#define fr_list_first(h)     (h)->next
#define fr_list_last(h)      (h)->prev
#define fr_list_data(l, type, field)                                         \
    ((type *) ((u_char *) (l) - offsetof(type, field)))

static inline void
fr_list_insert_head(fr_link_t *h, fr_link_t *x)
{
    x->next = h->next;
    x->next->prev = x;
    x->prev = h;
    h->next = x;
}

static inline void
fr_list_insert_tail(fr_link_t *h, fr_link_t *x)
{
    x->prev = h->prev;
    x->prev->next = x;
    x->next = h;
    h->prev = x;
}

static inline size_t
fr_list_count(const fr_link_t *h)
{
    size_t            n;
    const fr_link_t  *l;

    for (n = 0, l = h->next; l != h; l = l->next) {
        n++;
    }

    return n;
}

static inline void
fr_list_remove(fr_link_t *x)
{
    x->next->prev = x->prev;
    x->prev->next = x->next;
    x->prev = x;
    x->next = x;
}


#endif /* FR_CORE_H */
