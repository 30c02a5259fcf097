/* check_writer: answers the web server's socket did not take at once
 * are written as it reads, each within its own deadline: one the peer
 * does not read is cut at its deadline (no FCGI_END_REQUEST ever
 * reaches it), one read slowly is written whole, one whose peer hung up
 * ends. A socketpair stands for the web server's connection; the clock
 * is the test's. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "poller.h"
#include "request.h"
#include "writer.h"

#ifdef NDEBUG
#error "the tests rely on assert(): build them without NDEBUG"
#endif

#define TIMEOUT_MS 500
#define BODY_LEN (1024 * 1024) /* far more than a socket buffer holds */
#define FCGI_END_REQUEST 3

static struct poller *p;
static struct writer w;
static char *body;

/* A request of fd as the acceptor makes one: BEGIN_REQUEST, empty
 * params, empty stdin. */
static struct request *request_on(int fd)
{
    static const unsigned char wire[] = {
        1, 1, 0, 1, 0, 8, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, /* BEGIN_REQUEST, responder */
        1, 4, 0, 1, 0, 0, 0, 0,                         /* PARAMS, end */
        1, 5, 0, 1, 0, 0, 0, 0,                         /* STDIN, end */
    };
    struct intake in;
    struct request *r;

    intake_init(&in);
    ck_assert_int_eq(intake_feed(&in, wire, sizeof(wire)), INTAKE_READY);
    r = request_take(fd, &in);
    intake_free(&in);
    ck_assert_ptr_nonnull(r);
    return r;
}

/* A request on a socketpair whose answer (BODY_LEN of body) did not
 * all fit: *peer is the web server's end. */
static struct request *answer_pending(int *peer)
{
    int sv[2];
    struct reply rep = reply_ok(body, BODY_LEN);
    struct request *r;

    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    ck_assert_int_eq(fcntl(sv[1], F_SETFL, O_NONBLOCK), 0);
    *peer = sv[1];
    r = request_finish(request_on(sv[0]), &rep);
    ck_assert_ptr_nonnull(r); /* kept: the socket was full */
    return r;
}

/* Reads at most max bytes of what the peer has now: the count, 0 at
 * end of stream, -1 when nothing is there yet. */
static ssize_t peer_read(int fd, char *buf, size_t max)
{
    ssize_t n = read(fd, buf, max);

    if (n < 0)
        ck_assert(errno == EAGAIN || errno == EWOULDBLOCK);
    return n;
}

/* Everything the peer gets until the writer closes its end. */
static size_t peer_drain(int fd, char *buf, size_t cap)
{
    size_t got = 0;
    ssize_t n;

    while ((n = peer_read(fd, buf + got, cap - got)) != 0) {
        ck_assert_int_gt(n, 0); /* the writer's end is closed: all is there */
        got += (size_t)n;
    }
    return got;
}

static int ends_with_end_request(const char *buf, size_t len)
{
    return len >= 16 && buf[len - 16] == 1 && buf[len - 15] == FCGI_END_REQUEST;
}

static void on_peer(void *tag, uint32_t events, void *arg)
{
    (void)events;
    ck_assert(writer_owns(tag));
    writer_on_event(arg, tag);
}

static void setup(void)
{
    p = poller_new(4, 1000);
    ck_assert_ptr_nonnull(p);
    writer_init(&w, p, TIMEOUT_MS);
    body = malloc(BODY_LEN);
    memset(body, 'x', BODY_LEN);
}

static void teardown(void)
{
    ck_assert_ptr_null(w.head);
    poller_free(p);
    free(body);
}

/* Not read at all: kept until its deadline, cut then, mid-answer. */
START_TEST(test_unread_cut_at_deadline)
{
    static char buf[2 * BODY_LEN];
    int peer;
    struct request *r = answer_pending(&peer);
    size_t got;

    writer_start(&w, r, 1000);
    ck_assert_uint_eq(writer_next_deadline(&w), 1000 + TIMEOUT_MS);
    poller_run(p, 0, on_peer, &w); /* no room: nothing happens */
    writer_expire(&w, 1000 + TIMEOUT_MS - 1);
    ck_assert_ptr_eq(w.head, r);
    writer_expire(&w, 1000 + TIMEOUT_MS);
    ck_assert_ptr_null(w.head);
    ck_assert_uint_eq(writer_next_deadline(&w), 0);
    got = peer_drain(peer, buf, sizeof(buf));
    ck_assert_uint_lt(got, BODY_LEN);
    ck_assert(!ends_with_end_request(buf, got));
    close(peer);
}
END_TEST

/* Read a little at a time, within the deadline: written whole, the
 * socket closed after FCGI_END_REQUEST. */
START_TEST(test_slow_reader_completes)
{
    static char buf[2 * BODY_LEN];
    int peer, turns = 0;
    struct request *r = answer_pending(&peer);
    size_t got = 0;
    ssize_t n = -1;

    writer_start(&w, r, 1000);
    while (n != 0) {
        ck_assert_int_lt(++turns, 100000);
        n = peer_read(peer, buf + got, 4096 < sizeof(buf) - got ? 4096 : sizeof(buf) - got);
        if (n > 0)
            got += (size_t)n;
        poller_run(p, 0, on_peer, &w);
        writer_expire(&w, 1000 + TIMEOUT_MS - 1); /* never past its deadline */
    }
    ck_assert_ptr_null(w.head);
    ck_assert_uint_gt(got, BODY_LEN);
    ck_assert(ends_with_end_request(buf, got));
    close(peer);
}
END_TEST

/* The web server hung up: the answer ends at once, not at its deadline. */
START_TEST(test_peer_gone_ends)
{
    int peer;
    struct request *r = answer_pending(&peer);

    writer_start(&w, r, 1000);
    close(peer);
    poller_run(p, 100, on_peer, &w);
    ck_assert_ptr_null(w.head);
}
END_TEST

/* Each answer has its own deadline: the one handed over first is cut
 * first, the later one goes on. */
START_TEST(test_deadlines_apart)
{
    int peer1, peer2;
    struct request *r1 = answer_pending(&peer1);
    struct request *r2 = answer_pending(&peer2);

    writer_start(&w, r1, 1000);
    writer_start(&w, r2, 1200);
    writer_expire(&w, 1000 + TIMEOUT_MS);
    ck_assert_ptr_eq(w.head, r2);
    ck_assert_uint_eq(writer_next_deadline(&w), 1200 + TIMEOUT_MS);
    writer_expire(&w, 1200 + TIMEOUT_MS);
    ck_assert_ptr_null(w.head);
    close(peer1);
    close(peer2);
}
END_TEST

static Suite *writer_suite(void)
{
    Suite *s = suite_create("writer");
    TCase *tc = tcase_create("deadline");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_unread_cut_at_deadline);
    tcase_add_test(tc, test_slow_reader_completes);
    tcase_add_test(tc, test_peer_gone_ends);
    tcase_add_test(tc, test_deadlines_apart);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(writer_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
