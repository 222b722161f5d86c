/*
 * Copyright (C) ngx_faas developers
 *
 * libpq, loaded when a store names PostgreSQL and not before: a runner
 * on SQLite never maps it, nor the thirty libraries it brings (TLS,
 * Kerberos, LDAP: 5 MiB of a runner's resident pages). The PQ names
 * below call through the table fr_pq_load() fills (function-like
 * macros: the bare names stay libpq's declarations); nothing else of
 * libpq is called.
 */

#ifndef FR_PQ_H
#define FR_PQ_H


#include <libpq-fe.h>

#include "fr_core.h"


#define FR_PQ_FUNCS(X)                                                      \
    X(PQclear) X(PQconnectPoll) X(PQconnectStartParams) X(PQconnectdb)      \
    X(PQconninfoFree) X(PQconninfoParse) X(PQconsumeInput) X(PQdb)          \
    X(PQerrorMessage) X(PQexec) X(PQexecParams) X(PQfinish) X(PQflush)      \
    X(PQfreemem) X(PQgetResult) X(PQgetisnull) X(PQgetlength)               \
    X(PQgetvalue) X(PQisBusy) X(PQnotifies) X(PQntuples)                    \
    X(PQresultErrorField) X(PQresultErrorMessage) X(PQresultStatus)         \
    X(PQsendQuery) X(PQsendQueryParams) X(PQsetNoticeProcessor)             \
    X(PQsetnonblocking) X(PQsocket) X(PQstatus)

#define FR_PQ_FIELD(name)  __typeof__(name)  *name;

typedef struct {
    FR_PQ_FUNCS(FR_PQ_FIELD)
} fr_pq_t;

extern fr_pq_t  fr_pq;


/* FR_OK once libpq is there; else logged at level, FR_ERROR */
int fr_pq_load(int level);


#define PQclear(...)                  fr_pq.PQclear(__VA_ARGS__)
#define PQconnectPoll(...)            fr_pq.PQconnectPoll(__VA_ARGS__)
#define PQconnectStartParams(...)     fr_pq.PQconnectStartParams(__VA_ARGS__)
#define PQconnectdb(...)              fr_pq.PQconnectdb(__VA_ARGS__)
#define PQconninfoFree(...)           fr_pq.PQconninfoFree(__VA_ARGS__)
#define PQconninfoParse(...)          fr_pq.PQconninfoParse(__VA_ARGS__)
#define PQconsumeInput(...)           fr_pq.PQconsumeInput(__VA_ARGS__)
#define PQdb(...)                     fr_pq.PQdb(__VA_ARGS__)
#define PQerrorMessage(...)           fr_pq.PQerrorMessage(__VA_ARGS__)
#define PQexec(...)                   fr_pq.PQexec(__VA_ARGS__)
#define PQexecParams(...)             fr_pq.PQexecParams(__VA_ARGS__)
#define PQfinish(...)                 fr_pq.PQfinish(__VA_ARGS__)
#define PQflush(...)                  fr_pq.PQflush(__VA_ARGS__)
#define PQfreemem(...)                fr_pq.PQfreemem(__VA_ARGS__)
#define PQgetResult(...)              fr_pq.PQgetResult(__VA_ARGS__)
#define PQgetisnull(...)              fr_pq.PQgetisnull(__VA_ARGS__)
#define PQgetlength(...)              fr_pq.PQgetlength(__VA_ARGS__)
#define PQgetvalue(...)               fr_pq.PQgetvalue(__VA_ARGS__)
#define PQisBusy(...)                 fr_pq.PQisBusy(__VA_ARGS__)
#define PQnotifies(...)               fr_pq.PQnotifies(__VA_ARGS__)
#define PQntuples(...)                fr_pq.PQntuples(__VA_ARGS__)
#define PQresultErrorField(...)       fr_pq.PQresultErrorField(__VA_ARGS__)
#define PQresultErrorMessage(...)     fr_pq.PQresultErrorMessage(__VA_ARGS__)
#define PQresultStatus(...)           fr_pq.PQresultStatus(__VA_ARGS__)
#define PQsendQuery(...)              fr_pq.PQsendQuery(__VA_ARGS__)
#define PQsendQueryParams(...)        fr_pq.PQsendQueryParams(__VA_ARGS__)
#define PQsetNoticeProcessor(...)     fr_pq.PQsetNoticeProcessor(__VA_ARGS__)
#define PQsetnonblocking(...)         fr_pq.PQsetnonblocking(__VA_ARGS__)
#define PQsocket(...)                 fr_pq.PQsocket(__VA_ARGS__)
#define PQstatus(...)                 fr_pq.PQstatus(__VA_ARGS__)


#endif /* FR_PQ_H */
