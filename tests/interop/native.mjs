// native.mjs — interoperability of the native v1 frames and LF-HMAC-SHA256 request signing
// (docs/PROTOCOL.md §3) with Node.js's own crypto, an implementation no one here wrote.
//
// Usage: node tests/interop/native.mjs <path-to-lf-vectors> <vectors-dir>
//
//  1. Recomputes native-frames.json (enc_key, token_key, tokens, header bytes, frame bytes,
//     zstd plaintexts inflated with the zstd CLI) and request-signing.json (string to sign,
//     signing key, signature, Authorization value) from the spec, byte-exact.
//  2. Builds frames from scratch (entry, block, zstd or not, close) → `lf-vectors native-open`
//     must open them; a tampered copy must be refused.
//  3. `lf-vectors native-seal` seals frames → Node parses, authenticates and opens them.
//  4. Node signs a request → `lf-vectors verify` accepts it (and rejects a changed one);
//     `lf-vectors sign` signs → Node recomputes the same Authorization value.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const [lfVectors, vectorsDir] = process.argv.slice(2);
if (!lfVectors || !vectorsDir) {
  console.error('usage: node native.mjs <lf-vectors> <vectors-dir>');
  process.exit(2);
}
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lf-native-'));
let passed = 0;
let failed = 0;
function check(name, fn) {
  try {
    fn();
    passed++;
  } catch (e) {
    failed++;
    console.error(`FAIL ${name}: ${e.stack || e}`);
  }
}

// ---------------- the spec, written independently ----------------

const hkdf = (ikm, salt, info, len = 32) =>
  Buffer.from(crypto.hkdfSync('sha256', ikm, salt, Buffer.from(info, 'utf8'), len));
const deriveKeys = (sessionKey, keyId) => ({
  encKey: hkdf(sessionKey, keyId, 'logflux native v1 record'),
  tokenKey: hkdf(sessionKey, keyId, 'logflux native v1 search-token'),
});
function asciiLower(buf) {
  const out = Buffer.from(buf);
  for (let i = 0; i < out.length; i++) if (out[i] >= 0x41 && out[i] <= 0x5a) out[i] += 32;
  return out;
}
const token = (tokenKey, term) =>
  crypto.createHmac('sha256', tokenKey).update(asciiLower(Buffer.from(term, 'utf8'))).digest()
    .subarray(0, 16);

