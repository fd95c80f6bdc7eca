#!/usr/bin/env bash
# Tampering tests: a real logfluxd over TLS on loopback stores native sessions (with close
# markers) and v3 entries sent by lf-test-sender; `logflux verify` finds the data clean. Then,
# for each kind of tampering, a fresh copy of the data directory is edited in place by lf-tamper
# (re-date, move to another app, drop, duplicate, flip a ciphertext bit, drop a close marker,
# swap sequences; and on v3 rows: flip, duplicate) and served by a new logfluxd: verify exits 8
# and names the kind, and `logflux query` never shows the tampered record as valid (the row's
# message is not printed and query exits 7 with a warning); drop/duplicate/truncate leave every
# stored record authentic, which query accepts and verify catches.
# Usage: tamper.sh LOGFLUX LOGFLUXD LF_PARQUET_TOOL
set -u
source "$(dirname "$0")/lib/common.bash"
lf_init "$@"
lf_tmp_home
TOOLS=$(dirname "$(dirname "$LF_PARQUET_TOOL")")
SENDER="$TOOLS/sender/lf-test-sender"
TAMPER="$TOOLS/tamper/lf-tamper"
for t in "$SENDER" "$TAMPER"; do
    [ -x "$t" ] || {
        echo "missing $t" >&2
        exit 1
    }
done
lf_start_server || exit 1
export XDG_CACHE_HOME="$WORK/cache"
export LOGFLUX_NO_CACHE=1
out="$WORK/out"
err="$WORK/err"
run() {
    "$LOGFLUX" "$@" >"$out" 2>"$err"
    rc=$?
}
jget() { python3 -c "import json,sys; d=json.load(sys.stdin); d=d.get('data',d); print(d['$1'])"; }

# ---- setup: one key pair, apps, credentials ----
export LOGFLUX_PASSPHRASE="tamper test passphrase"
key="$WORK/customer.key"
run keys init --out "$key" || {
    echo "keys init failed: $(cat "$err")" >&2
    exit 1
}
export LOGFLUX_KEY="$key"
run login --endpoint "$SERVER_URL" --token "$ADMIN_TOKEN" --ca "$SERVER_CA" || {
    echo "login failed: $(cat "$err")" >&2
    exit 1
}
run admin keys register --public-key "$key.pub"
[ $rc -eq 0 ] && ok || bad "register key: $(cat "$err")"
run admin apps create shop
run admin apps create other
run admin api-keys create --app shop -o json
api_key=$(jget api_key <"$out")
run admin tokens create --scope read -o json
read_token=$(jget token <"$out")
[ -n "$api_key" ] && [ -n "$read_token" ] && ok || bad "credentials: $(cat "$out" "$err")"
export LOGFLUX_TOKEN="$read_token"

# ---- data: a native session of 6 entry frames (alternating types, so one frame each:
# sequences 0..5 + close marker), a native block session, and v3 entries ----
tag="t$$r$RANDOM"
python3 - "$WORK/entries.jsonl" "$tag" <<'EOF'
import sys, time, json
now = time.time_ns()
with open(sys.argv[1], "w") as f:
    for i in range(6):
        ns = now - (60 - i * 5) * 10**9 + i
        ts = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ns // 10**9)) + ".%09dZ" % (ns % 10**9)
        e = {"v": "2.0", "source": "tamper-test", "level": 6, "ts": ts}
        if i % 2 == 0:
            e.update(type="log", message="msg-%s-seq%d" % (sys.argv[2], i))
        else:
            e.update(type="event", event="evt-%s-seq%d" % (sys.argv[2], i))
        f.write(json.dumps(e) + "\n")
EOF
send() {
    "$SENDER" --url "$SERVER_URL" --ca "$SERVER_CA" --api-key "$api_key" --public-key "$key.pub" \
        --tenant acme --app shop "$@" >>"$WORK/sender.log" 2>&1
}
send --format native --json-file "$WORK/entries.jsonl" && ok || bad "send native session: $(tail -3 "$WORK/sender.log")"
send --format native --count 4 --message-prefix "block-$tag" && ok || bad "send native block"
send --format v3 --count 3 --message-prefix "v3-$tag" && ok || bad "send v3: $(tail -3 "$WORK/sender.log")"
expected=13
n=0
for i in $(seq 100); do
    run query --since 2h -o json
    n=$(grep -c . "$out")
    [ "$n" -ge "$expected" ] && break
    sleep 0.1
done
[ "$n" -eq "$expected" ] && ok || bad "query saw $n entries, want $expected: $(cat "$err")"

# ---- clean data verifies ----
run verify --since 2h
[ $rc -eq 0 ] && ok || bad "verify on clean data: exit $rc: $(cat "$out" "$err")"
grep -q "OK: no problems found" "$out" && ok || bad "verify clean: $(cat "$out")"
grep -q "3 native sessions (3 closed, 0 open)\|2 native sessions (2 closed, 0 open)" "$out" && ok ||
    bad "verify clean summary: $(cat "$out")"
run verify --since 2h -o json
[ $rc -eq 0 ] && python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["ok"] and not d["problems"]' <"$out" &&
    ok || bad "verify -o json clean: $(cat "$out")"
