#!/usr/bin/env bash
# spool_crash.sh — kill -9 the spool at random moments during concurrent appends; after every
# restart each acknowledged record above the release position must be present exactly once with
# the content that was acknowledged.
#   usage: spool_crash.sh <path to spool-crash> [rounds]
# Bounded: `rounds` rounds (default 15), each appending for at most 2 s; about 30 s in total.
set -euo pipefail
driver=${1:?usage: spool_crash.sh <spool-crash> [rounds]}
rounds=${2:-15}
work=$(mktemp -d /tmp/lf-spool-crash-XXXXXX)
trap 'rm -rf "$work"' EXIT
spool="$work/spool"
acks="$work/acks"   # every ACK line of every round
rels="$work/rels"   # every REL line of every round
: >"$acks"
: >"$rels"
start=$SECONDS
for round in $(seq 1 "$rounds"); do
  "$driver" append "$spool" 8 >"$work/out" 2>"$work/err" &
  pid=$!
  # Random moment in 0.05 .. 2.0 s.
  ms=$((50 + RANDOM % 1950))
  sleep "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  grep '^ACK ' "$work/out" >>"$acks" || true
  grep '^REL ' "$work/out" >>"$rels" || true
  if ! "$driver" verify "$spool" >"$work/verify" 2>"$work/verr"; then
    echo "round $round: verify failed: $(cat "$work/verr")"; exit 1
  fi
  released=$(awk '/^RELEASED /{print $2}' "$work/verify")
  # Every release that returned must be durable.
  maxrel=$(awk 'BEGIN{m=0} {if ($2+0>m) m=$2+0} END{print m}' "$rels")
  if [ "$released" -lt "$maxrel" ]; then
    echo "round $round: release position $released below acknowledged release $maxrel"; exit 1
  fi
  # Every acknowledged record above the release position: present, once, same content.
  if ! awk -v rel="$released" -v round="$round" '
      FNR==NR { if ($1=="REC") { n[$2]++; h[$2]=$3; if (prev!="" && $2+0!=prev+1) { print "round " round ": sequence gap after " prev; bad=1 } prev=$2+0 } next }
      $1=="ACK" && $2+0>rel {
        checked++
        if (!($2 in h)) { print "round " round ": acknowledged record " $2 " is missing"; bad=1 }
        else if (n[$2]!=1) { print "round " round ": record " $2 " present " n[$2] " times"; bad=1 }
        else if (h[$2]!=$3) { print "round " round ": record " $2 " has the wrong content"; bad=1 }
      }
      END { if (bad) exit 1; print "round " round ": " checked " acknowledged records checked above " rel }
    ' "$work/verify" "$acks"; then
    exit 1
  fi
  if grep -q . "$work/err"; then echo "round $round: driver stderr: $(head -3 "$work/err")"; fi
  if [ $((SECONDS - start)) -gt 55 ]; then echo "time bound reached after $round rounds"; break; fi
done
total=$(wc -l <"$acks")
echo "spool crash test: $total acknowledged records over $round rounds, all present exactly once"
