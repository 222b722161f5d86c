/*
 * Copyright (C) ngx_faas developers
 */

#ifndef FR_REPORT_PRINT_H
#define FR_REPORT_PRINT_H


#include "fr_usage.h"


/* timed out, crashed or failed: what "errors" counts */
#define fr_meter_errors(g)                                                   \
    ((g)->outcomes[FR_OUTCOME_TIMEOUT] + (g)->outcomes[FR_OUTCOME_CRASHED]   \
     + (g)->outcomes[FR_OUTCOME_ERROR])


void fr_meter_csv(fr_meter_group_t **all, size_t n, const char *what);
void fr_meter_json(fr_meter_group_t **all, size_t n, const char *what,
    uint64_t lines, uint64_t skipped, uint64_t unmetered);
void fr_meter_table(fr_meter_group_t **all, size_t n, const char *what,
    uint64_t lines, uint64_t skipped, uint64_t unmetered);


#endif /* FR_REPORT_PRINT_H */
