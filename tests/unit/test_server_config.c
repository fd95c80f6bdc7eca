/*
 * test_server_config.c — logfluxd's option table: defaults are valid, the committed
 * docs/CONFIG-SERVER.md is exactly what the table generates (so the reference cannot drift),
 * and a YAML file with a typo is refused naming the key.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server_config.h"

static void test_docs_match_table(void **state)
{
    (void)state;
    char *generated = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&generated, &len);
    lfd_config_write_docs(f);
    fclose(f);
    lf_buf committed = lf_test_read_file(LF_VECTORS_DIR "/../../docs/CONFIG-SERVER.md");
    if (committed.len != len || memcmp(committed.data, generated, len) != 0)
        fail_msg("docs/CONFIG-SERVER.md is stale: regenerate it with "
                 "`logfluxd config-docs > docs/CONFIG-SERVER.md`");
    free(generated);
    lf_buf_free(&committed);
}

static void test_defaults_and_typos(void **state)
{
    (void)state;
    lfd_config c;
    memset(&c, 0, sizeof c);
    assert_int_equal(lfd_config_init(&c, NULL), LF_OK);
    assert_string_equal(c.listen, "127.0.0.1:8443");
    assert_string_equal(c.tls_min_version, "1.3");
    assert_false(c.insecure_http);
    assert_true(c.max_request_bytes == 10u * 1024 * 1024);
    assert_int_equal(c.worker_flush_interval_ms, 5000);

    char path[] = "/tmp/lf-srvcfg-XXXXXX";
    int fd = mkstemp(path);
    const char *yaml = "listen: 127.0.0.1:9443\nspool:\n  max_bytes: 2GiB\n  max_byts: 1\n";
    assert_int_equal(write(fd, yaml, strlen(yaml)), (ssize_t)strlen(yaml));
    close(fd);
    lf_error err = {0};
    assert_int_equal(lfd_config_load(&c, path, &err), LF_ERR_INVALID);
    assert_non_null(strstr(err.message, "spool.max_byts"));
    assert_non_null(strstr(err.message, ":4:"));
    unlink(path);
    lfd_config_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_docs_match_table),
        cmocka_unit_test(test_defaults_and_typos),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
