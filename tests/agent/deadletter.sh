#!/usr/bin/env bash
# logflux-agent end to end: dead letters and their replay. The agent seals to a customer key
# the tenant has not registered, so logfluxd refuses every frame of every batch (key frame:
# "a customer key this tenant has not registered"; data frames: unknown key id) and answers
# 400 no_valid_entries — a refusal of the body, which the shipper dead-letters. We check the
# dead-letter folder fills (ciphertext only, sidecars saying 400), the metric
# logflux_agent_ship_dead_letter_records_total counts every line, and that
# `--requeue-dead-letters` refuses while the agent runs. Then we fix the cause (register the
# key), stop the agent, requeue, start it again, and decrypting with the CLI: every line is
# stored exactly once.
# Usage: deadletter.sh LOGFLUX LOGFLUXD LOGFLUX_AGENT
set -u
if ! "$3" --help 2>&1 | grep -q -- --requeue-dead-letters; then
    echo "SKIP: this logflux-agent has no --requeue-dead-letters (main.c dispatch not in yet)"
    exit 0
fi
source "$(dirname "$0")/lib/agent.bash"
agent_init "$@"
MARK="dl$(date +%s%N | tail -c 7)x"
N=400

# A second customer key, not registered: what the agent seals to.
KEY2="$WORK/unregistered.key"
"$LOGFLUX" keys init --out "$KEY2" >/dev/null 2>&1 || { echo "keys init (second key) failed" >&2; exit 1; }
export LOGFLUX_KEY="$KEY2" # from now on the CLI decrypts (and registers) with it
FINGERPRINT=$("$LOGFLUX" keys show 2>/dev/null | sed -n 's/.*\(SHA256:[0-9a-f]*\).*/\1/p' | head -1)
KEY="$KEY2" # agent_config writes public_key_file: $KEY.pub
agent_config "batch: {max_wait: 200ms, max_records: 50}
ship: {backoff_base: 100ms, backoff_max: 1s}
shutdown: {flush_timeout: 5s}
inputs:
  - type: tail
    name: app
    paths: ['$LOGS/app.log']
    read_from_head: true"
DL="$STATE/dead-letter"

write_lines "$LOGS/app.log" "$MARK" 0 "$N"
agent_start || exit 1

# Every line ends up dead-lettered (counted by the metric), none stored.
dl_records=0
for i in $(seq 240); do
    dl_records=$(metric logflux_agent_ship_dead_letter_records_total)
    [ "$dl_records" -ge "$N" ] && break
    sleep 0.25
done
[ "$dl_records" -ge "$N" ] && ok || bad "dead_letter_records_total $dl_records < $N: $(curl -s "$OPS_URL/metrics" | grep dead_letter)"
[ "$(metric logflux_agent_ship_dead_letter_items_total)" -ge 1 ] && ok || bad "dead_letter_items_total is 0"
[ "$(metric logflux_agent_ship_items_total)" -eq 0 ] && ok || bad "items shipped while the key is unknown"
n_json=$(find "$DL" -name '*.json' | wc -l)
n_frames=$(find "$DL" -name '*.frames' | wc -l)
[ "$n_json" -ge 1 ] && [ "$n_json" -eq "$n_frames" ] && ok || bad "dead-letter folder: $n_json sidecars, $n_frames bodies"
python3 - "$DL" "$N" <<'PY' && ok || bad "dead-letter sidecars: $(head -c 800 "$(find "$DL" -name '*.json' | head -1)")"
import glob, json, os, sys
d, n = sys.argv[1], int(sys.argv[2])
records = 0
for p in glob.glob(os.path.join(d, "*.json")):
    s = json.load(open(p))
    assert s["reason"] == "refused" and s["http_status"] == 400, s
    assert s["error_code"] == "no_valid_entries", s
    assert os.path.getsize(os.path.join(d, s["body_file"])) == s["body_bytes"], s
    records += s["records"]
assert records >= n, (records, n)
PY
[ "$(stat -c %a "$DL")" = 700 ] && ok || bad "dead-letter folder mode $(stat -c %a "$DL")"
check_no_plaintext "$MARK"

# Refused while the agent runs: it holds the buffer open. Nothing moves.
"$LOGFLUX_AGENT" --requeue-dead-letters --config "$WORK/agent.yaml" >"$WORK/rq.running.out" 2>&1
rc=$?
[ "$rc" -ne 0 ] && grep -q "stop it" "$WORK/rq.running.out" && ok ||
    bad "requeue while the agent runs: exit $rc, $(cat "$WORK/rq.running.out")"
[ "$(find "$DL" -name '*.json' | wc -l)" -eq "$n_json" ] && ok || bad "requeue refused but entries moved"

agent_stop
[ "${AGENT_RC:-1}" -eq 0 ] && ok || bad "agent exit status after SIGTERM: ${AGENT_RC:-?}"
n_json=$(find "$DL" -name '*.json' | wc -l) # the close frames sealed at stop may add one

# A bad config is an error, not a silent no-op.
"$LOGFLUX_AGENT" --requeue-dead-letters --config "$WORK/missing.yaml" >/dev/null 2>&1 && bad "requeue with a missing config exits 0" || ok

# Fix the cause, requeue, start again.
"$LOGFLUX" admin keys register >/dev/null 2>&1 || { bad "register the second key"; lf_finish; }
"$LOGFLUX_AGENT" --requeue-dead-letters --config "$WORK/agent.yaml" >"$WORK/rq.out" 2>"$WORK/rq.err"
rc=$?
[ "$rc" -eq 0 ] && grep -q "^requeued $n_json dead letters" "$WORK/rq.out" && ok ||
    bad "requeue: exit $rc, out '$(cat "$WORK/rq.out")', err '$(cat "$WORK/rq.err")', $n_json entries"
[ "$(find "$DL" -name '*.json' -o -name '*.frames' | wc -l)" -eq 0 ] && ok || bad "dead-letter folder not emptied: $(ls "$DL" | head)"
"$LOGFLUX_AGENT" --requeue-dead-letters --config "$WORK/agent.yaml" >"$WORK/rq2.out" 2>&1 &&
    grep -q "^requeued 0 dead letters" "$WORK/rq2.out" && ok || bad "second requeue: $(cat "$WORK/rq2.out")"
check_no_plaintext "$MARK"

agent_start || exit 1
check "all lines stored after the requeue" wait_stored "$N" 90
check "each line exactly once" check_exactly_once "$MARK" "$N"
[ "$(metric logflux_agent_ship_dead_letter_items_total)" -eq 0 ] && ok || bad "dead letters after the fix"
[ "$(metric logflux_agent_ship_items_total)" -ge "$n_json" ] && ok || bad "shipped items $(metric logflux_agent_ship_items_total) < requeued $n_json"
cat "$WORK"/agent.*.log "$WORK"/rq*.out "$WORK/rq.err" | grep -q -F "$MARK" && bad "record content in the agent's output" || ok
cat "$WORK"/agent.*.log "$WORK"/rq*.out "$WORK/rq.err" | grep -q -F "$AK" && bad "API key in the agent's output" || ok
agent_stop
[ "${AGENT_RC:-1}" -eq 0 ] && ok || bad "agent exit status after SIGTERM: ${AGENT_RC:-?}"
lf_finish
