#!/usr/bin/env bash
# logflux-agent end to end: a tail input follows files while a writer appends continuously and
# rotates them by rename and by copytruncate; the agent seals, buffers and ships to a real
# logfluxd over TLS. Then, decrypting with the CLI: every line written is stored exactly once,
# with its level detected and the configured labels; the agent's state holds no plaintext;
# the metrics and the health endpoint answer; SIGTERM exits 0 after shipping.
# Usage: tail_rotation.sh LOGFLUX LOGFLUXD LOGFLUX_AGENT
set -u
source "$(dirname "$0")/lib/agent.bash"
agent_init "$@"
MARK="zq$(date +%s%N | tail -c 7)x"
agent_config "labels: {env: test}
batch: {max_wait: 200ms}
inputs:
  - type: tail
    name: app
    paths: ['$LOGS/*.log', '$LOGS/*.log.[0-9]']
    read_from_head: true
    labels: {team: core}
  - type: tail
    name: idle
    paths: ['$LOGS/none/*.log']"
check "check-config accepts it" "$LOGFLUX_AGENT" --check-config "$WORK/agent.yaml"
agent_start || exit 1

# The writer: N lines of ~200 bytes, a rename rotation every 700 lines, a copytruncate every
# 1100 (copy then truncate with no write in between, as logrotate's copytruncate does).
N=6000
python3 - "$LOGS" "$N" "$MARK" <<'PY' &
import os, sys, time
d, n, mark = sys.argv[1], int(sys.argv[2]), sys.argv[3]
path = os.path.join(d, "app.log")
f = open(path, "a", buffering=1)
pad = "p" * 150
rot = 0
for i in range(n):
    level = "[ERROR]" if i % 10 == 0 else "[INFO]"
    f.write(f"{mark} {i} {level} payment processed {pad}\n")
    if i % 700 == 699:
        f.close()
        rot += 1
        os.rename(path, path + "." + str(rot % 3))
        f = open(path, "a", buffering=1)
    elif i % 1100 == 1099:
        f.flush()
        with open(path, "rb") as src, open(os.path.join(d, "copy%d.log" % i), "wb") as dst:
            dst.write(src.read())
        f.truncate(0)
        f.seek(0)
    if i % 50 == 0:
        time.sleep(0.01)
f.close()
PY
WRITER=$!
wait $WRITER
check "all lines stored" wait_stored "$N" 90
check "each line exactly once" check_exactly_once "$MARK" "$N"
check_no_plaintext "$MARK"

# Level detection and labels, on one stored record.
"$LOGFLUX" query --since 2h --app web -o json --grep "$MARK 10 " >"$WORK/one.json" 2>/dev/null
python3 - "$WORK/one.json" <<'PY' && ok || bad "record fields: $(head -c 600 "$WORK/one.json")"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
assert len(rows) == 1, len(rows)
r = rows[0]
assert r["level"] == 4, r["level"]          # ERROR detected from the text
assert r["attributes"].get("env") == "test", r
assert r["attributes"].get("team") == "core", r
PY

# Operations: metrics and health.
[ "$(metric logflux_agent_sealed_records_total 'input="app"')" -ge "$N" ] && ok ||
    bad "sealed_records metric: $(metric logflux_agent_sealed_records_total)"
[ "$(metric logflux_agent_ship_records_total)" -ge "$N" ] 2>/dev/null ||
    [ "$(metric logflux_agent_ship_records_shipped_total)" -ge "$N" ] && ok ||
    bad "ship metric: $(curl -s "$OPS_URL/metrics" | grep -i ship | head -5)"
# The exposition format: one TYPE line per metric, each metric's samples together (two inputs
# of one type write the same names).
curl -s "$OPS_URL/metrics" >"$WORK/metrics.txt"
python3 - "$WORK/metrics.txt" <<'PY' && ok || bad "metrics exposition format"
import re, sys
seen, typed, last = set(), set(), None
for l in open(sys.argv[1]):
    if l.startswith("# TYPE"):
        n = l.split()[2]
        assert n not in typed, "second TYPE for " + n
        typed.add(n)
        continue
    if l.startswith("#") or not l.strip():
        continue
    m = re.match(r'([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$', l.rstrip("\n"))
    assert m, "bad sample line: " + l
    float(m.group(3))
    if m.group(1) != last:
        assert m.group(1) not in seen, "samples of %s not together" % m.group(1)
        seen.add(m.group(1))
        last = m.group(1)
assert seen <= typed, "untyped: %s" % sorted(seen - typed)
assert 'logflux_agent_tail_records_total{input="idle"} 0' in open(sys.argv[1]).read()
PY
code=$(curl -s -o "$WORK/health.json" -w '%{http_code}' "$OPS_URL/health")
[ "$code" = 200 ] && grep -q '"status":"ok"' "$WORK/health.json" && ok || bad "health: $code $(cat "$WORK/health.json")"
cat "$WORK"/agent.*.log | grep -q -F "$MARK" && bad "record content in the agent's own log" || ok
cat "$WORK"/agent.*.log | grep -q -F "$AK" && bad "API key in the agent's log" || ok

agent_stop
[ "${AGENT_RC:-1}" -eq 0 ] && ok || bad "agent exit status after SIGTERM: ${AGENT_RC:-?}"
# The close frames sealed at stop reach the server too: verify sees clean sessions.
"$LOGFLUX" verify --since 2h --app web >"$WORK/verify.out" 2>&1 && ok ||
    bad "verify: $(tail -5 "$WORK/verify.out")"
lf_finish
