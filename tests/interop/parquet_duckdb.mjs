// parquet_duckdb.mjs — proof that our Parquet writer and reader agree with DuckDB (an
// implementation no one here wrote), both ways.
//
//   C writes (lf-parquet-tool write) -> DuckDB reads: every row and value (all types, NULLs,
//   unicode strings, binary with zero bytes, 64-bit extremes), DESCRIBE types, parquet_schema()
//   logical types, parquet_metadata() statistics (min/max/null_count per row group and column),
//   ZSTD compression, row group sizes, key/value metadata.
//   DuckDB writes (COPY ... FORMAT PARQUET, COMPRESSION ZSTD / UNCOMPRESSED, dictionary pages and
//   all) -> C reads (lf-parquet-tool dump): rows and statistics equal what DuckDB itself reports.
//   Codecs we do not support (SNAPPY) must be refused cleanly.
//
// Run as: node parquet_duckdb.mjs <build>/tools/lf-vectors <vectors-dir>; the tool is found at
// <build>/tools/parquet/lf-parquet-tool. @duckdb/node-api comes from tests/node (scripts/deps.sh).
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '..', 'node', 'package.json'));
const duckdb = require('@duckdb/node-api');

const buildRoot = path.resolve(path.dirname(process.argv[2]), '..');
const tool = path.join(buildRoot, 'tools', 'parquet', 'lf-parquet-tool');

let passed = 0;
let failed = 0;
function check(cond, what) {
    if (cond) {
        passed++;
    } else {
        failed++;
        console.error('FAIL: ' + what);
    }
}
function eq(a, b, what) {
    const ok = JSON.stringify(a) === JSON.stringify(b);
    check(ok, ok ? what : `${what}: got ${JSON.stringify(a).slice(0, 300)}, want ${JSON.stringify(b).slice(0, 300)}`);
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lf-pq-duckdb-'));
const instance = await duckdb.DuckDBInstance.create(':memory:');
const db = await instance.connect();
async function rows(sql) {
    return (await db.runAndReadAll(sql)).getRowObjectsJson();
}
const q = (p) => `'${p.replace(/'/g, "''")}'`;

// DuckDB prints BLOBs with printable ASCII as is and other bytes as \xHH.
function blobBytes(s) {
    const out = [];
    for (let i = 0; i < s.length; i++) {
        if (s[i] === '\\' && s[i + 1] === 'x') {
            out.push(parseInt(s.substr(i + 2, 2), 16));
            i += 3;
        } else {
            out.push(s.charCodeAt(i));
        }
    }
    return Buffer.from(out).toString('hex');
}
// '2023-11-14 22:13:20.123456789' or '...123456+00' -> BigInt nanoseconds since the epoch.
function tsNanos(s) {
    const m = /^(-?\d{4,})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)(?:\.(\d+))?(?:\+00)?$/.exec(s);
    if (!m) return null;
    const ms = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]);
    const frac = BigInt(((m[7] || '') + '000000000').slice(0, 9));
    return BigInt(ms) * 1000000n + frac;
}

