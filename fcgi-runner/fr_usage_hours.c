/*
 * Copyright (C) ngx_faas developers
 *
 * What the HTML usage report keeps of the runs for its charts: per group
 * and per hour, the count, the GB-seconds and a histogram of durations
 * (fr_usage_cell_t), then the series of a chart from them, per hour or
 * per day. Each run was kept before (48 bytes a line with its tenant's
 * copy: 30 million lines were 1.5 GB); now a month of a function is at
 * most 744 cells of a few hundred bins.
 */

#include <stdlib.h>
#include <string.h>

#include "fr_core.h"
#include "fr_usage.h"


#define FR_USAGE_SUB    16          /* bins an octave */
#define FR_USAGE_OCT    48          /* octaves of microseconds, from 2^-10 */
#define FR_USAGE_NBINS  (1 + FR_USAGE_SUB * FR_USAGE_OCT)


static fr_usage_cell_t *fr_usage_cell(fr_meter_group_t *g, int64_t hour);
static fr_usage_bin_t *fr_usage_bin(fr_usage_cell_t *c, unsigned bin);
static unsigned fr_usage_bin_of(double ms);


int
fr_usage_sample(fr_meter_group_t *g, int64_t time, double duration_ms,
    double gb_seconds)
{
    fr_usage_bin_t   *b;
    fr_usage_cell_t  *c;

    if (time < 0) {
        /* no time: in the tables, not the charts */
        return FR_OK;
    }

    c = fr_usage_cell(g, time / 3600);
    if (c == NULL) {
        return FR_ERROR;
    }

    b = fr_usage_bin(c, fr_usage_bin_of(duration_ms));
    if (b == NULL) {
        return FR_ERROR;
    }

    if (!g->timed) {
        g->timed = 1;
        g->tmin = time;
        g->tmax = time;
    }

    g->tmin = time < g->tmin ? time : g->tmin;
    g->tmax = time > g->tmax ? time : g->tmax;

    c->inv++;
    c->gbs += gb_seconds;

    if (b->n++ == 0 || (float) duration_ms > b->max) {
        b->max = (float) duration_ms;
    }

    return FR_OK;
}


void
fr_usage_free(fr_meter_group_t *g)
{
    size_t  i;

    for (i = 0; i < g->ncells; i++) {
        free(g->cells[i].bins);
    }

    free(g->cells);
}


/* the hour's cell, made in its place: lines mostly come in time order */

static fr_usage_cell_t *
fr_usage_cell(fr_meter_group_t *g, int64_t hour)
{
    size_t            lo, hi, mid, n;
    fr_usage_cell_t  *c;

    if (g->ncells && g->cells[g->last].hour == hour) {
        return &g->cells[g->last];
    }

    lo = 0;
    hi = g->ncells;

    if (hi && g->cells[hi - 1].hour < hour) {
        lo = hi;
    }

    while (lo < hi) {
        mid = lo + (hi - lo) / 2;

        if (g->cells[mid].hour < hour) {
            lo = mid + 1;

        } else {
            hi = mid;
        }
    }

    if (lo < g->ncells && g->cells[lo].hour == hour) {
        g->last = lo;
        return &g->cells[lo];
    }

    if (g->ncells == g->acells) {
        n = g->acells ? g->acells * 2 : 8;
        c = realloc(g->cells, n * sizeof(fr_usage_cell_t));
        if (c == NULL) {
            return NULL;
        }

        g->cells = c;
        g->acells = n;
    }

    memmove(&g->cells[lo + 1], &g->cells[lo],
            (g->ncells - lo) * sizeof(fr_usage_cell_t));
    g->ncells++;

    c = &g->cells[lo];
    memset(c, 0, sizeof(fr_usage_cell_t));
    c->hour = hour;
    g->last = lo;

    return c;
}


static fr_usage_bin_t *
fr_usage_bin(fr_usage_cell_t *c, unsigned bin)
{
    size_t           lo, hi, mid, n;
    fr_usage_bin_t  *b;

    lo = 0;
    hi = c->nbins;

    while (lo < hi) {
        mid = lo + (hi - lo) / 2;

        if (c->bins[mid].bin < bin) {
            lo = mid + 1;

        } else {
            hi = mid;
        }
    }

    if (lo < c->nbins && c->bins[lo].bin == bin) {
        return &c->bins[lo];
    }

    if (c->nbins == c->abins) {
        n = c->abins ? c->abins * 2 : 4;
        n = n > FR_USAGE_NBINS ? FR_USAGE_NBINS : n;
        b = realloc(c->bins, n * sizeof(fr_usage_bin_t));
        if (b == NULL) {
            return NULL;
        }

        c->bins = b;
        c->abins = (uint16_t) n;
    }

    memmove(&c->bins[lo + 1], &c->bins[lo],
            (c->nbins - lo) * sizeof(fr_usage_bin_t));
    c->nbins++;

    b = &c->bins[lo];
    b->bin = (uint16_t) bin;
    b->n = 0;
    b->max = 0;

    return b;
}


