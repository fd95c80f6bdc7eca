#!/usr/bin/env bash
# logflux-agent SIGHUP reload, end to end: start with one tail input; add a second tail input
# on another file and SIGHUP while lines are being written to the first: the lines of both
# files arrive exactly once (the first file is not read again from its start, nothing written
# during the restart is lost). Then an invalid agent.yaml (an unknown key, then broken YAML)
# and SIGHUP: the error is logged, the agent keeps running with the previous configuration
# (same ops endpoint, no restart) and still ships new lines of both files.
# Usage: reload.sh LOGFLUX LOGFLUXD LOGFLUX_AGENT
set -u
source "$(dirname "$0")/lib/agent.bash"
agent_init "$@"
MARK="zq$(date +%s%N | tail -c 7)x"
COMMON="batch: {max_wait: 200ms}
inputs:
  - type: tail
    name: t1
    paths: ['$LOGS/one.log']
    read_from_head: true"
agent_config "$COMMON"
write_lines "$LOGS/one.log" "$MARK one" 0 200
agent_start || exit 1
check "first file shipped" wait_stored 200 60

# Reload with a second input, while a writer keeps appending to the first file.
write_lines "$LOGS/two.log" "$MARK two" 0 100
agent_config "$COMMON
  - type: tail
    name: t2
    paths: ['$LOGS/two.log']
    read_from_head: true"
check "check-config accepts the new file" "$LOGFLUX_AGENT" --check-config "$WORK/agent.yaml"
write_lines "$LOGS/one.log" "$MARK one" 200 600 0 20 &
WRITER=$!
sleep 0.3
kill -HUP "$AGENT_PID"
check "reload logged" wait_log 'reload: restarting with the new configuration' 30
check "agent restarted (second ops endpoint)" agent_wait_restart 2 30
wait $WRITER
write_lines "$LOGS/two.log" "$MARK two" 100 200
check "lines of both files stored" wait_stored 800 60
sleep 1 # a re-read of the first file would show up right after
check "first file: each line exactly once across the reload" check_exactly_once "$MARK one" 600
check "second file: each line exactly once" check_exactly_once "$MARK two" 200
[ "$(metric logflux_agent_input_records_total 'input="t2"')" -ge 200 ] && ok ||
    bad "input_records_total{input=\"t2\"} after the reload: $(metric logflux_agent_input_records_total 'input="t2"')"

# An invalid configuration: logged, ignored, the agent carries on with the running one.
invalid_reload() { # invalid_reload WHAT ONE_FROM ONE_TO TWO_FROM TWO_TO
    local what=$1 ops_before=$OPS_URL
    local restarts
    restarts=$(grep -c 'ops endpoint on .* port [0-9]' "$AGENT_LOG")
    local errors
    errors=$(grep -c 'keeping the running configuration' "$AGENT_LOG")
    kill -HUP "$AGENT_PID"
    local i
    for i in $(seq 300); do
        [ "$(grep -c 'keeping the running configuration' "$AGENT_LOG")" -gt "$errors" ] && break
        sleep 0.1
    done
    [ "$(grep -c 'keeping the running configuration' "$AGENT_LOG")" -gt "$errors" ] && ok ||
        bad "$what: no reload error in the log: $(tail -3 "$AGENT_LOG")"
    kill -0 "$AGENT_PID" 2>/dev/null && ok || bad "$what: the agent exited"
    sleep 0.5
    [ "$(grep -c 'ops endpoint on .* port [0-9]' "$AGENT_LOG")" -eq "$restarts" ] && ok ||
        bad "$what: the agent restarted on an invalid configuration"
    [ "$(curl -s -o /dev/null -w '%{http_code}' "$ops_before/health")" = 200 ] && ok ||
        bad "$what: the ops endpoint stopped answering"
    write_lines "$LOGS/one.log" "$MARK one" "$2" "$3"
    write_lines "$LOGS/two.log" "$MARK two" "$4" "$5"
}
agent_config "$COMMON
    bogus_option: 1"
"$LOGFLUX_AGENT" --check-config "$WORK/agent.yaml" >/dev/null 2>&1 && bad "check-config accepts an unknown key" || ok
invalid_reload "unknown key" 600 700 200 300
grep -q -E 'reload: .*bogus_option' "$AGENT_LOG" && ok ||
    bad "the reload error does not name the bad key: $(grep 'reload:' "$AGENT_LOG" | tail -1)"
printf 'endpoint: "unterminated\ninputs: [\n' >"$WORK/agent.yaml"
invalid_reload "broken YAML" 700 800 300 400
check "new lines shipped after the refused reloads" wait_stored 1200 60
sleep 1
check "first file: exactly once to the end" check_exactly_once "$MARK one" 800
check "second file: exactly once to the end" check_exactly_once "$MARK two" 400
check_no_plaintext "$MARK"
cat "$WORK"/agent.*.log | grep -q -F "$MARK" && bad "record content in the agent's own log" || ok

agent_stop
[ "${AGENT_RC:-1}" -eq 0 ] && ok || bad "agent exit status after SIGTERM: ${AGENT_RC:-?}"
lf_finish