// ------------------------------------------------------------------ C writes, DuckDB reads
const columns = [
    { name: 'id', type: 'INT64', duck: 'BIGINT' },
    { name: 'b', type: 'BOOLEAN', optional: true, duck: 'BOOLEAN' },
    { name: 'i32', type: 'INT32', optional: true, duck: 'INTEGER' },
    { name: 'i64', type: 'INT64', optional: true, duck: 'BIGINT' },
    { name: 'f32', type: 'FLOAT', optional: true, duck: 'FLOAT' },
    { name: 'f64', type: 'DOUBLE', duck: 'DOUBLE' },
    { name: 'str', type: 'BYTE_ARRAY', logical: 'STRING', optional: true, duck: 'VARCHAR' },
    { name: 'bin', type: 'BYTE_ARRAY', optional: true, duck: 'BLOB' },
    { name: 'ts', type: 'INT64', logical: 'TIMESTAMP_NANOS', duck: 'TIMESTAMP WITH TIME ZONE' },
    { name: 'ts_local', type: 'INT64', logical: 'TIMESTAMP_NANOS', utc: false, optional: true,
      duck: 'TIMESTAMP_NS' },
    { name: 'i8', type: 'INT32', logical: 'INT8', optional: true, duck: 'TINYINT' },
    { name: 'i16', type: 'INT32', logical: 'INT16', duck: 'SMALLINT' },
    { name: 'u8', type: 'INT32', logical: 'UINT8', duck: 'UTINYINT' },
    { name: 'u16', type: 'INT32', logical: 'UINT16', optional: true, duck: 'USMALLINT' },
    { name: 'u32', type: 'INT32', logical: 'UINT32', duck: 'UINTEGER' },
    { name: 'u64', type: 'INT64', logical: 'UINT64', optional: true, duck: 'UBIGINT' },
    { name: 'flba', type: 'FIXED_LEN_BYTE_ARRAY', length: 4, optional: true, duck: 'BLOB' },
];
const NROWS = 700;
const words = ['', 'a', 'héllo wörld', '日本語テキスト', 'emoji 🎉🔐', 'plain ascii', 'zz', '\u0000nul'];
function rnd(i, k) {
    let x = BigInt(i * 7919 + k * 104729 + 1);
    x = (x * 6364136223846793005n + 1442695040888963407n) & 0xffffffffffffffffn;
    x ^= x >> 29n;
    return x;
}
const spec = [];
for (let i = 0; i < NROWS; i++) {
    const r = (k) => rnd(i, k);
    const signed64 = (x) => BigInt.asIntN(64, x).toString();
    spec.push([
        String(i),
        i % 5 === 0 ? null : (r(1) & 1n) === 1n,
        i % 7 === 1 ? null : Number(BigInt.asIntN(32, r(2))),
        i % 3 === 0 ? null : i === 1 ? '9223372036854775807' : i === 2 ? '-9223372036854775808' : signed64(r(3)),
        i % 11 === 0 ? null : Math.fround(Number(BigInt.asIntN(20, r(4))) / 8),
        Number(BigInt.asIntN(40, r(5))) / 1024,
        i % 9 === 4 ? null : words[i % words.length] + (i % 2 ? String(i) : ''),
        i % 6 === 0 ? null : Buffer.from(Array.from({ length: Number(r(6) % 48n) }, (_, k) => Number(rnd(i, k + 10) & 0xffn))).toString('hex'),
        (1700000000000000000n + BigInt(i) * 1234567891n).toString(),
        i % 4 === 3 ? null : (BigInt(i - 300) * 987654321123n + 7n).toString(),
        i % 8 === 0 ? null : Number(BigInt.asIntN(8, r(7))),
        Number(BigInt.asIntN(16, r(8))),
        Number(r(9) & 0xffn),
        i % 10 === 0 ? null : Number(r(10) & 0xffffn),
        Number(r(11) & 0xffffffffn) | 0,  // INT32 bit pattern of an unsigned 32-bit value
        i % 2 ? null : BigInt.asUintN(64, r(12)).toString(),
        i % 5 === 2 ? null : Buffer.from([0, 1, Number(r(13) & 0xffn), 255]).toString('hex'),
    ]);
}
// The UINT32 column takes the signed bit pattern on input; keep the unsigned value to compare.
const u32idx = columns.findIndex((c) => c.name === 'u32');
const specFile = path.join(tmp, 'spec.json');
const cFile = path.join(tmp, 'c_written.parquet');
fs.writeFileSync(specFile, JSON.stringify({
    columns,
    rows: spec,
    options: { rows_per_row_group: 256, page_size: 1024, kv: { 'logflux.test': 'ünïcode ✓', k2: 'v2' },
               created_by: 'logflux interop test' },
}));
execFileSync(tool, ['write', cFile, specFile]);

// DESCRIBE
const desc = await rows(`DESCRIBE SELECT * FROM read_parquet(${q(cFile)})`);
eq(desc.map((d) => d.column_name), columns.map((c) => c.name), 'DESCRIBE column names');
for (let k = 0; k < columns.length; k++)
    eq(desc[k].column_type, columns[k].duck, `DESCRIBE type of ${columns[k].name}`);

