/*
 * stdin.h — the agent's stdin input: lines read from standard input (or another inherited
 * descriptor, or a file or FIFO by path), e.g. `app | logflux-agent -c agent.yaml`.
 *
 * Type "stdin". Options (inputs[].*): fd, path, max_line_bytes. At end of input the last
 * line (even without '\n') is returned, then the input sets `finished`. No cursor: a pipe
 * cannot be replayed. See docs/CONFIG-AGENT.md for the option reference.
 */
#ifndef LF_AGENT_INPUT_STDIN_H
#define LF_AGENT_INPUT_STDIN_H

#include "input.h"

#ifdef __cplusplus
extern "C" {
#endif

extern const lf_agent_input_type lf_agent_input_type_stdin;

#ifdef __cplusplus
}
#endif
#endif
