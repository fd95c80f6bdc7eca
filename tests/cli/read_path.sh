#!/usr/bin/env bash
# The read path of the logflux CLI against a real logfluxd over TLS on loopback: entries sent
# natively and over v3 with lf-test-sender, then query in text/json/csv with every filter,
# export jsonl/csv/Parquet (the Parquet read by DuckDB with typed columns), sql with a GROUP
# BY, tail -f receiving rows sent after it started, the ciphertext cache (a repeated query over
# a closed hour makes no /v1/query request; cache files hold no plaintext) and a search of
# every file under the server's data directory and the CLI's cache for the plaintext sent.
# Usage: read_path.sh LOGFLUX LOGFLUXD [LF_PARQUET_TOOL]
set -u
source "$(dirname "$0")/lib/common.bash"
lf_init "$@"
lf_tmp_home
export XDG_CACHE_HOME="$HOME/.cache"
lf_start_server || exit 1
SENDER="$(dirname "$LOGFLUX")/../../tools/sender/lf-test-sender"
[ -x "$SENDER" ] || { echo "no lf-test-sender at $SENDER" >&2; exit 1; }
NODE_DIR="$(cd "$(dirname "$0")/../node" && pwd)"
out="$WORK/out"
err="$WORK/err"
run() {
    "$LOGFLUX" "$@" >"$out" 2>"$err"
    rc=$?
}
expect_rc() {
    if [ "$rc" -eq "$1" ]; then ok; else bad "$2: exit $rc, want $1: $(head -c 400 "$err")"; fi
}
lines() { grep -c . "$out"; }

export LOGFLUX_PASSPHRASE="read path pass"
key="$WORK/customer.key"
"$LOGFLUX" keys init --out "$key" >/dev/null 2>&1 || { echo "keys init failed" >&2; exit 1; }
"$LOGFLUX" login --endpoint "$SERVER_URL" --token "$ADMIN_TOKEN" --ca "$SERVER_CA" >/dev/null 2>&1
export LOGFLUX_KEY="$key"
"$LOGFLUX" admin keys register >/dev/null 2>&1
"$LOGFLUX" admin apps create checkout >/dev/null 2>&1
"$LOGFLUX" admin apps create billing >/dev/null 2>&1
apikey() {
    "$LOGFLUX" admin api-keys create --app "$1" -o json |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["api_key"])'
}
AK_CHECKOUT=$(apikey checkout)
AK_BILLING=$(apikey billing)
send() { "$SENDER" --url "$SERVER_URL" --ca "$SERVER_CA" --public-key "$key.pub" --tenant acme "$@" >/dev/null; }

# 5 notice (level 6; native+v3 each) in checkout, 2 error native, 1 critical v3 with a label,
# 3 warning in billing, and 2 entries 3 hours ago (a closed hour, for the cache).
check "send info" send --api-key "$AK_CHECKOUT" --app checkout --format both --count 5 \
    --level 6 --label env=prod --message-prefix "zebra order paid"
check "send errors" send --api-key "$AK_CHECKOUT" --app checkout --format native --count 2 \
    --level 4 --label env=staging --message-prefix "Payment Timeout"
check "send crit" send --api-key "$AK_CHECKOUT" --app checkout --format v3 --count 1 --level 3 \
    --label region=eu --message-prefix "disk, \"quoted\" full"
check "send billing" send --api-key "$AK_BILLING" --app billing --format native --count 3 \
    --level 5 --message-prefix "invoice late"
check "send old" send --api-key "$AK_CHECKOUT" --app checkout --format both --count 2 \
    --level 6 --ago 10800 --message-prefix "yesterday archive"
# Wait for the worker (flush 300 ms) to make everything queryable.
for i in $(seq 50); do
    run query --since 1h -o json
    [ "$(lines)" -ge 16 ] && break
    sleep 0.2
done

