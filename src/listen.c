#include "listen.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static int listen_fail(int code, char *err, size_t errlen, const char *what, const char *addr)
{
    snprintf(err, errlen, "cannot listen on %.100s: %s", addr, what);
    return code;
}

/* Binds and listens; closes fd on failure. */
static int listen_bind(int fd, const struct sockaddr *sa, socklen_t len, int backlog,
                       const char *addr, char *err, size_t errlen)
{
    if (bind(fd, sa, len) != 0 || listen(fd, backlog) != 0) {
        int e = errno;

        close(fd);
        return listen_fail(LISTEN_FAILED, err, errlen, strerror(e), addr);
    }
    return fd;
}

static int listen_unix(const char *path, int backlog, struct listen_file *file, char *err,
                       size_t errlen)
{
    struct sockaddr_un sa;
    struct stat st;
    int fd;

    if (strlen(path) >= sizeof(sa.sun_path))
        return listen_fail(LISTEN_BAD_ADDRESS, err, errlen, "path too long", path);
    if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
        unlink(path); /* left by an earlier run */
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    strcpy(sa.sun_path, path);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return listen_fail(LISTEN_FAILED, err, errlen, strerror(errno), path);
    fd = listen_bind(fd, (struct sockaddr *)&sa, sizeof(sa), backlog, path, err, errlen);
    if (fd >= 0 && lstat(path, &st) == 0) {
        file->made = 1;
        file->dev = st.st_dev;
        file->ino = st.st_ino;
    }
    return fd;
}

/* Splits "host:port" / "[v6]:port" / ":port" into host (maybe empty) and port. */
static int listen_split(const char *addr, char *host, size_t hcap, const char **port)
{
    const char *colon = strrchr(addr, ':');
    size_t hlen;

    if (!colon || !colon[1])
        return -1;
    *port = colon + 1;
    hlen = (size_t)(colon - addr);
    if (hlen >= 2 && addr[0] == '[' && addr[hlen - 1] == ']') {
        addr++;
        hlen -= 2;
    }
    if (hlen >= hcap)
        return -1;
    memcpy(host, addr, hlen);
    host[hlen] = '\0';
    return 0;
}

static int listen_tcp(const char *addr, int backlog, char *err, size_t errlen)
{
    struct addrinfo hints, *res = NULL;
    char host[256];
    const char *port;
    int fd, one = 1, rc;

    if (listen_split(addr, host, sizeof(host), &port))
        return listen_fail(LISTEN_BAD_ADDRESS, err, errlen, "want HOST:PORT, :PORT or a path", addr);
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    rc = getaddrinfo(host[0] ? host : NULL, port, &hints, &res);
    if (rc != 0)
        return listen_fail(LISTEN_BAD_ADDRESS, err, errlen, gai_strerror(rc), addr);
    fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        freeaddrinfo(res);
        return listen_fail(LISTEN_FAILED, err, errlen, strerror(errno), addr);
    }
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    fd = listen_bind(fd, res->ai_addr, res->ai_addrlen, backlog, addr, err, errlen);
    freeaddrinfo(res);
    return fd;
}

int listen_open(const char *addr, int backlog, struct listen_file *file, char *err,
                size_t errlen)
{
    memset(file, 0, sizeof(*file));
    if (strchr(addr, '/'))
        return listen_unix(addr, backlog, file, err, errlen);
    return listen_tcp(addr, backlog, err, errlen);
}

int listen_remove(const char *path, const struct listen_file *file)
{
    struct stat st;

    if (!file->made || lstat(path, &st) != 0 || !S_ISSOCK(st.st_mode) ||
        st.st_dev != file->dev || st.st_ino != file->ino)
        return 0;
    return unlink(path) == 0;
}
