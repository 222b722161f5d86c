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


/*
 * ms a namespace's process 1 waits, at its end, for the rest to go: a
 * prototype's; faas-init's, well within the second the runner gives a
 * worker that crashed or timed out before it kills it
 */
#define FAAS_NS_END_WAIT       5000
#define FAAS_NS_END_WAIT_INIT  500


int faas_prototype(int argc, char **argv);
void faas_ns_end(int wait);


#endif /* FAAS_PROTO_H */
