#!/usr/bin/env bash
# The logflux CLI's keys, login and admin commands against a real logfluxd over TLS on
# loopback: key files (mode, fingerprint against openssl, wrong passphrase), the profile
# (mode, precedence flags > env > profile), every admin command with -o json, credentials
# refused after revocation or without the scope, unreachable and untrusted servers, and that no
# secret is printed anywhere except by the command that created it.
# Usage: admin_keys.sh LOGFLUX LOGFLUXD [LF_PARQUET_TOOL]
set -u
source "$(dirname "$0")/lib/common.bash"
lf_init "$@"
lf_tmp_home
lf_start_server || exit 1

json_ok() { python3 -m json.tool >/dev/null; }
out="$WORK/out"
err="$WORK/err"
# run CMD...: runs logflux, stdout in $out, stderr in $err, exit code in $rc; everything said
# is kept in $WORK/all for the secret search at the end.
run() {
    "$LOGFLUX" "$@" >"$out" 2>"$err"
    rc=$?
    cat "$out" "$err" >>"$WORK/all"
}
# run_created: like run, but for commands allowed to print a secret (not searched).
run_created() {
    "$LOGFLUX" "$@" >"$out" 2>"$err"
    rc=$?
}
expect_rc() {
    local want=$1 what=$2
    if [ "$rc" -eq "$want" ]; then ok; else bad "$what: exit $rc, want $want: $(head -c 400 "$err")"; fi
}

# ---- keys ----
export LOGFLUX_PASSPHRASE="correct horse battery"
key="$WORK/k/customer.key"
run keys init --out "$key"
expect_rc 0 "keys init"
[ "$(stat -c %a "$key")" = 600 ] && ok || bad "private key mode $(stat -c %a "$key")"
[ -f "$key.pub" ] && ok || bad "no $key.pub"
grep -q "BEGIN ENCRYPTED PRIVATE KEY" "$key" && ok || bad "private key not encrypted PKCS#8"
want_fp="SHA256:$(openssl pkey -pubin -in "$key.pub" -outform DER | sha256sum | cut -d' ' -f1)"
grep -q "$want_fp" "$out" && ok || bad "keys init fingerprint differs from openssl's ($want_fp): $(cat "$out")"
openssl pkey -pubin -in "$key.pub" -text -noout | grep -q "4096 bit" && ok || bad "not RSA-4096"
LOGFLUX_PASSPHRASE=x openssl pkey -in "$key" -passin env:LOGFLUX_PASSPHRASE -noout 2>/dev/null &&
    bad "key opens with a wrong passphrase" || ok
run keys init --out "$key"
[ "$rc" -ne 0 ] && ok || bad "keys init overwrote an existing key"
run keys show --key "$key"
expect_rc 0 "keys show"
grep -q "$want_fp" "$out" && grep -q 4096 "$out" && grep -q "$key" "$out" && ok || bad "keys show: $(cat "$out")"
run keys show --key "$key" -o json
expect_rc 0 "keys show -o json"
json_ok <"$out" && ok || bad "keys show -o json is not JSON"
grep -q "\"fingerprint\": \"$want_fp\"" "$out" && ok || bad "keys show json lacks the fingerprint"
run keys export-public --key "$key"
expect_rc 0 "keys export-public"
cmp -s "$out" "$key.pub" && ok || bad "export-public differs from $key.pub"
# Without the .pub file the private key is opened: a wrong passphrase is exit 6.
mkdir -p "$WORK/k2" && cp "$key" "$WORK/k2/only.key"
LOGFLUX_PASSPHRASE=wrong run keys show --key "$WORK/k2/only.key"
expect_rc 6 "wrong passphrase"
grep -q "wrong passphrase for $WORK/k2/only.key" "$err" && ok || bad "wrong passphrase message: $(cat "$err")"
run keys export-public --key "$WORK/k2/only.key"
expect_rc 0 "export-public from the private key"
cmp -s "$out" "$key.pub" && ok || bad "public half of the private key differs from .pub"

# ---- login and the profile ----
run login --endpoint "$SERVER_URL" --token "$ADMIN_TOKEN" --ca "$SERVER_CA"
expect_rc 0 "login"
profile="$XDG_CONFIG_HOME/logflux/default.yaml"
[ "$(stat -c %a "$profile" 2>/dev/null)" = 600 ] && ok || bad "profile mode $(stat -c %a "$profile" 2>/dev/null)"
# The configured key for the rest of the test.
export LOGFLUX_KEY="$key"
run admin apps list
expect_rc 0 "admin without flags after login"
# login with a bad token stores nothing.
cp "$profile" "$WORK/profile.before"
run login --token "eu-lf_usr_0000000000000000_nope"
expect_rc 3 "login with a garbage token"
cmp -s "$profile" "$WORK/profile.before" && ok || bad "a failed login changed the profile"
# Token from stdin when it is not a terminal.
echo "$ADMIN_TOKEN" | "$LOGFLUX" --profile piped login --endpoint "$SERVER_URL" --ca "$SERVER_CA" >/dev/null 2>"$err" &&
    ok || bad "login with the token on stdin: $(cat "$err")"
