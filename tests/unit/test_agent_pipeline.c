/*
 * test_agent_pipeline.c — one input's pipeline on its own, with a scripted input, a real disk
 * buffer and a real customer key:
 *   - encoding: level detected from the text, labels in precedence (record > input > agent),
 *     invalid UTF-8 repaired, a time outside the window replaced (and counted); the one-pass
 *     writer and the general encoder give the same bytes for the same records, including one
 *     the writer declines;
 *   - run: batches by count, each body = key frame + block (+ close frame on the last), every
 *     record opened with the private key, in order; the input's cursor stored with each body,
 *     commit() called once per durable body, and the newest cursor handed back to restore() by
 *     the next pipeline on the same buffer.
 */
#define _GNU_SOURCE /* memmem */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "logflux/native.h"
#include "pipeline/pipeline.h"

typedef struct script_input {
    lf_agent_input base;
    const char *const *lines;
    size_t n, next;
    size_t commits;
    char restored[64];
} script_input;

static lf_err s_next(lf_agent_input *in, lf_agent_event *ev, int timeout_ms, lf_error *err)
{
    (void)timeout_ms, (void)err;
    script_input *s = (script_input *)in;
    if (s->next == s->n) {
        atomic_store(&in->finished, true);
        return LF_ERR_NOT_FOUND;
    }
    ev->message = s->lines[s->next];
    ev->message_len = strlen(s->lines[s->next]);
    ev->ts_ns = 0; /* the pipeline stamps the read time */
    s->next++;
    return LF_OK;
}

static lf_err s_cursor(lf_agent_input *in, lf_buf *out, lf_error *err)
{
    (void)err;
    return lf_buf_printf(out, "pos:%zu", ((script_input *)in)->next);
}

static lf_err s_commit(lf_agent_input *in, lf_error *err)
{
    (void)err;
    ((script_input *)in)->commits++;
    return LF_OK;
}

static lf_err s_restore(lf_agent_input *in, const uint8_t *c, size_t len, lf_error *err)
{
    (void)err;
    script_input *s = (script_input *)in;
    snprintf(s->restored, sizeof s->restored, "%.*s", (int)len, (const char *)c);
    return LF_OK;
}

static void s_destroy(lf_agent_input *in)
{
    (void)in;
}

static const lf_agent_input_vtable s_vt = {.next = s_next,
                                           .cursor = s_cursor,
                                           .commit = s_commit,
                                           .restore = s_restore,
                                           .destroy = s_destroy};

static lf_privkey *g_priv;
static lf_pubkey *g_pub;
static char g_dir[64];

static int setup(void **state)
{
    (void)state;
    assert_int_equal(lf_privkey_generate(2048, &g_priv, NULL), LF_OK);
    assert_int_equal(lf_privkey_public(g_priv, &g_pub, NULL), LF_OK);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    lf_pubkey_free(g_pub);
    lf_privkey_free(g_priv);
    return 0;
}

static lf_agent_buffer *open_buffer(void)
{
    lf_agent_buffer *b = NULL;
    assert_int_equal(lf_agent_buffer_open(g_dir, NULL, &b, NULL), LF_OK);
    return b;
}

static void rm_dir(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", g_dir);
    assert_int_equal(system(cmd), 0);
}

static lf_strmap map2(const char *k1, const char *v1, const char *k2, const char *v2)
{
    lf_strmap m = {0};
    assert_int_equal(lf_strmap_set(&m, k1, v1, NULL), LF_OK);
    if (k2)
        assert_int_equal(lf_strmap_set(&m, k2, v2, NULL), LF_OK);
    return m;
}

static void free_map(lf_strmap *m)
{
    for (size_t i = 0; i < m->n; i++) {
        free(m->keys[i]);
        free(m->values[i]);
    }
    free(m->keys);
    free(m->values);
}

static lf_agent_pipeline *make(script_input *in, lf_agent_buffer *b, const lf_strmap *il,
                               const lf_strmap *al, size_t max_records)
{
    in->base.vt = &s_vt;
    snprintf(in->base.name, sizeof in->base.name, "scripted");
    lf_agent_pipeline_options o = {.tenant = "acme",
                                   .app = "web",
                                   .customer_key = g_pub,
                                   .input_labels = il,
                                   .agent_labels = al,
                                   .buffer = b,
                                   .max_records = max_records,
                                   .max_bytes = 1 << 20,
                                   .max_wait_ms = 60000,
                                   .zstd_level = 1,
                                   .rotate_records = 1000000,
                                   .rotate_bytes = 1ull << 30,
                                   .rotate_after_ms = 3600000};
    lf_agent_pipeline *p = NULL;
    assert_int_equal(lf_agent_pipeline_new(&o, &in->base, &p, NULL), LF_OK);
    return p;
}

