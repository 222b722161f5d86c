/*
 * Copyright (C) ngx_faas developers
 *
 * What the runner and a function's prototype (faas-init prototype)
 * agree on.
 */

#ifndef FAAS_PROTO_H
#define FAAS_PROTO_H


/* the biggest message: a CGI request's environment */
#define FAAS_PROTO_MSG_MAX  (1024 * 1024)


int faas_prototype(int argc, char **argv);


#endif /* FAAS_PROTO_H */
