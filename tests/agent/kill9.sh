#!/usr/bin/env bash
# logflux-agent killed with SIGKILL at random moments while a file is written and rotated:
# after the last restart every line written is stored exactly once (checkpoints advance only
# once the sealed batch is durable, the batch carries the input's cursor for the crash window
# between the two, and retried batches keep their idempotency key).
# Usage: kill9.sh LOGFLUX LOGFLUXD LOGFLUX_AGENT
set -u
source "$(dirname "$0")/lib/agent.bash"
agent_init "$@"
MARK="kq$(date +%s%N | tail -c 7)x"
agent_config "batch: {max_wait: 100ms, max_records: 300}
inputs:
  - type: tail
    name: app
    paths: ['$LOGS/*.log', '$LOGS/*.log.1']
    read_from_head: true"
N=9000
(
    for part in 0 1 2; do
        write_lines "$LOGS/app.log" "$MARK" $((part * 3000)) $((part * 3000 + 3000)) 0 40
        [ "$part" -lt 2 ] && mv "$LOGS/app.log" "$LOGS/app.log.1"
    done
) &
WRITER=$!
kills=0
for round in $(seq 8); do
    agent_start || exit 1
    sleep "0.$((RANDOM % 9 + 1))"
    agent_kill
    kills=$((kills + 1))
done
wait $WRITER
agent_start || exit 1
check "all lines stored after $kills kills" wait_stored "$N" 120
check "each line exactly once" check_exactly_once "$MARK" "$N"
check_no_plaintext "$MARK"
agent_stop
lf_finish
