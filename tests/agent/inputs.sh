#!/usr/bin/env bash
# logflux-agent end to end, every input type at once in one agent: syslog over UDP (RFC 5424
# with structured data, RFC 3164) and TCP (octet counting and newline framing), the agent
# socket (ping, entry, batch; acks only after sealing), journald (real journal files made by
# systemd-journal-remote; a directory and `files:`), docker (a fake data root, a line Docker
# split), kubernetes (a node's /var/log/containers links, CRI partial lines, a pod in Docker
# format), nginx (access and error logs) and tail with a regex parser from `parsers:` and with
# the built-in json parser.
# Then, decrypting with the CLI: every record stored exactly once with its message, level,
# source, labels and its own event time; per-input metrics; no plaintext under the state dir;
# after a restart every input goes on from its checkpoint.
# The data side lives in lib/inputs_driver.py.
# Usage: inputs.sh LOGFLUX LOGFLUXD LOGFLUX_AGENT
set -u
source "$(dirname "$0")/lib/agent.bash"
DRIVER="$(cd "$(dirname "$0")" && pwd)/lib/inputs_driver.py"
agent_init "$@"
MARK="zq$(date +%s%N | tail -c 7)x"

python3 "$DRIVER" prepare "$WORK" "$MARK" || { echo "preparing the inputs' files failed" >&2; exit 1; }
# Syslog ports: free now (bound to 0, closed), used right away; 127.0.0.1:0 is not
# discoverable from outside for syslog.
read -r UDP_PORT TCP_PORT < <(python3 "$DRIVER" ports 2)
[ -n "${TCP_PORT:-}" ] || { echo "no free ports" >&2; exit 1; }

SOCK="$WORK/sock/agent.sock"
agent_config "labels: {env: e2e}
batch: {max_wait: 200ms}
parsers:
  - name: kvre
    type: regex
    pattern: '^(?<time>\S+) (?<level>\w+) \[(?<component>[^\]]+)\] (?<message>.*)$'
inputs:
  - type: syslog
    name: syslog_udp
    listen: '127.0.0.1:$UDP_PORT'
    protocol: udp
  - type: syslog
    name: syslog_tcp
    listen: '127.0.0.1:$TCP_PORT'
    protocol: tcp
  - type: socket
    name: sock
    path: '$SOCK'
    acks: true
  - type: journald
    name: journal
    path: '$WORK/journal'
    read_from_head: true
  - type: journald
    name: journal_files
    files: ['$WORK/journal-files/y.journal']
    read_from_head: true
  - type: docker
    name: docker
    data_root: '$WORK/docker'
    read_from_head: true
  - type: kubernetes
    name: k8s
    paths: ['$WORK/k8s/containers/*.log']
    read_from_head: true
  - type: nginx
    name: nginx
    access_paths: ['$WORK/nginx/access.log']
    error_paths: ['$WORK/nginx/error.log']
    read_from_head: true
  - type: tail
    name: tail_regex
    paths: ['$WORK/logs/regex.log']
    parser: kvre
    read_from_head: true
    labels: {team: core}
  - type: tail
    name: tail_json
    paths: ['$WORK/logs/app.json']
    parser: json
    read_from_head: true"
check "check-config accepts every input type" "$LOGFLUX_AGENT" --check-config "$WORK/agent.yaml"
agent_start || exit 1

# While it runs: syslog, a journal append, a container that starts later, appended lines.
check "live senders and appends" python3 "$DRIVER" live "$WORK" "$MARK" "$UDP_PORT" "$TCP_PORT"
# The agent socket: pong at once; each ack only once its records are sealed; an error for a
# refused line; then (below) the acknowledged records are on the server.
check "agent socket: pong, acks after sealing, error reply" \
    python3 "$DRIVER" socket "$WORK" "$MARK" "$SOCK" "$OPS_URL"

N=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["records"]))' "$WORK/expect.json")
check "all $N records stored" wait_marker_rows "$MARK" "$N" 90
sleep 1 # a duplicate would come with or right after the last record; let it show
query_rows "$WORK/rows.json"
check "every record exactly once, with its message, level, source, labels and time" \
    python3 "$DRIVER" verify "$WORK" "$MARK" "$WORK/rows.json"

# Per-input metrics: records read by every input, the regex parser's one miss.
for input in $(python3 -c '
import json, sys
print(" ".join(sorted({r["input"] for r in json.load(open(sys.argv[1]))["records"]})))' "$WORK/expect.json"); do
    want=$(python3 -c 'import json,sys; print(sum(r["input"] == sys.argv[2] for r in json.load(open(sys.argv[1]))["records"]))' \
        "$WORK/expect.json" "$input")
    have=$(metric logflux_agent_input_records_total "input=\"$input\"")
    # Docker/CRI pieces are records of the input before they are joined: at least as many.
    [ "$have" -ge "$want" ] && ok || bad "input_records_total{input=\"$input\"} = $have, want >= $want"
    sealed=$(metric logflux_agent_sealed_records_total "input=\"$input\"")
    [ "$sealed" -ge "$want" ] && ok || bad "sealed_records_total{input=\"$input\"} = $sealed, want >= $want"
done
[ "$(metric logflux_agent_parse_errors_total 'input="tail_regex"')" -eq 1 ] && ok ||
    bad "parse_errors_total{input=\"tail_regex\"} = $(metric logflux_agent_parse_errors_total 'input="tail_regex"'), want 1"
[ "$(metric logflux_agent_socket_acks_total 'input="sock"')" -eq 3 ] && ok ||
    bad "socket acks_total = $(metric logflux_agent_socket_acks_total 'input="sock"'), want 3"
[ "$(metric logflux_agent_syslog_messages_total 'input="syslog_tcp"')" -eq 7 ] && ok ||
    bad "syslog_tcp messages_total = $(metric logflux_agent_syslog_messages_total 'input="syslog_tcp"'), want 7"

check_no_plaintext "$MARK"
cat "$WORK"/agent.*.log | grep -q -F "$MARK" && bad "record content in the agent's own log" || ok

agent_stop
[ "${AGENT_RC:-1}" -eq 0 ] && ok || bad "agent exit status after SIGTERM: ${AGENT_RC:-?}"
[ -e "$SOCK" ] && bad "the socket file is left after stop" || ok

# A restart reads on from every checkpoint (tail, nginx, docker and kubernetes positions,
# journal cursors): one new record per file, and nothing old again.
agent_start || exit 1
check "records written after the restart" python3 "$DRIVER" restart "$WORK" "$MARK"
N=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["records"]))' "$WORK/expect.json")
check "all $N records stored after the restart" wait_marker_rows "$MARK" "$N" 90
sleep 1
query_rows "$WORK/rows.json"
check "still every record exactly once after the restart" \
    python3 "$DRIVER" verify "$WORK" "$MARK" "$WORK/rows.json"
check_no_plaintext "$MARK"
agent_stop
[ "${AGENT_RC:-1}" -eq 0 ] && ok || bad "agent exit status after the second SIGTERM: ${AGENT_RC:-?}"
lf_finish
