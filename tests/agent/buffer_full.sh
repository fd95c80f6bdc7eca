#!/usr/bin/env bash
# The disk buffer fills to its bound while the server is unreachable, under each policy.
#   block:       the input pauses (gauge and blocked time in the metrics), the file waits on
#                disk; when the server returns every line is stored exactly once.
#   drop_oldest: reading never stops; the oldest sealed batches are deleted and every record
#                in them counted; stored + dropped = written, and nothing is stored twice.
# Usage: buffer_full.sh LOGFLUX LOGFLUXD LOGFLUX_AGENT
set -u
source "$(dirname "$0")/lib/agent.bash"
agent_init "$@"
server_down
# ~3.3 MiB of hex lines (~1.7 MiB after zstd) against a 1 MiB buffer.
N=4000
run_policy() {
    local policy=$1 mark=$2
    rm -rf "$STATE"
    agent_config "buffer: {max_bytes: 1MiB, segment_bytes: 64KiB, policy: $policy}
batch: {max_wait: 100ms, max_bytes: 16KiB}
ship: {backoff_base: 200ms, backoff_max: 1s}
inputs:
  - type: tail
    name: $policy
    paths: ['$LOGS/$policy.log']
    read_from_head: true"
    write_lines "$LOGS/$policy.log" "$mark" 0 "$N" 400
    agent_start || exit 1
}

# ---- block ----
MB="bk$(date +%s%N | tail -c 7)x"
run_policy block "$MB"
for t in $(seq 150); do
    [ "$(metric logflux_agent_input_blocked)" -eq 1 ] && break
    sleep 0.1
done
[ "$(metric logflux_agent_input_blocked)" -eq 1 ] && ok || bad "input not blocked at the bound"
sealed=$(metric logflux_agent_sealed_records_total)
[ "$sealed" -lt "$N" ] && ok || bad "block policy sealed everything ($sealed) into a 1 MiB buffer"
[ "$(metric logflux_agent_buffer_bytes)" -le 1048576 ] && ok || bad "buffer over its bound"
[ "$(metric logflux_agent_buffer_dropped_records_total)" -eq 0 ] && ok || bad "block policy dropped"
check_no_plaintext "$MB"
check "server back" server_up
check "blocked lines all stored" wait_stored "$N" 120
check "each blocked line exactly once" check_exactly_once "$MB" "$N"
agent_stop
server_down

# ---- drop_oldest ----
MD="do$(date +%s%N | tail -c 7)x"
run_policy drop_oldest "$MD"
for t in $(seq 300); do
    [ "$(metric logflux_agent_sealed_records_total)" -ge "$N" ] && break
    sleep 0.1
done
[ "$(metric logflux_agent_sealed_records_total)" -ge "$N" ] && ok || bad "drop_oldest stopped reading"
DROPPED=$(metric logflux_agent_buffer_dropped_records_total)
[ "$DROPPED" -gt 0 ] && ok || bad "nothing dropped although the buffer overflowed"
# ... and attributed to the input whose records they were.
[ "$(metric logflux_agent_dropped_records_total 'input="drop_oldest"')" -eq "$DROPPED" ] && ok ||
    bad "per-input dropped $(metric logflux_agent_dropped_records_total) != buffer's $DROPPED"
check "server back (2)" server_up
expected=$((N + N - DROPPED)) # the block part's N are stored too
check "the rest stored" wait_stored "$expected" 120
stored_counts | python3 -c '
import re, sys
mark, n, dropped = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
seen = {}
for line in sys.stdin:
    msg, cnt = line.rstrip("\n").rsplit("\t", 1)
    m = re.match(re.escape(mark) + r" (\d+)\b", msg)
    if m:
        seen[int(m.group(1))] = seen.get(int(m.group(1)), 0) + int(cnt)
assert all(c == 1 for c in seen.values()), "duplicates"
assert len(seen) + dropped == n, f"stored {len(seen)} + dropped {dropped} != written {n}"
# drop_oldest drops the OLDEST: what survives is the newest.
assert max(seen) == n - 1, max(seen)
' "$MD" "$N" "$DROPPED" && ok || bad "stored + dropped = written (dropped $DROPPED)"
agent_stop
lf_finish
