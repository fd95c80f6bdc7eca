// v3.mjs — interoperability of the LogFlux v3 layer with Node.js's own crypto and zlib.
//
// Usage: node tests/interop/v3.mjs <lf-vectors> <vectors-dir>
//  1. recomputes v3-entries.json: gunzip(gzip) == plaintext, AES-256-GCM(key, nonce, gzip) ==
//     sealed, nonce_b64, header timestamp == payload ts;
//  2. rebuilds every multipart.json body that has a "build" recipe with an independent builder,
//     and checks the C parser's answer on every case;
//  3. Node seals entries (node:zlib gzip + AES-256-GCM, compressed and not) -> C opens them;
//  4. C seals entries -> Node decrypts and gunzips them;
//  5. Node builds request bodies in both framings, including a ciphertext that ends in CR LF
//     by chance -> the C parser returns the same parts, and C opens the parsed bodies.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import zlib from 'node:zlib';

const [tool, vdir] = process.argv.slice(2);
let passed = 0, failed = 0;
function check(name, fn) {
  try { fn(); passed++; } catch (e) { failed++; console.error(`FAIL ${name}: ${e.message}`); }
}
const tmp = fs.mkdtempSync('/tmp/lf-v3-interop-');
const hex = (b) => Buffer.from(b).toString('hex');

