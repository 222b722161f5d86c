/*
 * Copyright (C) ngx_faas developers
 *
 * Who is at the other end of a TCP connection made on this host. A
 * function without "net" isolation shares the host's network: it may
 * reach a runner's TCP listen (loopback, or the host's address on the
 * list of listen_allow) and, as a client of the runner, run any
 * function as any tenant. The kernel knows the owner of every socket of
 * this network namespace: NETLINK_SOCK_DIAG looks the peer's up by its
 * four addresses. A peer of this host the kernel does not show (bound
 * to a device, which an exact lookup skips, or closed before the
 * accept) is FR_PEER_HIDDEN, as long as the runner's own end of the
 * connection is shown (else sock_diag does not work here at all).
 */

#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "fr_peer.h"


typedef struct {
    int                    family;
    uint16_t               port;            /* network order */
    uint8_t                addr[16];
} fr_end_t;


static int fr_peer_end(const struct sockaddr_in6 *sa, fr_end_t *e);
static int fr_peer_find(const fr_end_t *src, const fr_end_t *dst,
    uid_t *uid);


/*
 * The uid that owns the peer of fd (a connection accepted on TCP);
 * FR_PEER_AWAY: not of this host; FR_PEER_HIDDEN: of this host, not
 * shown; FR_PEER_UNKNOWN: sock_diag cannot tell.
 */

int
fr_peer_uid(int fd, uid_t *uid)
{
    int                  local;
    uid_t                mine;
    fr_end_t             me, peer;
    socklen_t            len;
    struct sockaddr_in6  sme, speer;

    len = sizeof(sme);
    if (getsockname(fd, (struct sockaddr *) &sme, &len) == -1) {
        return FR_PEER_UNKNOWN;
    }

    len = sizeof(speer);
    if (getpeername(fd, (struct sockaddr *) &speer, &len) == -1) {
        return FR_PEER_UNKNOWN;
    }

    if (fr_peer_end(&sme, &me) != 0 || fr_peer_end(&speer, &peer) != 0) {
        return FR_PEER_UNKNOWN;
    }

    /* the peer's socket: its source is our peer, its destination us */
    if (fr_peer_find(&peer, &me, uid) == 0) {
        return FR_PEER_FOUND;
    }

    /* of this host: loopback, or from the address it connected to */
    local = (peer.family == AF_INET)
            ? peer.addr[0] == 127
            : memcmp(peer.addr, &in6addr_loopback, 16) == 0;
    local |= (memcmp(peer.addr, me.addr, 16) == 0);

    if (!local) {
        return FR_PEER_AWAY;
    }

    /* ours is there, the peer's is not: it hides, or it is gone */
    return fr_peer_find(&me, &peer, &mine) == 0 ? FR_PEER_HIDDEN
                                                : FR_PEER_UNKNOWN;
}


/* an address as sock_diag takes it: a v4-mapped one as v4 */

static int
fr_peer_end(const struct sockaddr_in6 *sa, fr_end_t *e)
{
    const struct sockaddr_in  *sin;

    memset(e, 0, sizeof(fr_end_t));

    if (sa->sin6_family == AF_INET) {
        sin = (const struct sockaddr_in *) sa;
        e->family = AF_INET;
        e->port = sin->sin_port;
        memcpy(e->addr, &sin->sin_addr, 4);
        return 0;
    }

    if (sa->sin6_family != AF_INET6) {
        return -1;
    }

    e->port = sa->sin6_port;

    if (IN6_IS_ADDR_V4MAPPED(&sa->sin6_addr)) {
        e->family = AF_INET;
        memcpy(e->addr, &sa->sin6_addr.s6_addr[12], 4);

    } else {
        e->family = AF_INET6;
        memcpy(e->addr, sa->sin6_addr.s6_addr, 16);
    }

    return 0;
}


/* the socket from src to dst on this host: 0 and its owner, or -1 */

static int
fr_peer_find(const fr_end_t *src, const fr_end_t *dst, uid_t *uid)
{
    int                    nl;
    ssize_t                n;
    struct nlmsghdr       *h;
    struct sockaddr_nl     kernel;
    struct inet_diag_msg  *m;

    struct {
        struct nlmsghdr           h;
        struct inet_diag_req_v2   r;
    } req;

    union {
        struct nlmsghdr           h;
        char                      buf[1024];
    } ans;

    memset(&req, 0, sizeof(req));
    req.h.nlmsg_len = sizeof(req);
    req.h.nlmsg_type = SOCK_DIAG_BY_FAMILY;
    req.h.nlmsg_flags = NLM_F_REQUEST;
    req.r.sdiag_family = src->family;
    req.r.sdiag_protocol = IPPROTO_TCP;
    req.r.idiag_states = ~0U;
    req.r.id.idiag_sport = src->port;
    req.r.id.idiag_dport = dst->port;
    memcpy(req.r.id.idiag_src, src->addr, 16);
    memcpy(req.r.id.idiag_dst, dst->addr, 16);
    req.r.id.idiag_cookie[0] = INET_DIAG_NOCOOKIE;
    req.r.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;

    nl = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
    if (nl == -1) {
        return -1;
    }

    memset(&kernel, 0, sizeof(kernel));
    kernel.nl_family = AF_NETLINK;

    n = sendto(nl, &req, sizeof(req), 0, (struct sockaddr *) &kernel,
               sizeof(kernel));

    /* the kernel answers at once: the read does not wait on anybody */
    n = (n == (ssize_t) sizeof(req)) ? recv(nl, ans.buf, sizeof(ans), 0)
                                     : -1;
    close(nl);

    h = &ans.h;

    if (n < (ssize_t) sizeof(struct nlmsghdr) || !NLMSG_OK(h, (size_t) n)
        || h->nlmsg_type != SOCK_DIAG_BY_FAMILY
        || h->nlmsg_len < NLMSG_LENGTH(sizeof(struct inet_diag_msg)))
    {
        /* NLMSG_ERROR (ENOENT): no such socket here */
        return -1;
    }

    m = NLMSG_DATA(h);

    if (m->idiag_inode == 0) {
        /* closed by its process: whose it was is not said */
        return -1;
    }

    *uid = (uid_t) m->idiag_uid;

    return 0;
}