// parquet_schema(): physical and logical types as we declared them
const schema = await rows(`SELECT name, type, type_length, repetition_type, logical_type FROM parquet_schema(${q(cFile)})`);
for (const c of columns) {
    const s = schema.find((x) => x.name === c.name);
    check(s && s.type === c.type, `parquet_schema physical type of ${c.name}`);
    check(s && s.repetition_type === (c.optional ? 'OPTIONAL' : 'REQUIRED'), `repetition of ${c.name}`);
    if (c.logical === 'TIMESTAMP_NANOS')
        check(s && /TimestampType/.test(s.logical_type) && /NANOS=NanoSeconds/.test(s.logical_type) &&
              s.logical_type.includes(`isAdjustedToUTC=${c.utc === false ? 0 : 1}`), `logical type of ${c.name}`);
    if (c.type === 'FIXED_LEN_BYTE_ARRAY') eq(String(s.type_length), '4', 'FIXED_LEN_BYTE_ARRAY length');
}

// Every row and value. Timestamps as epoch nanoseconds (UTC-adjusted ones DuckDB keeps in
// microseconds), blobs as hex, wide integers as text.
const sel = columns.map((c) => {
    if (c.name === 'ts') return 'epoch_us(ts)::VARCHAR AS ts';
    if (c.name === 'ts_local') return 'epoch_ns(ts_local)::VARCHAR AS ts_local';
    if (c.duck === 'BLOB') return `lower(hex(${c.name})) AS ${c.name}`;
    return c.name;
}).join(', ');
const got = await rows(`SELECT ${sel} FROM read_parquet(${q(cFile)}) ORDER BY id`);
eq(got.length, NROWS, 'row count read by DuckDB');
let rowMismatch = 0;
for (let i = 0; i < NROWS && i < got.length; i++) {
    for (let k = 0; k < columns.length; k++) {
        const c = columns[k];
        let want = spec[i][k];
        let have = got[i][c.name];
        if (want === null) {
            if (have !== null) rowMismatch++;
            continue;
        }
        if (c.name === 'ts') want = (BigInt(want) / 1000n).toString();
        if (k === u32idx) want = want >>> 0;
        if (c.name === 'u64' || c.name === 'i64' || c.name === 'id' || c.name === 'ts_local') want = String(want);
        if (typeof have === 'number' && typeof want === 'number' ? have !== want : String(have) !== String(want)) {
            if (rowMismatch < 5) console.error(`row ${i} ${c.name}: DuckDB ${JSON.stringify(have)}, wrote ${JSON.stringify(want)}`);
            rowMismatch++;
        }
    }
}
eq(rowMismatch, 0, 'every value DuckDB reads equals what the C writer wrote');

// parquet_metadata(): statistics, compression, row groups
const meta = await rows(`SELECT row_group_id, row_group_num_rows, path_in_schema, compression, stats_min_value, stats_max_value, stats_null_count FROM parquet_metadata(${q(cFile)})`);
const groups = Math.ceil(NROWS / 256);
eq(meta.length, groups * columns.length, 'parquet_metadata row count (row groups x columns)');
check(meta.every((m) => m.compression === 'ZSTD'), 'every column chunk is ZSTD');
let statsBad = 0;
for (const m of meta) {
    const g = Number(m.row_group_id);
    const k = columns.findIndex((c) => c.name === m.path_in_schema);
    const c = columns[k];
    const slice = spec.slice(g * 256, Math.min(NROWS, (g + 1) * 256));
    if (Number(m.row_group_num_rows) !== slice.length) statsBad++;
    const vals = slice.map((row) => row[k]).filter((v) => v !== null);
    const nulls = slice.length - vals.length;
    if (Number(m.stats_null_count) !== nulls) {
        statsBad++;
        console.error(`null_count ${c.name} rg ${g}: ${m.stats_null_count} vs ${nulls}`);
    }
    if (vals.length === 0) continue;
    // Expected min/max in the column's type order, and DuckDB's text turned into the same form.
    let key, parse;
    if (c.type === 'BYTE_ARRAY' && c.logical === 'STRING') {
        key = (v) => Buffer.from(v, 'utf8');
        parse = (s) => Buffer.from(s, 'utf8');
    } else if (c.type === 'BYTE_ARRAY' || c.type === 'FIXED_LEN_BYTE_ARRAY') {
        key = (v) => Buffer.from(v, 'hex');
        parse = (s) => Buffer.from(blobBytes(s), 'hex');
    } else if (c.logical && c.logical.startsWith('TIMESTAMP')) {
        const div = c.utc === false ? 1n : 1000n; // DuckDB prints UTC-adjusted ones in microseconds
        key = (v) => BigInt(v) / div;
        parse = (s) => tsNanos(s) / div;
    } else if (c.type === 'BOOLEAN') {
        key = (v) => (v ? 1n : 0n);
        parse = (s) => (s === 'true' ? 1n : 0n);
    } else if (c.type === 'FLOAT' || c.type === 'DOUBLE') {
        key = (v) => v;
        parse = (s) => parseFloat(s);
    } else {
        key = (v) => (k === u32idx ? BigInt(v >>> 0) : BigInt(v));
        parse = (s) => BigInt(s);
    }
    const cmp = (a, b) => (Buffer.isBuffer(a) ? Buffer.compare(a, b) : a < b ? -1 : a > b ? 1 : 0);
    const keys = vals.map(key).sort(cmp);
    const mn = parse(m.stats_min_value), mx = parse(m.stats_max_value);
    if (cmp(mn, keys[0]) !== 0 || cmp(mx, keys[keys.length - 1]) !== 0) {
        statsBad++;
        console.error(`min/max ${c.name} rg ${g}: ${m.stats_min_value} .. ${m.stats_max_value}`);
    }
}
eq(statsBad, 0, 'parquet_metadata min/max/null_count match the rows written');

