#!/usr/bin/env bash
# The shipped packaging stays in step with the agent: the agent.yaml inside the Kubernetes
# DaemonSet's ConfigMap passes `logflux-agent --check-config`, and the systemd unit passes
# `systemd-analyze verify` (with ExecStart pointed at the built binary).
# Usage: packaging.sh LOGFLUX LOGFLUXD LOGFLUX_AGENT
set -u
source "$(dirname "$0")/../cli/lib/common.bash"
lf_init "$1" "$2"
AGENT=$3
PKG="$(cd "$(dirname "$0")/../../packaging" && pwd)"

# The ConfigMap's block scalar: the lines indented under "agent.yaml: |".
awk '/^  agent.yaml: \|/ {on = 1; next}
     on && /^    / {print substr($0, 5); next}
     on && /^[[:space:]]*$/ {print ""; next}
     on {exit}' "$PKG/kubernetes/logflux-agent-daemonset.yaml" >"$WORK/k8s-agent.yaml"
[ "$(grep -c 'type: kubernetes' "$WORK/k8s-agent.yaml")" -ge 1 ] && ok ||
    bad "could not extract agent.yaml from the DaemonSet"
if "$AGENT" --check-config "$WORK/k8s-agent.yaml" >"$WORK/check.out" 2>&1; then ok; else
    bad "DaemonSet agent.yaml: $(cat "$WORK/check.out")"
fi

if command -v systemd-analyze >/dev/null 2>&1; then
    sed "s|/usr/bin/logflux-agent|$AGENT|g" "$PKG/logflux-agent.service" >"$WORK/logflux-agent.service"
    if systemd-analyze verify "$WORK/logflux-agent.service" >"$WORK/verify.out" 2>&1; then ok; else
        bad "systemd-analyze verify: $(cat "$WORK/verify.out")"
    fi
fi
lf_finish
