/*
 * Copyright (C) ngx_faas developers
 */

#ifndef FR_CRON_H
#define FR_CRON_H


#include <time.h>

#include "fr_conf.h"
#include "fr_core.h"


/* a schedule: five cron fields as bit sets, or every so many seconds */
typedef struct {
    uint64_t               minutes;         /* bits 0-59 */
    uint32_t               hours;           /* 0-23 */
    uint32_t               days;            /* 1-31 */
    uint16_t               months;          /* 1-12 */
    uint8_t                weekdays;        /* 0-6, Sunday 0 */
    unsigned               any_day:1;       /* day of month was "*" */
    unsigned               any_weekday:1;
    unsigned               set:1;
    int64_t                every;           /* "@every 30s": seconds */
} fr_cron_t;


int fr_cron_parse(const char *expr, fr_cron_t *cron);
time_t fr_cron_next(const fr_cron_t *cron, time_t after, int utc);
int fr_cron_zone_ok(const char *name);
int fr_cron_possible(const fr_cron_t *cron);
int fr_cron_conf(const fr_fconf_t *fc, const char *file, fr_cron_t *cron,
    int level);


#endif /* FR_CRON_H */
