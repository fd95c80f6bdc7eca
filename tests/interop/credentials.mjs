// credentials.mjs — credentials (docs/PROTOCOL.md §4) and the Authorization header
// (include/logflux/auth.h) against an independent implementation written here on Node's own
// crypto (hkdfSync, createHash), sharing no code with the C library.
//
//   node tests/interop/credentials.mjs <path-to-lf-vectors> <vectors-dir>
//
// (a) Rebuilds credentials.json and auth-headers.json from their inputs alone (the keys and the
//     header values), with a parser written from the grammar and the verifier and legacy ids
//     computed by node:crypto, and compares the result byte for byte with the committed files.
// (b) Exchanges fresh credentials both ways: C generates keys of every region and kind, Node
//     checks them against the §4 grammar and recomputes their verifiers; Node generates keys of
//     every form (including legacy and opaque ones and secrets full of '-' and '_'), and C must
//     report the same id text and verifier; Node's corrupted keys must be refused by C.
// Prints `N passed, M failed` last and exits non-zero on any failure.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';

const [lfVectors, vectorsDir] = process.argv.slice(2);
if (!lfVectors || !vectorsDir) {
  console.error('usage: node credentials.mjs <lf-vectors> <vectors-dir>');
  process.exit(2);
}

let passed = 0;
let failed = 0;
function check(name, fn) {
  try {
    fn();
    passed++;
  } catch (e) {
    failed++;
    console.error(`FAIL ${name}: ${e.message}`);
  }
}

function lf(...args) {
  const r = spawnSync(lfVectors, args, { encoding: 'utf8' });
  if (r.error) throw r.error;
  return { status: r.status, out: r.stdout, errText: r.stderr };
}

// ---------------------------------------------------------------- §4 grammar, from the spec

const INFO = 'logflux credential verifier v1';
const REGION = '(eu|us|ca|au|ap)';
const B64 = '[A-Za-z0-9_-]';
// 43 characters encode 258 bits for 256: the last one has its two low bits clear.
const SECRET = `${B64}{42}[AEIMQUYcgkosw048]`;
const reCurrent = new RegExp(`^${REGION}-lf_(usr_)?([0-9a-f]{16})_(${SECRET})$`);
const reLegacyShape = new RegExp(`^lf_[0-9a-f]{16}_${B64}{43}$`);
const reLegacy = new RegExp(`^lf_([0-9a-f]{16})_(${SECRET})$`);
const reOpaque = new RegExp(`^lf_(${B64}{16,256})$`);
const reIdText = new RegExp(`^(?:${REGION}-lf_(usr_)?|lf_)([0-9a-f]{16})$`);
const sha256hex = (s) => crypto.createHash('sha256').update(s, 'utf8').digest('hex');

// Returns the parse of a full credential, or null when §4 refuses it.
function parseCredential(key) {
  let m = reCurrent.exec(key);
  if (m) {
    const text = `${m[1]}-lf_${m[2] ?? ''}${m[3]}`;
    return { kind: m[2] ? 'pat' : 'api_key', region: m[1], form: 'current', id: m[3], text, secret: m[4] };
  }
  if (reLegacyShape.test(key)) {
    // The structured shape is never reinterpreted as opaque: it follows its own rules.
    m = reLegacy.exec(key);
    if (!m) return null;
    return { kind: 'api_key', region: '', form: 'legacy', id: m[1], text: `lf_${m[1]}`, secret: m[2] };
  }
  m = reOpaque.exec(key);
  if (m) {
    const id = sha256hex(key).slice(0, 16);
    return { kind: 'api_key', region: '', form: 'legacy_opaque', id, text: `lf_${id}`, secret: m[1] };
  }
  return null;
}

function verifier(key, id) {
  // salt = the 16 ASCII bytes of the lowercase hex id
  return Buffer.from(crypto.hkdfSync('sha256', Buffer.from(key, 'utf8'), Buffer.from(id, 'ascii'),
    Buffer.from(INFO, 'ascii'), 32)).toString('hex');
}

function parseIdText(text) {
  const m = reIdText.exec(text);
  if (!m) return null;
  return { kind: m[2] ? 'pat' : 'api_key', region: m[1] ?? '', id: m[3] };
}

// ---------------------------------------------------------------- Authorization grammar