const kv = await rows(`SELECT key, value FROM parquet_kv_metadata(${q(cFile)}) ORDER BY key`);
eq(kv.map((r) => [blobBytes(r.key), blobBytes(r.value)]),
   [['k2', 'v2'], ['logflux.test', 'ünïcode ✓']].map(([a, b]) => [Buffer.from(a).toString('hex'), Buffer.from(b).toString('hex')]),
   'key/value metadata');
const fileMeta = await rows(`SELECT created_by, num_rows, num_row_groups FROM parquet_file_metadata(${q(cFile)})`);
eq([fileMeta[0].created_by, String(fileMeta[0].num_rows), String(fileMeta[0].num_row_groups)],
   ['logflux interop test', String(NROWS), String(groups)], 'file metadata');

// Our reader agrees with itself on the same file.
const selfDump = JSON.parse(execFileSync(tool, ['dump', cFile], { maxBuffer: 1 << 28 }).toString());
eq(selfDump.rows.length, NROWS, 'C reader reads back the C-written file');

// A file with no rows and an uncompressed file.
const emptyFile = path.join(tmp, 'empty.parquet');
fs.writeFileSync(specFile, JSON.stringify({ columns, rows: [] }));
execFileSync(tool, ['write', emptyFile, specFile]);
eq((await rows(`SELECT count(*)::INTEGER AS n FROM read_parquet(${q(emptyFile)})`))[0].n, 0, 'empty file reads as zero rows');
const plainFile = path.join(tmp, 'plain.parquet');
fs.writeFileSync(specFile, JSON.stringify({ columns, rows: spec.slice(0, 50), options: { codec: 'none' } }));
execFileSync(tool, ['write', plainFile, specFile]);
const plainGot = await rows(`SELECT ${sel} FROM read_parquet(${q(plainFile)}) ORDER BY id`);
eq(plainGot, got.slice(0, 50), 'uncompressed file reads the same rows');

// ------------------------------------------------------------------ DuckDB writes, C reads
const duckQuery = `SELECT i::INTEGER AS a, (i * 1000000007 - 5)::BIGINT AS b,
    CASE WHEN i % 7 = 0 THEN NULL ELSE 'str ' || (i % 13) || ' ✓' END AS s,
    CASE WHEN i % 3 = 0 THEN NULL ELSE i / 7.0 END::DOUBLE AS d,
    (i % 2 = 0) AS f,
    CASE WHEN i % 5 = 1 THEN NULL ELSE ('\\xAA\\x00' || i::VARCHAR)::BLOB END AS bl,
    make_timestamp(1700000000000000 + i * 1000001) AS ts,
    (i % 100)::TINYINT AS t8, (i * 3)::UBIGINT AS ub
  FROM range(5000) t(i)`;
