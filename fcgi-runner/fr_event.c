/*
 * Copyright (C) ngx_faas developers
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "fr_event.h"
#include "fr_log.h"


#define FR_EVENT_BATCH  256


uint64_t  fr_current_msec;
uint64_t  fr_current_usec;
int       fr_event_max_wait = -1;

static int          fr_epfd = -1;
static fr_timer_t **fr_heap;
static size_t       fr_heap_n;
static size_t       fr_heap_cap;
static fr_io_t      fr_posted;       /* sentinel of the posted queue */
static void       **fr_garbage;
static size_t       fr_garbage_n;
static size_t       fr_garbage_cap;


static void fr_heap_swap(size_t a, size_t b);
static void fr_heap_up(size_t i);
static void fr_heap_down(size_t i);
static void fr_collect_garbage(void);
static void fr_post_remove(fr_io_t *io);


void
fr_time_update(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);

    fr_current_usec = (uint64_t) ts.tv_sec * 1000000
                      + (uint64_t) ts.tv_nsec / 1000;
    fr_current_msec = fr_current_usec / 1000;
}


int
fr_event_init(void)
{
    fr_epfd = epoll_create1(EPOLL_CLOEXEC);

    if (fr_epfd == -1) {
        fr_log(FR_LOG_EMERG, errno, "epoll_create1() failed");
        return FR_ERROR;
    }

    fr_time_update();

    fr_posted.post_prev = &fr_posted;
    fr_posted.post_next = &fr_posted;

    return FR_OK;
}


void
fr_event_done(void)
{
    fr_collect_garbage();

    free(fr_heap);
    free(fr_garbage);

    if (fr_epfd != -1) {
        close(fr_epfd);
    }
}


int
fr_io_set(fr_io_t *io, uint32_t mask)
{
    int                 op;
    struct epoll_event  ee;

    if (io->mask == mask) {
        return FR_OK;
    }

    if (mask == 0) {
        op = EPOLL_CTL_DEL;

    } else if (io->mask == 0) {
        op = EPOLL_CTL_ADD;

    } else {
        op = EPOLL_CTL_MOD;
    }

    ee.events = mask;
    ee.data.u64 = (uintptr_t) io | io->instance;

    if (epoll_ctl(fr_epfd, op, io->fd, &ee) == -1) {
        fr_log(FR_LOG_ALERT, errno, "epoll_ctl(%d, %d) failed", op, io->fd);
        return FR_ERROR;
    }

    io->mask = mask;

    return FR_OK;
}


/*
 * Closing deregisters, leaves the posted queue and flips the instance:
 * events of this descriptor already fetched in the current batch are
 * stale, even if the io is given a new descriptor before they come up.
 */

void
fr_io_close(fr_io_t *io)
{
    fr_post_remove(io);

    if (io->fd == -1) {
        return;
    }

    if (io->mask) {
        (void) epoll_ctl(fr_epfd, EPOLL_CTL_DEL, io->fd, NULL);
        io->mask = 0;
    }

    close(io->fd);
    io->fd = -1;
    io->instance ^= 1;
}


/*
 * For a descriptor the io does not own (libpq's socket, which libpq
 * closes itself): deregistered if it still can be, never closed.
 */

void
fr_io_forget(fr_io_t *io)
{
    fr_post_remove(io);

    if (io->fd != -1 && io->mask) {
        (void) epoll_ctl(fr_epfd, EPOLL_CTL_DEL, io->fd, NULL);
    }

    io->mask = 0;
    io->fd = -1;
    io->instance ^= 1;
}


/*
 * Runs the handler after the current batch, as if the fd had reported
 * these events: for input already buffered by us, which epoll cannot see.
 */

void
fr_io_post(fr_io_t *io, uint32_t events)
{
    if (io->fd == -1) {
        return;
    }

    io->posted |= events;

    if (io->post_next != NULL) {
        return;
    }

    io->post_prev = fr_posted.post_prev;
    io->post_next = &fr_posted;
    fr_posted.post_prev->post_next = io;
    fr_posted.post_prev = io;
}


static void
fr_post_remove(fr_io_t *io)
{
    if (io->post_next == NULL) {
        return;
    }

    io->post_prev->post_next = io->post_next;
    io->post_next->post_prev = io->post_prev;
    io->post_prev = NULL;
    io->post_next = NULL;
    io->posted = 0;
}


/* objects that an event of the current batch may still point to */

void
fr_free_later(void *p)
{
    void  **g;

    if (fr_garbage_n == fr_garbage_cap) {
        fr_garbage_cap = fr_garbage_cap ? fr_garbage_cap * 2 : 64;
        g = realloc(fr_garbage, fr_garbage_cap * sizeof(void *));
        if (g == NULL) {
            fr_log(FR_LOG_ALERT, errno, "realloc() failed");
            abort();
        }
        fr_garbage = g;
    }

    fr_garbage[fr_garbage_n++] = p;
}


