/*
 * Copyright (C) ngx_faas developers
 */

#ifndef FR_METER_H
#define FR_METER_H


#include "fr_runner.h"


#define FR_METER_RECORD_MAX  1024


void fr_meter_start(fr_worker_t *w, fr_req_t *r);
void fr_meter_stop(fr_worker_t *w, fr_req_t *r);
void fr_meter_restart(fr_worker_t *w, fr_req_t *r);
void fr_meter_proc_close(fr_worker_t *w);
void fr_meter_worker_end(fr_worker_t *w);
void fr_meter_idle_init(void);
int fr_meter_live(fr_worker_t *w, int64_t *cpu_us, int64_t *peak_kb);
size_t fr_meter_record(fr_req_t *r, u_char *buf);
const char *fr_outcome_name(fr_outcome_e outcome);
int fr_meter_log_open(void);
int fr_meter_log_reopen(void);
void fr_meter_log_write(const char *function, const char *trigger,
    const char *id, int status, const u_char *record, size_t len);
void fr_meter_log(int fd, const char *path, const char *function,
    const char *trigger, const char *id, int status, const u_char *record,
    size_t len);
void fr_meter_log_request(fr_req_t *r);


#endif /* FR_METER_H */
