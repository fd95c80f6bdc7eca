/*
 * cli_deadletter.h — `logflux-agent --requeue-dead-letters --config agent.yaml`: put the items
 * the shipper dead-lettered (<state_dir>/dead-letter) back into the disk buffer
 * (<state_dir>/buffer) under new idempotency keys, so the next agent start ships them. Run it
 * after fixing what the server refused (docs/AGENT-SHIP.md, "Replaying").
 */
#ifndef LF_AGENT_CLI_DEADLETTER_H
#define LF_AGENT_CLI_DEADLETTER_H

#ifdef __cplusplus
extern "C" {
#endif

/* Exit statuses of lf_agent_cli_requeue (0 = done, the count printed on stdout). */
#define LF_AGENT_CLI_REQUEUE_FAILED  1 /* I/O, a damaged entry, a full buffer: message on stderr */
#define LF_AGENT_CLI_REQUEUE_CONFIG  3 /* the configuration does not load (as for --config) */
#define LF_AGENT_CLI_REQUEUE_RUNNING 4 /* an agent has this state dir's buffer open: stop it */

/*
 * Load config_path, refuse if a running process holds <state_dir>/buffer open, then move every
 * complete dead letter into the buffer (lf_agent_ship_dead_letter_requeue), oldest first. The
 * buffer is opened with the `block` policy whatever the config says, so a requeue never drops
 * pending items to make room: a full buffer stops it (what was moved stays moved; run it again
 * once the agent has shipped). Prints "requeued N dead letters ..." on stdout; errors on stderr
 * never contain record content or the API key. Returns a process exit status (see above).
 */
int lf_agent_cli_requeue(const char *config_path);

#ifdef __cplusplus
}
#endif
#endif
