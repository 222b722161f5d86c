/*
 * Copyright (C) ngx_faas developers
 */

#ifndef FR_USAGE_H
#define FR_USAGE_H


#include <stdio.h>

#include "fr_meter.h"


/*
 * The runs of an hour, for the charts over time: how many, their
 * GB-seconds, and their durations in bins of a sixteenth of an octave,
 * each with its count and its longest (a p99 is that of its bin: exact
 * when the bin holds one value, else at most a sixteenth over). What a report
 * keeps grows with the hours and bins used, not with the lines read.
 */
typedef struct {
    uint16_t               bin;
    uint32_t               n;
    float                  max;             /* ms */
} fr_usage_bin_t;

typedef struct {
    int64_t                hour;            /* epoch seconds / 3600 */
    uint64_t               inv;
    double                 gbs;
    fr_usage_bin_t        *bins;            /* by bin */
    uint16_t               nbins;
    uint16_t               abins;
} fr_usage_cell_t;


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
    fr_usage_cell_t       *cells;           /* --format html only */
    size_t                 ncells;          /* by hour */
    size_t                 acells;
    size_t                 last;            /* the cell last added to */
    int                    timed;           /* a run charted: tmin, tmax */
    int64_t                tmin;            /* its runs' first and last */
    int64_t                tmax;
};


#define FR_USAGE_MAXB    1000       /* buckets of a chart */


/* a chart's figures per bucket of time */
typedef struct {
    int64_t                t0;              /* the first bucket's start */
    int64_t                grain;           /* 3600 or 86400 */
    size_t                 nb;
    uint64_t              *inv;
    double                *gbs;
    double                *p99;             /* ms, -1: none */
} fr_usage_series_t;


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
void fr_usage_free(fr_meter_group_t *g);
int fr_usage_series(fr_usage_series_t *s, fr_meter_group_t **g, size_t n,
    int p99);
int fr_usage_html(FILE *out, fr_usage_t *u);


#endif /* FR_USAGE_H */
