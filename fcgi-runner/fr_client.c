/*
 * Copyright (C) ngx_faas developers
 *
 * fcgi-runner status: asks a running runner for its status over its own
 * socket, as nginx's faas_status does (a FastCGI request with
 * FAAS_STATUS), and prints the answer; --watch repeats it like top.
 */

#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "fr_client.h"
#include "fr_conf.h"
#include "fr_fcgi.h"


#define FR_CLIENT_TIMEOUT  10       /* seconds for the whole exchange */
#define FR_CLIENT_MAX      (64 << 20)   /* bytes of an answer, at most */


static int fr_client_connect(const char *addr);
static int fr_client_ask(const char *addr, const char *query, int tty);
static int fr_client_request(int fd, const char *query);
static int fr_client_answer(int fd, int tty);
static ssize_t fr_client_read(int fd, u_char *buf, size_t size,
    const struct timespec *deadline);


static void
fr_client_usage(FILE *out)
{
    fprintf(out,
        "usage: fcgi-runner status [--config FILE] [--listen ADDRESS]\n"
        "                          [--format table|json|prometheus|"
        "openmetrics|html]\n"
        "                          [--function NAME] [--tenant NAME] "
        "[--watch SECONDS]\n");
}


int
fr_client_main(int argc, char **argv, const char *listen)
{
    int          c, watch, rc, listen_set, answered;
    char         query[256];
    fr_conf_t    conf;
    const char  *format, *function, *tenant, *config;

    static const struct option  opts[] = {
        { "config",   required_argument, NULL, 'c' },
        { "listen",   required_argument, NULL, 'l' },
        { "format",   required_argument, NULL, 'F' },
        { "function", required_argument, NULL, 'f' },
        { "tenant",   required_argument, NULL, 't' },
        { "watch",    required_argument, NULL, 'w' },
        { "help",     no_argument,       NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };

    format = "table";
    function = NULL;
    tenant = NULL;
    config = NULL;
    watch = 0;
    listen_set = 0;

    optind = 1;

    while ((c = getopt_long(argc, argv, "c:l:F:f:t:w:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c': config = optarg; break;
        case 'l': listen = optarg; listen_set = 1; break;
        case 'F': format = optarg; break;
        case 'f':
        case 't':
            /* once each: two would be a 400 of the runner's */
            if ((c == 'f' ? function : tenant) != NULL) {
                fprintf(stderr, "fcgi-runner status: --%s once\n",
                        c == 'f' ? "function" : "tenant");
                return 2;
            }

            *(c == 'f' ? &function : &tenant) = optarg;
            break;

        case 'w':
            /* digits only: "1x", "1e9", "0.5" are no whole seconds */
            watch = (strspn(optarg, "0123456789") == strlen(optarg)
                     && strlen(optarg) <= 5)
                    ? atoi(optarg) : 0;
            if (watch < 1) {
                fprintf(stderr, "fcgi-runner status: --watch takes whole "
                        "seconds, 1 to 99999\n");
                return 2;
            }
            break;

        case 'h':
            fr_client_usage(stdout);
            return 0;

        default:
            fr_client_usage(stderr);
            return 2;
        }
    }

    if (optind < argc) {
        fprintf(stderr, "fcgi-runner status: unexpected argument \"%s\"\n",
                argv[optind]);
        return 2;
    }

    /* a usage error, said here: not a question for the runner */
    if (strcmp(format, "table") != 0 && strcmp(format, "json") != 0
        && strcmp(format, "prometheus") != 0
        && strcmp(format, "openmetrics") != 0 && strcmp(format, "html") != 0)
    {
        fprintf(stderr, "fcgi-runner status: invalid --format \"%s\": "
                "table, json, prometheus, openmetrics or html\n", format);
        return 2;
    }

    fr_conf_init(&conf);

    if (config && !listen_set) {
        /* the runner's own config says where it listens */
        /* a config that cannot be read is a failure, as --test says */
        if (fr_conf_parse(config, &conf, NULL) != 0) {
            fr_conf_free(&conf);
            return 1;
        }

        listen = conf.listen ? conf.listen : listen;
    }

    if (snprintf(query, sizeof(query), "format=%s%s%s%s%s", format,
                 function ? "&function=" : "", function ? function : "",
                 tenant ? "&tenant=" : "", tenant ? tenant : "")
        >= (int) sizeof(query)
        || strpbrk(format, "&=") || (function && strpbrk(function, "&="))
        || (tenant && strpbrk(tenant, "&=")))
    {
        fprintf(stderr, "fcgi-runner status: invalid --format, --function "
                "or --tenant\n");
        return 2;
    }

    for (answered = 0; /* void */; answered |= (rc == 0)) {
        if (watch && strcmp(format, "table") == 0
            && isatty(STDOUT_FILENO))
        {
            /* home and clear, as top does; in a file, one after another */
            fputs("\033[H\033[2J", stdout);
        }

        rc = fr_client_ask(listen, query, watch);

        if (!watch || (rc != 0 && !answered)) {
            return rc;
        }

        if (rc != 0) {
            /* it answered before: a runner restarting, a function
             * reloaded, are waited for, as top waits */
            fprintf(stderr, "fcgi-runner status: asking again in %d s\n",
                    watch);
        }

        fflush(stdout);
        sleep((unsigned) watch);
    }
}


static int
fr_client_ask(const char *addr, const char *query, int tty)
{
    int  fd, rc;

    fd = fr_client_connect(addr);
    if (fd == -1) {
        return 1;
    }

    rc = fr_client_request(fd, query);

    if (rc == 0) {
        rc = fr_client_answer(fd, tty);
    }

    close(fd);

    return rc;
}


static int
fr_client_connect(const char *addr)
{
    int                  fd, rc;
    char                 host[256];
    const char          *port;
    struct timeval       tv;
    struct addrinfo      hints, *ai, *a;
    struct sockaddr_un   sun;

    tv.tv_sec = FR_CLIENT_TIMEOUT;
    tv.tv_usec = 0;

    if (strncmp(addr, "unix:", 5) == 0) {
        memset(&sun, 0, sizeof(sun));
        sun.sun_family = AF_UNIX;

        if (strlen(addr + 5) >= sizeof(sun.sun_path)) {
            fprintf(stderr, "fcgi-runner status: socket path too long\n");
            return -1;
        }

        strcpy(sun.sun_path, addr + 5);

        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

        if (fd != -1) {
            /* a connect() that would wait (a full backlog) waits this */
            (void) setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        }

        rc = fd == -1 ? -1 : connect(fd, (struct sockaddr *) &sun,
                                     sizeof(sun));
        ai = NULL;

    } else {
        if (fr_addr_split(addr, host, sizeof(host), &port) != FR_OK) {
            fprintf(stderr, "fcgi-runner status: invalid address \"%s\"\n",
                    addr);
            return -1;
        }

        memset(&hints, 0, sizeof(hints));
        hints.ai_socktype = SOCK_STREAM;
        hints.ai_flags = AI_NUMERICSERV;

        if (getaddrinfo(host, port, &hints, &ai) != 0) {
            fprintf(stderr, "fcgi-runner status: invalid address \"%s\"\n",
                    addr);
            return -1;
        }

        /* each address of the name in turn (localhost: ::1, 127.0.0.1) */

        fd = -1;
        rc = -1;

        for (a = ai; a != NULL && rc == -1; a = a->ai_next) {
            if (fd != -1) {
                close(fd);
            }

            fd = socket(a->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);

            if (fd != -1) {
                (void) setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv,
                                  sizeof(tv));
                rc = connect(fd, a->ai_addr, a->ai_addrlen);
            }
        }

        freeaddrinfo(ai);
    }

    if (rc == -1) {
        fprintf(stderr, "fcgi-runner status: cannot connect to \"%s\": %s\n",
                addr, strerror(errno));
        if (fd != -1) {
            close(fd);
        }
        return -1;
    }

    (void) setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    (void) setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));

    return fd;
}


