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
int fr_meter_init_reaped(pid_t pid, int64_t reaped_us);
int fr_meter_ending(void);
typedef struct {
    fr_func_t             *func;
    fr_proto_t            *proto;       /* billed by its name, its tenant */
} fr_meter_owner_t;

int fr_meter_stray_owner(pid_t pid, fr_meter_owner_t *o);
void fr_meter_stray(fr_meter_owner_t *o, pid_t pid, int64_t us);
int fr_meter_live(fr_worker_t *w, int64_t *cpu_us, int64_t *peak_kb);
size_t fr_meter_record(fr_req_t *r, u_char *buf);
const char *fr_outcome_name(fr_outcome_e outcome);
int fr_outcome_status(fr_outcome_e outcome);
int fr_meter_log_open(void);
int fr_meter_log_check(const char *path);
int fr_meter_log_reopen(void);
void fr_meter_log_write(const char *function, const char *trigger,
    const char *id, int status, const u_char *record, size_t len);
void fr_meter_log(int fd, const char *path, const char *function,
    const char *trigger, const char *id, int status, const u_char *record,
    size_t len);
void fr_meter_log_request(fr_req_t *r);
void fr_meter_log_keep(fr_req_t *r, fr_buf_t *keep, const u_char *rec,
    size_t n);
unsigned fr_meter_log_kept(fr_buf_t *keep);
void fr_meter_log_unread(fr_buf_t *keep);
int fr_meter_log_instead(fr_req_t *r);

/* between fr_meter.c and fr_meter_idle.c */
int fr_meter_proc_open(fr_worker_t *w);
int64_t fr_meter_cpu(fr_worker_t *w, int orphans_too);
long long fr_meter_reaped_ticks(int fd);
int64_t fr_meter_ticks_us(long long ticks);
u_char *fr_meter_pair(u_char *p, u_char *end, const char *name,
    const char *value);
u_char *fr_meter_num(u_char *p, u_char *end, const char *name,
    int64_t value);
void fr_meter_idle(fr_worker_t *w, int64_t own, int looked);
void fr_meter_orphans_idle(fr_proto_t *p, long long ticks, int end);
fr_proto_t *fr_meter_reaper(fr_worker_t *w);
int64_t fr_meter_kin_look(fr_worker_t *w, int full);
void fr_meter_kin_end(fr_worker_t *w);
int64_t fr_meter_credit(fr_worker_t *w, int64_t us);


#endif /* FR_METER_H */
