/* check_poller: a curl socket that epoll refuses fails its own transfer
 * only; the multi handle goes on serving the others and takes new ones
 * (libcurl 7.88 marks a whole multi handle dead when the socket callback
 * returns -1). The bound on open sockets refuses the ones past it, as
 * the gate does. Transfers run against a small HTTP server on loopback. */
#include <check.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "poller.h"

#define N 6
#define SERVER_CONNS 64

static int listen_fd, port;
static pthread_t server;
static struct poller *p;
static CURLM *multi;

/* Answers every request on every connection with {} (keep-alive),
 * until the listening socket is shut down. */
static void *server_main(void *arg)
{
    static const char answer[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}";
    struct pollfd fds[SERVER_CONNS + 1];
    char buf[4096];
    int n = 1, i;
    ssize_t got;

    (void)arg;
    fds[0] = (struct pollfd){listen_fd, POLLIN, 0};
    while (poll(fds, (nfds_t)n, 5000) > 0) {
        if (fds[0].revents & (POLLHUP | POLLERR | POLLNVAL))
            break;
        if ((fds[0].revents & POLLIN) && n <= SERVER_CONNS)
            fds[n++] = (struct pollfd){accept(listen_fd, NULL, NULL), POLLIN, 0};
        for (i = 1; i < n; i++) {
            if (!fds[i].revents)
                continue;
            got = read(fds[i].fd, buf, sizeof(buf));
            if (got <= 0) {
                close(fds[i].fd);
                fds[i--] = fds[--n];
                continue;
            }
            if (memmem(buf, (size_t)got, "\r\n\r\n", 4) &&
                write(fds[i].fd, answer, sizeof(answer) - 1) < 0)
                continue;
        }
    }
    for (i = 1; i < n; i++)
        close(fds[i].fd);
    return NULL;
}

static size_t discard(char *d, size_t size, size_t n, void *u)
{
    (void)d;
    (void)u;
    return size * n;
}

static CURL *transfer(long index)
{
    char url[64];
    CURL *e = curl_easy_init();

    snprintf(url, sizeof(url), "http://127.0.0.1:%d/%ld", port, index);
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(e, CURLOPT_PRIVATE, (void *)index);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 2000L);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, poller_open_socket);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, p);
    curl_easy_setopt(e, CURLOPT_CLOSESOCKETFUNCTION, poller_close_socket);
    curl_easy_setopt(e, CURLOPT_CLOSESOCKETDATA, p);
    return e;
}

static void no_peer(void *tag, uint32_t events, void *arg)
{
    (void)tag;
    (void)events;
    (void)arg;
}

/* Runs until `want` transfers ended; result[i]: CURLE_* of transfer i,
 * or -1 when it was listed as unwatched (and removed here). */
static void run(CURL **e, int *result, int want)
{
    uint64_t start = clock_ms();
    int done = 0, left;
    CURLMsg *msg;
    CURL *u;
    char *idx;

    while (done < want && clock_ms() - start < 3000) {
        poller_run(p, 50, no_peer, NULL);
        while ((u = poller_next_unwatched(p)) != NULL) {
            curl_easy_getinfo(u, CURLINFO_PRIVATE, &idx);
            result[(long)idx] = -1;
            curl_multi_remove_handle(multi, u);
            done++;
        }
        while ((msg = curl_multi_info_read(multi, &left)) != NULL) {
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &idx);
            result[(long)idx] = (int)msg->data.result;
            curl_multi_remove_handle(multi, msg->easy_handle);
            done++;
        }
    }
    (void)e;
}

/* Makes transfers first..first+n-1 (on fresh connections when asked)
 * and adds them to the multi handle, their results unset (-2). */
static void start(CURL **e, int *result, int first, int n, long fresh)
{
    int i;

    for (i = first; i < first + n; i++) {
        e[i] = transfer(i);
        curl_easy_setopt(e[i], CURLOPT_FRESH_CONNECT, fresh);
        result[i] = -2;
        ck_assert_int_eq(curl_multi_add_handle(multi, e[i]), CURLM_OK);
    }
}

static void setup(void)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(sa);

    curl_global_init(CURL_GLOBAL_DEFAULT);
    listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_eq(bind(listen_fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    ck_assert_int_eq(listen(listen_fd, 64), 0);
    getsockname(listen_fd, (struct sockaddr *)&sa, &len);
    port = ntohs(sa.sin_port);
    ck_assert_int_eq(pthread_create(&server, NULL, server_main, NULL), 0);
    p = poller_new(64, 2000);
    multi = curl_multi_init();
    ck_assert_int_eq(poller_attach(p, 0, multi), 0);
}

static void teardown(void)
{
    curl_multi_cleanup(multi);
    poller_free(p);
    shutdown(listen_fd, SHUT_RDWR);
    pthread_join(server, NULL);
    close(listen_fd);
    curl_global_cleanup();
}

START_TEST(test_all_ok)
{
    CURL *e[N];
    int result[N], i;

    start(e, result, 0, N, 0L);
    run(e, result, N);
    for (i = 0; i < N; i++) {
        ck_assert_int_eq(result[i], CURLE_OK);
        curl_easy_cleanup(e[i]);
    }
}
END_TEST

/* One registration refused: that transfer is listed, the others end
 * well, and the handle takes and completes a new one. */
START_TEST(test_refused_socket_fails_one)
{
    CURL *e[N + 1];
    int result[N + 1], i, unwatched = 0;

    poller_inject_failures(p, 1);
    start(e, result, 0, N, 0L);
    run(e, result, N);
    for (i = 0; i < N; i++) {
        if (result[i] == -1)
            unwatched++;
        else
            ck_assert_msg(result[i] == CURLE_OK, "transfer %d: %d", i, result[i]);
    }
    ck_assert_int_eq(unwatched, 1);
    start(e, result, N, 1, 0L);
    run(e, result, 1);
    ck_assert_int_eq(result[N], CURLE_OK);
    for (i = 0; i <= N; i++)
        curl_easy_cleanup(e[i]);
}
END_TEST

/* With at most 2 sockets open, 6 transfers started at once: 2 connect,
 * the others are refused as by a shut gate (EAGAIN: couldn't connect),
 * and no more than 2 are ever open; lifting the bound lets a new one
 * open a third. */
START_TEST(test_open_max)
{
    CURL *e[N + 1];
    int result[N + 1], i, ok = 0;

    poller_open_max(p, 2);
    start(e, result, 0, N, 1L);
    run(e, result, N);
    for (i = 0; i < N; i++) {
        if (result[i] == CURLE_OK)
            ok++;
        else
            ck_assert_msg(result[i] == CURLE_COULDNT_CONNECT, "transfer %d: %d", i, result[i]);
    }
    ck_assert_int_ge(ok, 1);
    ck_assert_int_le(ok, 2);
    ck_assert_int_le(poller_open_count(p), 2);
    ck_assert_int_eq(poller_gate_room(p), 2 - poller_open_count(p));
    poller_open_max(p, 0);
    start(e, result, N, 1, 1L);
    run(e, result, 1);
    ck_assert_int_eq(result[N], CURLE_OK);
    ck_assert_int_eq(poller_open_count(p), ok + 1);
    for (i = 0; i <= N; i++)
        curl_easy_cleanup(e[i]);
    ck_assert_int_eq(poller_open_count(p), ok + 1); /* the multi keeps them */
}
END_TEST

static Suite *poller_suite(void)
{
    Suite *s = suite_create("poller");
    TCase *tc = tcase_create("refused sockets");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_all_ok);
    tcase_add_test(tc, test_refused_socket_fails_one);
    tcase_add_test(tc, test_open_max);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(poller_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
