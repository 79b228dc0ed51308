#!/usr/bin/node
// Interop client: Node `ws` (Debian node-ws 8.11) against an echo server.
//
//   NODE_PATH=/usr/share/nodejs /usr/bin/node tests/interop/client.js ws://127.0.0.1:PORT [--only P] [--skip P]
//
// The same cases as client.py, through ws: every case opens its own connection and prints
// `PASS <case>` or `FAIL <case>: <why>`; the exit status is non-zero when any case fails. Every
// wait has a deadline and so has the whole run. Raw frames are written to ws's socket beneath the
// WebSocket, so ws's own Receiver validates what the server answers (masking, RSV bits, close
// codes, UTF-8 of text and close reasons).
'use strict';
const crypto = require('crypto');
const net = require('net');
const WebSocket = require('ws');

const CASE_TIMEOUT = 60000;  // ms per case (16 MiB echoes under ASan are the slowest)
const STEP_TIMEOUT = 30000;  // ms per wait inside a case
const RUN_TIMEOUT = 600000;  // ms for the whole run
const SIZES = [0, 125, 126, 65535, 65536, 16 * 1024 * 1024];

function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function textOfLength(n) {  // a string whose UTF-8 form is exactly n bytes, 1- to 4-byte code points
  const unit = 'κόσμε-€𝄞 abc ';
  const s = unit.repeat(Math.floor(n / Buffer.byteLength(unit)));
  return s + 'x'.repeat(n - Buffer.byteLength(s));
}
const binaryOfLength = (n) => crypto.randomBytes(n);

function expect(condition, why) { if (!condition) throw new Error(why); }

// A WebSocket whose messages, pongs and close are awaited with deadlines.
class Client {
  static open(uri, options = {}) {
    return withTimeout(new Promise((resolve, reject) => {
      const ws = new WebSocket(uri, { perMessageDeflate: false, maxPayload: 0, handshakeTimeout: 10000, ...options });
      const client = new Client(ws);
      ws.once('open', () => resolve(client));
      ws.once('error', reject);
    }), STEP_TIMEOUT, 'opening handshake');
  }

  constructor(ws) {
    this.ws = ws;
    this.queue = [];
    this.waiters = [];
    this.pongs = [];
    this.errors = [];
    this.closed = new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    ws.on('message', (data, isBinary) => this.deliver({ data, isBinary }));
    ws.on('pong', (data) => this.pongs.push(data));
    ws.on('error', (e) => this.errors.push(e));  // e.g. the server broke a rule; reported via close
    this.closed.then(() => this.deliver(null));
  }

  deliver(message) {
    if (this.waiters.length) this.waiters.shift()(message);
    else this.queue.push(message);
  }

  next() {
    const p = this.queue.length ? Promise.resolve(this.queue.shift()) : new Promise((r) => this.waiters.push(r));
    return withTimeout(p, STEP_TIMEOUT, 'a message');
  }

  async expectEcho(sent, isBinary) {
    const m = await this.next();
    expect(m !== null, `connection closed (${this.errors.map(String).join('; ')}) instead of an echo`);
    const kind = (b) => (b ? 'binary' : 'text');
    const a = Buffer.from(sent);
    expect(m.isBinary === isBinary, `sent ${kind(isBinary)}, received ${kind(m.isBinary)}`);
    if (!a.equals(m.data)) {
      let i = 0;
      while (i < Math.min(a.length, m.data.length) && a[i] === m.data[i]) i++;
      throw new Error(`echo differs: sent ${a.length} bytes, received ${m.data.length}, first difference at ${i}`);
    }
  }

  async ping(payload) {
    const before = this.pongs.length;
    this.ws.ping(payload);
    const start = Date.now();
    while (this.pongs.length === before) {
      expect(Date.now() - start < STEP_TIMEOUT, 'no pong');
      expect(this.ws.readyState === WebSocket.OPEN, 'connection closed while waiting for a pong');
      await new Promise((r) => setTimeout(r, 2));
    }
    expect(this.pongs[before].equals(Buffer.from(payload)), 'pong payload differs from the ping');
  }

  async close(code, reason) {
    this.ws.close(code, reason);
    return withTimeout(this.closed, STEP_TIMEOUT, 'the close handshake');
  }

