/*
 * file_common.c — cursor, commit, restore and metrics shared by the inputs that read files
 * through the tail engine (see file_common.h). The input notes the position of every event
 * it hands out; cursor() encodes those, commit() writes them as checkpoints, and restore()
 * takes the cursor of the newest buffered batch after a crash, where it is ahead.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "file_common.h"

lf_err lf_file_input_db_path(const lf_agent_input_common *common, const char *type, char **out,
                             lf_error *err)
{
    *out = NULL;
    if (!common->state_dir || !common->state_dir[0])
        return lf_error_set(err, LF_ERR_INVALID, "%s input %s: no state directory", type,
                            common->name);
    char *dir = NULL, *path = NULL;
    if (asprintf(&dir, "%s/%s", common->state_dir, type) < 0)
        return lf_error_set(err, LF_ERR_NOMEM, "%s input: out of memory", type);
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        lf_err e = lf_error_set(err, LF_ERR_IO, "%s input %s: mkdir %s: %s", type, common->name,
                                dir, strerror(errno));
        free(dir);
        return e;
    }
    int rc = asprintf(&path, "%s/%s.db", dir, common->name);
    free(dir);
    if (rc < 0)
        return lf_error_set(err, LF_ERR_NOMEM, "%s input: out of memory", type);
    *out = path;
    return LF_OK;
}

void lf_file_input_init(lf_file_input *fi, const lf_agent_input_vtable *vt, const char *name)
{
    memset(fi, 0, sizeof *fi);
    fi->base.vt = vt;
    snprintf(fi->base.name, sizeof fi->base.name, "%s", name ? name : "");
    atomic_init(&fi->base.finished, false);
}

void lf_file_input_fini(lf_file_input *fi)
{
    lf_tail_destroy(fi->tail);
    fi->tail = NULL;
    lf_tail_pending_free(&fi->pending);
}

lf_err lf_file_input_cursor(lf_agent_input *in, lf_buf *out, lf_error *err)
{
    lf_file_input *fi = (lf_file_input *)in;
    return lf_tail_cursor_encode(fi->pending.v, fi->pending.n, out, err);
}

lf_err lf_file_input_commit(lf_agent_input *in, lf_error *err)
{
    lf_file_input *fi = (lf_file_input *)in;
    lf_err e = lf_tail_commit(fi->tail, fi->pending.v, fi->pending.n, err);
    if (e == LF_OK)
        lf_tail_pending_clear(&fi->pending);
    return e;
}

lf_err lf_file_input_restore(lf_agent_input *in, const uint8_t *cursor, size_t len, lf_error *err)
{
    lf_file_input *fi = (lf_file_input *)in;
    lf_tail_position *pos;
    size_t n, applied = 0;
    lf_err e = lf_tail_cursor_decode(cursor, len, &pos, &n, err);
    if (e != LF_OK)
        return e;
    e = lf_tail_restore(fi->tail, pos, n, &applied, err);
    free(pos);
    fi->restored += applied;
    return e;
}

void lf_file_input_write_metrics(lf_agent_input *in, lf_buf *out)
{
    lf_file_input *fi = (lf_file_input *)in;
    lf_tail_stats st;
    lf_tail_get_stats(fi->tail, &st);
    const char *name = in->name;
    lf_agent_input_metric(out, "logflux_agent_tail_records_total", name, fi->records);
    lf_agent_input_metric(out, "logflux_agent_tail_files_opened_total", name, st.files_opened);
    lf_agent_input_metric(out, "logflux_agent_tail_files_closed_total", name, st.files_closed);
    lf_agent_input_metric(out, "logflux_agent_tail_rotations_total", name, st.rotations);
    lf_agent_input_metric(out, "logflux_agent_tail_truncations_total", name, st.truncations);
    lf_agent_input_metric(out, "logflux_agent_tail_copy_resumes_total", name, st.copy_resumes);
    lf_agent_input_metric(out, "logflux_agent_tail_split_lines_total", name, st.split_lines);
    lf_agent_input_metric(out, "logflux_agent_tail_partial_flushes_total", name,
                          st.partial_flushes);
    lf_agent_input_metric(out, "logflux_agent_tail_checkpoints_applied_total", name,
                          st.checkpoints_applied);
    lf_agent_input_metric(out, "logflux_agent_tail_checkpoints_rejected_total", name,
                          st.checkpoints_rejected);
    lf_agent_input_metric(out, "logflux_agent_tail_cursor_positions_restored_total", name,
                          fi->restored);
}

bool lf_file_input_match_any(const lf_strlist *patterns, const char *path)
{
    for (size_t i = 0; i < patterns->n; i++)
        if (patterns->items[i] && fnmatch(patterns->items[i], path, FNM_PATHNAME) == 0)
            return true;
    return false;
}
