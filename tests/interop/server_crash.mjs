// server_crash.mjs — kill -9 at random moments during sustained ingest; restart; every
// acknowledged entry is queryable exactly once.
//
// Several client loops send v3 batches (unique messages, sealed with Node's crypto) while the
// server is killed with SIGKILL at a random moment, several rounds. A batch counts as
// acknowledged only if its 200 answer arrived. At the end the server runs until the worker has
// flushed, and the query API must return every acknowledged message exactly once (batches
// that were never answered may or may not be there, but never twice).
//
// Bounded: ROUNDS rounds of at most ~1.5 s of load each, 120 s overall.
// Run as: node server_crash.mjs <build>/tools/lf-vectors <vectors-dir>
import { spawn, execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';

const ROUNDS = 6;
const CLIENTS = 6;
const buildRoot = path.resolve(path.dirname(process.argv[2]), '..');
const logfluxd = path.join(buildRoot, 'src', 'server', 'logfluxd');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lf-crash-'));
const data = path.join(tmp, 'd');
let server = null;
let passed = 0;
let failed = 0;
const check = (cond, what) => { if (cond) passed++; else { failed++; console.error('FAIL: ' + what); } };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const deadline = setTimeout(() => {
    console.error('FAIL: timed out');
    if (server) server.kill('SIGKILL');
    process.exit(1);
}, 120000);

function start() {
    return new Promise((resolve, reject) => {
        const p = spawn(logfluxd, ['serve', '--data', data, '--listen', '127.0.0.1:0',
            '--set', 'worker.flush_interval=200ms', '--set', 'ratelimit.per_key_per_sec=0',
            '--set', 'ratelimit.per_ip_per_sec=0'], { stdio: ['ignore', 'ignore', 'pipe'] });
        let log = '';
        p.stderr.on('data', (c) => {
            log += c;
            const m = log.match(/serving on \S+ port (\d+)/);
            if (m && !p.port) { p.port = Number(m[1]); resolve(p); }
        });
        p.on('exit', (code, sig) => { p.dead = true; if (!p.port) reject(new Error(`exit ${code} ${sig}: ${log}`)); });
    });
}

let ca;
function request(method, urlPath, headers, body) {
    return new Promise((resolve) => {
        const req = https.request({ host: '127.0.0.1', port: server.port, path: urlPath, method, ca,
            agent: false, headers: body ? { ...headers, 'Content-Length': body.length } : headers }, (res) => {
            const chunks = [];
            res.on('data', (c) => chunks.push(c));
            res.on('end', () => {
                const text = Buffer.concat(chunks).toString();
                let json = null;
                try { json = JSON.parse(text); } catch { /* not JSON */ }
                resolve({ status: res.statusCode, json, text });
            });
            res.on('error', () => resolve({ status: 0 }));
        });
        req.on('error', () => resolve({ status: 0 }));
        req.setTimeout(10000, () => req.destroy());
        if (body) req.write(body);
        req.end();
    });
}
const jsonReq = (token, obj) => [{ Authorization: 'Bearer ' + token, 'Content-Type': 'application/json' },
    Buffer.from(JSON.stringify(obj))];

function batch(key, keyId, messages) {
    const boundary = 'x' + crypto.randomBytes(8).toString('hex');
    const chunks = [];
    for (const message of messages) {
        const nonce = crypto.randomBytes(12);
        const c = crypto.createCipheriv('aes-256-gcm', key, nonce);
        const ct = Buffer.concat([c.update(JSON.stringify({ v: '2.0', type: 'log', message })), c.final(),
            c.getAuthTag()]);
        chunks.push(Buffer.from(`--${boundary}\r\nX-LF-Entry-Type: 1\r\nX-LF-Payload-Type: 1\r\n` +
            `X-LF-Timestamp: ${new Date().toISOString()}\r\nX-LF-Key-ID: ${keyId}\r\n` +
            `X-LF-Nonce: ${nonce.toString('base64')}\r\n\r\n`), ct, Buffer.from('\r\n'));
    }
    chunks.push(Buffer.from(`--${boundary}--\r\n`));
    return { body: Buffer.concat(chunks), type: `multipart/mixed; boundary=${boundary}` };
}

async function main() {
    const init = JSON.parse(execFileSync(logfluxd, ['init', '--data', data]));
    ca = fs.readFileSync(init.tls_cert);
    server = await start();
    await request('POST', '/v1/admin/apps', ...jsonReq(init.admin_token, { name: 'crash' }));
    const apiKey = (await request('POST', '/v1/admin/api-keys',
        ...jsonReq(init.admin_token, { app: 'crash' }))).json.data.api_key;
    const readToken = (await request('POST', '/v1/admin/tokens',
        ...jsonReq(init.admin_token, { scope: 'read' }))).json.data.token;
    const { publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 4096 });
    await request('POST', '/v1/admin/public-keys', ...jsonReq(init.admin_token,
        { public_key: publicKey.export({ type: 'spki', format: 'pem' }) }));
    const sessionKey = crypto.randomBytes(32);
    const wrapped = crypto.publicEncrypt({ key: publicKey, padding: crypto.constants.RSA_PKCS1_OAEP_PADDING,
        oaepHash: 'sha256' }, sessionKey);
    const keyId = (await request('POST', '/v1/handshake/complete', ...jsonReq(apiKey,
        { encrypted_secret: wrapped.toString('base64') }))).json.key_id;

    const acked = new Set();
    const attempted = new Set();
    let counter = 0;
    for (let round = 0; round < ROUNDS; round++) {
        let running = true;
        const loops = [];
        for (let c = 0; c < CLIENTS; c++) {
            loops.push((async () => {
                while (running) {
                    const messages = Array.from({ length: 20 }, () => `crash-${round}-${counter++}`);
                    messages.forEach((m) => attempted.add(m));
                    const { body, type } = batch(sessionKey, keyId, messages);
                    const res = await request('POST', '/v1/ingest',
                        { Authorization: 'Bearer ' + apiKey, 'Content-Type': type }, body);
                    if (res.status === 200 && res.json && res.json.data.succeeded === messages.length)
                        messages.forEach((m) => acked.add(m));
                    else if (res.status === 0) break; /* the server is gone */
                }
            })());
        }
        await sleep(200 + Math.floor(Math.random() * 1300));
        server.kill('SIGKILL');
        running = false;
        await Promise.all(loops);
        while (!server.dead) await sleep(20);
        server = await start();
    }
    check(acked.size > 0, `${acked.size} entries acknowledged across ${ROUNDS} kill -9 rounds`);
    console.log(`acknowledged ${acked.size} of ${attempted.size} attempted entries`);

    // Let the worker flush, then read everything back.
    const seen = new Map();
    for (let attempt = 0; attempt < 150; attempt++) {
        seen.clear();
        let cursor = null;
        do {
            const res = await request('GET', `/v1/query?app=crash&from=0&limit=10000&order=asc` +
                (cursor ? `&cursor=${cursor}` : ''), { Authorization: 'Bearer ' + readToken });
            if (res.status !== 200) throw new Error('query: ' + res.text);
            for (const row of res.json.data.rows) {
                const ct = Buffer.from(row.ciphertext, 'base64');
                const d = crypto.createDecipheriv('aes-256-gcm', sessionKey, Buffer.from(row.nonce, 'base64'));
                d.setAuthTag(ct.subarray(ct.length - 16));
                const msg = JSON.parse(Buffer.concat([d.update(ct.subarray(0, ct.length - 16)), d.final()])).message;
                seen.set(msg, (seen.get(msg) || 0) + 1);
            }
            cursor = res.json.data.next_cursor;
        } while (cursor);
        if ([...acked].every((m) => seen.has(m))) break;
        await sleep(200);
    }
    const missing = [...acked].filter((m) => !seen.has(m));
    const dupes = [...seen].filter(([, n]) => n > 1);
    const unknown = [...seen.keys()].filter((m) => !attempted.has(m));
    check(missing.length === 0, `every acknowledged entry is stored (${missing.length} missing)`);
    check(dupes.length === 0, `no entry is stored twice (${dupes.length} duplicated)`);
    check(unknown.length === 0, 'nothing was stored that was not sent');
    server.kill('SIGTERM');
}

main().catch((e) => { failed++; console.error('FAIL: ' + (e.stack || e)); }).finally(() => {
    clearTimeout(deadline);
    if (server && !server.dead) server.kill('SIGKILL');
    fs.rmSync(tmp, { recursive: true, force: true });
    console.log(`${passed} passed, ${failed} failed`);
    process.exit(failed === 0 ? 0 : 1);
});
