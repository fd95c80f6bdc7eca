#!/usr/bin/env bash
# The agent benchmark: a file of 200-byte lines -> logflux-agent (tail -> parse-free pipeline
# -> zstd + AES-256-GCM native blocks -> disk buffer with fsync -> ship over TLS) -> a local
# logfluxd. Prints lines/s and MB/s of input per wall second and per CPU second of the agent,
# the agent's CPU, idle and peak RSS, and the ratio to the reference measured in the same run:
# `zstd -1` (the agent's default level) compressing the same file on one core (compression is the one unavoidable
# per-byte cost of the pipeline; a ratio near 1 means the agent adds little around it).
#   bench/agent.sh BUILD_DIR [LINES]      (LINES default 2,000,000 = 400 MB)
set -euo pipefail
build=$1
lines=${2:-2000000}
LOGFLUX=$build/src/cli/logflux
LOGFLUXD=$build/src/server/logfluxd
AGENT=$build/src/agent/logflux-agent
work=$(mktemp -d /tmp/lf-bench-agent.XXXXXX)
spid=""
apid=""
cleanup() {
    [ -n "$apid" ] && kill -9 "$apid" 2>/dev/null
    [ -n "$spid" ] && kill "$spid" 2>/dev/null
    wait 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

# ---- server, tenant, key, app, API key ----
"$LOGFLUXD" init --data "$work/data" --tenant acme >"$work/init.json"
token=$(sed -n 's/.*"admin_token": *"\([^"]*\)".*/\1/p' "$work/init.json")
port=$((20000 + RANDOM % 20000))
"$LOGFLUXD" serve --data "$work/data" --listen "127.0.0.1:$port" --set http.threads=8 \
    --set ratelimit.per_key_per_sec=0 --set ratelimit.per_ip_per_sec=0 2>"$work/server.log" &
spid=$!
ca=$work/data/tls/cert.pem
for _ in $(seq 100); do
    curl -sf --cacert "$ca" "https://127.0.0.1:$port/health" >/dev/null && break
    sleep 0.1
done
export HOME=$work/home XDG_CONFIG_HOME=$work/home/.config LOGFLUX_PASSPHRASE=bench
mkdir -p "$XDG_CONFIG_HOME"
"$LOGFLUX" keys init --out "$work/customer.key" >/dev/null 2>&1
"$LOGFLUX" login --endpoint "https://127.0.0.1:$port" --token "$token" --ca "$ca" >/dev/null 2>&1
export LOGFLUX_KEY=$work/customer.key
"$LOGFLUX" admin keys register >/dev/null 2>&1
"$LOGFLUX" admin apps create bench >/dev/null 2>&1
"$LOGFLUX" admin api-keys create --app bench -o json |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["api_key"])' >"$work/api-key"
chmod 600 "$work/api-key"

# ---- the input: 200-byte lines (199 + '\n'), varied like real logs ----
python3 - "$work/input.log" "$lines" <<'PY'
import random, sys
path, n = sys.argv[1], int(sys.argv[2])
random.seed(7)
words = ["GET", "POST", "/api/v1/orders", "/health", "user=", "status=200", "status=500",
         "latency_ms=", "INFO", "WARN", "ERROR", "payment", "accepted", "session", "retry"]
with open(path, "w") as f:
    for i in range(n):
        s = f"2026-11-28T10:00:00.{i % 1000000:06d}Z {random.choice(words[8:11])} req={i} " + \
            " ".join(random.choice(words) + str(random.randint(0, 99999)) for _ in range(12))
        f.write((s + " " * 200)[:199] + "\n")
PY
bytes=$(stat -c %s "$work/input.log")

# ---- reference: zstd -1 on one core over the same bytes ----
t0=$(date +%s.%N)
zstd -1 -T1 -q -c "$work/input.log" >/dev/null
t1=$(date +%s.%N)
zstd_mbs=$(awk -v b="$bytes" -v a="$t0" -v c="$t1" 'BEGIN{printf "%.1f", b/(c-a)/1e6}')

