/*
 * container_reader.h — reading container log files (Docker json-file, CRI) through the tail
 * engine, shared by the "docker" and "kubernetes" inputs: parse each line, join the pieces of
 * a line the runtime split (Docker: log text without '\n'; CRI: tag P), and note positions so
 * that a checkpoint never covers a piece still held in memory.
 *
 * Joining is per (file path, stream): stdout and stderr interleave in one file. A joined
 * message is held up to max_bytes; beyond that it is emitted in max_bytes pieces labelled
 * split=max_bytes, and a join that waits longer than flush_ms for its last piece is emitted
 * labelled split=timeout. A line that parses in neither format is emitted whole as the
 * message (no time, no stream) and counted.
 */
#ifndef LF_AGENT_CONTAINER_READER_H
#define LF_AGENT_CONTAINER_READER_H

#include "inputs/file/file_common.h"
#include "logflux/buf.h"

typedef enum lf_container_format {
    LF_CONTAINER_AUTO = 0, /* per line: '{' = Docker, else CRI */
    LF_CONTAINER_CRI,
    LF_CONTAINER_DOCKER,
} lf_container_format;

typedef struct container_join container_join;

typedef struct lf_container_reader {
    lf_file_input *fi; /* the tail and the positions (not owned) */
    lf_container_format format;
    size_t max_bytes;  /* joined message limit */
    unsigned flush_ms; /* wait for the last piece at most this long */
    container_join *joins;
    char *emit_path; /* path of the last emitted event (stays valid until the next call) */
    uint64_t unparsed, split_max, split_timeout;
} lf_container_reader;

/* Wait up to timeout_ms for the next event (ev reset by the caller). *path is the followed
 * file's path (as matched by the glob), valid until the next call: the caller derives its
 * labels from it. Returns like lf_agent_input_vtable.next. */
lf_err lf_container_next(lf_container_reader *r, lf_agent_event *ev, int timeout_ms,
                         const char **path, lf_error *err);
/* Drop held pieces (not committed: they are read again after a restart). */
void lf_container_reader_fini(lf_container_reader *r);
/* Counters as logflux_agent_container_*_total. */
void lf_container_reader_metrics(const lf_container_reader *r, const char *input, lf_buf *out);

#endif