  async closeNormally() {
    const { code } = await this.close(1000);
    expect(code === 1000, `close echo code ${code}, expected 1000`);
  }

  writeRaw(bytes) { this.ws._socket.write(bytes); }  // beneath ws's Sender
}

// --- echo cases -------------------------------------------------------------------------------------

const echoCase = (make, isBinary, n) => async (uri) => {
  const c = await Client.open(uri);
  const message = make(n);
  c.ws.send(message, { binary: isBinary });
  await c.expectEcho(message, isBinary);
  await c.closeNormally();
};

async function sendFragments(c, parts, isBinary) {
  parts.forEach((p, i) => c.ws.send(p, { binary: isBinary, fin: i === parts.length - 1 }));
}

async function fragmentedText(uri) {
  const c = await Client.open(uri);
  const parts = ['κό', 'σμε', '', ' – ', textOfLength(70000)];
  sendFragments(c, parts, false);
  await c.expectEcho(parts.join(''), false);
  await c.closeNormally();
}

async function fragmentedBinary(uri) {
  const c = await Client.open(uri);
  const parts = [1, 0, 125, 126, 65536, 3].map(binaryOfLength);
  sendFragments(c, parts, true);
  await c.expectEcho(Buffer.concat(parts), true);
  await c.closeNormally();
}

async function fragmentedMany(uri) {
  const c = await Client.open(uri);
  const parts = Array.from({ length: 1000 }, () => binaryOfLength(100));
  sendFragments(c, parts, true);
  await c.expectEcho(Buffer.concat(parts), true);
  await c.closeNormally();
}

async function ping(uri) {
  const c = await Client.open(uri);
  for (const payload of [Buffer.alloc(0), Buffer.from('hello'), binaryOfLength(125)]) await c.ping(payload);
  await c.closeNormally();
}

const closeCase = (code, reason) => async (uri) => {
  const c = await Client.open(uri);
  const got = await c.close(code, reason);
  expect(got.code === code, `close echo code ${got.code}, expected ${code}`);
};

async function burst(uri) {
  const c = await Client.open(uri);
  const rand = (n) => Math.floor(Math.random() * n);
  const messages = Array.from({ length: 500 }, (_, i) => (i % 2 ? textOfLength(rand(3000)) : binaryOfLength(rand(70000))));
  messages.forEach((m, i) => c.ws.send(m, { binary: i % 2 === 0 }));
  for (let i = 0; i < messages.length; i++) await c.expectEcho(messages[i], i % 2 === 0);
  await c.closeNormally();
}

async function compressionOfferDeclined(uri) {
  const c = await Client.open(uri, { perMessageDeflate: true });
  expect(c.ws.extensions === '', `server accepted extensions "${c.ws.extensions}"`);
  c.ws.send('compressible '.repeat(100));
  await c.expectEcho('compressible '.repeat(100), false);
  await c.closeNormally();
}

// --- raw frames beneath ws ---------------------------------------------------------------------------

// A client frame with any header bits; `length` overrides the announced payload length (BigInt ok).
function rawFrame(opcode, payload = Buffer.alloc(0), { fin = true, rsv = 0, masked = true, length } = {}) {
  payload = Buffer.from(payload);
  const n = length === undefined ? BigInt(payload.length) : BigInt(length);
  const maskBit = masked ? 0x80 : 0;
  let head;
  if (n < 126n) head = Buffer.from([0, maskBit | Number(n)]);
  else if (n < 65536n) { head = Buffer.alloc(4); head[1] = maskBit | 126; head.writeUInt16BE(Number(n), 2); }
  else { head = Buffer.alloc(10); head[1] = maskBit | 127; head.writeBigUInt64BE(n, 2); }
  head[0] = (fin ? 0x80 : 0) | (rsv << 4) | opcode;
  if (!masked) return Buffer.concat([head, payload]);
  const key = crypto.randomBytes(4);
  return Buffer.concat([head, key, payload.map((b, i) => b ^ key[i % 4])]);
}

async function fragmentedTextSplitCodePoint(uri) {
  const c = await Client.open(uri);
  const word = Buffer.from('κόσμε');
  c.writeRaw(Buffer.concat([rawFrame(0x1, word.subarray(0, 1), { fin: false }),
    rawFrame(0x0, word.subarray(1, 6), { fin: false }), rawFrame(0x0, word.subarray(6))]));
  await c.expectEcho('κόσμε', false);
  await c.closeNormally();
}

