/*
 * socket.h — the LogFlux agent socket input: a Unix stream socket on which applications (the
 * LogFlux SDKs' agent clients, or anything that writes newline-delimited JSON) send log
 * entries, batches and pings. Each entry or batch line is acknowledged only once its records
 * are durable in the agent's disk buffer (commit()), so a client that waits for the
 * acknowledgement knows its logs survive an agent crash. See docs/AGENT-SOCKET.md.
 *
 * Type "socket". Options (inputs[].*): path, mode, max_line_bytes, max_connections,
 * max_pending_acks, acks.
 */
#ifndef LF_AGENT_INPUT_SOCKET_H
#define LF_AGENT_INPUT_SOCKET_H

#include "input.h"

#ifdef __cplusplus
extern "C" {
#endif

extern const lf_agent_input_type lf_agent_input_type_socket;

#ifdef __cplusplus
}
#endif
#endif
