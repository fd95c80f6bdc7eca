# agent.bash — helpers for the logflux-agent end-to-end tests (tests/agent/*.sh), on top of the
# CLI tests' helpers (server start/stop, ok/bad/lf_finish). Not a test itself.
#
#   agent_init "$@"        LOGFLUX LOGFLUXD LOGFLUX_AGENT; WORK; a fresh server; a customer key,
#                          app "web", an API key (AK); STATE (the agent's state dir), LOGS
#   agent_config [YAML]    writes $WORK/agent.yaml: the common settings + YAML (inputs etc.)
#   agent_start            starts the agent (AGENT_PID, AGENT_LOG, OPS_URL)
#   agent_stop / agent_kill
#   stored_counts          prints "<message>\t<count>" for every stored record of app web
#   wait_stored N [SECS]   waits until N distinct records are stored
source "$(dirname "${BASH_SOURCE[0]}")/../../cli/lib/common.bash"

agent_init() {
    lf_init "$1" "$2"
    LOGFLUX_AGENT=$3
    export LOGFLUX_AGENT
    lf_tmp_home
    export XDG_CACHE_HOME="$HOME/.cache"
    lf_start_server || exit 1
    export LOGFLUX_PASSPHRASE="agent test pass"
    KEY="$WORK/customer.key"
    "$LOGFLUX" keys init --out "$KEY" >/dev/null 2>&1 || { echo "keys init failed" >&2; exit 1; }
    "$LOGFLUX" login --endpoint "$SERVER_URL" --token "$ADMIN_TOKEN" --ca "$SERVER_CA" >/dev/null 2>&1
    export LOGFLUX_KEY="$KEY"
    "$LOGFLUX" admin keys register >/dev/null 2>&1 || { echo "key register failed" >&2; exit 1; }
    "$LOGFLUX" admin apps create web >/dev/null 2>&1
    AK=$("$LOGFLUX" admin api-keys create --app web -o json |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["api_key"])')
    [ -n "$AK" ] || { echo "no API key" >&2; exit 1; }
    printf '%s\n' "$AK" >"$WORK/api-key"
    chmod 600 "$WORK/api-key"
    FINGERPRINT=$("$LOGFLUX" keys show 2>/dev/null | sed -n 's/.*\(SHA256:[0-9a-f]*\).*/\1/p' | head -1)
    STATE="$WORK/state"
    LOGS="$WORK/logs"
    mkdir -p "$LOGS"
    AGENT_PID=""
    trap 'agent_kill; lf_cleanup' EXIT
}

# agent_config [EXTRA_YAML]: the common part plus whatever the test needs (inputs, buffer...).
agent_config() {
    {
        echo "endpoint: $SERVER_URL"
        echo "tenant: acme"
        echo "app: web"
        echo "api_key_file: $WORK/api-key"
        echo "public_key_file: $KEY.pub"
        [ -n "$FINGERPRINT" ] && echo "public_key_fingerprint: $FINGERPRINT"
        echo "state_dir: $STATE"
        echo "tls: {ca_file: $SERVER_CA}"
        echo "ops: {listen: '127.0.0.1:0'}"
        echo "log: {level: debug}"
        printf '%s\n' "${1:-}"
    } >"$WORK/agent.yaml"
}

AGENT_STARTS=0
agent_start() {
    AGENT_STARTS=$((AGENT_STARTS + 1))
    AGENT_LOG="$WORK/agent.$AGENT_STARTS.log" # one per start: the port line is this start's
    "$LOGFLUX_AGENT" --config "$WORK/agent.yaml" 2>>"$AGENT_LOG" &
    AGENT_PID=$!
    local i port=""
    for i in $(seq 100); do
        port=$(sed -n 's/.*ops endpoint on .* port \([0-9]*\).*/\1/p' "$AGENT_LOG" | head -1)
        [ -n "$port" ] && break
        kill -0 "$AGENT_PID" 2>/dev/null || break
        sleep 0.05
    done
    OPS_URL="http://127.0.0.1:$port"
    [ -n "$port" ] || { echo "agent did not start:" >&2; tail -20 "$AGENT_LOG" >&2; return 1; }
}

# SIGTERM and wait (the agent seals, closes keys and ships before exiting).
agent_stop() {
    [ -n "${AGENT_PID:-}" ] || return 0
    kill -TERM "$AGENT_PID" 2>/dev/null
    local i
    for i in $(seq 300); do
        kill -0 "$AGENT_PID" 2>/dev/null || break
        sleep 0.1
    done
    kill -9 "$AGENT_PID" 2>/dev/null
    wait "$AGENT_PID" 2>/dev/null
    AGENT_RC=$?
    AGENT_PID=""
}

agent_kill() {
    [ -n "${AGENT_PID:-}" ] || return 0
    kill -9 "$AGENT_PID" 2>/dev/null
    wait "$AGENT_PID" 2>/dev/null
    AGENT_PID=""
}

metric() { # metric NAME [LABEL_FILTER]: sum of the samples of NAME
    curl -s "$OPS_URL/metrics" | awk -v n="$1" -v f="${2:-}" \
        '$1 ~ "^"n"($|\\{)" && index($1, f) { s += $NF } END { printf "%d\n", s }'
}

# Every stored record of app web, decrypted by the CLI: "<message>\t<count>".
stored_counts() {
    "$LOGFLUX" query --since 2h --app web -o json --limit 10000000 2>"$WORK/query.err" |
        python3 -c '
import collections, json, sys
c = collections.Counter(json.loads(l)["message"] for l in sys.stdin if l.strip())
for m, n in sorted(c.items()):
    print(f"{m}\t{n}")'
}