async function pingBetweenFragments(uri) {
  const c = await Client.open(uri);
  c.writeRaw(Buffer.concat([rawFrame(0x1, 'Hel', { fin: false }), rawFrame(0x9, 'in the middle'), rawFrame(0x0, 'lo')]));
  await c.expectEcho('Hello', false);
  const start = Date.now();
  while (c.pongs.length === 0 && Date.now() - start < STEP_TIMEOUT) await new Promise((r) => setTimeout(r, 2));
  expect(c.pongs.length === 1 && c.pongs[0].toString() === 'in the middle', 'no pong for the ping between fragments');
  await c.closeNormally();
}

const protocolErrorCase = (raw, code) => async (uri) => {
  const c = await Client.open(uri);
  c.writeRaw(raw);
  const m = await c.next();
  expect(m === null, `received a ${m && m.isBinary ? 'binary' : 'text'} message instead of a close`);
  const got = await withTimeout(c.closed, STEP_TIMEOUT, 'close');
  expect(got.code === code, `server closed with ${got.code}, expected ${code}`);
};

const closePayload = (code, reason = Buffer.alloc(0)) => {
  const b = Buffer.alloc(2); b.writeUInt16BE(code); return Buffer.concat([b, Buffer.from(reason)]);
};

const PROTOCOL_ERRORS = [
  ['rsv1_without_extension', rawFrame(0x1, 'x', { rsv: 4 }), 1002],
  ['rsv3_without_extension', rawFrame(0x2, 'x', { rsv: 1 }), 1002],
  ['reserved_data_opcode_3', rawFrame(0x3), 1002],
  ['reserved_control_opcode_11', rawFrame(0xB), 1002],
  ['ping_payload_126_bytes', rawFrame(0x9, 'p'.repeat(126)), 1002],
  ['fragmented_ping', rawFrame(0x9, 'p', { fin: false }), 1002],
  ['continuation_without_start', rawFrame(0x0, 'x'), 1002],
  ['new_message_inside_fragmented_one', Buffer.concat([rawFrame(0x1, 'a', { fin: false }), rawFrame(0x1, 'b')]), 1002],
  ['unmasked_client_frame', rawFrame(0x1, 'x', { masked: false }), 1002],
  ['length_with_top_bit_set', rawFrame(0x2, '', { length: 1n << 63n }), 1002],
  ['message_of_one_tebibyte_announced', rawFrame(0x2, '', { length: 1n << 40n }), 1009],
  ['invalid_utf8_text', rawFrame(0x1, Buffer.from('cebae1bdb9cf83cebcceb5eda080', 'hex')), 1007],
  ['invalid_utf8_across_fragments', Buffer.concat([rawFrame(0x1, Buffer.from('6f6b20f4', 'hex'), { fin: false }),
    rawFrame(0x0, Buffer.from('908080', 'hex'))]), 1007],
  ['close_one_byte_payload', rawFrame(0x8, Buffer.from([3])), 1002],
  ['close_code_999', rawFrame(0x8, closePayload(999)), 1002],
  ['close_reserved_code_1005', rawFrame(0x8, closePayload(1005)), 1002],
  ['close_reserved_code_1015', rawFrame(0x8, closePayload(1015)), 1002],
  ['close_code_5000', rawFrame(0x8, closePayload(5000)), 1002],
  ['close_invalid_utf8_reason', rawFrame(0x8, closePayload(1000, Buffer.from('c0af', 'hex'))), 1007],
];

// --- HTTP upgrade requests (raw TCP) -------------------------------------------------------------------

function upgradeRequest(host, { method = 'GET', key = 'dGhlIHNhbXBsZSBub25jZQ==', version = '13', upgrade = true } = {}) {
  const lines = [`${method} / HTTP/1.1`, `Host: ${host}`, 'Connection: Upgrade'];
  if (upgrade) lines.push('Upgrade: websocket');
  if (key !== null) lines.push(`Sec-WebSocket-Key: ${key}`);
  if (version !== null) lines.push(`Sec-WebSocket-Version: ${version}`);
  return `${lines.join('\r\n')}\r\n\r\n`;
}

