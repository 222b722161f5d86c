/*
 * Copyright (C) ngx_faas developers
 */

#ifndef FR_INVOCATIONS_H
#define FR_INVOCATIONS_H


int fr_invocations_main(int argc, char **argv);
int fr_schedule_main(int argc, char **argv);
int fr_store_main(int argc, char **argv);


#endif /* FR_INVOCATIONS_H */
