/*
 * Copyright (C) ngx_faas developers
 *
 * The FastCGI parameters of a request the runner reads itself (the
 * function, metering, status, async, what its own answers need); all
 * of them go to the worker as they came.
 */

#include <string.h>

#include "faas_protocol.h"
#include "fr_fcgi.h"
#include "fr_params.h"


/* one pass over the parameters for the few the runner reads itself */

int
fr_params_scan(fr_req_t *r)
{
    int            uri;
    size_t         nlen, vlen;
    const u_char  *pos, *last, *n, *v;

#define fr_is(s)  (nlen == sizeof(s) - 1 && memcmp(n, s, nlen) == 0)

    pos = fr_buf_pos(&r->params);
    last = pos + r->params.len;
    r->uri_len = 0;
    uri = 0;

    while (fr_fcgi_nv_next(&pos, last, &n, &nlen, &v, &vlen) == FR_OK) {

        if (nlen < 10
            || (n[0] != 'F' && n[0] != 'R' && n[0] != 'Q' && n[0] != 'H'))
        {
            continue;
        }

        if (fr_is("FAAS_FUNCTION")) {
            r->function = v;
            r->function_len = vlen;
            r->has_function = 1;

        } else if (fr_is(FAAS_METER_PARAM)) {
            r->meter = 1;
            r->meter_log = (vlen == 3 && memcmp(v, "log", 3) == 0);

        } else if (fr_is("FAAS_STATUS")) {
            r->status = 1;

        } else if (fr_is("REQUEST_METHOD")) {
            r->method = v;
            r->method_len = vlen;

        } else if (fr_is("HTTP_ACCEPT")) {
            r->accept = v;
            r->accept_len = vlen;

        } else if (fr_is("QUERY_STRING")) {
            r->query = v;
            r->query_len = vlen;

        } else if (fr_is("REQUEST_URI") || fr_is("HTTP_HOST")
                   || fr_is("HTTP_REFERER"))
        {
            /* nginx logs them with each line of stderr */
            r->uri_len += vlen;
            uri |= (n[0] == 'R');

        } else if (fr_is("FAAS_STDERR")) {
            /* the module escapes stderr itself, a log line a line */
            r->stderr_raw = (vlen == 3 && memcmp(v, "raw", 3) == 0);

        } else if (fr_is("FAAS_ONLY_TENANT")) {
            /* nginx's faas_tenant: a function of this tenant or none */
            r->only_tenant = v;
            r->only_tenant_len = vlen;
            r->has_only_tenant = 1;

        } else if (fr_is("FAAS_HEADER_MAX")) {
            /* nginx's buffer for the header block: more is its 502 */
            r->header_max = 0;

            for ( /* void */ ; vlen && *v >= '0' && *v <= '9'; v++, vlen--) {
                r->header_max = r->header_max >= FR_HEADER_MAX_MAX
                                ? FR_HEADER_MAX_MAX
                                : r->header_max * 10 + (*v - '0');
            }

            r->header_max = vlen ? 0 : r->header_max;

        } else if (fr_is("FAAS_LEASE_MS")) {
            /* the dispatcher's: its claim's lease, which the run must
             * not outlast (a reload may raise timeout meanwhile) */
            r->lease_end = 0;

            for ( /* void */ ; vlen && *v >= '0' && *v <= '9'
                               && r->lease_end < 1000000000; v++, vlen--)
            {
                r->lease_end = r->lease_end * 10 + (*v - '0');
            }

            r->lease_end = r->lease_end ? fr_current_msec + r->lease_end : 0;

        } else if (fr_is("FAAS_REQUEST_ID")) {
            r->request_id = v;
            r->request_id_len = vlen;

        } else if (fr_is("FAAS_INVOCATION")
                   && vlen == 5 && memcmp(v, "async", 5) == 0)
        {
            /*
             * set by nginx's configuration (faas_invocation async, or
             * a header faas_invocation_header lets through); never the
             * client's own header, HTTP_FAAS_INVOCATION
             */
            r->async = 1;
        }
    }

#undef fr_is

    /* nginx logs its request line whatever it was told: unknown, the
     * longest log line's */
    r->uri_len = uri ? r->uri_len : 2048;

    return pos == last ? FR_OK : FR_ERROR;
}
