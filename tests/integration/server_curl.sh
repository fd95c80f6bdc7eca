#!/usr/bin/env bash
# logfluxd driven by curl: init, serve on a free loopback port, and the behaviour a curl user
# sees — health, TLS 1.3 only, certificate checks, admin calls, and bad input of many kinds,
# each answered with a 4xx and the JSON error shape, never a crash. SIGTERM exits 0.
# Usage: server_curl.sh PATH/TO/logfluxd
set -u
logfluxd=$1
dir=$(mktemp -d)
pid=""
cleanup() { [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT
passed=0
failed=0
ok() { passed=$((passed + 1)); }
bad() { failed=$((failed + 1)); echo "FAIL: $*" >&2; }

"$logfluxd" init --data "$dir/d" --tenant acme >"$dir/init.json" || { echo "init failed"; exit 1; }
token=$(sed -n 's/.*"admin_token": "\([^"]*\)".*/\1/p' "$dir/init.json")
cert="$dir/d/tls/cert.pem"
"$logfluxd" init --data "$dir/d" >/dev/null 2>&1 && bad "second init of the same directory succeeded" || ok

"$logfluxd" serve --data "$dir/d" --listen 127.0.0.1:0 2>"$dir/server.log" &
pid=$!
port=""
for _ in $(seq 100); do
    port=$(sed -n 's/.*serving on .* port \([0-9]*\) .*/\1/p' "$dir/server.log")
    [ -n "$port" ] && break
    sleep 0.05
done
[ -n "$port" ] || { echo "server did not start"; cat "$dir/server.log"; exit 1; }
base="https://127.0.0.1:$port"

# expect STATUS CODE [curl args...]: the answer has that status and error code (or success).
expect() {
    local want_status=$1 want_code=$2
    shift 2
    local out status
    out=$(curl -s -o "$dir/body" -w '%{http_code}' --cacert "$cert" "$@")
    status=$out
    if [ "$status" != "$want_status" ]; then
        bad "$* -> $status (want $want_status): $(head -c 300 "$dir/body")"
        return
    fi
    if [ "$want_code" = "-" ]; then
        ok
    elif grep -q "\"code\":\"$want_code\"" "$dir/body" && grep -q '"request_id":"' "$dir/body"; then
        ok
    else
        bad "$* -> body lacks error code $want_code: $(head -c 300 "$dir/body")"
    fi
}
auth=(-H "Authorization: Bearer $token")

expect 200 - "$base/health"
# A second server on the same data directory is refused (and the first keeps serving).
"$logfluxd" serve --data "$dir/d" --listen 127.0.0.1:0 2>"$dir/second.log" &&
    bad "a second logfluxd served the same data directory" || ok
grep -q "in use by another logfluxd" "$dir/second.log" && ok || bad "second server: $(cat "$dir/second.log")"
expect 200 - "$base/info"
expect 200 - "$base/discovery"
# TLS: 1.2 refused, unknown certificate refused.
curl -s --cacert "$cert" --tlsv1.2 --tls-max 1.2 "$base/health" >/dev/null && bad "TLS 1.2 accepted" || ok
curl -s "$base/health" >/dev/null && bad "unknown certificate accepted" || ok

expect 201 - "${auth[@]}" -H 'Content-Type: application/json' -d '{"name":"web"}' "$base/v1/admin/apps"
expect 409 conflict "${auth[@]}" -d '{"name":"web"}' "$base/v1/admin/apps"
expect 400 bad_request "${auth[@]}" -d '{"name":"bad name!"}' "$base/v1/admin/apps"
expect 400 bad_request "${auth[@]}" -d 'not json' "$base/v1/admin/apps"
expect 400 bad_request "${auth[@]}" -d '[1,2]' "$base/v1/admin/apps"
expect 401 unauthorized "$base/v1/admin/apps"
expect 401 unauthorized -H 'Authorization: Bearer nope' "$base/v1/admin/apps"
expect 401 unauthorized -H 'Authorization: Basic dXNlcjpwYXNz' "$base/v1/admin/apps"
expect 401 unauthorized -H "Authorization: Bearer ${token}x" "$base/v1/admin/apps"
expect 404 not_found "$base/v2/nothing"
expect 405 method_not_allowed -X PATCH "$base/health"

key=$(curl -s --cacert "$cert" "${auth[@]}" -d '{"app":"web"}' "$base/v1/admin/api-keys" |
    sed -n 's/.*"api_key":"\([^"]*\)".*/\1/p')
[ -n "$key" ] && ok || bad "no API key created"
kauth=(-H "Authorization: Bearer $key")
expect 409 no_customer_key "${kauth[@]}" -d '{}' "$base/v1/handshake/init"
expect 415 unsupported_media_type "${kauth[@]}" -H 'Content-Type: text/plain' -d 'x' "$base/v1/ingest"
expect 400 bad_multipart "${kauth[@]}" -H 'Content-Type: multipart/mixed; boundary=q' \
    --data-binary $'--q\r\nX-LF-Entry-Type: 9\r\n\r\nbody' "$base/v1/ingest"
expect 400 bad_frames "${kauth[@]}" -H 'Content-Type: application/vnd.logflux.frames.v1' \
    --data-binary 'LFN1 not really' "$base/v1/ingest"
head -c 11000000 /dev/zero >"$dir/big"
expect 413 payload_too_large "${kauth[@]}" -H 'Content-Type: multipart/mixed; boundary=q' \
    --data-binary "@$dir/big" "$base/v1/ingest"
head -c 40000000 /dev/zero >"$dir/huge"
expect 413 payload_too_large "${kauth[@]}" -H 'Content-Type: application/vnd.logflux.frames.v1' \
    --data-binary "@$dir/huge" "$base/v1/ingest"
rm -f "$dir/huge" "$dir/big"
# An API key is no token, a token no API key.
expect 401 unauthorized "${kauth[@]}" "$base/v1/query"
expect 401 unauthorized "${auth[@]}" -d '{}' "$base/v1/handshake/init"

# Still serving after all that.
expect 200 - "$base/health"
kill -TERM "$pid"
wait "$pid"
code=$?
pid=""
[ "$code" -eq 0 ] && ok || bad "SIGTERM exit code $code"
# The secret is everything after "<region>-lf_usr_<id>_" (it may itself contain '_').
secret=${token#*_usr_*_}
[ ${#secret} -eq 43 ] && ok || bad "could not isolate the token secret"
grep -qF -- "$secret" "$dir/server.log" && bad "token secret in the server log" || ok

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
