# common.bash — helpers sourced by the CLI end-to-end tests (tests/cli/*.sh). Not a test itself
# (it lives in lib/ so the ctest glob does not pick it up).
#
# Usage in a test:
#   source "$(dirname "$0")/lib/common.bash"
#   lf_init "$@"          # LOGFLUX, LOGFLUXD, LF_PARQUET_TOOL, WORK (temp dir), cleanup trap
#   lf_tmp_home           # HOME and XDG_CONFIG_HOME under $WORK, LOGFLUX_* cleared
#   lf_start_server       # SERVER_URL SERVER_CA ADMIN_TOKEN DATA_DIR SERVER_PID SERVER_LOG
#   ok / bad "message"    # count results; lf_finish prints "N passed, M failed" and exits
#   lf_stop_server        # SIGTERM, wait (also done by the EXIT trap)
# Function names are stable: other tests rely on them.

LF_PASSED=0
LF_FAILED=0
SERVER_PID=""

ok() { LF_PASSED=$((LF_PASSED + 1)); }
bad() {
    LF_FAILED=$((LF_FAILED + 1))
    echo "FAIL: $*" >&2
}
# check DESCRIPTION COMMAND...: ok if the command succeeds, bad otherwise.
check() {
    local what=$1
    shift
    if "$@"; then ok; else bad "$what"; fi
}

lf_cleanup() {
    lf_stop_server
    if [ -n "${WORK:-}" ] && [ -z "${LF_KEEP:-}" ]; then rm -rf "$WORK"; fi
}

# lf_init LOGFLUX LOGFLUXD [LF_PARQUET_TOOL]: the arguments ctest passes to every CLI test.
lf_init() {
    LOGFLUX=$1
    LOGFLUXD=$2
    LF_PARQUET_TOOL=${3:-}
    export LOGFLUX LOGFLUXD LF_PARQUET_TOOL
    WORK=$(mktemp -d /tmp/lf-cli-test.XXXXXX)
    export WORK
    trap lf_cleanup EXIT
}

# A temporary HOME (and XDG_CONFIG_HOME) so no profile of the user leaks in or out; every
# LOGFLUX_* variable is cleared.
lf_tmp_home() {
    [ -n "${WORK:-}" ] || WORK=$(mktemp -d /tmp/lf-cli-test.XXXXXX)
    export HOME="$WORK/home"
    export XDG_CONFIG_HOME="$HOME/.config"
    mkdir -p "$XDG_CONFIG_HOME"
    chmod 700 "$HOME"
    unset LOGFLUX_ENDPOINT LOGFLUX_TOKEN LOGFLUX_KEY LOGFLUX_PASSPHRASE LOGFLUX_CA \
        LOGFLUX_PROFILE LOGFLUX_DISCOVERY_URL
}

# Start a fresh logfluxd on a free loopback port over TLS. Extra arguments go to `serve`.
# Sets SERVER_URL, SERVER_CA, ADMIN_TOKEN, DATA_DIR, SERVER_PID, SERVER_LOG.
lf_start_server() {
    [ -n "${WORK:-}" ] || WORK=$(mktemp -d /tmp/lf-cli-test.XXXXXX)
    DATA_DIR="$WORK/data"
    SERVER_LOG="$WORK/server.log"
    "$LOGFLUXD" init --data "$DATA_DIR" --tenant acme >"$WORK/init.json" || {
        echo "logfluxd init failed" >&2
        return 1
    }
    ADMIN_TOKEN=$(sed -n 's/.*"admin_token": *"\([^"]*\)".*/\1/p' "$WORK/init.json")
    SERVER_CA=$(sed -n 's/.*"tls_cert": *"\([^"]*\)".*/\1/p' "$WORK/init.json")
    [ -n "$SERVER_CA" ] && [ -f "$SERVER_CA" ] || SERVER_CA="$DATA_DIR/tls/cert.pem"
    "$LOGFLUXD" serve --data "$DATA_DIR" --listen 127.0.0.1:0 \
        --set worker.flush_interval=300ms "$@" 2>"$SERVER_LOG" &
    SERVER_PID=$!
    local port="" i
    for i in $(seq 200); do
        port=$(sed -n 's/.*serving on .* port \([0-9]*\).*/\1/p' "$SERVER_LOG" | head -1)
        [ -n "$port" ] && break
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.05
    done
    if [ -z "$port" ]; then
        echo "logfluxd did not start:" >&2
        cat "$SERVER_LOG" >&2
        return 1
    fi
    SERVER_URL="https://127.0.0.1:$port"
    export SERVER_URL SERVER_CA ADMIN_TOKEN DATA_DIR SERVER_PID SERVER_LOG
}

# Stop the server started by lf_start_server (SIGTERM, then SIGKILL after 10 s).
lf_stop_server() {
    [ -n "${SERVER_PID:-}" ] || return 0
    kill -TERM "$SERVER_PID" 2>/dev/null
    local i
    for i in $(seq 100); do
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.1
    done
    kill -9 "$SERVER_PID" 2>/dev/null
    wait "$SERVER_PID" 2>/dev/null
    SERVER_PID=""
}

# Print the summary line ctest and CI read, and exit with the right status.
lf_finish() {
    echo "$LF_PASSED passed, $LF_FAILED failed"
    [ "$LF_FAILED" -eq 0 ]
    exit $?
}
