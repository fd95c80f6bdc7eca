#!/usr/bin/env bash
# An agent configured with only the customer key's fingerprint: it asks the server for the key,
# accepts it only because it matches the pin, caches it, and seals (every line stored exactly
# once, decrypted by the CLI). Restarted with the server down, it seals from the cached key.
# With a wrong fingerprint it refuses the server's key, seals nothing, says why, and its health
# reports the key as still being fetched.
# Usage: key_fetch.sh LOGFLUX LOGFLUXD LOGFLUX_AGENT
set -u
source "$(dirname "$0")/lib/agent.bash"
agent_init "$@"
[ -n "$FINGERPRINT" ] || { echo "no fingerprint from logflux keys show" >&2; exit 1; }
MARK="kf$(date +%s%N | tail -c 7)x"
INPUTS="batch: {max_wait: 200ms}
inputs:
  - type: tail
    name: app
    paths: ['$LOGS/*.log']
    read_from_head: true"
# agent_config writes public_key_file; drop it so only the fingerprint remains.
agent_config "$INPUTS"
sed -i '/^public_key_file:/d' "$WORK/agent.yaml"
grep -q "^public_key_fingerprint: $FINGERPRINT" "$WORK/agent.yaml" && ok || bad "config lacks the pin"
write_lines "$LOGS/app.log" "$MARK" 0 300
agent_start || exit 1
check "lines stored with a fetched key" wait_stored 300 60
check "each exactly once" check_exactly_once "$MARK" 300
[ -s "$STATE/customer-key.pem" ] && ok || bad "fetched key not cached"
cmp -s "$STATE/customer-key.pem" "$KEY.pub" && ok || bad "cached key differs from the customer's"
grep -q "fetched from the server" "$WORK/agent.$AGENT_STARTS.log" && ok || bad "no log of the fetch"
agent_stop

# Server down: the cached key is enough.
server_down
write_lines "$LOGS/app.log" "$MARK" 300 400
agent_start || exit 1
for t in $(seq 100); do
    [ "$(metric logflux_agent_sealed_records_total)" -ge 100 ] && break
    sleep 0.1
done
[ "$(metric logflux_agent_sealed_records_total)" -ge 100 ] && ok || bad "no sealing from the cached key"
check_no_plaintext "$MARK"
check "server back" server_up
check "all stored" wait_stored 400 60
check "all exactly once" check_exactly_once "$MARK" 400
agent_stop

# A pin the server's key does not match: nothing is sealed to the server's key.
rm -rf "$STATE"
sed -i "s/^public_key_fingerprint: .*/public_key_fingerprint: SHA256:$(printf '%064d' 0)/" "$WORK/agent.yaml"
write_lines "$LOGS/app.log" "$MARK" 400 450
agent_start || exit 1
for t in $(seq 100); do
    grep -q "refusing to seal to it" "$WORK/agent.$AGENT_STARTS.log" && break
    sleep 0.1
done
grep -q "refusing to seal to it" "$WORK/agent.$AGENT_STARTS.log" && ok || bad "wrong key not refused"
[ "$(metric logflux_agent_sealed_records_total)" -eq 0 ] && ok || bad "sealed with an unpinned key"
[ ! -e "$STATE/customer-key.pem" ] && ok || bad "an unpinned key was cached"
curl -s "$OPS_URL/health" | grep -q '"customer_key":"fetching"' && ok || bad "health: $(curl -s "$OPS_URL/health")"
agent_stop
[ "${AGENT_RC:-1}" -eq 0 ] && ok || bad "exit status while fetching: ${AGENT_RC:-?}"
lf_finish
