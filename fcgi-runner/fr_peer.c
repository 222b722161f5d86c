/*
 * Copyright (C) ngx_faas developers
 *
 * Who is at the other end of a TCP connection made on this host. A
 * function without "net" isolation shares the host's network: it may
 * reach a runner's TCP listen (loopback, or the host's address on the
 * list of listen_allow) and, as a client of the runner, run any
 * function as any tenant. The kernel knows the owner of every socket of
 * this network namespace: NETLINK_SOCK_DIAG looks the peer's up by its
 * four addresses.
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


/*
 * The uid that owns the peer of fd (a connection accepted on TCP), or
 * (uid_t) -1: not a socket of this host's network, or not known.
 */

uid_t
fr_peer_uid(int fd)
{
    int                       nl, v4;
    ssize_t                   n;
    socklen_t                 len;
    struct nlmsghdr          *h;
    struct sockaddr_nl        kernel;
    struct inet_diag_msg     *m;
    struct sockaddr_in6       me, peer;
    struct sockaddr_in       *me4, *peer4;

    struct {
        struct nlmsghdr           h;
        struct inet_diag_req_v2   r;
    } req;

    union {
        struct nlmsghdr           h;
        char                      buf[1024];
    } ans;

    len = sizeof(me);
    if (getsockname(fd, (struct sockaddr *) &me, &len) == -1) {
        return (uid_t) -1;
    }

    len = sizeof(peer);
    if (getpeername(fd, (struct sockaddr *) &peer, &len) == -1) {
        return (uid_t) -1;
    }

    memset(&req, 0, sizeof(req));
    req.h.nlmsg_len = sizeof(req);
    req.h.nlmsg_type = SOCK_DIAG_BY_FAMILY;
    req.h.nlmsg_flags = NLM_F_REQUEST;
    req.r.sdiag_protocol = IPPROTO_TCP;
    req.r.idiag_states = ~0U;
    req.r.id.idiag_cookie[0] = INET_DIAG_NOCOOKIE;
    req.r.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;

    /* the peer's socket: its source is our peer, its destination us */
    if (peer.sin6_family == AF_INET) {
        me4 = (struct sockaddr_in *) &me;
        peer4 = (struct sockaddr_in *) &peer;
        req.r.sdiag_family = AF_INET;
        req.r.id.idiag_sport = peer4->sin_port;
        req.r.id.idiag_dport = me4->sin_port;
        memcpy(req.r.id.idiag_src, &peer4->sin_addr, 4);
        memcpy(req.r.id.idiag_dst, &me4->sin_addr, 4);

    } else if (peer.sin6_family == AF_INET6) {
        /* a v4 client of a v6 socket: its own socket is v4 */
        v4 = IN6_IS_ADDR_V4MAPPED(&peer.sin6_addr);
        req.r.sdiag_family = v4 ? AF_INET : AF_INET6;
        req.r.id.idiag_sport = peer.sin6_port;
        req.r.id.idiag_dport = me.sin6_port;
        memcpy(req.r.id.idiag_src, v4 ? &peer.sin6_addr.s6_addr[12]
                                       : peer.sin6_addr.s6_addr, v4 ? 4 : 16);
        memcpy(req.r.id.idiag_dst, v4 ? &me.sin6_addr.s6_addr[12]
                                       : me.sin6_addr.s6_addr, v4 ? 4 : 16);

    } else {
        return (uid_t) -1;
    }

    nl = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
    if (nl == -1) {
        return (uid_t) -1;
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
        return (uid_t) -1;
    }

    m = NLMSG_DATA(h);

    return (uid_t) m->idiag_uid;
}