/* BEGIN_REQUEST, the parameters, an empty body */

static int
fr_client_request(int fd, const char *query)
{
    u_char   buf[1024], *p, *params;
    size_t   i;

    static const char  *nv[] = {
        "FAAS_STATUS", "1",
        "REQUEST_METHOD", "GET",
        "QUERY_STRING", NULL
    };

    p = fr_fcgi_write_begin_request(buf, 1, FR_FCGI_RESPONDER, 0);

    params = p + FR_FCGI_HEADER_LEN;
    p = params;

    for (i = 0; i < sizeof(nv) / sizeof(nv[0]); i += 2) {
        const char  *v = nv[i + 1] ? nv[i + 1] : query;

        p = fr_fcgi_nv_write(p, (const u_char *) nv[i], strlen(nv[i]),
                             (const u_char *) v, strlen(v));
    }

    (void) fr_fcgi_write_header(params - FR_FCGI_HEADER_LEN,
                                FR_FCGI_PARAMS, 1,
                                (uint16_t) (p - params), 0);

    p = fr_fcgi_write_header(p, FR_FCGI_PARAMS, 1, 0, 0);
    p = fr_fcgi_write_header(p, FR_FCGI_STDIN, 1, 0, 0);

    if (write(fd, buf, p - buf) != p - buf) {
        fprintf(stderr, "fcgi-runner status: cannot send the request: %s\n",
                strerror(errno));
        return 1;
    }

    return 0;
}


