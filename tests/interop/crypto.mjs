// crypto.mjs — the C crypto primitives against Node.js's own crypto (OpenSSL inside Node, code
// no one here wrote).
//
//   node tests/interop/crypto.mjs <path-to-lf-vectors> <vectors-dir>
//
// (a) Recomputes the crypto vector files with node:crypto from their inputs and compares the
//     result byte for byte with the committed files (aes-256-gcm, hmac-sha256, hkdf-sha256;
//     rsa-oaep by unwrapping with Node and re-deriving secrets and fingerprint), and checks that
//     the C code (through lf-vectors) gives the same answers.
// (b) Exchanges fresh data both ways: Node seals with AES-256-GCM and C opens, C seals and Node
//     opens (with and without AAD, sizes 0..65536), tampered data is refused; C generates an
//     RSA key and writes it as scrypt-encrypted PKCS#8, Node loads it with the passphrase, Node
//     wraps and C unwraps, C wraps and Node unwraps; fingerprints agree.
// Prints `N passed, M failed` last and exits non-zero on any failure.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';

const [lfVectors, vectorsDir] = process.argv.slice(2);
if (!lfVectors || !vectorsDir) {
  console.error('usage: node crypto.mjs <lf-vectors> <vectors-dir>');
  process.exit(2);
}
const tmp = fs.mkdtempSync(`${process.env.TMPDIR ?? '/tmp'}/lf-interop-crypto-`);

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