// h: {kind, entryType, flags, keyId, sequence (BigInt), tsMin, tsMax (BigInt), count, nonce,
//     tenant, app, tokens: [Buffer16], bodyLen}
function encodeHeader(h) {
  const fixed = Buffer.alloc(72);
  fixed.write('LFN1', 0, 'latin1');
  fixed[4] = h.kind;
  fixed[5] = h.entryType;
  fixed[6] = h.flags;
  fixed[7] = 0;
  h.keyId.copy(fixed, 8);
  fixed.writeBigUInt64BE(BigInt(h.sequence), 24);
  fixed.writeBigInt64BE(BigInt(h.tsMin), 32);
  fixed.writeBigInt64BE(BigInt(h.tsMax), 40);
  fixed.writeUInt32BE(h.count, 48);
  h.nonce.copy(fixed, 52);
  const tenant = Buffer.from(h.tenant, 'latin1');
  const app = Buffer.from(h.app, 'latin1');
  fixed[64] = tenant.length;
  fixed[65] = app.length;
  fixed.writeUInt16BE(h.tokens.length, 66);
  fixed.writeUInt32BE(h.bodyLen, 68);
  return Buffer.concat([fixed, tenant, app, ...h.tokens]);
}
function sealFrame(encKey, h, plaintext) {
  h.bodyLen = plaintext.length + 16;
  const header = encodeHeader(h);
  const c = crypto.createCipheriv('aes-256-gcm', encKey, h.nonce);
  c.setAAD(header);
  const ct = Buffer.concat([c.update(plaintext), c.final()]);
  return Buffer.concat([header, ct, c.getAuthTag()]);
}
function parseFrames(body) {
  const frames = [];
  let pos = 0;
  while (pos < body.length) {
    const b = body.subarray(pos);
    assert.equal(b.subarray(0, 4).toString('latin1'), 'LFN1');
    const tl = b[64];
    const al = b[65];
    const tc = b.readUInt16BE(66);
    const bodyLen = b.readUInt32BE(68);
    const hl = 72 + tl + al + 16 * tc;
    const f = {
      kind: b[4], entryType: b[5], flags: b[6], keyId: b.subarray(8, 24),
      sequence: b.readBigUInt64BE(24), tsMin: b.readBigInt64BE(32), tsMax: b.readBigInt64BE(40),
      count: b.readUInt32BE(48), nonce: b.subarray(52, 64),
      tenant: b.subarray(72, 72 + tl).toString('latin1'),
      app: b.subarray(72 + tl, 72 + tl + al).toString('latin1'),
      tokens: Array.from({ length: tc }, (_, i) => b.subarray(72 + tl + al + 16 * i, 72 + tl + al + 16 * (i + 1))),
      header: b.subarray(0, hl), body: b.subarray(hl, hl + bodyLen),
    };
    assert.equal(f.body.length, bodyLen, 'truncated frame');
    frames.push(f);
    pos += hl + bodyLen;
  }
  return frames;
}
function openFrame(encKey, f) {
  const d = crypto.createDecipheriv('aes-256-gcm', encKey, f.nonce);
  d.setAAD(f.header);
  d.setAuthTag(f.body.subarray(f.body.length - 16));
  return Buffer.concat([d.update(f.body.subarray(0, f.body.length - 16)), d.final()]);
}
const zstdDecompress = (buf) => execFileSync('zstd', ['-d', '-c', '-q'], { input: buf });
function zstdCompress(buf) {
  // From a file, so the zstd frame header carries the content size (readers require it).
  const p = path.join(tmp, `z-${crypto.randomBytes(4).toString('hex')}`);
  fs.writeFileSync(p, buf);
  const out = execFileSync('zstd', ['-c', '-q', '-3', p]);
  fs.unlinkSync(p);
  return out;
}
function splitBlock(pt, count) {
  const entries = [];
  let pos = 0;
  for (let i = 0; i < count; i++) {
    const n = pt.readUInt32BE(pos);
    entries.push(pt.subarray(pos + 4, pos + 4 + n).toString('utf8'));
    pos += 4 + n;
  }
  assert.equal(pos, pt.length, 'trailing bytes in block');
  return entries;
}
const blockPlain = (entries) =>
  Buffer.concat(entries.flatMap((e) => {
    const j = Buffer.from(e, 'utf8');
    const l = Buffer.alloc(4);
    l.writeUInt32BE(j.length);
    return [l, j];
  }));
function plaintextEntries(f, pt) {
  const inflated = f.flags & 1 ? zstdDecompress(pt) : pt;
  if (f.kind === 1) return [inflated.toString('utf8')];
  if (f.kind === 2) return splitBlock(inflated, f.count);
  assert.equal(inflated.length, 0);
  return [];
}

// Request signing (§3.6) and the credential id (§4).
function credentialId(key) {
  let m = /^(eu|us|ca|au|ap)-lf_(usr_)?([0-9a-f]{16})_[A-Za-z0-9_-]{43}$/.exec(key);
  if (m) return `${m[1]}-lf_${m[2] || ''}${m[3]}`;
  m = /^lf_([0-9a-f]{16})_[A-Za-z0-9_-]{43}$/.exec(key);
  if (m) return `lf_${m[1]}`;
  assert.match(key, /^lf_[A-Za-z0-9_-]{16,256}$/);
  return `lf_${crypto.createHash('sha256').update(key).digest('hex').slice(0, 16)}`;
}
const ows = (s) => (s ?? '').replace(/^[ \t]+|[ \t]+$/g, '');
function stringToSign(r, ts, nonce) {
  return [
    'LF-HMAC-SHA256', String(ts), nonce, r.method.toUpperCase(), r.path, r.query ?? '',
    ows(r.host).toLowerCase(), ows(r.content_type), ows(r.idempotency_key),
    crypto.createHash('sha256').update(Buffer.from(r.body ?? '', 'utf8')).digest('hex'),
  ].join('\n');
}
const signingKey = (apiKey) => hkdf(Buffer.from(apiKey, 'utf8'), Buffer.alloc(0), 'logflux request signing v1');
const sign = (key, sts) => crypto.createHmac('sha256', key).update(sts, 'utf8').digest('hex');
const authorization = (apiKey, r, ts, nonce) =>
  `LF-HMAC-SHA256 Credential=${credentialId(apiKey)}, Timestamp=${ts}, Nonce=${nonce}, ` +
  `Signature=${sign(signingKey(apiKey), stringToSign(r, ts, nonce))}`;