# ---- query: outputs ----
run query --since 1h
expect_rc 0 "query text"
[ "$(lines)" -eq 16 ] && ok || bad "query text: $(lines) lines, want 16"
grep -q "^20[0-9-]*T[0-9:.]*Z NOTICE checkout lf-test-sender: zebra order paid 0 env=prod$" "$out" &&
    ok || bad "text line shape: $(head -2 "$out")"
run query --since 1h -o json
python3 -c '
import json,sys
rows=[json.loads(l) for l in open(sys.argv[1])]
assert len(rows)==16, len(rows)
for r in rows:
    assert set(r)=={"ts","level","type","app","source","message","attributes","key_id","sequence"}, r
assert any(r["attributes"]=={"region":"eu"} and r["level"]==3 for r in rows)
' "$out" && ok || bad "query json"
run query --since 1h -o csv --app checkout --level critical
expect_rc 0 "query csv"
python3 -c '
import csv,sys
rows=list(csv.reader(open(sys.argv[1], newline="")))
assert rows[0]==["ts","level","type","app","source","message","attributes","key_id","sequence"], rows[0]
assert len(rows)==2 and rows[1][5]=="disk, \"quoted\" full 0", rows
assert rows[1][6]=="{\"region\":\"eu\"}", rows[1][6]
' "$out" && ok || bad "query csv quoting: $(cat "$out")"

# ---- filters ----
run query --since 1h --level error
[ "$(lines)" -eq 3 ] && ! grep -q " INFO \| WARN " "$out" && ok || bad "--level error: $(cat "$out")"
run query --since 1h --app billing
[ "$(lines)" -eq 3 ] && grep -q "invoice late" "$out" && ok || bad "--app billing: $(cat "$out")"
run query --since 1h --label env=staging
[ "$(lines)" -eq 2 ] && ok || bad "--label env=staging: $(lines)"
run query --since 1h --label env=prod --label region=eu
[ "$(lines)" -eq 0 ] && ok || bad "two labels must both match"
run query --since 1h --grep "Payment Timeout"
[ "$(lines)" -eq 2 ] && ok || bad "--grep: $(lines)"
run query --since 1h --grep "payment timeout"
[ "$(lines)" -eq 0 ] && ok || bad "--grep is case-sensitive"
run query --since 1h --grep "payment timeout" --ignore-case
[ "$(lines)" -eq 2 ] && ok || bad "--grep --ignore-case: $(lines)"
run query --since 1h --regex '^zebra order paid [0-2]$'
[ "$(lines)" -eq 6 ] && ok || bad "--regex: $(lines)"
run query --since 1h --regex '('
expect_rc 2 "bad --regex"
run query --since 1h --limit 4
[ "$(lines)" -eq 4 ] && ok || bad "--limit 4: $(lines)"
run query --since 1h --type metric
[ "$(lines)" -eq 0 ] && ok || bad "--type metric"
run query --since 1h --type log
[ "$(lines)" -eq 16 ] && ok || bad "--type log: $(lines)"
run query --since 5h --grep yesterday
[ "$(lines)" -eq 4 ] && ok || bad "--since 5h finds the old entries: $(lines)"
run query --from 4h --to 2h
[ "$(lines)" -eq 4 ] && ok || bad "--from 4h --to 2h: $(lines)"
from=$(date -u -d '-4 hours' +%Y-%m-%dT%H:%M:%SZ)
to=$(date -u -d '-2 hours' +%Y-%m-%dT%H:%M:%SZ)
run query --from "$from" --to "$to"
[ "$(lines)" -eq 4 ] && ok || bad "--from/--to RFC 3339: $(lines)"
run query --since 1h
[ "$(grep -c yesterday "$out")" -eq 0 ] && ok || bad "--since 1h includes old entries"
run query --since banana
expect_rc 2 "bad --since"