const TS_MAX = 253402300799n;
function parseAuth(header) {
  // Work on bytes (latin1 maps one byte to one character), as the C parser does.
  let v = Buffer.from(header, 'utf8').toString('latin1');
  if (v.length > 1024) return null;
  v = v.replace(/^[ \t]+/, '').replace(/[ \t]+$/, '');
  const m = /^([^ ]*) +(.*)$/s.exec(v);
  if (!m) return null;
  const scheme = m[1].replace(/[A-Z]/g, (c) => c.toLowerCase());
  const rest = m[2];
  if (scheme === 'bearer') {
    if (!/^[\x21-\x7e]{1,512}$/.test(rest)) return null;
    return { scheme: 'bearer', token: rest };
  }
  if (scheme !== 'lf-hmac-sha256') return null;
  const names = { credential: 'Credential', timestamp: 'Timestamp', nonce: 'Nonce', signature: 'Signature' };
  const got = {};
  for (const item of rest.split(/[ \t]*,[ \t]*/)) {
    const p = /^([A-Za-z]+)=([^ \t,]*)$/.exec(item);
    if (!p) return null;
    const name = names[p[1].toLowerCase()];
    if (!name || name in got) return null;
    got[name] = p[2];
  }
  if (Object.keys(got).length !== 4) return null;
  const cred = got.Credential.length <= 64 ? parseIdText(got.Credential) : null;
  if (!cred) return null;
  if (!/^(0|[1-9][0-9]{0,11})$/.test(got.Timestamp) || BigInt(got.Timestamp) > TS_MAX) return null;
  if (!new RegExp(`^${B64}{21}[AQgw]$`).test(got.Nonce)) return null;
  const nonce = Buffer.from(got.Nonce, 'base64url');
  if (nonce.length !== 16) return null;
  if (!/^[0-9a-f]{64}$/.test(got.Signature)) return null;
  return {
    scheme: 'hmac', credential: got.Credential, kind: cred.kind, region: cred.region, id: cred.id,
    timestamp: Number(got.Timestamp), nonce: got.Nonce, nonce_hex: nonce.toString('hex'),
    signature: got.Signature,
  };
}

// ---------------------------------------------------------------- (a) the vector files

function rebuildCredentials(doc) {
  const out = { description: doc.description, verifier_info: INFO, valid: [], invalid: [], credential_ids: [] };
  for (const v of [...doc.valid, ...doc.invalid]) {
    const p = parseCredential(v.key);
    if (!p) {
      out.invalid.push({ name: v.name, key: v.key, error: 'LF_ERR_INVALID' });
      continue;
    }
    out.valid.push({
      name: v.name, key: v.key, kind: p.kind, region: p.region, form: p.form, id: p.id,
      id_text: p.text, secret: p.secret, verifier: verifier(v.key, p.id),
    });
  }
  for (const v of doc.credential_ids) {
    const p = parseIdText(v.text);
    out.credential_ids.push(p ? { text: v.text, kind: p.kind, region: p.region, id: p.id }
      : { text: v.text, error: 'LF_ERR_INVALID' });
  }
  return out;
}

function rebuildAuthHeaders(doc) {
  const out = { description: doc.description, valid: [], invalid: [] };
  for (const v of [...doc.valid, ...doc.invalid]) {
    const p = parseAuth(v.header);
    if (p) out.valid.push({ name: v.name, header: v.header, ...p });
    else out.invalid.push({ name: v.name, header: v.header, error: 'LF_ERR_INVALID' });
  }
  return out;
}

for (const [file, rebuild] of [['credentials.json', rebuildCredentials], ['auth-headers.json', rebuildAuthHeaders]]) {
  const text = fs.readFileSync(`${vectorsDir}/${file}`, 'utf8');
  const doc = JSON.parse(text);
  check(`${file} rebuilt byte for byte`, () => {
    const mine = `${JSON.stringify(rebuild(doc), null, 2)}\n`;
    if (mine !== text) {
      const a = mine.split('\n');
      const b = text.split('\n');
      const i = a.findIndex((line, k) => line !== b[k]);
      assert.fail(`first difference at line ${i + 1}: node ${JSON.stringify(a[i])} vs file ${JSON.stringify(b[i])}`);
    }
  });
  // Each vector on its own too, so a failure names the case.
  if (file === 'credentials.json') {
    for (const v of doc.valid) {
      check(`verifier: ${v.name}`, () => {
        const p = parseCredential(v.key);
        assert.ok(p, 'Node refuses a valid vector');
        assert.equal(verifier(v.key, p.id), v.verifier);
        if (p.form === 'legacy_opaque') assert.equal(v.id, sha256hex(v.key).slice(0, 16));
      });
    }
    for (const v of doc.invalid) check(`refused: ${v.name}`, () => assert.equal(parseCredential(v.key), null));
  }
}