run verify --since 2h --require-closed
[ $rc -eq 0 ] && ok || bad "verify --require-closed on clean data: $(cat "$out")"

# ---- the tampering cases ----
lf_stop_server
cp -a "$DATA_DIR" "$WORK/pristine"

# serve_copy NAME: a fresh copy of the pristine data directory served by a new logfluxd.
serve_copy() {
    local dir="$WORK/case-$1" log="$WORK/case-$1.log" port="" i
    rm -rf "$dir"
    cp -a "$WORK/pristine" "$dir"
    CASE_DIR=$dir
    CASE_LOG=$log
}
start_case() {
    "$LOGFLUXD" serve --data "$CASE_DIR" --listen 127.0.0.1:0 --set worker.flush_interval=300ms \
        2>"$CASE_LOG" &
    SERVER_PID=$!
    local port="" i
    for i in $(seq 200); do
        port=$(sed -n 's/.*serving on .* port \([0-9]*\).*/\1/p' "$CASE_LOG" | head -1)
        [ -n "$port" ] && break
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.05
    done
    [ -n "$port" ] || {
        echo "logfluxd did not start on the copy: $(cat "$CASE_LOG")" >&2
        return 1
    }
    export LOGFLUX_ENDPOINT="https://127.0.0.1:$port"
}

# case NAME KIND QUERY_RC SECRET VERIFY_FLAGS -- LF_TAMPER_ARGS...
#   KIND: the word verify must print; QUERY_RC: query's expected exit code; SECRET: a message
#   that must not be printed by query ("" = none).
case_() {
    local name=$1 kind=$2 qrc=$3 secret=$4 vflags=$5
    shift 6
    serve_copy "$name"
    if ! "$TAMPER" --data "$CASE_DIR" "$@" >"$WORK/tamper-$name.json" 2>"$WORK/tamper-$name.err"; then
        bad "$name: lf-tamper failed: $(cat "$WORK/tamper-$name.err")"
        return
    fi
    start_case || {
        bad "$name: server"
        return
    }
    run verify --since 2h $vflags
    if [ $rc -eq 8 ]; then ok; else bad "$name: verify exit $rc, want 8: $(cat "$out" "$err")"; fi
    grep -q "^$kind: key " "$out" && ok || bad "$name: verify does not name '$kind': $(cat "$out")"
    cp "$out" "$WORK/verify-$name.txt"
    run verify --since 2h $vflags -o json
    python3 -c "import json,sys; d=json.load(sys.stdin); assert not d['ok']; assert any(p['kind']=='$kind' for p in d['problems'])" <"$out" &&
        ok || bad "$name: verify -o json: $(cat "$out")"
    run query --since 2h
    if [ "$rc" -eq "$qrc" ]; then ok; else bad "$name: query exit $rc, want $qrc: $(head -c 600 "$err")"; fi
    if [ "$qrc" -eq 7 ]; then
        grep -q "warning" "$err" && grep -q "tampered" "$err" && ok || bad "$name: query gave no tamper warning: $(cat "$err")"
    fi
    if [ -n "$secret" ]; then
        grep -q -- "$secret" "$out" && bad "$name: query printed the tampered record ($secret)" || ok
    fi
    lf_stop_server
}

# native records: ids are sequences of the 6-frame session (even = log "msg-…", odd = event)
case_ redate re-dated 7 "msg-$tag-seq2" "" -- redate --format native --seq 2 --delta-ns -600000000000
grep -q "sealed at" "$WORK/verify-redate.txt" && ok || bad "redate: no sealed time in $(cat "$WORK/verify-redate.txt")"
case_ move moved 7 "evt-$tag-seq3" "" -- move --format native --seq 3 --to-app other
grep -q "sealed for app shop, stored under app other" "$WORK/verify-move.txt" && ok || bad "move: detail $(cat "$WORK/verify-move.txt")"
case_ drop missing 0 "" "" -- drop --format native --seq 1
grep -q "^missing: key [0-9a-f]* seq 1: " "$WORK/verify-drop.txt" && ok || bad "drop: $(cat "$WORK/verify-drop.txt")"
case_ dup duplicated 0 "" "" -- dup --format native --seq 2
case_ flip tampered 7 "msg-$tag-seq4" "" -- flip --format native --seq 4
case_ truncate truncated 0 "" "--require-closed" -- truncate --index 0
case_ reorder reordered 7 "evt-$tag-seq1" "" -- reorder --format native --seq 1
grep -q "sealed as sequence 2, stored as sequence 1" "$WORK/verify-reorder.txt" && ok || bad "reorder: $(cat "$WORK/verify-reorder.txt")"
# v3 records: no header is authenticated, only the ciphertext
case_ v3flip tampered 7 "v3-$tag 1" "" -- flip --format v3 --index 1
case_ v3dup duplicated 0 "" "" -- dup --format v3 --index 0
# without --require-closed a truncated session is an open session: not an error by itself
serve_copy truncate-open
"$TAMPER" --data "$CASE_DIR" truncate --index 0 >/dev/null 2>&1 && start_case && {
    run verify --since 2h
    [ $rc -eq 0 ] && grep -q "1 open session" "$out" && ok || bad "truncate without --require-closed: exit $rc: $(cat "$out")"
    lf_stop_server
}

lf_finish