/*
 * 0: none (0 ms or less, or not a number); then by microseconds, from
 * 2^-10: the octave (the double's exponent) and its sixteenth (the top
 * four bits of its mantissa)
 */

static unsigned
fr_usage_bin_of(double ms)
{
    int       e;
    double    us;
    uint64_t  bits;

    if (!(ms > 0)) {
        return 0;
    }

    us = ms * 1000;
    memcpy(&bits, &us, sizeof(bits));

    e = (int) ((bits >> 52) & 0x7ff) - 1023 + 10;

    if (e < 0) {
        return 1;
    }

    if (e >= FR_USAGE_OCT) {
        return FR_USAGE_NBINS - 1;
    }

    return 1 + (unsigned) e * FR_USAGE_SUB + (unsigned) ((bits >> 48) & 0xf);
}


/*
 * The series of groups g[0..n-1] per bucket: invocations, GB-seconds
 * and, with p99, the p99 (nearest rank, the longest run of its bin).
 * The first call sets the buckets (the period of all functions); the
 * later ones use them.
 */

int
fr_usage_series(fr_usage_series_t *s, fr_meter_group_t **g, size_t n,
    int p99)
{
    size_t            i, j, b, k, rank;
    int64_t           tmin, tmax, t;
    uint64_t         *cnt;
    float            *max;
    fr_usage_bin_t   *x;
    fr_usage_cell_t  *c;

    if (s->inv == NULL) {
        tmin = INT64_MAX;
        tmax = -1;

        for (i = 0; i < n; i++) {
            if (g[i]->timed) {
                tmin = g[i]->tmin < tmin ? g[i]->tmin : tmin;
                tmax = g[i]->tmax > tmax ? g[i]->tmax : tmax;
            }
        }

        s->grain = (tmax - tmin <= 4 * 86400) ? 3600 : 86400;
        s->t0 = tmax < 0 ? 0 : tmin / s->grain * s->grain;
        s->nb = tmax < 0 ? 0 : (size_t) ((tmax - s->t0) / s->grain + 1);
        s->nb = s->nb > FR_USAGE_MAXB ? FR_USAGE_MAXB : s->nb;

        s->inv = calloc(s->nb + 1, sizeof(uint64_t));
        s->gbs = calloc(s->nb + 1, sizeof(double));
        s->p99 = calloc(s->nb + 1, sizeof(double));
        if (s->inv == NULL || s->gbs == NULL || s->p99 == NULL) {
            return FR_ERROR;
        }
    }

    memset(s->inv, 0, s->nb * sizeof(uint64_t));
    memset(s->gbs, 0, s->nb * sizeof(double));

    cnt = NULL;
    max = NULL;

    if (p99 && s->nb) {
        cnt = calloc(s->nb * FR_USAGE_NBINS, sizeof(uint64_t));
        max = calloc(s->nb * FR_USAGE_NBINS, sizeof(float));
        if (cnt == NULL || max == NULL) {
            free(cnt);
            free(max);
            return FR_ERROR;
        }
    }

    for (i = 0; i < n && s->nb; i++) {
        for (j = 0; j < g[i]->ncells; j++) {
            c = &g[i]->cells[j];
            t = c->hour * 3600;

            /* a time before the period's: its first bucket; after: its
             * last (a period over FR_USAGE_MAXB buckets) */
            b = t < s->t0 ? 0 : (size_t) ((t - s->t0) / s->grain);
            b = b < s->nb ? b : s->nb - 1;

            s->inv[b] += c->inv;
            s->gbs[b] += c->gbs;

            for (k = 0; cnt && k < c->nbins; k++) {
                x = &c->bins[k];
                cnt[b * FR_USAGE_NBINS + x->bin] += x->n;

                if (x->max > max[b * FR_USAGE_NBINS + x->bin]) {
                    max[b * FR_USAGE_NBINS + x->bin] = x->max;
                }
            }
        }
    }

    for (b = 0; b < s->nb; b++) {
        s->p99[b] = -1;

        if (cnt == NULL || s->inv[b] == 0) {
            continue;
        }

        rank = (size_t) ((s->inv[b] * 99 + 99) / 100);

        for (k = 0; k < FR_USAGE_NBINS; k++) {
            if (cnt[b * FR_USAGE_NBINS + k] >= rank) {
                s->p99[b] = max[b * FR_USAGE_NBINS + k];
                break;
            }

            rank -= cnt[b * FR_USAGE_NBINS + k];
        }
    }

    free(cnt);
    free(max);

    return FR_OK;
}
