/*
 * syslog_listen.c — the syslog input's listening socket: "host:port" parsing, bind, listen,
 * and the UDP socket options (receive buffer, the kernel's drop counter).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "syslog_int.h"

lf_err syslog_split_hostport(const char *text, char *host, size_t host_cap, char *port,
                             size_t port_cap, lf_error *err)
{
    const char *colon;
    const char *h = text;
    size_t hlen;
    if (text[0] == '[') {
        const char *close = strchr(text, ']');
        if (!close || close[1] != ':')
            return lf_error_set(err, LF_ERR_INVALID, "syslog: listen \"%s\": expected [ipv6]:port",
                                text);
        h = text + 1;
        hlen = (size_t)(close - h);
        colon = close + 1;
    } else {
        colon = strrchr(text, ':');
        if (!colon)
            return lf_error_set(err, LF_ERR_INVALID, "syslog: listen \"%s\": expected host:port",
                                text);
        if (memchr(text, ':', (size_t)(colon - text)))
            return lf_error_set(err, LF_ERR_INVALID,
                                "syslog: listen \"%s\": write an IPv6 address as [addr]:port",
                                text);
        hlen = (size_t)(colon - text);
    }
    const char *p = colon + 1;
    size_t plen = strlen(p);
    if (hlen == 0 || hlen >= host_cap)
        return lf_error_set(err, LF_ERR_INVALID, "syslog: listen \"%s\": bad host", text);
    if (plen == 0 || plen > 5 || plen >= port_cap || strspn(p, "0123456789") != plen ||
        atoi(p) > 65535)
        return lf_error_set(err, LF_ERR_INVALID, "syslog: listen \"%s\": bad port", text);
    memcpy(host, h, hlen);
    host[hlen] = '\0';
    memcpy(port, p, plen + 1);
    return LF_OK;
}

void syslog_format_peer(const void *sa_any, char *out, size_t cap)
{
    const struct sockaddr *sa = sa_any;
    char ip[INET6_ADDRSTRLEN] = "?";
    unsigned port = 0;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in4 = sa_any;
        inet_ntop(AF_INET, &in4->sin_addr, ip, sizeof ip);
        port = ntohs(in4->sin_port);
        snprintf(out, cap, "%s:%u", ip, port);
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = sa_any;
        inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof ip);
        port = ntohs(in6->sin6_port);
        snprintf(out, cap, "[%s]:%u", ip, port);
    } else {
        snprintf(out, cap, "unknown");
    }
}

static lf_err bound_port(syslog_input *s, const char *addr, lf_error *err)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    if (getsockname(s->listen_fd, (struct sockaddr *)&ss, &sl) != 0)
        return lf_error_set(err, LF_ERR_IO, "syslog: %s: getsockname: %s", addr, strerror(errno));
    if (ss.ss_family == AF_INET)
        s->port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
    else
        s->port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return LF_OK;
}

static void udp_options(syslog_input *s, uint64_t rcvbuf)
{
    /* Best effort: without them the input still works, it only sees less. */
    int on = 1;
#ifdef SO_RXQ_OVFL
    (void)setsockopt(s->listen_fd, SOL_SOCKET, SO_RXQ_OVFL, &on, sizeof on);
#endif
    (void)on;
    if (rcvbuf > 0) {
        int v = rcvbuf > (uint64_t)INT32_MAX ? INT32_MAX : (int)rcvbuf;
        (void)setsockopt(s->listen_fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof v);
    }
}

lf_err syslog_listen(syslog_input *s, const char *addr, uint64_t rcvbuf, lf_error *err)
{
    char host[256], port[8];
    lf_err e = syslog_split_hostport(addr, host, sizeof host, port, sizeof port, err);
    if (e != LF_OK)
        return e;
    struct addrinfo hints = {0}, *res = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = s->tcp ? SOCK_STREAM : SOCK_DGRAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    int rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0)
        return lf_error_set(err, LF_ERR_INVALID, "syslog: listen %s: %s", addr, gai_strerror(rc));
    int fd = socket(res->ai_family, res->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        e = lf_error_set(err, LF_ERR_IO, "syslog: listen %s: socket: %s", addr, strerror(errno));
        goto out;
    }
    int on = 1;
    if (s->tcp)
        (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    if (bind(fd, res->ai_addr, res->ai_addrlen) != 0) {
        e = lf_error_set(err, LF_ERR_IO, "syslog: listen %s: bind: %s", addr, strerror(errno));
        goto out;
    }
    if (s->tcp && listen(fd, SOMAXCONN) != 0) {
        e = lf_error_set(err, LF_ERR_IO, "syslog: listen %s: listen: %s", addr, strerror(errno));
        goto out;
    }
    s->listen_fd = fd;
    fd = -1;
    if (!s->tcp)
        udp_options(s, rcvbuf);
    e = bound_port(s, addr, err);
out:
    if (fd >= 0)
        close(fd);
    freeaddrinfo(res);
    return e;
}
