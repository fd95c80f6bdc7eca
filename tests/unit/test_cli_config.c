/*
 * test_cli_config.c — the logflux CLI's configuration: the committed docs/CONFIG-CLI.md is
 * exactly what the profile option table generates (so the reference cannot drift), a profile
 * readable by others is refused, a typo in a profile is an error naming the key, and the
 * precedence is flags over environment over profile.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

static void test_docs_match_table(void **state)
{
    (void)state;
    char *generated = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&generated, &len);
    lfc_profile_write_docs(f);
    fclose(f);
    lf_buf committed = lf_test_read_file(LF_VECTORS_DIR "/../../docs/CONFIG-CLI.md");
    if (committed.len != len || memcmp(committed.data, generated, len) != 0)
        fail_msg("docs/CONFIG-CLI.md is stale: regenerate it with "
                 "`logflux config-docs > docs/CONFIG-CLI.md`");
    free(generated);
    lf_buf_free(&committed);
}

/* A temporary XDG_CONFIG_HOME with logflux/default.yaml holding `yaml` at `mode`. */
static char config_home[64];
static char profile_path[128];

static void write_profile(const char *yaml, mode_t mode)
{
    snprintf(profile_path, sizeof profile_path, "%s/logflux/default.yaml", config_home);
    FILE *f = fopen(profile_path, "w");
    assert_non_null(f);
    fputs(yaml, f);
    fclose(f);
    assert_int_equal(chmod(profile_path, mode), 0);
}

static int setup(void **state)
{
    (void)state;
    snprintf(config_home, sizeof config_home, "/tmp/lf-cli-cfg-XXXXXX");
    if (!mkdtemp(config_home))
        return -1;
    char dir[128];
    snprintf(dir, sizeof dir, "%s/logflux", config_home);
    mkdir(dir, 0700);
    setenv("XDG_CONFIG_HOME", config_home, 1);
    unsetenv("LOGFLUX_ENDPOINT");
    unsetenv("LOGFLUX_TOKEN");
    unsetenv("LOGFLUX_KEY");
    unsetenv("LOGFLUX_CA");
    unsetenv("LOGFLUX_PROFILE");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(profile_path);
    char dir[128];
    snprintf(dir, sizeof dir, "%s/logflux", config_home);
    rmdir(dir);
    rmdir(config_home);
    return 0;
}

static int init_with(lfc_ctx *c, int argc, const char **args)
{
    static char *argv[16];
    for (int i = 0; i < argc; i++)
        argv[i] = (char *)args[i];
    argv[argc] = NULL;
    return lfc_ctx_init(c, &argc, argv);
}