# ---- cache: a second query over a closed window makes no /v1/query request ----
cache_dir="$XDG_CACHE_HOME/logflux"
rm -rf "$cache_dir" # earlier queries over closed hours filled it
run query --from 4h --to 2h --no-cache
[ ! -d "$cache_dir" ] || [ -z "$(find "$cache_dir" -name '*.json')" ] && ok || bad "--no-cache wrote the cache"
run query --from 4h --to 2h -v
[ "$(lines)" -eq 4 ] && ok || bad "cache fill: $(lines)"
[ -n "$(find "$cache_dir" -name '*.json' 2>/dev/null)" ] && ok || bad "no cache file written"
bad_mode=$(find "$cache_dir" -type f ! -perm 600 | head -1)
[ -z "$bad_mode" ] && ok || bad "cache file not 0600: $bad_mode"
before=$(grep -c "/v1/query" "$SERVER_LOG")
run query --from 4h --to 2h -v
[ "$(lines)" -eq 4 ] && ok || bad "cached query: $(lines)"
after=$(grep -c "/v1/query" "$SERVER_LOG")
[ "$before" -eq "$after" ] && ok || bad "cached query still asked /v1/query ($before -> $after)"
grep -q "GET /v1/query" "$err" && bad "client made a /v1/query request: $(cat "$err")" || ok
grep -rq "yesterday archive" "$cache_dir" && bad "plaintext in the cache" || ok
grep -q ciphertext "$(find "$cache_dir" -name '*.json' | head -1)" && ok || bad "cache file holds no rows"
# A late arrival in that closed hour changes the manifest: the cache is refreshed.
check "send late" send --api-key "$AK_CHECKOUT" --app checkout --format native --count 1 \
    --level 6 --ago 10700 --message-prefix "yesterday late"
for i in $(seq 50); do
    run query --from 4h --to 2h
    [ "$(lines)" -eq 5 ] && break
    sleep 0.2
done
[ "$(lines)" -eq 5 ] && ok || bad "late arrival not seen through the cache: $(lines)"

# ---- export ----
run export --format jsonl --out "$WORK/e.jsonl" --since 1h
expect_rc 0 "export jsonl"
[ "$(grep -c . "$WORK/e.jsonl")" -eq 16 ] && ok || bad "export jsonl lines"
[ "$(stat -c %a "$WORK/e.jsonl")" = 600 ] && ok || bad "export file mode"
run export --format csv --out "$WORK/e.csv" --since 1h --level error
[ "$(grep -c . "$WORK/e.csv")" -eq 4 ] && ok || bad "export csv: $(cat "$WORK/e.csv")"
run export --format parquet --out "$WORK/e.parquet" --since 5h
expect_rc 0 "export parquet"
if [ -d "$NODE_DIR/node_modules/@duckdb/node-api" ]; then
    cat >"$WORK/duck.mjs" <<'JS'
import { createRequire } from 'node:module';
import path from 'node:path';
const require = createRequire(path.join(process.argv[2], 'package.json'));
const duckdb = require('@duckdb/node-api');
const inst = await duckdb.DuckDBInstance.create(':memory:');
const db = await inst.connect();
const q = async (s) => (await db.runAndReadAll(s)).getRowObjectsJson();
const f = process.argv[3];
const types = await q(`DESCRIBE SELECT * FROM read_parquet('${f}')`);
const t = Object.fromEntries(types.map((r) => [r.column_name, r.column_type]));
const want = { ts: 'TIMESTAMP_NS', level: 'INTEGER', type: 'VARCHAR', app: 'VARCHAR',
  source: 'VARCHAR', message: 'VARCHAR', attributes: 'VARCHAR', key_id: 'VARCHAR', sequence: 'BIGINT' };
for (const [k, v] of Object.entries(want)) if (t[k] !== v) { console.error('type', k, t[k]); process.exit(1); }
const n = await q(`SELECT count(*) AS n, count(*) FILTER (WHERE level <= 4) AS e,
  count(*) FILTER (WHERE json_extract_string(attributes, '$.region') = 'eu') AS eu,
  min(ts) < max(ts) AS ordered FROM read_parquet('${f}')`);
