/* check_intake: when a FastCGI request has fully arrived, and the
 * listening socket's file at exit (listen.c). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "intake.h"
#include "listen.h"

/* Appends one record (type, request 1, content, padding) to buf at *len. */
static void put_record(unsigned char *buf, size_t *len, int type, const char *content,
                       size_t clen, int pad)
{
    unsigned char *h = buf + *len;

    h[0] = 1;
    h[1] = (unsigned char)type;
    h[2] = 0;
    h[3] = 1;
    h[4] = (unsigned char)(clen >> 8);
    h[5] = (unsigned char)clen;
    h[6] = (unsigned char)pad;
    h[7] = 0;
    memcpy(h + 8, content, clen);
    memset(h + 8 + clen, 0, (size_t)pad);
    *len += 8 + clen + (size_t)pad;
}

/* BEGIN_REQUEST, PARAMS (one), empty PARAMS, STDIN "abc", empty STDIN */
static size_t whole_request(unsigned char *buf)
{
    size_t len = 0;

    put_record(buf, &len, 1, "\0\1\0\0\0\0\0\0", 8, 0);
    put_record(buf, &len, 4, "\x09\x0cPATH_INFO/healthcheck", 23, 1);
    put_record(buf, &len, 4, "", 0, 0);
    put_record(buf, &len, 5, "abc", 3, 5);
    put_record(buf, &len, 5, "", 0, 0);
    return len;
}

START_TEST(test_whole_request_ready)
{
    unsigned char buf[256];
    size_t len = whole_request(buf);

    ck_assert_int_eq(intake_scan(buf, len), INTAKE_READY);
}
END_TEST

/* Every cut short of the end record is "more" */
START_TEST(test_every_prefix_waits)
{
    unsigned char buf[256];
    size_t len = whole_request(buf), i;

    for (i = 0; i < len; i++)
        ck_assert_msg(intake_scan(buf, i) == INTAKE_MORE, "prefix of %zu bytes", i);
}
END_TEST

START_TEST(test_not_fastcgi_ready)
{
    unsigned char buf[256];
    size_t len = whole_request(buf);

    buf[0] = 2; /* version 2: libfcgi refuses it, no need to wait */
    ck_assert_int_eq(intake_scan(buf, 8), INTAKE_READY);
    ck_assert_int_eq(intake_scan((const unsigned char *)"GET / HTTP/1.1\r\n", 16), INTAKE_READY);
    (void)len;
}
END_TEST

/* A request larger than the window is handed over as it stands. */
START_TEST(test_window_full_ready)
{
    unsigned char *buf = calloc(1, INTAKE_WINDOW + 16);
    size_t len = 0;

    ck_assert_ptr_nonnull(buf);
    put_record(buf, &len, 1, "\0\1\0\0\0\0\0\0", 8, 0);
    while (len + 8 + 4000 < INTAKE_WINDOW) {
        char big[4000];

        memset(big, 'x', sizeof(big));
        put_record(buf, &len, 5, big, sizeof(big), 0);
    }
    ck_assert_int_eq(intake_scan(buf, len), INTAKE_MORE);
    ck_assert_int_eq(intake_scan(buf, INTAKE_WINDOW), INTAKE_READY);
    free(buf);
}
END_TEST

/* A record announcing more than was sent waits for it. */
START_TEST(test_long_record_waits)
{
    unsigned char buf[64] = {1, 4, 0, 1, 0xff, 0xff, 0, 0};

    ck_assert_int_eq(intake_scan(buf, sizeof(buf)), INTAKE_MORE);
}
END_TEST

/* listen.c: the socket file is removed at exit only while it is ours. */
START_TEST(test_listen_remove_own_only)
{
    char dir[] = "/tmp/check-intake.XXXXXX", path[128], err[256];
    struct listen_file a, b;
    int fa, fb;

    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/s.sock", dir);
    fa = listen_open(path, 8, &a, err, sizeof(err));
    ck_assert_int_ge(fa, 0);
    ck_assert_int_eq(a.made, 1);
    fb = listen_open(path, 8, &b, err, sizeof(err)); /* the new process takes the path */
    ck_assert_int_ge(fb, 0);
    close(fa);
    ck_assert_int_eq(listen_remove(path, &a), 0); /* the old one leaves it */
    ck_assert_int_eq(access(path, F_OK), 0);
    close(fb);
    ck_assert_int_eq(listen_remove(path, &b), 1);
    ck_assert_int_ne(access(path, F_OK), 0);
    rmdir(dir);
}
END_TEST

START_TEST(test_listen_tcp_no_file)
{
    struct listen_file f;
    char err[256];
    int fd = listen_open("127.0.0.1:0", 8, &f, err, sizeof(err));

    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(f.made, 0);
    ck_assert_int_eq(listen_remove("/nonexistent/x", &f), 0);
    close(fd);
}
END_TEST

static Suite *intake_suite(void)
{
    Suite *s = suite_create("intake");
    TCase *scan = tcase_create("scan");
    TCase *listen = tcase_create("listen file");

    tcase_add_test(scan, test_whole_request_ready);
    tcase_add_test(scan, test_every_prefix_waits);
    tcase_add_test(scan, test_not_fastcgi_ready);
    tcase_add_test(scan, test_window_full_ready);
    tcase_add_test(scan, test_long_record_waits);
    suite_add_tcase(s, scan);
    tcase_add_test(listen, test_listen_remove_own_only);
    tcase_add_test(listen, test_listen_tcp_no_file);
    suite_add_tcase(s, listen);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(intake_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
