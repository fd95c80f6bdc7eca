// worker_duckdb.mjs — every Parquet file the worker produces is read by DuckDB (an independent
// Parquet implementation) and compared with what was sent through the spool: rows (every
// column, byte for byte), the schema's types, and the min/max statistics of ts and ts_max in
// every row group. lf-worker-tool (tools/worker) runs spool -> worker -> store in a temporary
// directory and prints the rows it sent and the files the manifest lists.
// Run as: node worker_duckdb.mjs <lf-vectors path> <vectors dir>
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';

const lfVectors = process.argv[2];
const buildRoot = path.resolve(path.dirname(lfVectors), '..');
const tool = path.join(buildRoot, 'tools', 'worker', 'lf-worker-tool');
const here = path.dirname(new URL(import.meta.url).pathname);
const require = createRequire(path.join(here, '..', 'node', 'package.json'));
const { DuckDBInstance } = require('@duckdb/node-api');

let passed = 0, failed = 0;
function check(cond, what) {
  if (cond) passed++;
  else { failed++; console.error('FAIL:', what); }
}

const EXPECTED_TYPES = {
  tenant: 'VARCHAR', app: 'VARCHAR', format: 'INTEGER', kind: 'INTEGER', entry_type: 'INTEGER',
  flags: 'INTEGER', key_id: 'VARCHAR', sequence: 'BIGINT', ts: 'TIMESTAMP_NS',
  ts_max: 'TIMESTAMP_NS', count: 'INTEGER', nonce: 'BLOB', search_tokens: 'BLOB',
  ciphertext: 'BLOB', ingest_time: 'TIMESTAMP_NS', spool_seq: 'BIGINT',
};

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lfwk-duck-'));
try {
  const out = execFileSync(tool, ['run', dir, '40'], { maxBuffer: 64 << 20 }).toString();
  const spec = JSON.parse(out);
  const sent = new Map(spec.rows.map((r) => [r.ciphertext, r]));
  check(spec.files.length >= 6, `several files (${spec.files.length})`);
  const inst = await DuckDBInstance.create(':memory:');
  const c = await inst.connect();
  const seen = new Map();
  for (const f of spec.files) {
    const q = (s) => s.replaceAll("'", "''");
    // hive_partitioning=false: the stored columns exactly, without the dt/hour path columns.
    const src = `read_parquet('${q(f.path)}', hive_partitioning=false, file_row_number=true)`;
    const types = (await c.runAndReadAll(`DESCRIBE SELECT * EXCLUDE (file_row_number) FROM ${src}`))
      .getRowObjectsJson();
    check(types.length === 16, `${f.key}: 16 columns`);
    for (const t of types)
      check(EXPECTED_TYPES[t.column_name] === t.column_type,
        `${f.key}: ${t.column_name} is ${t.column_type}`);
    const rows = (await c.runAndReadAll(
      `SELECT tenant, app, format, kind, entry_type, flags, key_id, sequence::VARCHAR AS sequence,
              epoch_ns(ts)::VARCHAR AS ts, epoch_ns(ts_max)::VARCHAR AS ts_max, count,
              hex(nonce) AS nonce, hex(search_tokens) AS search_tokens,
              hex(ciphertext) AS ciphertext, epoch_ns(ingest_time)::VARCHAR AS ingest_time,
              spool_seq::VARCHAR AS spool_seq, file_row_number::INTEGER AS frn
       FROM ${src} ORDER BY file_row_number`)).getRowObjectsJson();
    check(rows.length === f.rows, `${f.key}: ${rows.length} rows, manifest says ${f.rows}`);
    let prev = -1n;
    for (const r of rows) {
      const want = sent.get(r.ciphertext);
      check(want !== undefined, `${f.key}: row ${r.frn} was sent`);
      if (!want) continue;
      seen.set(r.ciphertext, (seen.get(r.ciphertext) || 0) + 1);
      for (const k of Object.keys(want))
        check(String(r[k]) === String(want[k]), `${f.key} row ${r.frn} ${k}: ${r[k]} != ${want[k]}`);
      check(BigInt(r.ts) >= prev, `${f.key}: sorted by ts`);
      prev = BigInt(r.ts);
      check(BigInt(r.ts) >= BigInt(f.ts_min) && BigInt(r.ts_max) <= BigInt(f.ts_max),
        `${f.key}: row inside the manifest's time range`);
    }
    // Statistics: per row group, min(ts) and max(ts_max) as the data says.
    const meta = (await c.runAndReadAll(
      `SELECT row_group_id::INTEGER AS rg, row_group_num_rows::INTEGER AS n, path_in_schema AS col,
              epoch_ns(stats_min_value::TIMESTAMP_NS)::VARCHAR AS mn,
              epoch_ns(stats_max_value::TIMESTAMP_NS)::VARCHAR AS mx
       FROM parquet_metadata('${q(f.path)}') WHERE path_in_schema IN ('ts', 'ts_max')
       ORDER BY row_group_id, path_in_schema`)).getRowObjectsJson();
    const groups = new Map();
    for (const m of meta) {
      if (!groups.has(m.rg)) groups.set(m.rg, { n: m.n });
      groups.get(m.rg)[m.col] = m;
    }
    check(groups.size === Math.ceil(f.rows / f.row_group_rows), `${f.key}: row group count`);
    let start = 0;
    for (const [rg, g] of [...groups.entries()].sort((a, b) => a[0] - b[0])) {
      const part = rows.slice(start, start + g.n);
      start += g.n;
      for (const col of ['ts', 'ts_max']) {
        const vals = part.map((r) => BigInt(r[col]));
        const mn = vals.reduce((a, b) => (b < a ? b : a));
        const mx = vals.reduce((a, b) => (b > a ? b : a));
        check(g[col] && BigInt(g[col].mn) === mn, `${f.key} rg ${rg} ${col} min`);
        check(g[col] && BigInt(g[col].mx) === mx, `${f.key} rg ${rg} ${col} max`);
      }
    }
    check(start === rows.length, `${f.key}: row groups cover the rows`);
  }
  // Every sent row exactly once across all files.
  check(seen.size === sent.size, `all ${sent.size} rows found (${seen.size})`);
  check([...seen.values()].every((n) => n === 1), 'no row twice');
  // DuckDB over the whole Hive tree at once sees the same row count.
  const all = (await c.runAndReadAll(
    `SELECT count(*)::INTEGER AS n FROM read_parquet('${dir}/objects/**/*.parquet', hive_partitioning=false)`))
    .getRowObjectsJson();
  check(all[0].n === sent.size, 'glob over the store');
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
