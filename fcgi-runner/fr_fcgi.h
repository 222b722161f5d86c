/*
 * Copyright (C) ngx_faas developers
 *
 * The FastCGI codec: bytes in, events out, no I/O.
 */

#ifndef FR_FCGI_H
#define FR_FCGI_H


#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>


#define FR_FCGI_VERSION_1           1
#define FR_FCGI_HEADER_LEN          8
#define FR_FCGI_STDOUT_END_LEN      (FR_FCGI_HEADER_LEN + 8)
/* the end of STDOUT and END_REQUEST */
#define FR_FCGI_END_LEN             (FR_FCGI_STDOUT_END_LEN                \
                                     + FR_FCGI_HEADER_LEN + 8)
#define FR_FCGI_MAX_CONTENT         65535

#define FR_FCGI_BEGIN_REQUEST       1
#define FR_FCGI_ABORT_REQUEST       2
#define FR_FCGI_END_REQUEST         3
#define FR_FCGI_PARAMS              4
#define FR_FCGI_STDIN               5
#define FR_FCGI_STDOUT              6
#define FR_FCGI_STDERR              7
#define FR_FCGI_DATA                8
#define FR_FCGI_GET_VALUES          9
#define FR_FCGI_GET_VALUES_RESULT   10
#define FR_FCGI_UNKNOWN_TYPE        11

#define FR_FCGI_RESPONDER           1
#define FR_FCGI_KEEP_CONN           1

#define FR_FCGI_REQUEST_COMPLETE    0
#define FR_FCGI_CANT_MPX_CONN       1
#define FR_FCGI_OVERLOADED          2
#define FR_FCGI_UNKNOWN_ROLE        3


typedef enum {
    FR_FCGI_EV_AGAIN = 0,       /* all input consumed, need more */
    FR_FCGI_EV_HEADER,          /* a record starts: type, id, length */
    FR_FCGI_EV_CONTENT,         /* a slice of the record's content */
    FR_FCGI_EV_END,             /* the record (with padding) is complete */
    FR_FCGI_EV_ERROR            /* not FastCGI: version is not 1 */
} fr_fcgi_event_e;


typedef struct {
    unsigned               state;
    unsigned               hlen;
    u_char                 header[FR_FCGI_HEADER_LEN];

    /* the current record */
    u_char                 type;
    uint16_t               id;
    uint16_t               length;
    u_char                 padding;
    uint16_t               content_left;
    u_char                 padding_left;

    /* FR_FCGI_EV_CONTENT */
    const u_char          *data;
    size_t                 size;
} fr_fcgi_parser_t;


/* inside a record's content: the next bytes are its payload */
#define fr_fcgi_in_content(p)  ((p)->state == 1 && (p)->content_left)


void fr_fcgi_parser_init(fr_fcgi_parser_t *p);
fr_fcgi_event_e fr_fcgi_parse(fr_fcgi_parser_t *p, const u_char **pos,
    const u_char *last);

u_char *fr_fcgi_write_header(u_char *p, u_char type, uint16_t id,
    uint16_t length, u_char padding);
u_char *fr_fcgi_write_end_request(u_char *p, uint16_t id,
    uint32_t app_status, u_char protocol_status);
u_char *fr_fcgi_write_stdout_end(u_char *p, uint16_t id);

u_char *fr_fcgi_write_begin_request(u_char *p, uint16_t id, uint16_t role,
    u_char flags);
u_char *fr_fcgi_write_get_values(u_char *p, const char *name);
size_t fr_fcgi_nv_size(size_t nlen, size_t vlen);
u_char *fr_fcgi_nv_write(u_char *p, const u_char *name, size_t nlen,
    const u_char *value, size_t vlen);
int fr_fcgi_nv_next(const u_char **pos, const u_char *last,
    const u_char **name, size_t *nlen, const u_char **value, size_t *vlen);
int fr_cgi_status(const u_char *p, size_t len);
int fr_cgi_block_status(const u_char *p, size_t n);
const char *fr_fcgi_status_line(int status);


#endif /* FR_FCGI_H */
