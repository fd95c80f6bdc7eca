#!/usr/bin/env bash
# A damaged buffer segment (a flipped byte in a sealed segment written while the server was
# down) is quarantined at start, reported in the metrics and the log, and is not fatal: the
# agent ships every other segment (each line at most once) and keeps collecting new lines.
# Usage: corrupt_segment.sh LOGFLUX LOGFLUXD LOGFLUX_AGENT
set -u
source "$(dirname "$0")/lib/agent.bash"
agent_init "$@"
MARK="cs$(date +%s%N | tail -c 7)x"
server_down
agent_config "buffer: {max_bytes: 8MiB, segment_bytes: 64KiB}
batch: {max_wait: 100ms, max_bytes: 16KiB}
ship: {backoff_base: 200ms, backoff_max: 1s}
inputs:
  - type: tail
    name: app
    paths: ['$LOGS/*.log']
    read_from_head: true"
N=2000
write_lines "$LOGS/app.log" "$MARK" 0 "$N" 100
agent_start || exit 1
for t in $(seq 150); do
    [ "$(metric logflux_agent_sealed_records_total)" -ge "$N" ] && break
    sleep 0.1
done
agent_stop
segs=("$STATE"/buffer/*.seg)
[ "${#segs[@]}" -ge 3 ] && ok || bad "expected several segments, got ${#segs[@]}"
# Flip one byte in the middle of the second segment.
victim=${segs[1]}
size=$(stat -c %s "$victim")
python3 - "$victim" $((size / 2)) <<'PY'
import sys
p, off = sys.argv[1], int(sys.argv[2])
with open(p, "r+b") as f:
    f.seek(off); b = f.read(1); f.seek(off); f.write(bytes([b[0] ^ 0x5A]))
PY
check "server back" server_up
agent_start || exit 1
[ "$(metric logflux_agent_buffer_quarantined_segments_total)" -ge 1 ] && ok ||
    bad "no quarantined segment reported"
ls "$STATE/buffer/quarantine/" | grep -q . && ok || bad "quarantine folder empty"
# New lines keep flowing after the damage.
write_lines "$LOGS/app.log" "$MARK" "$N" $((N + 200))
around_damage() {
stored_counts | python3 -c '
import re, sys
mark, n = sys.argv[1], int(sys.argv[2])
seen = {}
for line in sys.stdin:
    msg, cnt = line.rstrip("\n").rsplit("\t", 1)
    m = re.match(re.escape(mark) + r" (\d+)\b", msg)
    if m:
        seen[int(m.group(1))] = seen.get(int(m.group(1)), 0) + int(cnt)
assert all(c == 1 for c in seen.values()), "duplicates"
assert all(i in seen for i in range(n, n + 200)), "new lines missing"
lost = [i for i in range(n) if i not in seen]
assert 0 < len(lost) < n // 2, f"lost {len(lost)}"
print(f"quarantined segment held {len(lost)} records", file=sys.stderr)
' "$MARK" "$N"
}
for t in $(seq 60); do
    around_damage 2>/dev/null && break
    sleep 1
done
around_damage && ok || bad "delivery around the damaged segment"
agent_stop
lf_finish