# A group-readable profile is refused.
chmod 640 "$profile"
run admin apps list
[ "$rc" -ne 0 ] && grep -q "mode" "$err" && ok || bad "group-readable profile accepted"
chmod 600 "$profile"

# ---- admin ----
run admin keys register
expect_rc 0 "admin keys register"
grep -q "$want_fp" "$out" && ok || bad "register fingerprint: $(cat "$out")"
run admin keys list -o json
expect_rc 0 "admin keys list"
json_ok <"$out" && grep -q "$want_fp" "$out" && ok || bad "keys list json: $(cat "$out")"
run admin keys register --public-key "$WORK/k2/only.key"
[ "$rc" -ne 0 ] && ok || bad "a private key file accepted as --public-key"

run admin apps create checkout
expect_rc 0 "apps create"
run admin apps create checkout
expect_rc 1 "apps create twice (409)"
run admin apps list
grep -q "^checkout " "$out" && ok || bad "apps list: $(cat "$out")"
run admin apps list -o json
json_ok <"$out" && grep -q '"name": "checkout"' "$out" && ok || bad "apps list json"
run admin apps list -o csv
head -1 "$out" | grep -q "^NAME,ID,CREATED" && ok || bad "apps list csv: $(cat "$out")"

run_created admin api-keys create --app checkout --label web --expires-in 90d -o json
expect_rc 0 "api-keys create"
json_ok <"$out" && ok || bad "api-keys create json"
api_key=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["api_key"])' <"$out")
api_key_id=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])' <"$out")
[ -n "$api_key" ] && ok || bad "no api key"
run admin api-keys create --label x
expect_rc 2 "api-keys create without --app"
run admin api-keys create --app nosuchapp
expect_rc 4 "api-keys create for an unknown app"
run admin api-keys list
grep -q "$api_key_id" "$out" && grep -q web "$out" && ok || bad "api-keys list: $(cat "$out")"
run admin api-keys list -o json
json_ok <"$out" && ok || bad "api-keys list json"
# The API key works for discovery, then is refused after revocation.
curl -s -o /dev/null -w '%{http_code}' --cacert "$SERVER_CA" -H "Authorization: Bearer $api_key" \
    "$SERVER_URL/api/discovery" | grep -q 200 && ok || bad "new API key refused"
run admin api-keys revoke "$api_key_id"
expect_rc 0 "api-keys revoke"
curl -s -o /dev/null -w '%{http_code}' --cacert "$SERVER_CA" -H "Authorization: Bearer $api_key" \
    "$SERVER_URL/api/discovery" | grep -q 401 && ok || bad "revoked API key still accepted"
run admin api-keys revoke nosuchid
[ "$rc" -ne 0 ] && ok || bad "revoking an unknown id succeeded"

run_created admin tokens create --scope read --label reader
expect_rc 0 "tokens create"
read_token=$(sed -n 's/^token: *//p' "$out")
read_id=$(sed -n 's/^id: *//p' "$out")
[ -n "$read_token" ] && [ -n "$read_id" ] && ok || bad "tokens create text: $(cat "$out")"
run --token "$read_token" admin apps list
expect_rc 3 "admin command with a read token"
run admin tokens list -o json
json_ok <"$out" && grep -q "$read_id" "$out" && ok || bad "tokens list json"
run admin tokens create --scope superuser
[ "$rc" -ne 0 ] && ok || bad "bad scope accepted"
run admin tokens create
expect_rc 2 "tokens create without --scope"
run admin tokens revoke "$read_id"
expect_rc 0 "tokens revoke"
run --token "$read_token" login
expect_rc 3 "revoked token"

# Expired and garbage tokens.
run_created admin tokens create --scope admin --expires-in 1s
short_token=$(sed -n 's/^token: *//p' "$out")
sleep 2.2
run --token "$short_token" admin apps list
expect_rc 3 "expired token"
run --token "garbage" admin apps list
expect_rc 3 "garbage token"

