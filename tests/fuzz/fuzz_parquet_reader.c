/*
 * fuzz_parquet_reader.c — libFuzzer target for lf_parquet's reader: the input is a whole file.
 * Opens it from memory with small limits (so the fuzzer explores parsing rather than big
 * allocations), then touches every statistic and decodes every column of every row group.
 * Any crash, sanitizer report, leak or hang is a bug in the reader.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "parquet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lf_pq_reader_options lim = {
        .max_footer_bytes = 1 << 20,
        .max_chunk_bytes = 1 << 22,
        .max_page_bytes = 1 << 22,
        .max_values = 1 << 16,
        .max_columns = 256,
        .max_row_groups = 4096,
        .max_list_elements = 1 << 16,
    };
    lf_pq_reader *r;
    if (lf_pq_reader_open_mem(data, size, &lim, &r, NULL) != LF_OK)
        return 0;
    volatile size_t sink = 0;
    (void)lf_pq_reader_created_by(r);
    for (size_t i = 0; i < lf_pq_reader_num_kv(r); i++)
        sink += strlen(lf_pq_reader_kv(r, i)->key);
    for (size_t g = 0; g < lf_pq_reader_num_row_groups(r); g++) {
        for (size_t c = 0; c < lf_pq_reader_num_columns(r); c++) {
            const lf_pq_stats *s = lf_pq_reader_stats(r, g, c);
            const lf_pq_column *col = lf_pq_reader_column(r, c);
            if (s->has_min_max &&
                (col->type == LF_PQ_BYTE_ARRAY || col->type == LF_PQ_FIXED_LEN_BYTE_ARRAY) &&
                s->min.v.bytes.len > 0)
                sink += s->min.v.bytes.ptr[s->min.v.bytes.len - 1];
            lf_pq_column_data d;
            if (lf_pq_reader_read_column(r, g, c, &d, NULL) == LF_OK) {
                for (size_t k = 0; k < d.num_values; k++) {
                    const lf_pq_value *v = &d.values[k];
                    if (!v->is_null &&
                        (col->type == LF_PQ_BYTE_ARRAY ||
                         col->type == LF_PQ_FIXED_LEN_BYTE_ARRAY) &&
                        v->v.bytes.len > 0)
                        sink += v->v.bytes.ptr[0] + v->v.bytes.ptr[v->v.bytes.len - 1];
                }
            }
            lf_pq_column_data_free(&d);
        }
    }
    lf_pq_reader_close(r);
    (void)sink;
    return 0;
}