static void test_encode(void **state)
{
    (void)state;
    snprintf(g_dir, sizeof g_dir, "/tmp/lf-pipe-XXXXXX");
    assert_non_null(mkdtemp(g_dir));
    lf_agent_buffer *b = open_buffer();
    lf_strmap agent = map2("env", "prod", "team", "agent");
    lf_strmap input = map2("team", "input", NULL, NULL);
    script_input in = {0};
    lf_agent_pipeline *p = make(&in, b, &input, &agent, 100);
    int64_t now = 1800000000000000000LL;

    lf_agent_event ev = {0};
    ev.message = "[ERROR] disk \xff full";
    ev.message_len = strlen(ev.message);
    ev.ts_ns = now - 5;
    lf_agent_event_set_label(&ev, "team", 4, "event", 5);
    lf_buf out = LF_BUF_INIT;
    int64_t ts = 0;
    assert_int_equal(lf_agent_pipeline_encode(p, &ev, now, &out, &ts, NULL), LF_OK);
    assert_true(ts == now - 5);
    lf_payload *pl = NULL;
    if (lf_payload_decode(out.data, out.len, LF_ENTRY_LOG, 0, &pl, NULL) != LF_OK)
        fail_msg("not a payload: %.*s", (int)out.len, (char *)out.data);
    assert_int_equal(pl->level, LF_LEVEL_ERROR);
    assert_string_equal(pl->log.message, "[ERROR] disk \xEF\xBF\xBD full");
    assert_string_equal(pl->source, "scripted");
    assert_int_equal(pl->n_attributes, 2);
    assert_string_equal(pl->attributes[0].key, "team");
    assert_string_equal(pl->attributes[0].value, "event"); /* the record's own wins */
    assert_string_equal(pl->attributes[1].key, "env");
    lf_payload_free(pl);

    /* Ten years old: stamped with the checker's clock and counted. */
    lf_agent_event_reset(&ev);
    ev.message = "old";
    ev.message_len = 3;
    ev.ts_ns = now - 10LL * 365 * 86400 * 1000000000LL;
    out.len = 0;
    assert_int_equal(lf_agent_pipeline_encode(p, &ev, now, &out, &ts, NULL), LF_OK);
    assert_true(ts == now);
    assert_int_equal(atomic_load(&lf_agent_pipeline_stats_of(p)->time_clamped), 1);

    /* Same bytes from both encoders, for records the writer takes and one it declines (a
     * label value that is not UTF-8). */
    const char *msgs[] = {"plain", "tab\there \"q\" \\", "nul\0byte", "\xc3\x28 bad", "é€😀"};
    for (int declined = 0; declined < 2; declined++)
        for (size_t i = 0; i < sizeof msgs / sizeof *msgs; i++) {
            lf_buf a = LF_BUF_INIT, g = LF_BUF_INIT;
            for (int general = 0; general < 2; general++) {
                lf_agent_event e = {0};
                e.message = msgs[i];
                e.message_len = i == 2 ? 8 : strlen(msgs[i]);
                e.ts_ns = now - 1000;
                e.level = LF_LEVEL_NOTICE;
                lf_agent_event_set_source(&e, "/var/log/app.log", 16);
                lf_agent_event_set_logger(&e, "app", 3);
                if (declined)
                    lf_agent_event_set_label(&e, "bad", 3, "\xff\xfe", 2);
                lf_agent_pipeline_set_general_encoder(p, general);
                assert_int_equal(lf_agent_pipeline_encode(p, &e, now, general ? &g : &a, &ts, NULL),
                                 LF_OK);
                lf_agent_event_free(&e);
            }
            if (a.len != g.len || memcmp(a.data, g.data, a.len) != 0)
                fail_msg("record %zu (declined %d):\n%.*s\n%.*s", i, declined, (int)a.len,
                         (char *)a.data, (int)g.len, (char *)g.data);
            lf_buf_free(&a);
            lf_buf_free(&g);
        }
    lf_agent_pipeline_set_general_encoder(p, false);
    lf_buf_free(&out);
    lf_agent_event_free(&ev);
    lf_agent_pipeline_free(p);
    lf_agent_buffer_close(b);
    free_map(&agent);
    free_map(&input);
    rm_dir();
}