wait_stored() { # wait_stored N [SECONDS]
    local want=$1 secs=${2:-60} i have=0
    for i in $(seq $((secs * 4))); do
        have=$(stored_counts | wc -l)
        [ "$have" -ge "$want" ] && return 0
        sleep 0.25
    done
    echo "only $have of $want records stored after ${secs}s" >&2
    return 1
}

# check_exactly_once PREFIX N: lines "PREFIX <i> ..." for i in 0..N-1 each stored exactly once,
# nothing else with that prefix.
check_exactly_once() {
    local prefix=$1 n=$2
    stored_counts | python3 -c '
import re, sys
prefix, n = sys.argv[1], int(sys.argv[2])
seen = {}
for line in sys.stdin:
    msg, cnt = line.rstrip("\n").rsplit("\t", 1)
    m = re.match(re.escape(prefix) + r" (\d+)\b", msg)
    if m:
        seen[int(m.group(1))] = seen.get(int(m.group(1)), 0) + int(cnt)
missing = [i for i in range(n) if i not in seen]
dups = {i: c for i, c in seen.items() if c != 1}
extra = [i for i in seen if i >= n]
if missing or dups or extra:
    print(f"missing {len(missing)} (first {missing[:10]}), duplicated {len(dups)} (first {list(dups.items())[:10]}), extra {extra[:10]}", file=sys.stderr)
    sys.exit(1)
' "$prefix" "$n"
}

# No plaintext marker in any file of the agent's state (buffer, checkpoints, dead letters).
check_no_plaintext() {
    local marker=$1
    if grep -r -a -q -F "$marker" "$STATE"; then
        bad "plaintext '$marker' found under the agent state: $(grep -r -a -l -F "$marker" "$STATE" | head -3)"
    else
        ok
    fi
}

# Stop the server and start it again later on the same port (the agent's endpoint).
server_down() {
    SERVER_PORT=${SERVER_URL##*:}
    lf_stop_server
}
server_up() {
    "$LOGFLUXD" serve --data "$DATA_DIR" --listen "127.0.0.1:$SERVER_PORT" \
        --set worker.flush_interval=300ms 2>>"$SERVER_LOG" &
    SERVER_PID=$!
    local i
    for i in $(seq 200); do
        curl -s -o /dev/null --cacert "$SERVER_CA" "$SERVER_URL/" && return 0
        sleep 0.05
    done
    echo "logfluxd did not come back on port $SERVER_PORT" >&2
    return 1
}

# write_lines FILE PREFIX FROM TO [RANDOM_BYTES] [SLEEP_EVERY]: append "PREFIX i <payload>"
# lines; the payload is random hex (incompressible) when RANDOM_BYTES > 0, else padding.
write_lines() {
    python3 - "$@" <<'PY'
import os, sys, time
path, prefix, a, b = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
rnd = int(sys.argv[5]) if len(sys.argv) > 5 else 0
pause = int(sys.argv[6]) if len(sys.argv) > 6 else 0
with open(path, "a", buffering=1) as f:
    for i in range(a, b):
        pay = os.urandom(rnd).hex() if rnd else "p" * 150
        f.write(f"{prefix} {i} {pay}\n")
        if pause and i % pause == 0:
            time.sleep(0.02)
PY
}

# query_rows OUT [SINCE]: every stored record of app web, decrypted by the CLI, one JSON object a
# line (ts, level, source, message, attributes, ...) into OUT. SINCE defaults to 2d, so records
# whose own time lies hours back are included.
query_rows() {
    "$LOGFLUX" query --since "${2:-2d}" --app web -o json --limit 10000000 >"$1" 2>"$WORK/query.err"
}

# wait_marker_rows MARK N [SECS]: waits until N distinct stored messages contain MARK
# (searching 2 days back); the rows are left in $WORK/rows.json.
wait_marker_rows() {
    local mark=$1 want=$2 secs=${3:-60} i have=0
    for i in $(seq $((secs * 2))); do
        query_rows "$WORK/rows.json"
        have=$(python3 -c '
import json, sys
rows = (json.loads(l) for l in open(sys.argv[1]) if l.strip())
print(len({r["message"] for r in rows if sys.argv[2] in r["message"]}))' "$WORK/rows.json" "$mark")
        [ "$have" -ge "$want" ] && return 0
        sleep 0.5
    done
    echo "only $have of $want records with $mark stored after ${secs}s" >&2
    return 1
}

# agent_wait_restart N [SECS]: waits until the current agent log shows its Nth ops endpoint (a
# SIGHUP reload restarts it on a new port), then points OPS_URL at the newest one.
agent_wait_restart() {
    local want=$1 secs=${2:-30} i n=0 port
    for i in $(seq $((secs * 10))); do
        n=$(grep -c 'ops endpoint on .* port [0-9]' "$AGENT_LOG")
        [ "$n" -ge "$want" ] && break
        sleep 0.1
    done
    [ "$n" -ge "$want" ] || { echo "agent did not restart ($n ops endpoint lines)" >&2; return 1; }
    port=$(sed -n 's/.*ops endpoint on .* port \([0-9]*\).*/\1/p' "$AGENT_LOG" | tail -1)
    OPS_URL="http://127.0.0.1:$port"
}

# wait_log PATTERN [SECS]: waits until the current agent log has a line matching PATTERN (grep -E).
wait_log() {
    local pattern=$1 secs=${2:-30} i
    for i in $(seq $((secs * 10))); do
        grep -q -E "$pattern" "$AGENT_LOG" && return 0
        sleep 0.1
    done
    echo "no log line matching '$pattern' after ${secs}s" >&2
    return 1
}
