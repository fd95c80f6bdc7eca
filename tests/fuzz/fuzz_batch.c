/*
 * fuzz_batch.c — the worker's decoder of spool batch records over arbitrary bytes. The spool
 * is CRC-checked local storage, but a decoder that can crash on a bad record would turn disk
 * corruption into a crash loop; it must refuse instead.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ingest/batch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lfd_batch b;
    if (lfd_batch_decode(data, size, &b, NULL) == LF_OK) {
        /* Re-encoding what was decoded must give the same bytes. */
        lf_buf out = LF_BUF_INIT;
        char tenant[70000], app[70000];
        memcpy(tenant, b.tenant, b.tenant_len);
        tenant[b.tenant_len] = '\0';
        memcpy(app, b.app, b.app_len);
        app[b.app_len] = '\0';
        if (strlen(tenant) == b.tenant_len && strlen(app) == b.app_len &&
            lfd_batch_begin(&out, b.tenant_id, tenant, app, b.ingest_time, NULL) == LF_OK) {
            for (size_t i = 0; i < b.n_rows; i++)
                lfd_batch_add(&out, &b.rows[i], NULL);
            lfd_batch_finish(&out, (uint32_t)b.n_rows, NULL);
            if (out.len != size || memcmp(out.data, data, size) != 0)
                abort();
        }
        lf_buf_free(&out);
        lfd_batch_clear(&b);
    }
    return 0;
}
