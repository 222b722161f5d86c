/*
 * Copyright (C) ngx_faas developers
 *
 * What the module and the runner share beyond FastCGI itself, defined
 * once for both; docs/protocol.md says what it means.
 */

#ifndef FAAS_PROTOCOL_H
#define FAAS_PROTOCOL_H


/* a request parameter: "1" asks the runner for the measurements */
#define FAAS_METER_PARAM          "FAAS_METER"

/* the FastCGI record type that carries them, before END_REQUEST */
#define FAAS_METER_RECORD         100

/* its content: FastCGI name-value pairs, values in decimal text */
#define FAAS_METER_FUNCTION       "function"
#define FAAS_METER_TENANT         "tenant"
#define FAAS_METER_OUTCOME        "outcome"      /* ok, not_found, ... */
#define FAAS_METER_DURATION       "duration"     /* microseconds */
#define FAAS_METER_INIT           "init"         /* microseconds */
#define FAAS_METER_COLD           "cold"         /* 0 or 1 */
#define FAAS_METER_QUEUE          "queue"        /* microseconds */
#define FAAS_METER_CPU            "cpu"          /* microseconds */
#define FAAS_METER_MAX_MEMORY     "max_memory"   /* kilobytes */
#define FAAS_METER_MEMORY_SIZE    "memory_size"  /* kilobytes */
#define FAAS_METER_WORKER         "worker"       /* process id */


#endif /* FAAS_PROTOCOL_H */