static void test_precedence(void **state)
{
    (void)state;
    write_profile("endpoint: \"https://profile.example\"\ntoken: \"eu-lf_usr_a_profile\"\n"
                  "output: json\n",
                  0600);
    lfc_ctx c;
    const char *plain[] = {"logflux", "admin", "apps", "list"};
    assert_int_equal(init_with(&c, 4, plain), LFC_EXIT_OK);
    assert_string_equal(c.endpoint, "https://profile.example");
    assert_string_equal(c.token, "eu-lf_usr_a_profile");
    assert_int_equal(c.output, LFC_OUT_JSON);
    assert_non_null(strstr(c.key_path, "/logflux/customer.key"));
    lfc_ctx_free(&c);

    setenv("LOGFLUX_ENDPOINT", "https://env.example/", 1);
    setenv("LOGFLUX_TOKEN", "eu-lf_usr_b_env", 1);
    assert_int_equal(init_with(&c, 4, plain), LFC_EXIT_OK);
    assert_string_equal(c.endpoint, "https://env.example"); /* trailing slash dropped */
    assert_string_equal(c.token, "eu-lf_usr_b_env");
    lfc_ctx_free(&c);

    /* Flags win, anywhere before `--`; what follows `--` is the command's. */
    const char *flags[] = {"logflux", "admin", "--endpoint", "https://flag.example",
                           "apps",    "-o",    "csv",        "list",
                           "--",      "-v"};
    int argc = 10;
    char *argv[11];
    for (int i = 0; i < argc; i++)
        argv[i] = (char *)flags[i];
    argv[argc] = NULL;
    assert_int_equal(lfc_ctx_init(&c, &argc, argv), LFC_EXIT_OK);
    assert_string_equal(c.endpoint, "https://flag.example");
    assert_int_equal(c.output, LFC_OUT_CSV);
    assert_false(c.verbose);
    assert_int_equal(argc, 6);
    assert_string_equal(argv[1], "admin");
    assert_string_equal(argv[2], "apps");
    assert_string_equal(argv[3], "list");
    assert_string_equal(argv[4], "--");
    assert_string_equal(argv[5], "-v");
    lfc_ctx_free(&c);
    unsetenv("LOGFLUX_ENDPOINT");
    unsetenv("LOGFLUX_TOKEN");

    const char *bad_output[] = {"logflux", "-o", "xml", "admin"};
    assert_int_equal(init_with(&c, 4, bad_output), LFC_EXIT_USAGE);
    lfc_ctx_free(&c);
    const char *missing[] = {"logflux", "admin", "--token"};
    assert_int_equal(init_with(&c, 3, missing), LFC_EXIT_USAGE);
    lfc_ctx_free(&c);
    const char *bad_profile[] = {"logflux", "--profile", "../etc/passwd", "admin"};
    assert_int_equal(init_with(&c, 4, bad_profile), LFC_EXIT_USAGE);
    lfc_ctx_free(&c);
}

static void test_refuses_readable_profile_and_typos(void **state)
{
    (void)state;
    lfc_ctx c;
    const char *plain[] = {"logflux", "admin"};
    write_profile("token: \"eu-lf_usr_a_secret\"\n", 0644);
    assert_int_equal(init_with(&c, 2, plain), LFC_EXIT_ERROR);
    lfc_ctx_free(&c);
    write_profile("token: \"eu-lf_usr_a_secret\"\n", 0640);
    assert_int_equal(init_with(&c, 2, plain), LFC_EXIT_ERROR);
    lfc_ctx_free(&c);
    write_profile("tokne: \"eu-lf_usr_a_secret\"\n", 0600);
    assert_int_equal(init_with(&c, 2, plain), LFC_EXIT_USAGE);
    lfc_ctx_free(&c);
    write_profile("output: yaml\n", 0600);
    assert_int_equal(init_with(&c, 2, plain), LFC_EXIT_USAGE);
    lfc_ctx_free(&c);
}

static void test_profile_save_round_trip(void **state)
{
    (void)state;
    write_profile("key: \"/keys/mine.key\"\n", 0600);
    lfc_ctx c;
    const char *args[] = {
        "logflux", "--endpoint", "https://saved.example", "--token", "eu-lf_usr_x_tok\"en\\",
        "login"};
    assert_int_equal(init_with(&c, 6, args), LFC_EXIT_OK);
    assert_int_equal(lfc_profile_save(&c), LFC_EXIT_OK);
    lfc_ctx_free(&c);
    struct stat st;
    assert_int_equal(stat(profile_path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    const char *plain[] = {"logflux", "admin"};
    assert_int_equal(init_with(&c, 2, plain), LFC_EXIT_OK);
    assert_string_equal(c.endpoint, "https://saved.example");
    assert_string_equal(c.token, "eu-lf_usr_x_tok\"en\\");
    assert_string_equal(c.key_path, "/keys/mine.key"); /* kept from the old profile */
    lfc_ctx_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_docs_match_table),
        cmocka_unit_test_setup_teardown(test_precedence, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refuses_readable_profile_and_typos, setup, teardown),
        cmocka_unit_test_setup_teardown(test_profile_save_round_trip, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