# ---- the agent ----
mkdir -p "$work/logs"
cat >"$work/agent.yaml" <<YAML
endpoint: https://127.0.0.1:$port
tenant: acme
app: bench
api_key_file: $work/api-key
public_key_file: $work/customer.key.pub
state_dir: $work/state
tls: {ca_file: $ca}
ops: {listen: '127.0.0.1:0'}
buffer: {max_bytes: 2GiB}
inputs:
  - type: tail
    name: bench
    paths: ['$work/logs/*.log']
    read_from_head: true
YAML
${LF_BENCH_WRAP:-} "$AGENT" --config "$work/agent.yaml" 2>"$work/agent.log" &
apid=$!
ops=""
for _ in $(seq 100); do
    ops=$(sed -n 's/.*ops endpoint on .* port \([0-9]*\).*/\1/p' "$work/agent.log" | head -1)
    [ -n "$ops" ] && break
    sleep 0.05
done
metric() {
    curl -s "http://127.0.0.1:$ops/metrics" |
        awk -v n="$1" '$1 ~ "^"n"($|\\{)" { s += $NF } END { printf "%d\n", s }'
}
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$apid/status"; }
hwm_kb() { awk '/^VmHWM/ {print $2}' "/proc/$apid/status"; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$apid/stat"; }
pss_kb() { awk '/^Pss:/ {print $2}' "/proc/$apid/smaps_rollup"; }
anon_kb() { awk '/^RssAnon/ {print $2}' "/proc/$apid/status"; }
sleep 2
idle_kb=$(rss_kb)
idle_pss=$(pss_kb)
idle_anon=$(anon_kb)
c0=$(cpu_ticks)
t0=$(date +%s.%N)
mv "$work/input.log" "$work/logs/input.log"
shipped_metric=logflux_agent_ship_records_total
for _ in $(seq 6000); do
    [ "$(metric logflux_agent_sealed_records_total)" -ge "$lines" ] && break
    sleep 0.05
done
t_sealed=$(date +%s.%N)
c_sealed=$(cpu_ticks)
for _ in $(seq 6000); do
    [ "$(metric $shipped_metric)" -ge "$lines" ] && break
    sleep 0.05
done
t1=$(date +%s.%N)
c1=$(cpu_ticks)
peak_kb=$(hwm_kb)
hz=$(getconf CLK_TCK)
sealed=$(metric logflux_agent_sealed_records_total)
shipped=$(metric $shipped_metric)
[ "$shipped" -ge "$lines" ] || { echo "only $shipped of $lines lines shipped" >&2; exit 1; }
awk -v b="$bytes" -v n="$lines" -v ts="$t_sealed" -v t0="$t0" -v t1="$t1" -v c0="$c0" \
    -v cs="$c_sealed" -v c1="$c1" -v hz="$hz" -v idle="$idle_kb" -v peak="$peak_kb" \
    -v z="$zstd_mbs" -v ipss="$idle_pss" -v ianon="$idle_anon" 'BEGIN {
    wall = t1 - t0; cpu = (c1 - c0) / hz; wseal = ts - t0; cseal = (cs - c0) / hz
    printf "input: %d lines, %.0f MB of 200-byte lines\n", n, b / 1e6
    printf "tail -> seal -> buffer (durable):  %.0f lines/s, %.1f MB/s wall; %.1f MB/s per agent CPU second (%.2f cores)\n", n / wseal, b / wseal / 1e6, b / cseal / 1e6, cseal / wseal
    printf "... -> shipped to logfluxd (TLS):  %.0f lines/s, %.1f MB/s wall; %.1f MB/s per agent CPU second (%.2f cores)\n", n / wall, b / wall / 1e6, b / cpu / 1e6, cpu / wall
    printf "reference zstd -1, one core:       %.1f MB/s  -> agent per CPU second = %.2fx zstd -1\n", z, (b / cpu / 1e6) / z
    printf "agent RSS: idle %.1f MB, peak under load %.1f MB\n", idle / 1024, peak / 1024
    printf "agent idle memory of its own: %.1f MB anonymous (RssAnon), %.1f MB PSS (shared library pages split among their users)\n", ianon / 1024, ipss / 1024
}'