const duckSel = `a, b::VARCHAR AS b, s, d, f, lower(hex(bl)) AS bl, epoch_us(ts)::VARCHAR AS ts, t8, ub::VARCHAR AS ub`;
const want = await rows(`SELECT ${duckSel} FROM (${duckQuery}) ORDER BY a`);
const wantRows = want.map((r) => Object.values(r));
for (const [codec, extra] of [['ZSTD', ''], ['UNCOMPRESSED', ''], ['ZSTD', ', ROW_GROUP_SIZE 1024']]) {
    const f = path.join(tmp, `duck_${codec}${extra ? '_rg' : ''}.parquet`);
    await db.run(`COPY (${duckQuery}) TO ${q(f)} (FORMAT PARQUET, COMPRESSION ${codec}${extra})`);
    const encodings = await rows(`SELECT DISTINCT encodings FROM parquet_metadata(${q(f)})`);
    const r = spawnSync(tool, ['dump', f], { maxBuffer: 1 << 28 });
    check(r.status === 0, `C reader opens DuckDB's ${codec}${extra} file (encodings ${encodings.map((e) => e.encodings).join(' | ')}): ${r.stderr}`);
    if (r.status !== 0) continue;
    const dump = JSON.parse(r.stdout.toString());
    eq(dump.columns.map((c) => [c.name, c.type, c.logical]),
       [['a', 'INT32', 'INT32'], ['b', 'INT64', 'INT64'], ['s', 'BYTE_ARRAY', 'STRING'], ['d', 'DOUBLE', 'NONE'],
        ['f', 'BOOLEAN', 'NONE'], ['bl', 'BYTE_ARRAY', 'NONE'], ['ts', 'INT64', 'TIMESTAMP_MICROS'],
        ['t8', 'INT32', 'INT8'], ['ub', 'INT64', 'UINT64']], `schema of DuckDB's ${codec}${extra} file`);
    const gotRows = dump.rows.slice().sort((x, y) => x[0] - y[0]);
    eq(gotRows.length, wantRows.length, `row count of DuckDB's ${codec}${extra} file`);
    let bad = 0;
    for (let i = 0; i < wantRows.length; i++)
        if (JSON.stringify(gotRows[i]) !== JSON.stringify(wantRows[i])) {
            if (bad < 3) console.error(`row ${i}: C ${JSON.stringify(gotRows[i])} DuckDB ${JSON.stringify(wantRows[i])}`);
            bad++;
        }
    eq(bad, 0, `every row of DuckDB's ${codec}${extra} file read by C equals DuckDB's own`);
    // Statistics the C reader exposes equal DuckDB's parquet_metadata (null counts, integer and
    // string min/max).
    const dm = await rows(`SELECT row_group_id, path_in_schema, stats_min_value, stats_max_value, stats_null_count FROM parquet_metadata(${q(f)})`);
    let sbad = 0;
    for (const m of dm) {
        const g = Number(m.row_group_id);
        const k = dump.columns.findIndex((c) => c.name === m.path_in_schema);
        const st = dump.row_groups[g].stats[k];
        if (m.stats_null_count !== null && Number(m.stats_null_count) !== st.null_count) sbad++;
        if (['a', 'b', 's', 't8', 'ub'].includes(m.path_in_schema) && m.stats_min_value !== null) {
            if (String(st.min) !== m.stats_min_value || String(st.max) !== m.stats_max_value) {
                sbad++;
                console.error(`stats ${m.path_in_schema}: C ${st.min}..${st.max} DuckDB ${m.stats_min_value}..${m.stats_max_value}`);
            }
        }
    }
    eq(sbad, 0, `statistics of DuckDB's ${codec}${extra} file as read by C`);
}

// A codec we do not implement is refused cleanly, never misread.
const snappy = path.join(tmp, 'duck_snappy.parquet');
await db.run(`COPY (${duckQuery}) TO ${q(snappy)} (FORMAT PARQUET, COMPRESSION SNAPPY)`);
const sr = spawnSync(tool, ['dump', snappy]);
check(sr.status === 1 && /not supported/.test(sr.stderr.toString()), `SNAPPY refused as unsupported: ${sr.stderr}`);

fs.rmSync(tmp, { recursive: true, force: true });
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
