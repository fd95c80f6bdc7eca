/*
 * agent.h — one running logflux-agent: the disk buffer, one thread per input (input +
 * pipeline), the shipper thread, the ops endpoint. main.c owns signals and reloads; this file
 * owns start and an orderly stop:
 *
 *   stop: inputs stop reading -> each pipeline seals what it holds + the close frame, appends,
 *         commits -> the shipper keeps sending for shutdown.flush_timeout -> buffer closed.
 *
 * Whatever is not shipped stays in the buffer for the next start; whatever an input read but
 * could not make durable is read again (tail, journald) or was never acknowledged (socket).
 */
#ifndef LF_AGENT_AGENT_H
#define LF_AGENT_AGENT_H

#include <stdbool.h>

#include "config/agent_config.h"
#include "logflux/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lf_agent lf_agent;

/* Build and start everything described by cfg (borrowed for the agent's life). Nothing needs
 * a reachable server. */
lf_err lf_agent_start(const lf_agent_config *cfg, lf_agent **out, lf_error *err);
/* True once every input has ended (stdin at EOF) and its pipeline has sealed what it read. */
bool lf_agent_inputs_done(lf_agent *a);
/* Orderly stop (see above); ship_flush_ms overrides the configured flush time (< 0: keep). */
void lf_agent_stop(lf_agent *a, int64_t ship_flush_ms);

/* The Prometheus text and health JSON the ops endpoint serves (exposed for tests). */
void lf_agent_write_metrics(lf_agent *a, lf_buf *out);
int lf_agent_health(lf_agent *a, lf_buf *out);

#ifdef __cplusplus
}
#endif
#endif