const lf = (...args) => spawnSync(lfVectors, args, { encoding: 'utf8', maxBuffer: 1 << 28 });

// ---------------- 1. vector files ----------------

const nv = JSON.parse(fs.readFileSync(path.join(vectorsDir, 'native-frames.json'), 'utf8'));
const vKey = Buffer.from(nv.session_key, 'hex');
const vKid = Buffer.from(nv.key_id, 'hex');
const vKeys = deriveKeys(vKey, vKid);
check('native vectors: enc_key and token_key', () => {
  assert.equal(vKeys.encKey.toString('hex'), nv.enc_key);
  assert.equal(vKeys.tokenKey.toString('hex'), nv.token_key);
});
check('native vectors: tokens', () => {
  for (const t of nv.tokens) assert.equal(token(vKeys.tokenKey, t.term).toString('hex'), t.token, t.term);
});
for (const fv of nv.frames) {
  check(`native vectors: frame ${fv.name}`, () => {
    const h = {
      kind: fv.kind, entryType: fv.entry_type, flags: fv.flags, keyId: vKid,
      sequence: BigInt(fv.sequence), tsMin: BigInt(fv.ts_min), tsMax: BigInt(fv.ts_max),
      count: fv.count, nonce: Buffer.from(fv.nonce, 'hex'), tenant: nv.tenant, app: nv.app,
      tokens: fv.terms.map((t) => token(vKeys.tokenKey, t)),
    };
    const pt = Buffer.from(fv.plaintext, 'hex');
    // The plaintext is what the spec says it is: the entries (zstd-compressed when flagged).
    const entries = fv.entries.map((e) => e.json);
    const inflated = fv.flags & 1 ? zstdDecompress(pt) : pt;
    assert.deepEqual(inflated, fv.kind === 1 ? Buffer.from(entries[0]) : fv.kind === 2 ? blockPlain(entries) : Buffer.alloc(0));
    const frame = sealFrame(vKeys.encKey, h, pt);
    assert.equal(encodeHeader(h).toString('hex'), fv.header);
    assert.equal(frame.toString('hex'), fv.frame);
    const [f] = parseFrames(frame);
    assert.deepEqual(plaintextEntries(f, openFrame(vKeys.encKey, f)), entries);
    if (fv.kind <= 2) {
      const ts = fv.entries.map((e) => BigInt(e.ts));
      assert.equal(f.tsMin, ts.reduce((a, b) => (b < a ? b : a)));
      assert.equal(f.tsMax, ts.reduce((a, b) => (b > a ? b : a)));
    }
  });
}
check('native vectors: key frame', () => {
  const k = nv.key_frame;
  const fp = Buffer.from(k.fingerprint, 'hex');
  const wrapped = Buffer.from(k.wrapped, 'hex');
  const header = encodeHeader({
    kind: 4, entryType: 0, flags: 0, keyId: vKid, sequence: 0n, tsMin: BigInt(k.created),
    tsMax: BigInt(k.created), count: 0, nonce: Buffer.alloc(12), tenant: nv.tenant, app: nv.app,
    tokens: [], bodyLen: 32 + wrapped.length,
  });
  assert.equal(header.toString('hex'), k.header);
  assert.equal(Buffer.concat([header, fp, wrapped]).toString('hex'), k.frame);
});

const sv = JSON.parse(fs.readFileSync(path.join(vectorsDir, 'request-signing.json'), 'utf8'));
for (const c of sv.cases) {
  check(`signing vectors: ${c.name}`, () => {
    const sts = stringToSign(c, c.timestamp, c.nonce);
    assert.equal(sts, c.string_to_sign);
    assert.equal(crypto.createHash('sha256').update(c.body, 'utf8').digest('hex'), c.body_sha256);
    assert.equal(signingKey(c.api_key).toString('hex'), c.signing_key);
    assert.equal(sign(signingKey(c.api_key), sts), c.signature);
    assert.equal(authorization(c.api_key, c, c.timestamp, c.nonce), c.authorization);
  });
}

// ---------------- 2. Node seals → C opens ----------------

