/*
 * Copyright (C) ngx_faas developers
 */

#ifndef FR_REPORT_H
#define FR_REPORT_H


int fr_meter_main(int argc, char **argv);


#endif /* FR_REPORT_H */
