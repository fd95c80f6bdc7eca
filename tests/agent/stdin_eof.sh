#!/usr/bin/env bash
# logflux-agent with only a stdin input: `printf 'a\nb\nc' | logflux-agent --config stdin.yaml`
# exits by itself after EOF, with status 0, once everything read is shipped; the three lines
# (the last one without LF) are on the server exactly once.
# Usage: stdin_eof.sh LOGFLUX LOGFLUXD LOGFLUX_AGENT
set -u
source "$(dirname "$0")/lib/agent.bash"
agent_init "$@"
agent_config "batch: {max_wait: 200ms}
inputs:
  - type: stdin
    name: in"
mv "$WORK/agent.yaml" "$WORK/stdin.yaml"
check "check-config accepts it" "$LOGFLUX_AGENT" --check-config "$WORK/stdin.yaml"

# Bounded: a hang after EOF is a failure, not a stuck test.
rc=0
printf 'a\nb\nc' | timeout 60 "$LOGFLUX_AGENT" --config "$WORK/stdin.yaml" 2>"$WORK/agent.stdin.log" || rc=$?
[ "$rc" -eq 0 ] && ok || bad "agent exit status after EOF: $rc (124 = still running after 60 s)"
grep -q "every input ended" "$WORK/agent.stdin.log" && ok ||
    bad "no 'every input ended' in the log: $(tail -5 "$WORK/agent.stdin.log")"

# The agent is gone: whatever it did not ship before exiting can never arrive. The wait only
# covers the server's own flush to queryable storage.
check "3 records stored" wait_stored 3 30
stored_counts >"$WORK/counts"
printf 'a\t1\nb\t1\nc\t1\n' | diff - "$WORK/counts" >/dev/null && ok ||
    bad "stored records: $(tr '\t\n' '= ' <"$WORK/counts")"
"$LOGFLUX" query --since 2h --app web -o json >"$WORK/rows.json" 2>/dev/null
python3 - "$WORK/rows.json" <<'PY' && ok || bad "record fields: $(head -c 400 "$WORK/rows.json")"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
assert len(rows) == 3, len(rows)
for r in rows:
    assert r["source"] == "in", r
    assert r["level"] == 7, r
PY
# Nothing left in the buffer to ship at the next start: a second run with empty input ships
# nothing more and also exits 0.
rc=0
timeout 60 "$LOGFLUX_AGENT" --config "$WORK/stdin.yaml" </dev/null 2>"$WORK/agent.stdin2.log" || rc=$?
[ "$rc" -eq 0 ] && ok || bad "second run (empty stdin) exit status: $rc"
grep -q "opened: 0 items pending" "$WORK/agent.stdin2.log" && ok ||
    bad "buffer not empty after the first run: $(grep 'opened:' "$WORK/agent.stdin2.log")"
[ "$(stored_counts | awk -F'\t' '{ s += $2 } END { print s + 0 }')" -eq 3 ] && ok ||
    bad "records after the second run: $(stored_counts | tr '\t\n' '= ')"
lf_finish
