/*
 * Copyright (C) ngx_faas developers
 */

#ifndef FR_REPORT_OPEN_H
#define FR_REPORT_OPEN_H


#include <stdio.h>


FILE *fr_report_open(const char *file);


#endif /* FR_REPORT_OPEN_H */
