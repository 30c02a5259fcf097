/* check_tls: which CA bundle an https upstream is checked against. */
#include <check.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tls.h"

static struct config cfg;
static char err[512];
static char path[] = "/tmp/check_tls.XXXXXX";

static void setup(void)
{
    int fd = mkstemp(path);

    ck_assert_int_ge(fd, 0);
    close(fd);
    memset(&cfg, 0, sizeof(cfg));
    cfg.maestro = strdup("https://api.example/maestro/v1");
    err[0] = '\0';
}

static void teardown(void)
{
    unlink(path);
    strcpy(path, "/tmp/check_tls.XXXXXX");
    config_free(&cfg);
}

static void write_file(const char *text)
{
    FILE *f = fopen(path, "w");

    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

START_TEST(test_plain_http_needs_none)
{
    free(cfg.maestro);
    cfg.maestro = strdup("http://127.0.0.1:9/maestro/v1");
    ck_assert_int_eq(tls_settle_ca(&cfg, err, sizeof(err)), 0);
    ck_assert_ptr_null(cfg.ca_file);
}
END_TEST

START_TEST(test_given_bundle)
{
    write_file("# a comment\n-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");
    cfg.ca_file = strdup(path);
    ck_assert_int_eq(tls_settle_ca(&cfg, err, sizeof(err)), 0);
    ck_assert_str_eq(cfg.ca_file, path);
}
END_TEST

START_TEST(test_given_without_certificate)
{
    write_file("-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n");
    cfg.ca_file = strdup(path);
    ck_assert_int_eq(tls_settle_ca(&cfg, err, sizeof(err)), -1);
    ck_assert_msg(strstr(err, "no PEM certificate") && strstr(err, path), "%s", err);
    ck_assert_ptr_null(strchr(err, '\n'));
}
END_TEST

START_TEST(test_given_unreadable)
{
    cfg.ca_file = strdup("/nonexistent/ca.pem");
    ck_assert_int_eq(tls_settle_ca(&cfg, err, sizeof(err)), -1);
    ck_assert_msg(strstr(err, "/nonexistent/ca.pem") != NULL, "%s", err);
}
END_TEST

/* No --ca-file: libcurl's own default bundle (ca-certificates on
 * Debian), never a CA directory. */
START_TEST(test_default_bundle)
{
    ck_assert_int_eq(tls_settle_ca(&cfg, err, sizeof(err)), 0);
    ck_assert_ptr_nonnull(cfg.ca_file);
    ck_assert_int_eq(access(cfg.ca_file, R_OK), 0);
}
END_TEST

static Suite *tls_suite(void)
{
    Suite *s = suite_create("tls");
    TCase *tc = tcase_create("ca_bundle");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_plain_http_needs_none);
    tcase_add_test(tc, test_given_bundle);
    tcase_add_test(tc, test_given_without_certificate);
    tcase_add_test(tc, test_given_unreadable);
    tcase_add_test(tc, test_default_bundle);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(tls_suite());
    int failed;

    curl_global_init(CURL_GLOBAL_DEFAULT);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    curl_global_cleanup();
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
