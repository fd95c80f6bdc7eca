// server_e2e.mjs — logfluxd end to end, driven by a LogFlux v3 client written here with
// Node.js's own crypto (an implementation no one in this project wrote), over TLS on loopback:
//
//   init → serve → admin (app, API key, read token, customer public key made by Node) →
//   v3 handshake (the server must hand out exactly the customer key: the client pins it) →
//   multipart ingest in the Go SDK's standard framing and the TypeScript SDK's framing, with
//   gzip on and off → the worker writes Parquet → the query API returns the rows → Node
//   decrypts them with the session key and finds every message exactly once → DuckDB reads
//   every Parquet file of the data directory and agrees with the query API → no file under
//   the data directory contains any message text → SIGTERM drains and exits 0.
//
// Run as: node server_e2e.mjs <build>/tools/lf-vectors <vectors-dir>
import { spawn, execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '..', 'node', 'package.json'));
const duckdb = require('@duckdb/node-api');
const buildRoot = path.resolve(path.dirname(process.argv[2]), '..');
const logfluxd = path.join(buildRoot, 'src', 'server', 'logfluxd');

let passed = 0;
let failed = 0;
function check(cond, what) {
    if (cond) passed++;
    else {
        failed++;
        console.error('FAIL: ' + what);
    }
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lf-e2e-'));
const data = path.join(tmp, 'd');
let server = null;
const deadline = setTimeout(() => {
    console.error('FAIL: timed out');
    if (server) server.kill('SIGKILL');
    process.exit(1);
}, 120000);

function startServer() {
    return new Promise((resolve, reject) => {
        const p = spawn(logfluxd, ['serve', '--data', data, '--listen', '127.0.0.1:0',
            '--set', 'worker.flush_interval=300ms'], { stdio: ['ignore', 'ignore', 'pipe'] });
        let log = '';
        p.stderr.on('data', (chunk) => {
            log += chunk.toString();
            const m = log.match(/serving on \S+ port (\d+)/);
            if (m && !p.port) {
                p.port = Number(m[1]);
                resolve(p);
            }
        });
        p.getLog = () => log;
        p.on('exit', (code) => { if (!p.port) reject(new Error('logfluxd exited ' + code + ': ' + log)); });
    });
}

let ca;
function request(method, urlPath, { headers = {}, body = null } = {}) {
    return new Promise((resolve, reject) => {
        const req = https.request({ host: '127.0.0.1', port: server.port, path: urlPath, method, ca,
            headers: body ? { ...headers, 'Content-Length': body.length } : headers }, (res) => {
            const chunks = [];
            res.on('data', (c) => chunks.push(c));
            res.on('end', () => {
                const text = Buffer.concat(chunks).toString();
                let json = null;
                try { json = JSON.parse(text); } catch { /* not JSON */ }
                resolve({ status: res.statusCode, headers: res.headers, text, json });
            });
        });
        req.on('error', reject);
        if (body) req.write(body);
        req.end();
    });
}
const asJson = (token, obj) => ({ headers: { Authorization: 'Bearer ' + token,
    'Content-Type': 'application/json' }, body: Buffer.from(JSON.stringify(obj)) });

// ---- v3 client (facts: shared/design/logflux-v3-wire.md) ----
function sealEntry(key, obj, gzip) {
    const plain = Buffer.from(JSON.stringify(obj));
    const payload = gzip ? zlib.gzipSync(plain) : plain;
    const nonce = crypto.randomBytes(12);
    const c = crypto.createCipheriv('aes-256-gcm', key, nonce);
    const ct = Buffer.concat([c.update(payload), c.final(), c.getAuthTag()]);
    return { nonce, ct };
}
function multipart(parts, boundary, tsForm) {
    const chunks = [];
    parts.forEach((p, i) => {
        if (i > 0 && !tsForm) chunks.push(Buffer.from('\r\n'));
        chunks.push(Buffer.from(`--${boundary}\r\nContent-Type: application/octet-stream\r\n` +
            `X-LF-Entry-Type: 1\r\nX-LF-Payload-Type: 1\r\nX-LF-Timestamp: ${p.ts}\r\n` +
            `X-LF-Key-ID: ${p.keyId}\r\nX-LF-Nonce: ${p.nonce.toString('base64')}\r\n` +
            `X-LF-Search-Tokens: e2e,batch\r\n\r\n`));
        chunks.push(p.ct);
    });
    chunks.push(Buffer.from(`\r\n--${boundary}--\r\n`));
    return Buffer.concat(chunks);
}

async function main() {
    const init = JSON.parse(execFileSync(logfluxd, ['init', '--data', data, '--tenant', 'acme']));
    ca = fs.readFileSync(init.tls_cert);
    const admin = init.admin_token;
    check(/^eu-lf_usr_/.test(admin), 'init prints an admin token');
    server = await startServer();

    // Admin: app, API key bound to it, read token, the customer key (made by Node).
    check((await request('POST', '/v1/admin/apps', asJson(admin, { name: 'web' }))).status === 201,
        'app created');
    const ak = await request('POST', '/v1/admin/api-keys', asJson(admin, { app: 'web' }));
    const apiKey = ak.json.data.api_key;
    check(/^(eu|us|ca|au|ap)-lf_.+/.test(apiKey), 'API key passes the TypeScript SDK check');
    const rt = await request('POST', '/v1/admin/tokens', asJson(admin, { scope: 'read' }));
    const readToken = rt.json.data.token;
    const { publicKey, privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 4096 });
    const pem = publicKey.export({ type: 'spki', format: 'pem' });
    const fp = 'SHA256:' + crypto.createHash('sha256')
        .update(publicKey.export({ type: 'spki', format: 'der' })).digest('hex');
    const reg = await request('POST', '/v1/admin/public-keys', asJson(admin, { public_key: pem }));
    check(reg.status === 201 && reg.json.data.fingerprint === fp, 'customer key registered');

    // Handshake, pinning the customer key.
    const hi = await request('POST', '/v1/handshake/init', asJson(apiKey, { api_key: apiKey }));
    const offered = crypto.createPublicKey(hi.json.public_key);
    const offeredFp = 'SHA256:' + crypto.createHash('sha256')
        .update(offered.export({ type: 'spki', format: 'der' })).digest('hex');
    check(offeredFp === fp, 'server hands out exactly the pinned customer key');
    const sessionKey = crypto.randomBytes(32);
    const wrapped = crypto.publicEncrypt({ key: offered, padding: crypto.constants.RSA_PKCS1_OAEP_PADDING,
        oaepHash: 'sha256' }, sessionKey);
    const hc = await request('POST', '/v1/handshake/complete', asJson(apiKey,
        { api_key: apiKey, encrypted_secret: wrapped.toString('base64') }));
    const keyId = hc.json && hc.json.key_id;
    check(/^[0-9a-f-]{36}$/.test(keyId || ''), 'handshake answers a key id');

    // A live tail, streamed, opened before anything is sent: the rows must arrive on it.
    const tailRows = [];
    let tailLines = 0;
    let tailEnded = false;
    let tailBuf = '';
    const tailReq = https.request({ host: '127.0.0.1', port: server.port, ca, method: 'GET',
        path: `/v1/tail?stream=1&app=web&since=${Date.now()}000000`,
        headers: { Authorization: 'Bearer ' + readToken } }, (res) => {
        check(res.statusCode === 200 && /ndjson/.test(res.headers['content-type']), 'tail stream opens');
        res.on('data', (chunk) => {
            tailBuf += chunk;
            let nl;
            while ((nl = tailBuf.indexOf('\n')) >= 0) {
                const line = JSON.parse(tailBuf.slice(0, nl));
                tailBuf = tailBuf.slice(nl + 1);
                tailLines++;
                if (line.ciphertext) tailRows.push(line);
            }
        });
        res.on('end', () => { tailEnded = true; });
        res.on('error', () => { tailEnded = true; });
    });
    tailReq.end();
    for (let i = 0; i < 50 && tailLines === 0; i++) await new Promise((r) => setTimeout(r, 100));
    check(tailLines > 0, 'tail stream sends a first heartbeat');

    // Ingest: the Go SDK's standard framing, then the TypeScript SDK's, gzip on and off.
    const sent = new Map();
    const marker = crypto.randomBytes(6).toString('hex');
    for (const [form, ua] of [[false, 'logflux-go-sdk/3.0.1'], [true, 'logflux-js-sdk/3.0.1']]) {
        const parts = [];
        for (let i = 0; i < 50; i++) {
            const message = `e2e ${marker} ${form ? 'ts' : 'go'} entry ${i} card=4111111111111111`;
            const ts = new Date().toISOString().replace('Z', '123Z');
            const { nonce, ct } = sealEntry(sessionKey, { v: '2.0', type: 'log', level: 6,
                message, ts }, i % 5 !== 0);
            parts.push({ ts, keyId, nonce, ct });
            sent.set(message, 0);
        }
        const boundary = 'b' + crypto.randomBytes(8).toString('hex');
        const res = await request('POST', '/v1/ingest', { headers: { Authorization: 'Bearer ' + apiKey,
            'Content-Type': `multipart/mixed; boundary=${boundary}`, 'User-Agent': ua },
            body: multipart(parts, boundary, form) });
        check(res.status === 200 && res.json.data.succeeded === 50,
            `${ua}: 50 entries accepted (${res.status} ${res.text.slice(0, 200)})`);
    }

    // Query until the worker has flushed everything; decrypt each row.
    const from = new Date(Date.now() - 3600e3).toISOString();
    const to = new Date(Date.now() + 3600e3).toISOString();
    let rows = [];
    for (let attempt = 0; attempt < 100 && rows.length < sent.size; attempt++) {
        rows = [];
        let cursor = null;
        do {
            const q = await request('GET', `/v1/query?app=web&from=${from}&to=${to}&limit=1000` +
                (cursor ? `&cursor=${cursor}` : ''), { headers: { Authorization: 'Bearer ' + readToken } });
            if (q.status !== 200) throw new Error('query: ' + q.text);
            rows.push(...q.json.data.rows);
            cursor = q.json.data.next_cursor;
        } while (cursor);
        if (rows.length < sent.size) await new Promise((r) => setTimeout(r, 200));
    }
    check(rows.length === sent.size, `query returns ${rows.length} rows, ${sent.size} sent`);
    for (const row of rows) {
        const ct = Buffer.from(row.ciphertext, 'base64');
        const d = crypto.createDecipheriv('aes-256-gcm', sessionKey, Buffer.from(row.nonce, 'base64'));
        d.setAuthTag(ct.subarray(ct.length - 16));
        let plain = Buffer.concat([d.update(ct.subarray(0, ct.length - 16)), d.final()]);
        if (plain[0] === 0x1f && plain[1] === 0x8b) plain = zlib.gunzipSync(plain);
        const msg = JSON.parse(plain).message;
        if (sent.has(msg)) sent.set(msg, sent.get(msg) + 1);
        else check(false, 'unexpected row ' + msg);
    }
    check([...sent.values()].every((n) => n === 1), 'every message decrypts exactly once');
    check(rows.every((r) => r.key_id === keyId && r.app === 'web' && r.tenant === 'acme'),
        'rows carry key id, app and tenant');

    // The streamed tail saw the same rows, live.
    for (let i = 0; i < 100 && tailRows.length < rows.length; i++) await new Promise((r) => setTimeout(r, 100));
    check(tailRows.length === rows.length &&
        tailRows.every((t) => rows.some((q) => q.ciphertext === t.ciphertext)),
        `tail stream delivered ${tailRows.length} of ${rows.length} rows`);

    // The wrapped key is served back for the customer's tools.
    const wk = await request('GET', `/v1/keys/${keyId}`, { headers: { Authorization: 'Bearer ' + readToken } });
    check(wk.status === 200 && wk.text.includes(wrapped.toString('base64')), 'wrapped key served back');
    const unwrapped = crypto.privateDecrypt({ key: privateKey, padding: crypto.constants.RSA_PKCS1_OAEP_PADDING,
        oaepHash: 'sha256' }, wrapped);
    check(unwrapped.equals(sessionKey), 'only the customer private key unwraps it');

    // DuckDB reads every Parquet file under the data directory and agrees with the API.
    const files = [];
    const walk = (dir) => fs.readdirSync(dir, { withFileTypes: true }).forEach((e) => {
        const p = path.join(dir, e.name);
        if (e.isDirectory()) walk(p);
        else files.push(p);
    });
    walk(data);
    const parquet = files.filter((f) => f.endsWith('.parquet'));
    check(parquet.length >= 1, `worker wrote ${parquet.length} Parquet file(s)`);
    check(parquet.every((f) => /tenant=acme\/app=web\/dt=\d{4}-\d\d-\d\d\/hour=\d\d\//.test(f)),
        'Hive-style partition paths');
    const db = await duckdb.DuckDBInstance.create(':memory:');
    const con = await db.connect();
    const list = parquet.map((f) => `'${f}'`).join(',');
    const res = await con.runAndReadAll(`SELECT ciphertext, key_id, app FROM read_parquet([${list}])`);
    const fromDuck = res.getRowObjects();
    check(fromDuck.length === rows.length, `DuckDB reads ${fromDuck.length} rows`);
    const apiCts = new Set(rows.map((r) => r.ciphertext));
    check(fromDuck.every((r) => apiCts.has(Buffer.from(r.ciphertext.bytes).toString('base64'))),
        'DuckDB sees the same ciphertexts as the query API');
    const schema = (await con.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet([${list}])`)).getRowObjects();
    const types = Object.fromEntries(schema.map((c) => [c.column_name, c.column_type]));
    check(types.ciphertext === 'BLOB' && types.app === 'VARCHAR' && /TIMESTAMP/.test(types.ts),
        'Parquet schema: ' + JSON.stringify(types));

    // Zero knowledge: no file under the data directory holds any message text.
    let leaks = 0;
    for (const f of files) {
        const bytes = fs.readFileSync(f);
        for (const needle of [marker, '4111111111111111', 'entry 7 card']) if (bytes.includes(needle)) leaks++;
    }
    check(leaks === 0, `no plaintext under the data directory (${files.length} files searched)`);

    // SIGTERM drains and exits 0.
    const exited = new Promise((r) => server.on('exit', (code) => r(code)));
    server.kill('SIGTERM');
    check((await exited) === 0, 'SIGTERM drains and exits 0');
    for (let i = 0; i < 50 && !tailEnded; i++) await new Promise((r) => setTimeout(r, 100));
    check(tailEnded, 'the drain ended the live tail stream');
    check(!/4111111111111111|card=|BEGIN PRIVATE|_usr_[^ ]*_/.test(server.getLog()),
        'server log holds no payload or secret');
}

main().catch((e) => {
    failed++;
    console.error('FAIL: ' + (e.stack || e));
}).finally(() => {
    clearTimeout(deadline);
    if (server && server.exitCode === null) server.kill('SIGKILL');
    fs.rmSync(tmp, { recursive: true, force: true });
    console.log(`${passed} passed, ${failed} failed`);
    process.exit(failed === 0 ? 0 : 1);
});
