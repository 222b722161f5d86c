/*
 * Copyright (C) ngx_faas developers
 *
 * One epoll loop: descriptors registered with a handler, timers in a
 * binary heap, signals delivered as events through a signalfd.
 */

#ifndef FR_EVENT_H
#define FR_EVENT_H


#include "fr_core.h"


typedef struct fr_io_s     fr_io_t;
typedef struct fr_timer_s  fr_timer_t;

typedef void (*fr_io_handler_pt)(fr_io_t *io, uint32_t events);
typedef void (*fr_timer_handler_pt)(fr_timer_t *t);


/*
 * An event fetched in a batch carries the io's instance bit; closing an
 * io flips it, so an event of a descriptor closed (and perhaps reopened
 * in the same io) earlier in the batch is recognised as stale. A posted
 * io sits in the posted queue, which closing leaves at once: no queue
 * ever holds an io that is closed, and so none a freed object.
 */
struct fr_io_s {
    int                    fd;
    uint32_t               mask;
    uint32_t               posted;     /* events to run after the batch */
    unsigned               instance:1;
    fr_io_handler_pt       handler;
    void                  *data;
    fr_io_t               *post_prev;  /* in the posted queue */
    fr_io_t               *post_next;
};


struct fr_timer_s {
    uint64_t               when;       /* ms, monotonic */
    size_t                 index;      /* heap slot + 1; 0: not armed */
    fr_timer_handler_pt    handler;
    void                  *data;
};


extern uint64_t  fr_current_msec;
extern uint64_t  fr_current_usec;

/* the longest a round waits for events, in ms; -1: as long as needed */
extern int       fr_event_max_wait;


int fr_event_init(void);
void fr_event_done(void);
int fr_event_process(void);
void fr_time_update(void);

int fr_io_set(fr_io_t *io, uint32_t mask);
void fr_io_close(fr_io_t *io);
void fr_io_forget(fr_io_t *io);
void fr_io_post(fr_io_t *io, uint32_t events);

void fr_timer_add(fr_timer_t *t, uint64_t msec);
void fr_timer_del(fr_timer_t *t);

void fr_free_later(void *p);


#endif /* FR_EVENT_H */
