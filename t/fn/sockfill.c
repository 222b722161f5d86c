/*
 * Copyright (C) ngx_faas developers
 *
 * A CGI program with a tiny resident set (static, on musl), for the
 * OOM killer's choice. It says its oom_score_adj; QUERY_STRING "to=N"
 * tries to set it to N first and says how that went; "fill=M" then
 * fills unix socket buffers with M MB, kernel memory charged to its
 * memory cgroup of which nothing is resident, and holds them 10 s.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>


static char  page[16384];


static long
arg(const char *qs, const char *name, long none)
{
    size_t      n;
    const char  *s;

    n = strlen(name);

    for (s = qs; s && *s; s = strchr(s, '&') ? strchr(s, '&') + 1 : NULL) {
        if (strncmp(s, name, n) == 0 && s[n] == '=') {
            return atol(s + n + 1);
        }
    }

    return none;
}


int
main(void)
{
    int          fd, sv[2], n;
    long         to, mb, total;
    char         buf[32];
    ssize_t      len;
    const char  *qs, *said;

    qs = getenv("QUERY_STRING");
    to = arg(qs, "to", -10000);
    said = "-";

    fd = open("/proc/self/oom_score_adj", O_RDWR);

    if (fd != -1 && to != -10000) {
        len = snprintf(buf, sizeof(buf), "%ld", to);
        said = (write(fd, buf, len) == len) ? "ok" : strerror(errno);
    }

    len = (fd == -1) ? -1 : pread(fd, buf, sizeof(buf) - 1, 0);
    buf[len > 0 ? len - 1 : 0] = '\0';

    printf("Content-Type: text/plain\r\n\r\nadj %s to %s\n", buf, said);
    fflush(stdout);

    mb = arg(qs, "fill", 0);

    for (total = 0, n = 0; total < (mb << 20) && n < 4096; n++) {
        if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1) {
            break;
        }

        (void) fcntl(sv[0], F_SETFL, O_NONBLOCK);

        while ((len = write(sv[0], page, sizeof(page))) > 0) {
            total += len;
        }
    }

    if (mb) {
        printf("held %ld\n", total >> 20);
        fflush(stdout);
        sleep(10);
    }

    return 0;
}