const T0 = 1795834800000000000n;
const entriesA = [
  '{"v":"2.0","type":"log","message":"from node 1"}',
  '{"v":"2.0","type":"metric","name":"latency","value":12.5}',
  `{"v":"2.0","type":"log","message":"${'x'.repeat(3000)} ünïcödé"}`,
];
function nodeSession() {
  const sessionKey = crypto.randomBytes(32);
  const keyId = crypto.randomBytes(16);
  const keys = deriveKeys(sessionKey, keyId);
  const base = { keyId, tenant: 'tenant_B', app: 'node-app.v2', nonce: null };
  const frames = [];
  let seq = 0n;
  const add = (kind, entryType, zstd, entries, terms) => {
    const plain = kind === 1 ? Buffer.from(entries[0], 'utf8') : blockPlain(entries);
    const h = {
      ...base, kind, entryType, flags: zstd ? 1 : 0, sequence: seq++,
      tsMin: T0, tsMax: T0 + BigInt(entries.length - 1), count: kind === 1 ? 1 : entries.length,
      nonce: crypto.randomBytes(12), tokens: terms.map((t) => token(keys.tokenKey, t)),
    };
    frames.push(sealFrame(keys.encKey, h, zstd ? zstdCompress(plain) : plain));
  };
  add(1, 1, false, [entriesA[0]], ['Node']);
  add(1, 2, true, [entriesA[1]], []);
  add(2, 1, false, entriesA, ['a', 'b', 'c']);
  add(2, 6, true, entriesA, []);
  frames.push(sealFrame(keys.encKey, {
    ...base, kind: 3, entryType: 0, flags: 0, sequence: seq, tsMin: T0 + 5n, tsMax: T0 + 5n,
    count: Number(seq), nonce: crypto.randomBytes(12), tokens: [],
  }, Buffer.alloc(0)));
  return { sessionKey, keyId, keys, body: Buffer.concat(frames) };
}
const ns = nodeSession();
check('Node seals → C opens', () => {
  const file = path.join(tmp, 'node-frames.bin');
  fs.writeFileSync(file, ns.body);
  const r = lf('native-open', ns.sessionKey.toString('hex'), file);
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(lines.length, 5);
  assert.deepEqual(lines.map((l) => l.kind), [1, 1, 2, 2, 3]);
  assert.deepEqual(lines.map((l) => l.sequence), [0, 1, 2, 3, 4]);
  assert.deepEqual(lines[0].entries, [entriesA[0]]);
  assert.deepEqual(lines[1].entries, [entriesA[1]]);
  assert.deepEqual(lines[2].entries, entriesA);
  assert.deepEqual(lines[3].entries, entriesA);
  assert.deepEqual(lines[4].entries, []);
  assert.equal(lines[4].count, 4);
  assert.equal(lines[2].tokens[1], token(ns.keys.tokenKey, 'B').toString('hex'));
  assert.equal(lines[0].app, 'node-app.v2');
});
check('Node-sealed frames, tampered → C refuses', () => {
  const frames = parseFrames(ns.body);
  for (const off of [5, 30, 40, 66 + 0, frames[0].header.length + 3]) {
    const t = Buffer.from(ns.body);
    if (off === 66) t[72 + 2] ^= 0x20; // tenant case flip: still a valid character
    else if (off === 5) t[off] = 3; // entry type 1 → 3
    else t[off] ^= 1;
    const file = path.join(tmp, 'tampered.bin');
    fs.writeFileSync(file, t);
    const r = lf('native-open', ns.sessionKey.toString('hex'), file);
    assert.equal(r.status, 1, `offset ${off} accepted`);
  }
  // A wrong session key is refused too.
  const file = path.join(tmp, 'node-frames.bin');
  assert.equal(lf('native-open', crypto.randomBytes(32).toString('hex'), file).status, 1);
});

// ---------------- 3. C seals → Node opens ----------------

