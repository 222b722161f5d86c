/*
 * Copyright (C) ngx_faas developers
 */

#ifndef FR_REPORT_OPEN_H
#define FR_REPORT_OPEN_H


#include <stdio.h>
#include <sys/types.h>


/*
 * The longest line read: a faas_meter line is some hundred bytes, one of
 * another format a request line and some headers; a longer one (a log
 * of one line, a gzip of zeros) is counted and skipped, its memory never
 * more than this
 */
#define FR_REPORT_LINE_MAX  (1024 * 1024)


/* a log being read: its blocks, its line */
typedef struct {
    FILE                  *file;
    size_t                 pos;
    size_t                 end;
    char                   block[65536];
    char                   line[FR_REPORT_LINE_MAX + 1];
} fr_report_in_t;


/* a key and its value in a logfmt line */
typedef struct {
    const char            *key;
    size_t                 klen;
    const char            *val;
    size_t                 vlen;
} fr_report_pair_t;


FILE *fr_report_open(const char *file);
ssize_t fr_report_line(fr_report_in_t *in);
int fr_report_pair_next(char **pos, fr_report_pair_t *kv);
int fr_report_value(const char *v, size_t len, double *out);


#endif /* FR_REPORT_OPEN_H */