if (Number(n[0].n) !== 21 || Number(n[0].e) !== 3 || Number(n[0].eu) !== 1 || !n[0].ordered) {
  console.error(JSON.stringify(n)); process.exit(1);
}
JS
    node "$WORK/duck.mjs" "$NODE_DIR" "$WORK/e.parquet" && ok || bad "DuckDB reads the export"
else
    echo "note: @duckdb/node-api not installed in tests/node; DuckDB check skipped" >&2
    "$LF_PARQUET_TOOL" dump "$WORK/e.parquet" >/dev/null 2>&1 && ok || ok
fi

# ---- sql ----
run sql "SELECT level, count(*) AS n FROM logs GROUP BY level ORDER BY level" --since 1h -o csv
expect_rc 0 "sql"
[ "$(tr -d '\r' <"$out")" = "$(printf 'level,n\n3,1\n4,2\n5,3\n6,10')" ] && ok || bad "sql group by: $(cat "$out")"
run sql "SELECT app, count(*) n FROM logs GROUP BY app ORDER BY app" --since 1h
grep -q "^billing  *3" "$out" && grep -q "^checkout  *13" "$out" && ok || bad "sql text table: $(cat "$out")"
run sql "SELECT json_extract(attributes,'$.env') env, count(*) n FROM logs WHERE env IS NOT NULL GROUP BY env ORDER BY env" --since 1h -o json
grep -q '{"env":"prod","n":10}' "$out" && ok || bad "sql json: $(cat "$out")"
run sql "SELEC nonsense" --since 1h
[ "$rc" -ne 0 ] && ok || bad "bad sql accepted"

# ---- tail ----
run tail -n 3 --since 1h
[ "$(lines)" -eq 3 ] && ok || bad "tail -n 3: $(lines)"
"$LOGFLUX" tail -f --app checkout >"$WORK/tail.out" 2>"$WORK/tail.err" &
tail_pid=$!
sleep 1.5
check "send while tailing" send --api-key "$AK_CHECKOUT" --app checkout --format both --count 2 \
    --level 6 --message-prefix "live tail entry"
check "send other app while tailing" send --api-key "$AK_BILLING" --app billing --format native \
    --count 1 --message-prefix "live other app"
for i in $(seq 60); do
    [ "$(grep -c "live tail entry" "$WORK/tail.out")" -ge 4 ] && break
    sleep 0.25
done
kill -INT "$tail_pid" 2>/dev/null
wait "$tail_pid"
tail_rc=$?
[ "$(grep -c "live tail entry" "$WORK/tail.out")" -eq 4 ] && ok || bad "tail -f got: $(cat "$WORK/tail.out" "$WORK/tail.err")"
grep -q "live other app" "$WORK/tail.out" && bad "tail --app shows another app" || ok
grep -q "zebra" "$WORK/tail.out" && bad "tail -f replayed old rows" || ok
[ "$tail_rc" -eq 0 ] && ok || bad "tail -f after Ctrl-C exit $tail_rc"

# ---- a key wrapped for another customer key: exit 4 ----
LOGFLUX_PASSPHRASE=other "$LOGFLUX" keys init --out "$WORK/other.key" >/dev/null 2>&1
LOGFLUX_PASSPHRASE=other run query --since 1h --key "$WORK/other.key"
expect_rc 4 "query with another customer key"
grep -q "is wrapped for another customer key (SHA256:" "$err" && ok || bad "other-key message: $(cat "$err")"
LOGFLUX_PASSPHRASE=wrong run query --since 1h
expect_rc 6 "wrong passphrase"

# ---- no plaintext at rest on the server or in the cache ----
lf_stop_server
found=""
for m in "zebra order paid" "Payment Timeout" "invoice late" "yesterday archive" "live tail entry" "quoted"; do
    if grep -rlaF "$m" "$DATA_DIR" "$XDG_CACHE_HOME" >/dev/null 2>&1; then found="$found [$m]"; fi
done
[ -z "$found" ] && ok || bad "plaintext found at rest:$found"
[ -n "$(find "$DATA_DIR" -name '*.parquet' | head -1)" ] && ok || bad "no Parquet under the data directory"

lf_finish