check('C seals → Node opens', () => {
  const sessionKey = crypto.randomBytes(32);
  const keyId = crypto.randomBytes(16);
  const spec = {
    session_key: sessionKey.toString('hex'), key_id: keyId.toString('hex'),
    tenant: 'acme', app: 'c-app',
    frames: [
      { kind: 'entry', entry_type: 1, zstd: false, terms: ['Timeout', 'db'], entries: [{ ts: String(T0), json: entriesA[0] }] },
      { kind: 'entry', entry_type: 3, zstd: true, terms: [], entries: [{ ts: String(T0 + 7n), json: entriesA[2] }] },
      { kind: 'block', entry_type: 1, zstd: false, terms: ['x'], entries: entriesA.map((j, i) => ({ ts: String(T0 + BigInt(10 - i)), json: j })) },
      { kind: 'block', entry_type: 4, zstd: true, terms: [], entries: entriesA.map((j, i) => ({ ts: String(T0 + BigInt(i)), json: j })) },
      { kind: 'close', ts: String(T0 + 99n) },
    ],
  };
  const specFile = path.join(tmp, 'seal-spec.json');
  const out = path.join(tmp, 'c-frames.bin');
  fs.writeFileSync(specFile, JSON.stringify(spec));
  const r = lf('native-seal', specFile, out);
  assert.equal(r.status, 0, r.stderr);
  const keys = deriveKeys(sessionKey, keyId);
  const frames = parseFrames(fs.readFileSync(out));
  assert.equal(frames.length, 5);
  frames.forEach((f, i) => {
    assert.equal(f.keyId.toString('hex'), keyId.toString('hex'));
    assert.equal(f.tenant, 'acme');
    assert.equal(f.app, 'c-app');
    assert.equal(f.sequence, BigInt(i));
    const s = spec.frames[i];
    if (s.kind === 'close') {
      assert.equal(f.kind, 3);
      assert.equal(f.count, 4);
      assert.equal(f.tsMin, T0 + 99n);
      assert.equal(f.body.length, 16);
      assert.deepEqual(plaintextEntries(f, openFrame(keys.encKey, f)), []);
      return;
    }
    assert.equal(f.kind, s.kind === 'entry' ? 1 : 2);
    assert.equal(f.entryType, s.entry_type);
    assert.equal(f.flags, s.zstd ? 1 : 0);
    assert.equal(f.count, s.entries.length);
    const ts = s.entries.map((e) => BigInt(e.ts));
    assert.equal(f.tsMin, ts.reduce((a, b) => (b < a ? b : a)));
    assert.equal(f.tsMax, ts.reduce((a, b) => (b > a ? b : a)));
    assert.deepEqual(f.tokens.map((t) => t.toString('hex')), s.terms.map((t) => token(keys.tokenKey, t).toString('hex')));
    assert.deepEqual(plaintextEntries(f, openFrame(keys.encKey, f)), s.entries.map((e) => e.json));
  });
  // Node's GCM refuses a C frame whose stored timestamp was moved.
  const f = frames[0];
  const moved = Buffer.from(f.header);
  moved[39] ^= 1;
  assert.throws(() => openFrame(keys.encKey, { ...f, header: moved }));
});

// ---------------- 4. signing both ways ----------------

const apiKey = 'au-lf_a1b2c3d4e5f60718_' + crypto.randomBytes(32).toString('base64url');
const req = {
  method: 'POST', path: '/v1/ingest', query: 'dry_run=1', host: 'Ingest.AU.example:443',
  content_type: 'application/vnd.logflux.frames.v1', idempotency_key: 'node-batch-0000000001',
  body: 'some body bytes ✓',
};
check('Node signs → C verifies', () => {
  const ts = 1800000000;
  const nonce = crypto.randomBytes(16).toString('base64url');
  const sig = sign(signingKey(apiKey), stringToSign(req, ts, nonce));
  const spec = {
    ...req, credential: credentialId(apiKey), timestamp: ts, nonce, signature: sig,
    signing_key: signingKey(apiKey).toString('hex'), now: ts + 300,
  };
  const file = path.join(tmp, 'verify.json');
  fs.writeFileSync(file, JSON.stringify(spec));
  let r = lf('verify', file);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.equal(r.stdout.trim(), 'OK');
  for (const change of [{ body: 'some body bytez ✓' }, { path: '/v1/ingest/' }, { now: ts + 301 }, { host: 'other' }, { query: null }]) {
    fs.writeFileSync(file, JSON.stringify({ ...spec, ...change }));
    r = lf('verify', file);
    assert.equal(r.status, 1, `accepted ${JSON.stringify(change)}`);
  }
});
check('C signs → Node recomputes', () => {
  const ts = 1800000123;
  const file = path.join(tmp, 'sign.json');
  fs.writeFileSync(file, JSON.stringify({ ...req, api_key: apiKey, timestamp: ts, nonce: null }));
  const r = lf('sign', file);
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  const nonce = /Nonce=([A-Za-z0-9_-]{22}),/.exec(out.authorization)[1];
  assert.equal(Buffer.from(nonce, 'base64url').length, 16);
  assert.equal(out.string_to_sign, stringToSign(req, ts, nonce));
  assert.equal(out.authorization, authorization(apiKey, req, ts, nonce));
});

fs.rmSync(tmp, { recursive: true, force: true });
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