# ---- precedence: flags > env > profile ----
# The profile points at the server; the environment at a dead port; the flag back again.
LOGFLUX_ENDPOINT="https://127.0.0.1:9" run admin apps list
expect_rc 5 "env endpoint overrides the profile (unreachable)"
LOGFLUX_ENDPOINT="https://127.0.0.1:9" run --endpoint "$SERVER_URL" admin apps list
expect_rc 0 "flag endpoint overrides env"
LOGFLUX_TOKEN=garbage run admin apps list
expect_rc 3 "env token overrides the profile"
LOGFLUX_TOKEN=garbage run --token "$ADMIN_TOKEN" admin apps list
expect_rc 0 "flag token overrides env"

# ---- unreachable and untrusted ----
run --endpoint https://127.0.0.1:9 admin apps list
expect_rc 5 "unreachable endpoint"
mv "$profile" "$WORK/profile.saved"
run --endpoint "$SERVER_URL" --token "$ADMIN_TOKEN" admin apps list
expect_rc 5 "unknown CA"
grep -qi "certificate\|TLS" "$err" && ok || bad "unknown CA message: $(cat "$err")"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$WORK/other.key" -out "$WORK/other.pem" \
    -subj /CN=other -days 1 2>/dev/null
run --endpoint "$SERVER_URL" --token "$ADMIN_TOKEN" --ca "$WORK/other.pem" admin apps list
expect_rc 5 "wrong CA"
run --endpoint "$SERVER_URL" --token "$ADMIN_TOKEN" --insecure admin apps list
[ "$rc" -ne 0 ] && ok || bad "--insecure accepted"
run --endpoint "http://127.0.0.1:9" --token "$ADMIN_TOKEN" admin apps list
[ "$rc" -ne 0 ] && ok || bad "plain http endpoint accepted"
LOGFLUX_CA="$SERVER_CA" run --endpoint "$SERVER_URL" --token "$ADMIN_TOKEN" admin apps list
expect_rc 0 "LOGFLUX_CA"
# Discovery: a region-prefixed token and no endpoint.
LOGFLUX_DISCOVERY_URL="https://127.0.0.1:9/{region}" run --token "$ADMIN_TOKEN" admin apps list
expect_rc 5 "discovery host unreachable"
# A second logfluxd plays the discovery host: it announces the first one as backend_url.
"$LOGFLUXD" init --data "$WORK/disc" --tenant disc >/dev/null
"$LOGFLUXD" serve --data "$WORK/disc" --listen 127.0.0.1:0 --set "public_url=$SERVER_URL" \
    2>"$WORK/disc.log" &
disc_pid=$!
disc_port=""
for _ in $(seq 200); do
    disc_port=$(sed -n 's/.*serving on .* port \([0-9]*\).*/\1/p' "$WORK/disc.log" | head -1)
    [ -n "$disc_port" ] && break
    sleep 0.05
done
cat "$SERVER_CA" "$WORK/disc/tls/cert.pem" >"$WORK/both.pem"
LOGFLUX_DISCOVERY_URL="https://127.0.0.1:$disc_port/{region}/nothing-here" \
    run --token "$ADMIN_TOKEN" --ca "$WORK/both.pem" admin apps list
expect_rc 4 "discovery document not found"
LOGFLUX_DISCOVERY_URL="https://127.0.0.1:$disc_port" \
    run --token "$ADMIN_TOKEN" --ca "$WORK/both.pem" admin apps list
expect_rc 0 "endpoint found through discovery"
grep -q "^checkout " "$out" && ok || bad "discovery went to the wrong server: $(cat "$out")"
kill -TERM "$disc_pid"
wait "$disc_pid" 2>/dev/null
mv "$WORK/profile.saved" "$profile"

# ---- help and version ----
run --version
expect_rc 0 "--version"
run admin --help
grep -q "api-keys create" "$out" && ok || bad "admin --help"
run nosuchcommand
expect_rc 2 "unknown command"

# ---- no secret printed except at creation ----
for s in "$ADMIN_TOKEN" "$api_key" "$read_token" "$short_token" "$LOGFLUX_PASSPHRASE"; do
    # A credential's secret is its last 43 characters (it may itself contain '_'); a
    # passphrase is searched whole.
    case "$s" in *-lf_*) secret_part=${s: -43} ;; *) secret_part=$s ;; esac
    [ -n "$secret_part" ] || continue
    if grep -qF -- "$secret_part" "$WORK/all"; then bad "a secret was printed (…${secret_part: -4})"; else ok; fi
done
grep -q "PRIVATE KEY" "$WORK/all" && bad "private key material printed" || ok

lf_finish