/* Open every frame of a body with the private key; count entries, check their order. */
static size_t open_body(const uint8_t *body, size_t len, size_t first, bool *closed)
{
    lf_native_reader r;
    lf_native_reader_init(&r, body, len);
    lf_native_frame f;
    lf_native_opener *op = NULL;
    lf_native_opened opened = {0};
    size_t n = 0, index = 0;
    lf_err rc;
    while ((rc = lf_native_reader_next(&r, &f, NULL)) == LF_OK) {
        if (index++ == 0) {
            assert_int_equal(f.hdr.kind, LF_NATIVE_KEY); /* every body starts with its key */
            uint8_t sk[LF_AES_KEY_LEN];
            assert_int_equal(lf_native_key_frame_unwrap(&f, g_priv, sk, NULL), LF_OK);
            assert_int_equal(lf_native_opener_new(sk, f.hdr.key_id, &op, NULL), LF_OK);
            lf_wipe(sk, sizeof sk);
            continue;
        }
        assert_int_equal(lf_native_open(op, &f, &opened, NULL), LF_OK);
        if (f.hdr.kind == LF_NATIVE_CLOSE) {
            *closed = true;
            continue;
        }
        assert_int_equal(f.hdr.kind, LF_NATIVE_BLOCK);
        for (size_t i = 0; i < opened.count; i++) {
            char want[32];
            snprintf(want, sizeof want, "\"message\":\"line %zu\"", first + n);
            if (memmem(opened.entries[i].data, opened.entries[i].len, want, strlen(want)) == NULL)
                fail_msg("entry %zu lacks %s", first + n, want);
            n++;
        }
    }
    assert_int_equal(rc, LF_ERR_NOT_FOUND);
    lf_native_opened_free(&opened);
    lf_native_opener_free(op);
    return n;
}

static void test_run_batches_cursor_restore(void **state)
{
    (void)state;
    snprintf(g_dir, sizeof g_dir, "/tmp/lf-pipe-XXXXXX");
    assert_non_null(mkdtemp(g_dir));
    char text[25][16];
    const char *lines[25];
    for (size_t i = 0; i < 25; i++) {
        snprintf(text[i], sizeof text[i], "line %zu", i);
        lines[i] = text[i];
    }
    lf_agent_buffer *b = open_buffer();
    script_input in = {.lines = lines, .n = 25};
    lf_agent_pipeline *p = make(&in, b, NULL, NULL, 10);
    assert_int_equal(lf_agent_pipeline_run(p, NULL), LF_OK);
    assert_int_equal(in.commits, 3); /* 10 + 10 + 5: one commit per durable body */
    assert_string_equal(in.restored, "");
    lf_agent_pipeline_stats *st = lf_agent_pipeline_stats_of(p);
    assert_int_equal(atomic_load(&st->records_in), 25);
    assert_int_equal(atomic_load(&st->records_sealed), 25);
    assert_int_equal(atomic_load(&st->batches), 3);

    lf_agent_buffer_item *items = NULL;
    size_t count = 0;
    assert_int_equal(lf_agent_buffer_peek(b, 10, &items, &count, NULL), LF_OK);
    assert_int_equal(count, 3);
    size_t total = 0;
    for (size_t i = 0; i < count; i++) {
        bool closed = false;
        assert_string_equal(items[i].app, "web");
        assert_string_equal(items[i].source, "scripted");
        char want[16];
        snprintf(want, sizeof want, "pos:%zu", i == 2 ? (size_t)25 : (i + 1) * 10);
        assert_int_equal(items[i].cursor_len, strlen(want));
        assert_memory_equal(items[i].cursor, want, strlen(want));
        size_t n = open_body(items[i].body, items[i].body_len, total, &closed);
        assert_int_equal(n, items[i].records);
        assert_int_equal(closed, i == 2); /* the input ended: its key is closed */
        total += n;
        /* Sealed before the disk: no record text in the stored body. */
        assert_null(memmem(items[i].body, items[i].body_len, "line ", 5));
    }
    assert_int_equal(total, 25);
    lf_agent_buffer_items_free(items, count);
    lf_agent_pipeline_free(p);
    lf_agent_buffer_close(b);

    /* A later pipeline of the same input on the same buffer gets the newest cursor back. */
    b = open_buffer();
    script_input again = {.lines = lines, .n = 0};
    p = make(&again, b, NULL, NULL, 10);
    assert_int_equal(lf_agent_pipeline_run(p, NULL), LF_OK);
    assert_string_equal(again.restored, "pos:25");
    assert_int_equal(again.commits, 0); /* nothing read, nothing sealed */
    lf_agent_pipeline_free(p);
    lf_agent_buffer_close(b);
    rm_dir();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encode),
        cmocka_unit_test(test_run_batches_cursor_restore),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