static void
fr_collect_garbage(void)
{
    while (fr_garbage_n) {
        free(fr_garbage[--fr_garbage_n]);
    }
}


int
fr_event_process(void)
{
    int                 i, n, timeout;
    uint32_t            ev;
    fr_io_t            *io, batch;
    uintptr_t           data;
    fr_timer_t         *t;
    struct epoll_event  events[FR_EVENT_BATCH];

    timeout = -1;

    if (fr_posted.post_next != &fr_posted) {
        timeout = 0;

    } else if (fr_heap_n) {
        /* a timer years away (a config's huge time) is looked at daily,
         * never cut to an int that waits forever or not at all */
        timeout = (fr_heap[0]->when <= fr_current_msec) ? 0
                  : (fr_heap[0]->when - fr_current_msec > 86400000)
                  ? 86400000 : (int) (fr_heap[0]->when - fr_current_msec);
    }

    if (fr_event_max_wait >= 0
        && (timeout == -1 || timeout > fr_event_max_wait))
    {
        /* a driver that runs the loop itself (the fuzzer) */
        timeout = fr_event_max_wait;
    }

    n = epoll_wait(fr_epfd, events, FR_EVENT_BATCH, timeout);

    if (n == -1 && errno != EINTR) {
        fr_log(FR_LOG_ALERT, errno, "epoll_wait() failed");
        return FR_ERROR;
    }

    fr_time_update();

    for (i = 0; i < n; i++) {
        data = (uintptr_t) events[i].data.u64;
        io = (fr_io_t *) (data & ~(uintptr_t) 1);
        ev = events[i].events;

        /* closed earlier in this batch: the io may hold another fd now */
        if (io->fd == -1 || io->instance != (data & 1)) {
            continue;
        }

        io->handler(io, ev);
    }

    /*
     * What was posted until now runs now; what these handlers post runs
     * in the next round. An io closed meanwhile has left the queue.
     */

    batch.post_next = batch.post_prev = &batch;

    if (fr_posted.post_next != &fr_posted) {
        batch.post_next = fr_posted.post_next;
        batch.post_prev = fr_posted.post_prev;
        batch.post_next->post_prev = &batch;
        batch.post_prev->post_next = &batch;
        fr_posted.post_next = fr_posted.post_prev = &fr_posted;
    }

    while (batch.post_next != &batch) {
        io = batch.post_next;
        ev = io->posted;
        fr_post_remove(io);
        io->handler(io, ev);
    }

    while (fr_heap_n && fr_heap[0]->when <= fr_current_msec) {
        t = fr_heap[0];
        fr_timer_del(t);
        t->handler(t);
    }

    fr_collect_garbage();

    return FR_OK;
}


void
fr_timer_add(fr_timer_t *t, uint64_t msec)
{
    fr_timer_t  **h;

    fr_timer_del(t);

    if (fr_heap_n == fr_heap_cap) {
        fr_heap_cap = fr_heap_cap ? fr_heap_cap * 2 : 64;
        h = realloc(fr_heap, fr_heap_cap * sizeof(fr_timer_t *));
        if (h == NULL) {
            fr_log(FR_LOG_ALERT, errno, "realloc() failed");
            abort();
        }
        fr_heap = h;
    }

    t->when = fr_current_msec + msec;
    fr_heap[fr_heap_n] = t;
    t->index = ++fr_heap_n;

    fr_heap_up(fr_heap_n - 1);
}


void
fr_timer_del(fr_timer_t *t)
{
    size_t  i;

    if (t->index == 0) {
        return;
    }

    i = t->index - 1;
    t->index = 0;

    fr_heap_n--;

    if (i == fr_heap_n) {
        return;
    }

    fr_heap[i] = fr_heap[fr_heap_n];
    fr_heap[i]->index = i + 1;

    fr_heap_up(i);
    fr_heap_down(fr_heap[i]->index - 1);
}


static void
fr_heap_swap(size_t a, size_t b)
{
    fr_timer_t  *t;

    t = fr_heap[a];
    fr_heap[a] = fr_heap[b];
    fr_heap[b] = t;

    fr_heap[a]->index = a + 1;
    fr_heap[b]->index = b + 1;
}


static void
fr_heap_up(size_t i)
{
    while (i > 0 && fr_heap[(i - 1) / 2]->when > fr_heap[i]->when) {
        fr_heap_swap(i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
}


static void
fr_heap_down(size_t i)
{
    size_t  l, m;

    for ( ;; ) {
        l = 2 * i + 1;
        m = i;

        if (l < fr_heap_n && fr_heap[l]->when < fr_heap[m]->when) {
            m = l;
        }

        if (l + 1 < fr_heap_n && fr_heap[l + 1]->when < fr_heap[m]->when) {
            m = l + 1;
        }

        if (m == i) {
            return;
        }

        fr_heap_swap(i, m);
        i = m;
    }
}
