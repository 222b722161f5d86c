/*
 * Copyright (C) ngx_faas developers
 */

#ifndef FR_USAGE_H
#define FR_USAGE_H


#include <stdio.h>

#include "fr_meter.h"


/* one metered line, for the charts over time */
typedef struct {
    int64_t                time;            /* epoch seconds, -1: none */
    double                 gb_seconds;
    float                  duration_ms;
} fr_meter_sample_t;


/* the report's outcomes: the status's, and a run whose client left */
#define FR_METER_OUTCOMES  (FR_OUTCOME_CLIENT_CLOSED + 1)


typedef struct fr_meter_group_s  fr_meter_group_t;

struct fr_meter_group_s {
    fr_meter_group_t      *next;
    char                  *name;
    uint64_t               invocations;
    uint64_t               cold;
    uint64_t               outcomes[FR_METER_OUTCOMES];
    uint64_t               after_faults;    /* after_response, not ok */
    uint64_t               unrun;           /* no worker took them */
    double                 duration_ms;
    double                 billed_ms;
    double                 cpu_ms;
    double                 gb_seconds;
    double                 cost;
    char                  *tenant;          /* of a function: its first */
    fr_meter_sample_t     *samples;         /* --format html only */
    size_t                 nsamples;
    size_t                 nalloc;
};


/* the groups all[0..n-1] by name, then their total all[n] */
typedef struct {
    fr_meter_group_t     **all;
    size_t                 n;
} fr_usage_groups_t;


typedef struct {
    fr_usage_groups_t      functions;
    fr_usage_groups_t      tenants;
    uint64_t               lines;
    uint64_t               skipped;
    double                 price_gbs;
    double                 price_mreq;
} fr_usage_t;


int64_t fr_usage_time(const char *s, size_t len);
int fr_usage_sample(fr_meter_group_t *g, int64_t time, double duration_ms,
    double gb_seconds);
void fr_usage_html(FILE *out, fr_usage_t *u);


#endif /* FR_USAGE_H */