/*
 * STDOUT until END_REQUEST: the header block, then the body to print.
 * Whatever answers is bounded: FR_CLIENT_MAX bytes read in all, and
 * FR_CLIENT_TIMEOUT seconds for the whole answer, however it trickles.
 */

static int
fr_client_answer(int fd, int tty)
{
    int                status;
    char              *body, *line;
    size_t             total;
    u_char             buf[16384];
    ssize_t            n;
    const u_char      *pos;
    fr_buf_t           out;
    fr_fcgi_event_e    ev;
    struct timespec    deadline;
    fr_fcgi_parser_t   parser;

    memset(&out, 0, sizeof(out));
    fr_fcgi_parser_init(&parser);
    total = 0;

    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += FR_CLIENT_TIMEOUT;

    for ( ;; ) {
        n = fr_client_read(fd, buf, sizeof(buf), &deadline);

        if (n <= 0) {
            fprintf(stderr, "fcgi-runner status: %s before the answer "
                    "ended\n", n == 0 ? "connection closed"
                                      : strerror(errno));
            fr_buf_free(&out);
            return 1;
        }

        total += (size_t) n;

        if (total > FR_CLIENT_MAX) {
            fprintf(stderr, "fcgi-runner status: an answer over %d MiB, "
                    "not read further\n", FR_CLIENT_MAX >> 20);
            fr_buf_free(&out);
            return 1;
        }

        pos = buf;

        while ((ev = fr_fcgi_parse(&parser, &pos, buf + n))
               != FR_FCGI_EV_AGAIN)
        {
            if (ev == FR_FCGI_EV_ERROR) {
                fprintf(stderr, "fcgi-runner status: not a FastCGI "
                        "answer\n");
                fr_buf_free(&out);
                return 1;
            }

            if (ev == FR_FCGI_EV_CONTENT && parser.type == FR_FCGI_STDOUT
                && fr_buf_append(&out, parser.data, parser.size) != FR_OK)
            {
                fr_buf_free(&out);
                return 1;
            }

            if (ev == FR_FCGI_EV_END && parser.type == FR_FCGI_END_REQUEST) {
                goto done;
            }
        }
    }

done:

    if (fr_buf_append(&out, "", 1) != FR_OK) {
        fr_buf_free(&out);
        return 1;
    }

    line = (char *) fr_buf_pos(&out);
    body = strstr(line, "\r\n\r\n");
    status = (strncmp(line, "Status: ", 8) == 0) ? atoi(line + 8) : 200;

    if (body == NULL) {
        fprintf(stderr, "fcgi-runner status: no header block in the "
                "answer\n");
        fr_buf_free(&out);
        return 1;
    }

    body += 4;

    if (status != 200) {
        fprintf(stderr, "fcgi-runner status: %d %s", status, body);
        fr_buf_free(&out);
        return 1;
    }

    fputs(body, stdout);

    if (tty) {
        fflush(stdout);
    }

    fr_buf_free(&out);

    return 0;
}


/* a read that waits no later than the deadline; ETIMEDOUT past it */

static ssize_t
fr_client_read(int fd, u_char *buf, size_t size,
    const struct timespec *deadline)
{
    int              rc;
    long             ms;
    struct pollfd    pfd;
    struct timespec  now;

    for ( ;; ) {
        clock_gettime(CLOCK_MONOTONIC, &now);

        ms = (deadline->tv_sec - now.tv_sec) * 1000
             + (deadline->tv_nsec - now.tv_nsec) / 1000000;

        if (ms <= 0) {
            errno = ETIMEDOUT;
            return -1;
        }

        pfd.fd = fd;
        pfd.events = POLLIN;

        rc = poll(&pfd, 1, (int) ms);

        if (rc == -1 && errno == EINTR) {
            continue;
        }

        if (rc == -1) {
            return -1;
        }

        if (rc == 1) {
            return read(fd, buf, size);
        }
    }
}