// Run lf-vectors; returns {status, out}. Hex arguments longer than 4 KiB go through @FILE
// (one command-line argument is limited to 128 KiB on Linux).
let argFiles = 0;
function lf(...args) {
  const argv = args.map((a) => {
    if (typeof a === 'string' && a.length > 4096 && /^[0-9a-f]*$/.test(a)) {
      const f = `${tmp}/arg${argFiles++}.hex`;
      fs.writeFileSync(f, a);
      return `@${f}`;
    }
    return String(a);
  });
  const r = spawnSync(lfVectors, argv, { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.error) throw r.error;
  return { status: r.status, out: r.stdout.trim(), err: r.stderr };
}
function lfOk(...args) {
  const r = lf(...args);
  assert.equal(r.status, 0, `lf-vectors ${args[0]} failed: ${r.err}`);
  return r.out;
}

const hex = (b) => Buffer.from(b).toString('hex');
const unhex = (s) => Buffer.from(s, 'hex');
const readVectors = (name) => fs.readFileSync(`${vectorsDir}/${name}`, 'utf8');
const serialise = (doc) => JSON.stringify(doc, null, 2) + '\n';

function gcmSeal(key, nonce, aad, pt) {
  const c = crypto.createCipheriv('aes-256-gcm', key, nonce);
  c.setAAD(aad);
  const ct = Buffer.concat([c.update(pt), c.final()]);
  return { ct, tag: c.getAuthTag() };
}
function gcmOpen(key, nonce, aad, sealed) {
  const d = crypto.createDecipheriv('aes-256-gcm', key, nonce);
  d.setAAD(aad);
  d.setAuthTag(sealed.subarray(sealed.length - 16));
  return Buffer.concat([d.update(sealed.subarray(0, sealed.length - 16)), d.final()]);
}
const hmac = (key, data) => crypto.createHmac('sha256', key).update(data).digest();

// ---------------- (a) vector files ----------------

check('aes-256-gcm.json recomputed by Node is byte-exact', () => {
  const text = readVectors('aes-256-gcm.json');
  const doc = JSON.parse(text);
  const again = {
    ...doc,
    vectors: doc.vectors.map((v) => {
      const { ct, tag } = gcmSeal(unhex(v.key), unhex(v.nonce), unhex(v.aad), unhex(v.plaintext));
      return { ...v, ciphertext: hex(ct), tag: hex(tag) };
    }),
  };
  assert.equal(serialise(again), text);
});

check('aes-256-gcm.json: C seals and opens every vector', () => {
  for (const v of JSON.parse(readVectors('aes-256-gcm.json')).vectors) {
    const sealed = v.ciphertext + v.tag;
    assert.equal(lfOk('aead-seal', v.key, v.nonce, v.aad, v.plaintext), sealed, v.name);
    assert.equal(lfOk('aead-open', v.key, v.nonce, v.aad, sealed), v.plaintext, v.name);
  }
});

check('hmac-sha256.json recomputed by Node is byte-exact; C agrees', () => {
  const text = readVectors('hmac-sha256.json');
  const doc = JSON.parse(text);
  const again = {
    ...doc,
    vectors: doc.vectors.map((v) => ({
      ...v,
      mac: hex(hmac(unhex(v.key), unhex(v.data)).subarray(0, v.mac_len)),
    })),
  };
  assert.equal(serialise(again), text);
  for (const v of doc.vectors)
    assert.equal(lfOk('hmac', v.key, v.data).slice(0, 2 * v.mac_len), v.mac, v.name);
});

check('hkdf-sha256.json recomputed by Node is byte-exact; C agrees', () => {
  const text = readVectors('hkdf-sha256.json');
  const doc = JSON.parse(text);
  const again = {
    ...doc,
    vectors: doc.vectors.map((v) => ({
      ...v,
      prk: hex(hmac(v.salt ? unhex(v.salt) : Buffer.alloc(32), unhex(v.ikm))),
      okm: hex(crypto.hkdfSync('sha256', unhex(v.ikm), unhex(v.salt), unhex(v.info), v.length)),
    })),
  };
  assert.equal(serialise(again), text);
  for (const v of doc.vectors)
    assert.equal(lfOk('hkdf', v.ikm, v.salt, v.info, v.length), v.okm, v.name);
});

check('rsa-oaep.json: Node unwraps every value, secrets and fingerprint re-derived', () => {
  const text = readVectors('rsa-oaep.json');
  const doc = JSON.parse(text);
  const priv = crypto.createPrivateKey({ key: doc.private_key_pem, passphrase: doc.passphrase });
  const pub = crypto.createPublicKey(priv);
  const spki = pub.export({ type: 'spki', format: 'der' });
  // The generator derives each secret from its name (tools/vectors/gen-rsa-oaep.mjs).
  const secretOf = (label, len) => {
    const out = Buffer.alloc(len);
    for (let off = 0, i = 0; off < len; i++)
      off += crypto.createHash('sha256').update(`${label} ${i}`).digest().copy(out, off);
    return out;
  };
  const again = {
    ...doc,
    public_key_pem: pub.export({ type: 'spki', format: 'pem' }),
    fingerprint: 'SHA256:' + crypto.createHash('sha256').update(spki).digest('hex'),
    vectors: doc.vectors.map((v) => {
      const secret = crypto.privateDecrypt(
        { key: priv, padding: crypto.constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
        unhex(v.wrapped),
      );
      assert.equal(hex(secret), hex(secretOf(v.name, secret.length)), v.name);
      return { ...v, secret: hex(secret) };
    }),
  };
  assert.equal(serialise(again), text);
});

check('rsa-oaep.json: C unwraps every value and computes the fingerprint', () => {
  const doc = JSON.parse(readVectors('rsa-oaep.json'));
  fs.writeFileSync(`${tmp}/vec.key`, doc.private_key_pem);
  fs.writeFileSync(`${tmp}/vec.pub`, doc.public_key_pem);
  assert.equal(lfOk('fingerprint', `${tmp}/vec.pub`), doc.fingerprint);
  for (const v of doc.vectors)
    assert.equal(lfOk('rsa-unwrap', `${tmp}/vec.key`, doc.passphrase, v.wrapped), v.secret);
  assert.equal(lf('rsa-unwrap', `${tmp}/vec.key`, 'wrong', doc.vectors[0].wrapped).status, 1);
});

// ---------------- (b) fresh exchanges ----------------

const sizes = [0, 1, 255, 256, 65536];
for (const size of sizes) {
  for (const aadLen of [0, 37]) {
    const label = `${size} bytes, aad ${aadLen}`;
    check(`GCM Node seals, C opens (${label})`, () => {
      const key = crypto.randomBytes(32);
      const nonce = crypto.randomBytes(12);
      const aad = crypto.randomBytes(aadLen);
      const pt = crypto.randomBytes(size);
      const { ct, tag } = gcmSeal(key, nonce, aad, pt);
      const sealed = Buffer.concat([ct, tag]);
      assert.equal(lfOk('aead-open', hex(key), hex(nonce), hex(aad), hex(sealed)), hex(pt));
      // Tampering with the tag or (if any) the aad makes C refuse with exit status 1.
      const bad = Buffer.from(sealed);
      bad[bad.length - 1] ^= 1;
      assert.equal(lf('aead-open', hex(key), hex(nonce), hex(aad), hex(bad)).status, 1);
      if (aadLen > 0) {
        const badAad = Buffer.from(aad);
        badAad[0] ^= 0x80;
        assert.equal(lf('aead-open', hex(key), hex(nonce), hex(badAad), hex(sealed)).status, 1);
      }
    });
    check(`GCM C seals, Node opens (${label})`, () => {
      const key = crypto.randomBytes(32);
      const nonce = crypto.randomBytes(12);
      const aad = crypto.randomBytes(aadLen);
      const pt = crypto.randomBytes(size);
      const sealed = unhex(lfOk('aead-seal', hex(key), hex(nonce), hex(aad), hex(pt)));
      assert.equal(sealed.length, size + 16);
      assert.equal(hex(gcmOpen(key, nonce, aad, sealed)), hex(pt));
      const bad = Buffer.from(sealed);
      bad[0] ^= 1;
      assert.throws(() => gcmOpen(key, nonce, aad, bad));
    });
  }
}

check('GCM: C refuses input shorter than a tag', () => {
  const key = hex(crypto.randomBytes(32));
  const nonce = hex(crypto.randomBytes(12));
  assert.equal(lf('aead-open', key, nonce, '', '00'.repeat(15)).status, 1);
});

check('HMAC and HKDF on random inputs agree with Node', () => {
  for (const [keyLen, dataLen] of [
    [0, 0],
    [1, 1],
    [32, 100],
    [64, 64],
    [65, 1000],
    [200, 5000],
  ]) {
    const key = crypto.randomBytes(keyLen);
    const data = crypto.randomBytes(dataLen);
    assert.equal(lfOk('hmac', hex(key), hex(data)), hex(hmac(key, data)));
    const salt = crypto.randomBytes(dataLen % 80);
    const info = crypto.randomBytes(dataLen % 1024);
    for (const len of [1, 32, 33, 255 * 32]) {
      const okm = crypto.hkdfSync('sha256', key, salt, info, len);
      assert.equal(lfOk('hkdf', hex(key), hex(salt), hex(info), len), hex(Buffer.from(okm)));
    }
  }
});

// The production key size; one key serves all RSA exchanges.
const pass = 'interop passphrase ' + crypto.randomBytes(4).toString('hex');
const prefix = `${tmp}/customer`;
let cKeyLoaded = null;
check('C generates RSA-4096; Node loads its scrypt-encrypted PKCS#8 PEM', () => {
  lfOk('keygen', 4096, pass, prefix);
  const pem = fs.readFileSync(`${prefix}.key`, 'utf8');
  assert.match(pem, /^-----BEGIN ENCRYPTED PRIVATE KEY-----\n/);
  assert.equal(fs.statSync(`${prefix}.key`).mode & 0o777, 0o600);
  cKeyLoaded = crypto.createPrivateKey({ key: pem, passphrase: pass });
  assert.equal(cKeyLoaded.asymmetricKeyType, 'rsa');
  assert.equal(cKeyLoaded.asymmetricKeyDetails.modulusLength, 4096);
  assert.equal(cKeyLoaded.asymmetricKeyDetails.publicExponent, 65537n);
  assert.throws(() => crypto.createPrivateKey({ key: pem, passphrase: pass + 'x' }));
  // The public file is the public half of the private key.
  const fromPriv = crypto.createPublicKey(cKeyLoaded).export({ type: 'spki', format: 'pem' });
  assert.equal(fs.readFileSync(`${prefix}.pub`, 'utf8'), fromPriv);
});

check('fingerprints agree with Node (C key and Node key)', () => {
  const pubPem = fs.readFileSync(`${prefix}.pub`, 'utf8');
  const der = crypto.createPublicKey(pubPem).export({ type: 'spki', format: 'der' });
  const expected = 'SHA256:' + crypto.createHash('sha256').update(der).digest('hex');
  assert.equal(lfOk('fingerprint', `${prefix}.pub`), expected);
  const { publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  fs.writeFileSync(`${tmp}/node.pub`, publicKey.export({ type: 'spki', format: 'pem' }));
  const nodeDer = publicKey.export({ type: 'spki', format: 'der' });
  assert.equal(
    lfOk('fingerprint', `${tmp}/node.pub`),
    'SHA256:' + crypto.createHash('sha256').update(nodeDer).digest('hex'),
  );
});

check('Node wraps for the C key, C unwraps', () => {
  const pubPem = fs.readFileSync(`${prefix}.pub`, 'utf8');
  for (const len of [32, 32, 0, 1, 446]) {
    const secret = crypto.randomBytes(len);
    const wrapped = crypto.publicEncrypt(
      { key: pubPem, padding: crypto.constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
      secret,
    );
    assert.equal(wrapped.length, 512);
    assert.equal(lfOk('rsa-unwrap', `${prefix}.key`, pass, hex(wrapped)), hex(secret));
    const bad = Buffer.from(wrapped);
    bad[100] ^= 1;
    assert.equal(lf('rsa-unwrap', `${prefix}.key`, pass, hex(bad)).status, 1);
  }
  assert.equal(lf('rsa-unwrap', `${prefix}.key`, 'wrong', '00'.repeat(512)).status, 1);
});

check('C wraps, Node unwraps with the C-written encrypted key', () => {
  assert.ok(cKeyLoaded, 'key from the keygen check');
  for (const len of [32, 32, 0, 446]) {
    const secret = crypto.randomBytes(len);
    const wrapped = unhex(lfOk('rsa-wrap', `${prefix}.pub`, hex(secret)));
    assert.equal(wrapped.length, 512);
    const out = crypto.privateDecrypt(
      { key: cKeyLoaded, padding: crypto.constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
      wrapped,
    );
    assert.equal(hex(out), hex(secret));
  }
  assert.equal(lf('rsa-wrap', `${prefix}.pub`, '00'.repeat(447)).status, 1);
});

check('C refuses a Node-made EC key and a 1024-bit RSA key', () => {
  const ec = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
  fs.writeFileSync(`${tmp}/ec.pub`, ec.export({ type: 'spki', format: 'pem' }));
  assert.equal(lf('fingerprint', `${tmp}/ec.pub`).status, 1);
  const small = crypto.generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey;
  fs.writeFileSync(`${tmp}/small.pub`, small.export({ type: 'spki', format: 'pem' }));
  assert.equal(lf('fingerprint', `${tmp}/small.pub`).status, 1);
});

fs.rmSync(tmp, { recursive: true, force: true });
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
