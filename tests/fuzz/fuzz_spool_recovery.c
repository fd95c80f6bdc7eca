/*
 * fuzz_spool_recovery.c — spool recovery over arbitrary segment file bytes.
 *
 * The input is split at the first "\n--\n" (if any) into two segment files (first and second), so
 * both the "older segment" and the "last segment" paths are reached; each also gets a valid
 * segment header prefix when the input's first byte is odd, so the fuzzer spends its time on
 * records rather than on the header magic. Then the spool is opened (recovery), every record is
 * read, one record is appended and read back. Recovery must never crash, must either refuse with
 * an error or yield a spool that works.
 *
 * The fuzz build links only liblogflux, so the spool sources are compiled in here. Syncs are
 * no-ops (through the I/O vtable) to keep runs fast.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../src/server/queue/spool.c"
#include "../../src/server/queue/spool_io.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int nosync(void *ctx, int fd)
{
    return 0;
}

static void quiet(void *ctx, const char *msg)
{
}

static void write_seg(const char *dir, uint64_t first, bool header, const uint8_t *p, size_t n)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%020llu.seg", dir, (unsigned long long)first);
    FILE *f = fopen(path, "wb");
    if (!f)
        return;
    if (header) {
        uint8_t h[SEG_HDR];
        seg_header_build(h, first);
        fwrite(h, 1, sizeof h, f);
    }
    fwrite(p, 1, n, f);
    fclose(f);
}

static void clean(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *de;
    char p[512];
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
        unlink(p);
    }
    closedir(d);
    rmdir(dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 1 << 20)
        return 0;
    char dir[] = "/tmp/lf-fuzz-spool-XXXXXX";
    if (!mkdtemp(dir))
        return 0;
    bool header = data[0] & 1;
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    const uint8_t *sep = NULL;
    for (size_t i = 0; i + 4 <= n; i++)
        if (memcmp(p + i, "\n--\n", 4) == 0) {
            sep = p + i;
            break;
        }
    if (sep) {
        size_t a = (size_t)(sep - p);
        write_seg(dir, 1, header, p, a);
        /* The second segment's name: sequence 1 + number of records the first could hold. */
        write_seg(dir, 1 + (data[0] >> 1), header, sep + 4, n - a - 4);
    } else {
        write_seg(dir, 1, header, p, n);
    }
    lf_spool_io io = *lf_spool_io_posix();
    io.fdatasync = nosync;
    io.fsync = nosync;
    lf_spool_options o = {.io = &io, .log = quiet, .segment_bytes = 4096, .max_bytes = 1 << 22};
    lf_queue *q = NULL;
    if (lf_spool_open(dir, &o, &q, NULL) == LF_OK) {
        lf_buf b = LF_BUF_INIT;
        uint64_t seq, from = 0;
        for (int i = 0; i < 10000 && lf_queue_read(q, from, 0, &b, &seq, NULL) == LF_OK; i++)
            from = seq + 1;
        uint64_t appended;
        if (lf_queue_append1(q, "fuzz", 4, &appended, NULL) == LF_OK) {
            if (lf_queue_read(q, appended, 0, &b, &seq, NULL) != LF_OK || seq != appended ||
                b.len != 4 || memcmp(b.data, "fuzz", 4) != 0)
                abort();
        }
        lf_buf_free(&b);
        lf_queue_close(q);
    }
    clean(dir);
    return 0;
}