// ---------------------------------------------------------------- (b) C → Node

const regions = ['eu', 'us', 'ca', 'au', 'ap'];
for (const region of regions) {
  for (const kind of ['api_key', 'pat']) {
    check(`C-generated ${region} ${kind} keys`, () => {
      const seen = new Set();
      for (let i = 0; i < 10; i++) {
        const r = lf('credential-generate', region, kind);
        assert.equal(r.status, 0, r.errText);
        const key = r.out.trim();
        const grammar = kind === 'pat'
          ? new RegExp(`^${region}-lf_usr_[0-9a-f]{16}_${SECRET}$`)
          : new RegExp(`^${region}-lf_[0-9a-f]{16}_${SECRET}$`);
        assert.match(key, grammar);
        assert.equal(Buffer.from(key.slice(-43), 'base64url').length, 32);
        assert.ok(!seen.has(key), 'duplicate key');
        seen.add(key);
        const p = parseCredential(key);
        const v = lf('credential-verifier', key);
        assert.equal(v.status, 0, v.errText);
        assert.equal(v.out, `${p.text} ${verifier(key, p.id)}\n`);
      }
    });
  }
}

// ---------------------------------------------------------------- (b) Node → C

function nodeKeys() {
  const keys = [];
  const secret = () => crypto.randomBytes(32).toString('base64url');
  const id = () => crypto.randomBytes(8).toString('hex');
  for (const region of regions) {
    keys.push(`${region}-lf_${id()}_${secret()}`);
    keys.push(`${region}-lf_usr_${id()}_${secret()}`);
  }
  keys.push(`lf_${id()}_${secret()}`);
  // Secrets full of '-' and '_': bytes 0xfb 0xef 0xbe encode as "----", 0xff as "____".
  const dashy = Buffer.alloc(32, 0xff);
  for (let i = 0; i < 30; i += 6) dashy.set([0xfb, 0xef, 0xbe], i);
  keys.push(`eu-lf_${id()}_${dashy.toString('base64url')}`);
  keys.push(`ap-lf_usr_${id()}_${dashy.toString('base64url')}`);
  keys.push(`lf_${id()}_${dashy.toString('base64url')}`);
  // Opaque legacy keys of random lengths 16..256 over the whole alphabet.
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  for (const n of [16, 17, 43, 60, 61, 100, 255, 256]) {
    const bytes = crypto.randomBytes(n);
    keys.push(`lf_${[...bytes].map((b) => alphabet[b & 63]).join('')}`);
  }
  return keys;
}

check('Node-generated keys: C gives the same id text and verifier', () => {
  for (let round = 0; round < 3; round++) {
    for (const key of nodeKeys()) {
      const p = parseCredential(key);
      assert.ok(p, `Node refuses its own key ${key.slice(0, 12)}…`);
      const r = lf('credential-verifier', key);
      assert.equal(r.status, 0, r.errText);
      assert.equal(r.out, `${p.text} ${verifier(key, p.id)}\n`);
    }
  }
});

check('Node-corrupted keys: C refuses them without echoing the secret', () => {
  const s = crypto.randomBytes(32).toString('base64url');
  const i = crypto.randomBytes(8).toString('hex');
  const bad = [
    `de-lf_${i}_${s}`, `eu-lf_${i}_${s.slice(0, 42)}`, `eu-lf_${i}_${s}A`, `eu-lf_${i.toUpperCase()}X_${s}`,
    `eu-lf_usr-${i}_${s}`, `eu-lf_${i}_${s.slice(0, 20)}+${s.slice(21)}`, `lf_${'a'.repeat(15)}`,
    `lf_${'a'.repeat(257)}`, `eu-lf_${i}_${s.slice(0, 42)}B`, `lf_${i}_${s.slice(0, 42)}_`,
  ];
  for (const key of bad) {
    assert.equal(parseCredential(key), null, `Node accepts ${key.slice(0, 12)}…`);
    const r = lf('credential-verifier', key);
    assert.equal(r.status, 1, `C accepted a corrupted key (${key.slice(0, 12)}…)`);
    assert.ok(!r.errText.includes(s.slice(5, 25)), 'C error message contains the secret');
  }
});

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