function gcmSeal(key, nonce, data) {
  const c = crypto.createCipheriv('aes-256-gcm', key, nonce);
  return Buffer.concat([c.update(data), c.final(), c.getAuthTag()]);
}
function gcmOpen(key, nonce, sealed) {
  const d = crypto.createDecipheriv('aes-256-gcm', key, nonce);
  d.setAuthTag(sealed.subarray(sealed.length - 16));
  return Buffer.concat([d.update(sealed.subarray(0, sealed.length - 16)), d.final()]);
}
// RFC 3339 -> BigInt nanoseconds (UTC 'Z' only, which is all these tests produce)
function toNs(s) {
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?Z$/.exec(s);
  assert.ok(m, `not RFC 3339 UTC: ${s}`);
  const secs = BigInt(Date.parse(m[1] + 'Z') / 1000);
  return secs * 1000000000n + BigInt((m[2] || '').padEnd(9, '0'));
}
function run(args) {
  const r = spawnSync(tool, args, { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

// ---------------------------------------------------------------- 1. v3-entries.json
const entries = JSON.parse(fs.readFileSync(`${vdir}/v3-entries.json`, 'utf8'));
const vkey = Buffer.from(entries.key, 'hex');
for (const e of entries.entries) {
  check(`vector ${e.name}`, () => {
    const plain = Buffer.from(e.plaintext, 'utf8');
    const gz = Buffer.from(e.gzip, 'hex');
    const sealed = Buffer.from(e.sealed, 'hex');
    if (e.compressed) {
      assert.deepEqual(zlib.gunzipSync(gz), plain);
      assert.equal(gz[0], 0x1f); assert.equal(gz[1], 0x8b);
    } else {
      assert.equal(e.gzip, '');
    }
    const p = JSON.parse(e.plaintext);
    assert.equal(p.v, '2.0');
    assert.equal(toNs(p.ts), toNs(e.timestamp));
    if (e.payload_type === 1) {
      assert.ok(e.entry_type >= 1 && e.entry_type <= 6);
      const nonce = Buffer.from(e.nonce, 'hex');
      assert.equal(nonce.length, 12);
      assert.equal(e.nonce_b64, nonce.toString('base64'));
      assert.equal(e.key_id, entries.key_id);
      assert.deepEqual(gcmSeal(vkey, nonce, e.compressed ? gz : plain), sealed);
      assert.deepEqual(gcmOpen(vkey, nonce, sealed), e.compressed ? gz : plain);
    } else {
      assert.equal(e.payload_type, 3);
      assert.equal(e.entry_type, 7);
      assert.equal(p.type, 'telemetry');
      assert.deepEqual(sealed, gz);
    }
  });
}

// ---------------------------------------------------------------- 2. multipart.json
// An independent builder of both framings (PROTOCOL.md §2.2).
function partHeaders(p) {
  let h = 'Content-Type: application/octet-stream\r\n' +
    `X-LF-Entry-Type: ${p.entry_type}\r\nX-LF-Payload-Type: ${p.payload_type}\r\n` +
    `X-LF-Timestamp: ${p.timestamp}\r\n`;
  if (p.payload_type === 1) h += `X-LF-Key-ID: ${p.key_id}\r\nX-LF-Nonce: ${p.nonce}\r\n`;
  if (p.search_tokens && p.search_tokens.length) h += `X-LF-Search-Tokens: ${p.search_tokens.join(',')}\r\n`;
  return h + '\r\n';
}
function buildBody(form, boundary, parts) {
  const chunks = [];
  parts.forEach((p, i) => {
    if (i > 0 && form === 'standard') chunks.push(Buffer.from('\r\n'));
    chunks.push(Buffer.from(`--${boundary}\r\n` + partHeaders(p)));
    chunks.push(Buffer.isBuffer(p.body) ? p.body : Buffer.from(p.body, 'hex'));
  });
  chunks.push(Buffer.from(`\r\n--${boundary}--\r\n`));
  return Buffer.concat(chunks);
}
function contentType(boundary) {
  return /[^A-Za-z0-9_.-]/.test(boundary) ? `multipart/mixed; boundary="${boundary}"` :
    `multipart/mixed; boundary=${boundary}`;
}
function cParse(ct, ua, body) {
  const f = `${tmp}/body-${crypto.randomBytes(6).toString('hex')}`;
  fs.writeFileSync(f, body);
  const r = run(['multipart-parse', ct, ua, f]);
  fs.unlinkSync(f);
  assert.ok(r.code === 0 || r.code === 1, `multipart-parse exit ${r.code}: ${r.err}`);
  return JSON.parse(r.out);
}
function comparePart(got, want) {
  assert.equal(got.index, want.index);
  assert.equal(got.error, want.error, got.message);
  if (want.error !== 'ok') return;
  for (const k of ['entry_type', 'payload_type', 'timestamp', 'key_id', 'nonce', 'body'])
    assert.equal(got[k], want[k], `field ${k}`);
  assert.deepEqual(got.search_tokens, want.search_tokens);
}

const mp = JSON.parse(fs.readFileSync(`${vdir}/multipart.json`, 'utf8'));
for (const c of mp.cases) {
  if (c.build) {
    check(`multipart build ${c.name}`, () => {
      assert.equal(contentType(c.build.boundary), c.content_type);
      assert.equal(hex(buildBody(c.build.form, c.build.boundary, c.parts)), c.body);
    });
  }
  check(`multipart parse ${c.name}`, () => {
    const got = cParse(c.content_type, c.user_agent, Buffer.from(c.body, 'hex'));
    if (c.error) { assert.equal(got.error, c.error); return; }
    assert.equal(got.error, null, got.message);
    assert.equal(got.form, c.form);
    assert.equal(got.parts.length, c.parts.length);
    got.parts.forEach((p, i) => comparePart(p, c.parts[i]));
  });
}

// ---------------------------------------------------------------- 3. Node seals -> C opens
const types = ['log', 'metric', 'trace', 'event', 'audit', 'telemetry'];
function samplePayload(type) {
  const p = { v: '2.0', type, source: 'node-interop', level: 6, ts: new Date().toISOString(),
    attributes: { runtime: 'node', 'emoji': '\u2713 \u00e9 \ud83d\ude00' }, meta: { environment: 'test' } };
  switch (type) {
    case 'log': Object.assign(p, { message: 'hello from node\n"quoted"\t\\', logger: 'interop',
      error_type: 'E', error_chain: [{ type: 'E', message: 'm' }],
      stack_trace: [{ function: 'f', file: 'a.js', line: 3 }], breadcrumbs: [{ x: [1, null] }] }); break;
    case 'metric': Object.assign(p, { name: 'n', value: 0.1 + 0.2, unit: 'ms', metric_type: 'gauge' }); break;
    case 'trace': Object.assign(p, { trace_id: 'a', span_id: 'b', operation: 'op', name: 'x',
      start_time: p.ts, end_time: p.ts, duration_ms: 1.25, status: 'ok' }); break;
    case 'event': p.event = 'clicked'; break;
    case 'audit': Object.assign(p, { action: 'a', actor: 'b', actor_type: 'user', resource: 'r',
      resource_id: '1', outcome: 'success' }); break;
    default: Object.assign(p, { device_id: 'd', readings: [{ name: 't', value: -1.5, unit: 'C' }] });
  }
  p.unknown_field = { kept: true };
  return p;
}
for (const [i, type] of types.entries()) {
  for (const compress of [true, false]) {
    check(`node seals ${type}${compress ? '' : ' (uncompressed)'} -> C opens`, () => {
      const key = crypto.randomBytes(32), nonce = crypto.randomBytes(12);
      const json = JSON.stringify(samplePayload(type));
      const z = compress ? zlib.gzipSync(Buffer.from(json)) : Buffer.from(json);
      const sealed = gcmSeal(key, nonce, z);
      const r = run(['v3-open', hex(key), nonce.toString('base64'), hex(sealed)]);
      assert.equal(r.code, 0, r.err);
      assert.equal(r.out.trimEnd(), json);
      assert.deepEqual(JSON.parse(r.out), JSON.parse(json));
      // tampering is refused
      sealed[i] ^= 1;
      const bad = run(['v3-open', hex(key), nonce.toString('base64'), hex(sealed)]);
      assert.equal(bad.code, 1);
      assert.equal(bad.out, '');
    });
  }
}

// ---------------------------------------------------------------- 4. C seals -> Node opens
for (let t = 1; t <= 7; t++) {
  check(`C seals entry type ${t} -> node opens`, () => {
    const key = crypto.randomBytes(32);
    const p = samplePayload(types[Math.min(t, 6) - 1]);
    const json = JSON.stringify(p);
    const f = `${tmp}/payload-${t}.json`;
    fs.writeFileSync(f, json);
    const r = run(['v3-seal', hex(key), String(t), f]);
    assert.equal(r.code, 0, r.err);
    const h = JSON.parse(r.out);
    const body = Buffer.from(h.body, 'hex');
    assert.equal(h.entry_type, t);
    assert.equal(toNs(h.timestamp), toNs(p.ts));
    let z;
    if (t === 7) {
      assert.equal(h.payload_type, 3);
      assert.equal(h.nonce, '');
      z = body;
    } else {
      assert.equal(h.payload_type, 1);
      const nonce = Buffer.from(h.nonce, 'base64');
      assert.equal(nonce.length, 12);
      assert.equal(nonce.toString('base64'), h.nonce);
      assert.ok(h.key_id.length > 0);
      z = gcmOpen(key, nonce, body);
    }
    assert.equal(z[0], 0x1f); assert.equal(z[1], 0x8b);
    assert.equal(zlib.gunzipSync(z).toString('utf8'), json);
  });
}

// ---------------------------------------------------------------- 5. Node multipart -> C parser
function sealedEntry(key, type, wantCrlf) {
  const json = JSON.stringify(samplePayload(type));
  const z = zlib.gzipSync(Buffer.from(json));
  for (;;) {
    const nonce = crypto.randomBytes(12);
    const body = gcmSeal(key, nonce, z);
    if (!wantCrlf || (body[body.length - 2] === 0x0d && body[body.length - 1] === 0x0a))
      return { json, part: { entry_type: types.indexOf(type) + 1, payload_type: 1,
        timestamp: new Date().toISOString(), key_id: 'node-key-1', nonce: nonce.toString('base64'),
        search_tokens: ['tok1', 'tok2'], body } };
  }
}
{
  const key = crypto.randomBytes(32);
  const crlf = sealedEntry(key, 'log', true);       // ciphertext||tag ends in \r\n by chance
  const a = sealedEntry(key, 'metric', false), b = sealedEntry(key, 'event', false);
  const managedJson = JSON.stringify({ ...samplePayload('telemetry') });
  const managed = { entry_type: 7, payload_type: 3, timestamp: new Date().toISOString(),
    search_tokens: [], body: zlib.gzipSync(Buffer.from(managedJson)) };
  const scenarios = [
    ['typescript, js agent, CRLF-ending first part', 'typescript', 'logflux-js-sdk/3.0.1', [crlf, a], 'typescript'],
    ['typescript, unknown agent, detected by framing', 'typescript', 'curl/8', [crlf, a, b], 'typescript'],
    ['standard, go agent, CRLF-ending first part', 'standard', 'logflux-go-sdk/3.0.1', [crlf, a, b], 'standard'],
    ['standard, CRLF-ending last part', 'standard', 'logflux-go-sdk/3.0.1', [a, crlf], 'standard'],
    ['typescript, CRLF-ending last part', 'typescript', 'logflux-js-sdk/3.0.1', [a, b, crlf], 'typescript'],
  ];
  for (const [name, form, ua, items, wantForm] of scenarios) {
    for (const withManaged of [false, true]) {
      check(`node multipart ${name}${withManaged ? ' + type 7' : ''} -> C parses`, () => {
        const parts = items.map((x) => x.part).concat(withManaged ? [managed] : []);
        const boundary = '----node' + crypto.randomBytes(8).toString('hex');
        const body = buildBody(form, boundary, parts);
        const got = cParse(contentType(boundary), ua, body);
        assert.equal(got.error, null, got.message);
        assert.equal(got.form, wantForm);
        assert.equal(got.parts.length, parts.length);
        got.parts.forEach((g, i) => {
          const p = parts[i];
          comparePart(g, { index: i, error: 'ok', entry_type: p.entry_type, payload_type: p.payload_type,
            timestamp: p.timestamp, key_id: p.key_id || '', nonce: p.nonce || '',
            search_tokens: p.search_tokens, body: hex(p.body) });
        });
        // the parsed bodies open in C to the JSON Node sealed
        items.forEach((x, i) => {
          const r = run(['v3-open', hex(key), got.parts[i].nonce, got.parts[i].body]);
          assert.equal(r.code, 0, r.err);
          assert.equal(r.out.trimEnd(), x.json);
        });
      });
    }
  }
}

fs.rmSync(tmp, { recursive: true, force: true });
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
