#!/usr/bin/env bash
# The server goes away for a minute while lines keep coming, then comes back on the same
# address: the agent keeps reading and sealing into its disk buffer (health stays 200, the
# retries are counted), and afterwards every line is stored exactly once. Also: the agent
# starts and seals with no server reachable at all.
# Usage: server_down.sh LOGFLUX LOGFLUXD LOGFLUX_AGENT   (DOWN_SECS overrides the minute)
set -u
source "$(dirname "$0")/lib/agent.bash"
agent_init "$@"
DOWN=${DOWN_SECS:-60}
MARK="sd$(date +%s%N | tail -c 7)x"
agent_config "batch: {max_wait: 200ms}
ship: {backoff_base: 200ms, backoff_max: 2s}
inputs:
  - type: tail
    name: app
    paths: ['$LOGS/*.log']
    read_from_head: true"
write_lines "$LOGS/app.log" "$MARK" 0 500
agent_start || exit 1
check "first lines stored" wait_stored 500 60

server_down
end=$((SECONDS + DOWN))
i=500
while [ $SECONDS -lt $end ]; do
    write_lines "$LOGS/app.log" "$MARK" $i $((i + 100))
    i=$((i + 100))
    sleep 1
done
N=$i
sealed=$(metric logflux_agent_sealed_records_total)
[ "$sealed" -ge $((N - 200)) ] && ok || bad "sealing stalled while the server was down: $sealed of $N"
[ "$(metric logflux_agent_buffer_items)" -gt 0 ] && ok || bad "nothing waiting in the buffer"
[ "$(metric logflux_agent_ship_retries_total)" -gt 0 ] && ok ||
    bad "no retries counted: $(curl -s "$OPS_URL/metrics" | grep ship_ | head)"
code=$(curl -s -o /dev/null -w '%{http_code}' "$OPS_URL/health")
[ "$code" = 200 ] && ok || bad "health while the server is down: $code"

check "server back" server_up
check "everything stored after the outage" wait_stored "$N" 120
check "each line exactly once" check_exactly_once "$MARK" "$N"
agent_stop

# A fresh agent with the server down from the start: it seals into the buffer anyway.
server_down
rm -rf "$STATE" "$LOGS"/*
MARK2="${MARK}b"
write_lines "$LOGS/app.log" "$MARK2" 0 300
agent_start || exit 1
for t in $(seq 100); do
    [ "$(metric logflux_agent_sealed_records_total)" -ge 300 ] && break
    sleep 0.1
done
[ "$(metric logflux_agent_sealed_records_total)" -ge 300 ] && ok || bad "no sealing without a server"
check_no_plaintext "$MARK2"
check "server back (2)" server_up
check "offline-sealed lines stored" wait_stored $((N + 300)) 60
check "each offline line exactly once" check_exactly_once "$MARK2" 300
agent_stop
lf_finish