const httpCase = (options, statuses, header) => (uri) => withTimeout(new Promise((resolve, reject) => {
  const { hostname, port, host } = new URL(uri);
  const socket = net.connect(Number(port), hostname, () => socket.write(upgradeRequest(host, options)));
  let received = Buffer.alloc(0);
  socket.on('data', (d) => { received = Buffer.concat([received, d]); });
  socket.on('error', reject);
  socket.on('close', () => {  // the server closes after a rejection (Connection: close)
    try {
      const head = received.toString('latin1').split('\r\n\r\n')[0];
      const [statusLine, ...fields] = head.split('\r\n');
      const status = Number(statusLine.split(' ')[1]);
      expect(statuses.includes(status), `status line '${statusLine}', expected ${statuses.join(' or ')}`);
      if (header) {
        const value = fields.map((f) => f.split(':')).find(([n]) => n.trim().toLowerCase() === header[0].toLowerCase());
        expect(value && value.slice(1).join(':').trim() === header[1], `missing header ${header[0]}: ${header[1]}`);
      }
      resolve();
    } catch (e) { reject(e); }
  });
}), STEP_TIMEOUT, 'the rejection and the server closing the connection');

const HTTP_CASES = [
  ['http_missing_key', { key: null }, [400]],
  ['http_key_not_16_bytes', { key: 'dGhlIHNhbXBsZQ==' }, [400]],
  ['http_version_8', { version: '8' }, [426], ['Sec-WebSocket-Version', '13']],
  ['http_post', { method: 'POST' }, [405]],
  ['http_missing_upgrade', { upgrade: false }, [400, 426]],
];

function allCases() {
  const cases = [];
  for (const [kind, make, isBinary] of [['text', textOfLength, false], ['binary', binaryOfLength, true]])
    for (const n of SIZES) cases.push([`echo_${kind}_${n}`, echoCase(make, isBinary, n)]);
  cases.push(
    ['fragmented_text', fragmentedText],
    ['fragmented_binary', fragmentedBinary],
    ['fragmented_1000_pieces', fragmentedMany],
    ['fragmented_text_split_code_point', fragmentedTextSplitCodePoint],
    ['ping', ping],
    ['ping_between_fragments', pingBetweenFragments],
    ['close_with_code_and_reason', closeCase(4000, 'done here')],
    ['close_going_away', closeCase(1001, 'going away')],
    ['burst_of_500_pipelined', burst],
    ['compression_offer_declined', compressionOfferDeclined],
  );
  for (const [name, raw, code] of PROTOCOL_ERRORS) cases.push([`error_${name}`, protocolErrorCase(raw, code)]);
  for (const [name, options, statuses, header] of HTTP_CASES) cases.push([name, httpCase(options, statuses, header)]);
  return cases;
}

async function main() {
  const args = process.argv.slice(2);
  const uri = args.find((a) => !a.startsWith('--') && !['--only', '--skip'].includes(args[args.indexOf(a) - 1]));
  const values = (flag) => args.filter((_, i) => args[i - 1] === flag);
  const only = values('--only'), skip = values('--skip');
  if (!uri) { console.error('usage: client.js ws://127.0.0.1:PORT [--only PREFIX] [--skip PREFIX]'); process.exit(2); }
  setTimeout(() => { console.log(`FAIL whole run: exceeded ${RUN_TIMEOUT / 1000} s`); process.exit(2); }, RUN_TIMEOUT).unref();

  let failures = 0;
  for (const [name, run] of allCases()) {
    if ((only.length && !only.some((p) => name.startsWith(p))) || skip.some((p) => name.startsWith(p))) continue;
    const start = Date.now();
    try {
      await withTimeout(run(uri), CASE_TIMEOUT, 'the whole case');
      console.log(`PASS ${name} (${((Date.now() - start) / 1000).toFixed(2)} s)`);
    } catch (e) {
      failures++;
      console.log(`FAIL ${name}: ${e.message}`);
    }
  }
  const version = require('ws/package.json').version;
  console.log(`node ws ${version} client: ${failures === 0 ? 'all passed' : `${failures} failed`}`);
  process.exit(failures ? 1 : 0);
}

main();
