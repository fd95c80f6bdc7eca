/*
 * syslog.h — the agent's syslog input: RFC 5424 / RFC 3164 messages received over UDP, or
 * over TCP with RFC 6587 framing (octet counting or LF-terminated, auto-detected per
 * connection). One input listens on one address with one protocol; configure two inputs for
 * UDP and TCP on the same port. See docs/AGENT-SYSLOG.md.
 *
 * Type "syslog". Options (inputs[].*): listen, protocol, framing, max_message_bytes,
 * max_connections, idle_timeout, receive_buffer.
 */
#ifndef LF_AGENT_INPUT_SYSLOG_H
#define LF_AGENT_INPUT_SYSLOG_H

#include <stdint.h>

#include "input.h"

#ifdef __cplusplus
extern "C" {
#endif

extern const lf_agent_input_type lf_agent_input_type_syslog;

/* The local port the input is bound to (useful with `listen: 127.0.0.1:0`); 0 if `in` is not
 * a syslog input. */
uint16_t lf_syslog_input_port(const lf_agent_input *in);

#ifdef __cplusplus
}
#endif
#endif
