/*
 * fuzz_agent_buffer.c — libFuzzer target for the agent buffer's recovery (src/agent/buffer/):
 * whatever the segment and checkpoint files hold (format version 2: items with source and
 * cursor, a checkpoint with per-source cursors), open must not crash, and the buffer must stay
 * usable (peek all, ack, ask for cursors, check the waits, append, reopen), and the cursor of
 * an item appended after the damage must be the one found after the reopen.
 *
 * Input layout: [flags u8][ckpt_len u16 LE][ckpt bytes][seg1_len u16 LE][seg1 bytes][seg2 = rest].
 * flags bit 0: write acked.ckpt; bit 1: write seg2 as a second segment (seg1 is then a middle
 * segment, whose damage means quarantine); bit 2: policy drop_oldest. seg1 is named
 * 00000000000000000001.seg, seg2 00000000000000000004.seg. Syncs are no-ops here (speed): the
 * format logic is what is fuzzed, durability is what the unit tests prove.
 */
#define _XOPEN_SOURCE 700 /* nftw */
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buffer/buffer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int nosync(void *c, int fd)
{
    (void)c;
    (void)fd;
    return 0;
}

static lf_agent_buffer_io fast_io;

static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(p);
}

static void put_file(const char *dir, const char *name, const uint8_t *d, size_t n)
{
    char p[256];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        return;
    if (n > 0 && write(fd, d, n) != (ssize_t)n)
        abort();
    close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 5)
        return 0;
    fast_io = *lf_agent_buffer_io_posix();
    fast_io.fdatasync = nosync;
    fast_io.fsync = nosync;
    uint8_t flags = data[0];
    size_t ck = (size_t)data[1] | ((size_t)data[2] << 8), pos = 3;
    if (ck > size - pos)
        ck = size - pos;
    const uint8_t *ckpt = data + pos;
    pos += ck;
    size_t s1 = size - pos, s2 = 0;
    if (size - pos >= 2) {
        size_t want = (size_t)data[pos] | ((size_t)data[pos + 1] << 8);
        pos += 2;
        s1 = want < size - pos ? want : size - pos;
        s2 = size - pos - s1;
    } else {
        s1 = 0;
        pos = size;
    }
    char dir[] = "/tmp/lf-fuzz-abuf-XXXXXX";
    if (mkdtemp(dir) == NULL)
        return 0;
    if (flags & 1)
        put_file(dir, "acked.ckpt", ckpt, ck);
    put_file(dir, "00000000000000000001.seg", data + pos, s1);
    if (flags & 2)
        put_file(dir, "00000000000000000004.seg", data + pos + s1, s2);

    lf_agent_buffer_options o = {.max_bytes = 1 << 16,
                                 .segment_bytes = 4096,
                                 .policy = (flags & 4) ? LF_AGENT_BUFFER_DROP_OLDEST
                                                       : LF_AGENT_BUFFER_BLOCK,
                                 .io = &fast_io};
    lf_agent_buffer *b = NULL;
    if (lf_agent_buffer_open(dir, &o, &b, NULL) == LF_OK) {
        lf_agent_buffer_item *it = NULL;
        size_t n = 0;
        lf_agent_buffer_stats st;
        lf_agent_buffer_stats_get(b, &st);
        if (lf_agent_buffer_peek(b, SIZE_MAX, &it, &n, NULL) == LF_OK) {
            for (size_t i = 1; i < n; i++)
                if (it[i].id <= it[i - 1].id)
                    abort(); /* order is a promise */
            if (n > 0 && lf_agent_buffer_ack(b, it[0].id, NULL) != LF_OK)
                abort();
        }
        lf_agent_buffer_items_free(it, n);
        static const char *const sources[] = {"a", "in", "tail.app", "fz"};
        for (size_t i = 0; i < sizeof sources / sizeof *sources; i++) {
            lf_buf out = LF_BUF_INIT;
            lf_err rc = lf_agent_buffer_last_cursor(b, sources[i], &out, NULL);
            if ((rc != LF_OK && rc != LF_ERR_NOT_FOUND) || (rc == LF_OK && out.len == 0) ||
                out.len > LF_AGENT_BUFFER_CURSOR_MAX)
                abort();
            lf_buf_free(&out);
        }
        lf_agent_buffer_stats_get(b, &st);
        lf_err wr = lf_agent_buffer_wait_items(b, 0, NULL);
        if (wr != (st.items_pending > 0 ? LF_OK : LF_ERR_NOT_FOUND))
            abort();
        uint8_t body[100] = {0};
        static const char cursor[] = "fuzz-cursor";
        wr = lf_agent_buffer_wait_space(b, sizeof body + sizeof cursor - 1, 0, NULL);
        if (wr != LF_OK && wr != LF_ERR_NOT_FOUND)
            abort();
        lf_agent_buffer_input in = {.app = "fuzz",
                                    .idempotency_key = "fuzz-key-0000000",
                                    .records = 1,
                                    .body = body,
                                    .body_len = sizeof body,
                                    .source = "fz",
                                    .cursor = (const uint8_t *)cursor,
                                    .cursor_len = sizeof cursor - 1};
        lf_err rc = lf_agent_buffer_append(b, &in, NULL, NULL);
        if (rc != LF_OK && rc != LF_ERR_FULL)
            abort();
        if (wr == LF_OK && rc == LF_ERR_FULL)
            abort(); /* wait_space promised room */
        lf_agent_buffer_close(b);
        /* a second open of what the first left behind sees a healthy buffer */
        if (lf_agent_buffer_open(dir, &o, &b, NULL) != LF_OK)
            abort();
        lf_agent_buffer_stats_get(b, &st);
        if (st.quarantined_segments != 0 || st.recovered_bytes_truncated != 0 ||
            st.checkpoint_resets != 0)
            abort();
        if (rc == LF_OK) { /* the newest item of "fz" is ours */
            lf_buf out = LF_BUF_INIT;
            if (lf_agent_buffer_last_cursor(b, "fz", &out, NULL) != LF_OK ||
                out.len != sizeof cursor - 1 || memcmp(out.data, cursor, out.len) != 0)
                abort();
            lf_buf_free(&out);
        }
        lf_agent_buffer_close(b);
    }
    nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
    return 0;
}
