#!/usr/bin/node
// Interop client: Node `ws` (Debian node-ws 8.11) against an echo server.
//
//   NODE_PATH=/usr/share/nodejs /usr/bin/node tests/interop/client.js ws://127.0.0.1:PORT [--only P] [--skip P]
//       [--deflate [--deflate-expect PARAMS] [--max-message BYTES]]
//
// The same cases as client.py, through ws: every case opens its own connection and prints
// `PASS <case>` or `FAIL <case>: <why>`; the exit status is non-zero when any case fails. Every
// wait has a deadline and so has the whole run. Raw frames are written to ws's socket beneath the
// WebSocket, so ws's own Receiver validates what the server answers (masking, RSV bits, close
// codes, UTF-8 of text and close reasons).
//
// --deflate: as in client.py, every connection offers permessage-deflate (ws's threshold set to
// 0, so every message is compressed) and fails unless the server accepts; the echo cases run
// compressed and the deflate_* cases follow (ws offers one set of parameters per connection:
// window bits 8..15 both ways, since Node's zlib takes 8 where Python's does not).
'use strict';
const crypto = require('crypto');
const fs = require('fs');
const net = require('net');
const zlib = require('zlib');
const WebSocket = require('ws');

const CASE_TIMEOUT = 60000;  // ms per case (16 MiB echoes under ASan are the slowest)
const STEP_TIMEOUT = 30000;  // ms per wait inside a case
const RUN_TIMEOUT = 600000;  // ms for the whole run
const SIZES = [0, 125, 126, 65535, 65536, 16 * 1024 * 1024];
const mode = { deflate: false, expect: {}, serverMaxMessage: 16 << 20 };  // from the command line

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
  // With --deflate, `offer` (ws's perMessageDeflate options) defaults to ws's default offer and
  // the agreement is checked.
  static async open(uri, options = {}, offer = mode.deflate ? {} : undefined) {
    const perMessageDeflate = offer === undefined ? false : { threshold: 0, ...offer };
    const client = await withTimeout(new Promise((resolve, reject) => {
      const ws = new WebSocket(uri, { perMessageDeflate, maxPayload: 0, handshakeTimeout: 10000, ...options });
      const c = new Client(ws);
      ws.once('upgrade', (response) => { c.extensionsHeader = response.headers['sec-websocket-extensions'] || ''; });
      ws.once('open', () => resolve(c));
      ws.once('error', reject);
    }), STEP_TIMEOUT, 'opening handshake');
    if (offer !== undefined) {
      checkAgreement(client, offer);
      client.recordCompressedMessages();
    }
    return client;
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

  async expectClose(code) {
    const m = await this.next();
    expect(m === null, `received a ${m && m.isBinary ? 'binary' : 'text'} message instead of a close`);
    const got = await withTimeout(this.closed, STEP_TIMEOUT, 'close');
    expect(got.code === code, `server closed with ${got.code}, expected ${code}`);
  }

  writeRaw(bytes) { this.ws._socket.write(bytes); }  // beneath ws's Sender

  // The server's permessage-deflate answer as {parameter: value or true}.
  agreement() {
    const [name, ...params] = this.extensionsHeader.split(';').map((p) => p.trim());
    expect(name === 'permessage-deflate' && !this.extensionsHeader.includes(','),
      `compression not agreed: extensions "${this.extensionsHeader}"`);
    expect(this.ws.extensions === 'permessage-deflate', `ws agreed on "${this.ws.extensions}"`);
    return Object.fromEntries(params.map((p) => {
      const [key, value] = p.split('=').map((x) => x.trim());
      return [key, value === undefined ? true : Number(value.replace(/"/g, ''))];
    }));
  }

  // Notes the wire size of every compressed message received (ws inflates frame by frame) in
  // this.compressed, by wrapping the extension's decompress.
  recordCompressedMessages() {
    const extension = this.ws._extensions['permessage-deflate'];
    const decompress = extension.decompress.bind(extension);
    this.compressed = [];
    let wire = 0;
    extension.decompress = (data, fin, callback) => {
      wire += data.length;
      if (fin) { this.compressed.push(wire); wire = 0; }
      decompress(data, fin, callback);
    };
  }

  // The only message received so far was compressed to at most size / ratio bytes.
  expectCompressed(size, ratio) {
    expect(this.compressed.length === 1, `the echo of ${size} compressible bytes arrived uncompressed`);
    expect(this.compressed[0] * ratio <= size, `the echo of ${size} compressible bytes took ${this.compressed[0]} bytes on the wire`);
  }
}

// RFC 7692 7.1: the answer honours our offer (ws checks that too) and carries what
// --deflate-expect demands (window bits at most the value).
function checkAgreement(client, offer) {
  const answer = client.agreement();
  if (offer.serverNoContextTakeover) expect(answer.server_no_context_takeover, `${JSON.stringify(answer)} lacks server_no_context_takeover`);
  if (offer.serverMaxWindowBits) {
    expect((answer.server_max_window_bits || 99) <= offer.serverMaxWindowBits, `${JSON.stringify(answer)}: server window above the offer's`);
  }
  if (offer.clientMaxWindowBits === false) {
    expect(!('client_max_window_bits' in answer), `${JSON.stringify(answer)} limits a client window we did not offer to limit`);
  }
  if (typeof offer.clientMaxWindowBits === 'number') {
    expect((answer.client_max_window_bits || 15) <= offer.clientMaxWindowBits, `${JSON.stringify(answer)}: client window above the offer's`);
  }
  for (const [key, bits] of Object.entries(mode.expect)) {
    if (key === 'client_max_window_bits' && offer.clientMaxWindowBits === false) continue;  // not the server's to limit
    expect(key in answer, `the answer ${JSON.stringify(answer)} lacks ${key} (--deflate-expect)`);
    expect(bits === true || answer[key] <= bits, `the answer has ${key}=${answer[key]}, expected <= ${bits}`);
  }
  return answer;
}

// "a;b=10" -> {a: true, b: 10}
const parseParameters = (spec) => Object.fromEntries(spec.split(';').map((p) => p.trim()).filter((p) => p)
  .map((p) => { const [k, v] = p.split('='); return [k, v === undefined ? true : Number(v)]; }));

// --- echo cases -------------------------------------------------------------------------------------

const echoCase = (make, isBinary, n) => async (uri) => {
  const c = await Client.open(uri);
  const message = make(n);
  c.ws.send(message, { binary: isBinary });
  await c.expectEcho(message, isBinary);
  // textOfLength repeats a short unit: any server compresses it (random binary it may not)
  if (mode.deflate && !isBinary && n >= 1024) c.expectCompressed(n, 10);
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
  await c.expectClose(code);
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

// --- permessage-deflate cases (--deflate) ------------------------------------------------------------

// A typical small trading message: similar to its neighbours, as context takeover likes.
const jsonMessage = (i) => JSON.stringify({ type: 'trade', seq: i, symbol: 'EURUSD', price: (1.0842 + i * 1e-4).toFixed(4),
  qty: (i * 37) % 1000, side: i % 2 ? 'buy' : 'sell' });

// Sends them all at once (ws queues them), then expects their echoes in order.
async function exchangePipelined(c, messages) {
  messages.forEach((m) => c.ws.send(m.message, { binary: m.isBinary }));
  for (const m of messages) await c.expectEcho(m.message, m.isBinary);
}
const text = (message) => ({ message, isBinary: false });
const binary = (message) => ({ message, isBinary: true });

// One agreement: echoes of every kind of message under it, then a fragmented one.
const deflateVariationCase = (offer) => async (uri) => {
  const c = await Client.open(uri, {}, offer);
  const bigText = textOfLength(100000);
  await exchangePipelined(c, [text(''), text('a'), text(bigText), binary(binaryOfLength(70000)),
    binary(Buffer.from(Array.from({ length: 500 }, (_, i) => jsonMessage(i)).join(''))),
    ...Array.from({ length: 100 }, (_, i) => text(jsonMessage(i)))]);
  c.compressed = c.compressed.slice(2, 3);  // the echo of bigText (the server compresses every echo here)
  c.expectCompressed(bigText.length, 10);
  const parts = ['κό', 'σμε', '', textOfLength(20000)];
  sendFragments(c, parts, false);
  await c.expectEcho(parts.join(''), false);
  await c.closeNormally();
  return `agreed ${c.extensionsHeader}`;
};

const range = (from, to) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
const DEFLATE_VARIATIONS = [
  // name, ws's perMessageDeflate options (one offer)
  ['client_max_window_bits_without_value', {}],
  ['client_max_window_bits_not_offered', { clientMaxWindowBits: false }],
  ['client_no_context_takeover', { clientNoContextTakeover: true }],
  ['server_no_context_takeover', { serverNoContextTakeover: true }],
  ['both_no_context_takeover', { clientNoContextTakeover: true, serverNoContextTakeover: true }],
  ...range(8, 15).map((b) => [`client_max_window_bits_${b}`, { clientMaxWindowBits: b }]),
  ...range(8, 15).map((b) => [`server_max_window_bits_${b}`, { serverMaxWindowBits: b }]),
  ['smallest_windows_no_context_takeover', { serverMaxWindowBits: 8, clientMaxWindowBits: 8,
    serverNoContextTakeover: true, clientNoContextTakeover: true }],
];

async function deflateAgreement(uri) {
  const c = await Client.open(uri);
  const params = JSON.stringify(c.ws._extensions['permessage-deflate'].params);
  await c.closeNormally();
  return `agreed ${c.extensionsHeader}; ws: ${params}`;
}

// Many similar messages in a row: with context takeover each refers to the ones before.
async function deflateContextTakeover1000Messages(uri) {
  const c = await Client.open(uri);
  const messages = Array.from({ length: 1000 }, (_, i) => text(jsonMessage(i)));
  await exchangePipelined(c, messages);
  const size = messages.reduce((n, m) => n + m.message.length, 0);
  const wire = c.compressed.reduce((n, w) => n + w, 0);
  const takeover = !c.agreement().server_no_context_takeover;
  if (takeover) {
    expect(c.compressed.length === messages.length, `only ${c.compressed.length} of ${messages.length} echoes arrived compressed`);
    expect(wire * 2 < size, `${size} bytes took ${wire} on the wire despite context takeover`);
  }
  await c.closeNormally();
  return `${c.compressed.length} echoes compressed, ${size} bytes in ${wire} on the wire (${takeover ? 'with' : 'without'} context takeover)`;
}

// data as one raw DEFLATE message (RFC 7692 7.2.1: sync flush, 00 00 FF FF removed); a 9-bit
// window suits any agreement (zlib keeps distances within 250 bytes at 9 bits).
const deflateRaw = (data, level = 6) =>
  zlib.deflateRawSync(Buffer.from(data), { level, windowBits: 9, finishFlush: zlib.constants.Z_SYNC_FLUSH }).subarray(0, -4);

async function deflateRawFragmentsPingBetween(uri) {
  const c = await Client.open(uri);
  const message = textOfLength(3000);
  const z = deflateRaw(message);
  const third = Math.floor(z.length / 3);
  c.writeRaw(Buffer.concat([rawFrame(0x1, z.subarray(0, third), { fin: false, rsv: 4 }), rawFrame(0x9, 'between'),
    rawFrame(0x0, z.subarray(third, 2 * third), { fin: false }), rawFrame(0x0, '', { fin: false }),
    rawFrame(0x0, z.subarray(2 * third))]));
  await c.expectEcho(message, false);
  await c.closeNormally();
}

// RFC 7692 7.2.3: "Hello" as a BFINAL block (7.2.3.4) and as a stored block (7.2.3.3), an
// uncompressed message between, then the shared-window form (7.2.3.2) that refers to the message
// before: echoed with client context takeover; without it (client_no_context_takeover agreed)
// the server MAY start each message from an empty window (7.2.2): an echo or 1007.
async function deflateRawRfc7692Examples(uri) {
  const c = await Client.open(uri);
  const hex = (h) => Buffer.from(h.replace(/ /g, ''), 'hex');
  c.writeRaw(Buffer.concat([rawFrame(0x1, hex('f348cdc9c90700 00'), { rsv: 4 }), rawFrame(0x1, 'plain'),
    rawFrame(0x1, hex('0005 00 faff 48656c6c6f 00'), { rsv: 4 }), rawFrame(0x1, hex('f248cdc9c90700'), { rsv: 4 })]));
  for (const t of ['Hello', 'plain', 'Hello', 'Hello']) await c.expectEcho(t, false);
  c.writeRaw(rawFrame(0x1, hex('f200110000'), { rsv: 4 }));  // "Hello" again, distance 5
  if (!c.agreement().client_no_context_takeover) {
    await c.expectEcho('Hello', false);
    await c.closeNormally();
    return 'with context takeover';
  }
  const m = await c.next();
  if (m === null) {
    const got = await withTimeout(c.closed, STEP_TIMEOUT, 'close');
    expect(got.code === 1007, `server closed with ${got.code}, expected 1007 or an echo`);
    return 'client_no_context_takeover: the server inflates each message afresh (1007)';
  }
  expect(!m.isBinary && m.data.toString() === 'Hello', 'the echo differs from "Hello"');
  await c.closeNormally();
  return 'client_no_context_takeover: the server keeps its window (echoed)';
}

// Resets the server's peak RSS (clear_refs 5); returns a function giving [RSS before, peak since]
// in KiB, or null when not measurable.
function serverPeakRss() {
  const pid = process.env.WSFRAME_SERVER_PID;
  const status = (field) => {
    const line = fs.readFileSync(`/proc/${pid}/status`, 'latin1').split('\n').find((l) => l.startsWith(field));
    return Number(line.split(/\s+/)[1]);
  };
  try {
    fs.writeFileSync(`/proc/${pid}/clear_refs`, '5');
    const before = status('VmRSS:');
    return () => { try { return [before, status('VmHWM:')]; } catch (e) { return null; } };
  } catch (e) {
    return null;
  }
}

// A compressed message inflating to inflated(limit) bytes: the server must close with 1009, and
// its peak memory stay bounded by its limit however large the bomb: the reassembly buffer and the
// one it grew from (under 2x), plus the allocator's slack (16 MiB: under ASan its quarantine keeps
// the smaller buffers).
const bombCase = (sendBomb, inflated) => async (uri) => {
  const c = await Client.open(uri);
  const limit = mode.serverMaxMessage;
  const size = inflated(limit);
  const peak = serverPeakRss();
  sendBomb(c, size);
  await c.expectClose(1009);
  const note = `${size / 2 ** 20} MiB bomb, server limit ${limit / 2 ** 20} MiB`;
  const measured = peak && peak();
  if (!measured) return `${note}; server memory not measured`;
  const [before, highest] = measured;
  expect(highest - before <= (3 * limit + (16 << 20)) / 1024, `the server's peak RSS grew by ${(highest - before) >> 10} MiB (${note})`);
  return `${note}; server RSS ${before >> 10} MiB, peak ${highest >> 10} MiB (+${((highest - before) / 1024).toFixed(1)} MiB)`;
};

// 1 MiB of zeros ends on a sync flush, so the stream can restart it: repeated, it inflates to as
// many MiB.
function sendRawBomb(c, inflated) {
  const mebibyte = zlib.deflateRawSync(Buffer.alloc(1 << 20), { level: 9, windowBits: 9, finishFlush: zlib.constants.Z_SYNC_FLUSH });
  c.writeRaw(rawFrame(0x2, Buffer.concat(Array(inflated >> 20).fill(mebibyte)).subarray(0, -4), { rsv: 4 }));
}
const sendBombThroughWs = (c, inflated) => c.ws.send(Buffer.alloc(inflated));  // ws compresses it: ~1000:1

const DEFLATE_ERRORS = [
  // name, raw bytes, close code: under permessage-deflate (RFC 7692 6, 6.1, 7.2.2)
  ['invalid_compressed_data', rawFrame(0x2, Buffer.from('ffffffff', 'hex'), { rsv: 4 }), 1007],  // BTYPE 11 is reserved
  // A stored block (level 0) of 1000 bytes cut after 95: the appended tail cannot complete it.
  ['compressed_data_cut_inside_a_block', rawFrame(0x2, deflateRaw(crypto.randomBytes(1000), 0).subarray(0, 100), { rsv: 4 }), 1007],
  ['compressed_text_invalid_utf8', rawFrame(0x1, deflateRaw(Buffer.from('6f6b20eda080', 'hex')), { rsv: 4 }), 1007],
  ['rsv1_on_a_continuation_frame', Buffer.concat([rawFrame(0x1, deflateRaw('Hello').subarray(0, 2), { fin: false, rsv: 4 }),
    rawFrame(0x0, deflateRaw('Hello').subarray(2), { rsv: 4 })]), 1002],
  ['rsv1_on_a_ping', rawFrame(0x9, '', { rsv: 4 }), 1002],
  ['rsv2_with_deflate', rawFrame(0x1, 'x', { rsv: 2 }), 1002],
];

function deflateCases() {
  const cases = [['deflate_agreement', deflateAgreement]];
  for (const [name, offer] of DEFLATE_VARIATIONS) cases.push([`deflate_offer_${name}`, deflateVariationCase(offer)]);
  cases.push(
    ['deflate_context_takeover_1000_messages', deflateContextTakeover1000Messages],
    ['deflate_raw_fragments_ping_between', deflateRawFragmentsPingBetween],
    ['deflate_raw_rfc7692_examples', deflateRawRfc7692Examples],
  );
  for (const [name, raw, code] of DEFLATE_ERRORS) cases.push([`error_deflate_${name}`, protocolErrorCase(raw, code)]);
  cases.push(
    // ~1000:1, so it stays under the limit on the wire (a larger one would be refused unread)
    ['error_deflate_bomb_raw_512x_limit_up_to_1_GiB', bombCase(sendRawBomb, (limit) => Math.min(512 * limit, 2 ** 30))],
    ['error_deflate_bomb_from_ws_4x_limit', bombCase(sendBombThroughWs, (limit) => 4 * limit)],
  );
  return cases;
}

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
  );
  if (!mode.deflate) cases.push(['compression_offer_declined', compressionOfferDeclined]);
  // Under permessage-deflate RSV1 is allowed (and "x" happens to inflate to an empty message).
  for (const [name, raw, code] of PROTOCOL_ERRORS) {
    if (!(mode.deflate && name === 'rsv1_without_extension')) cases.push([`error_${name}`, protocolErrorCase(raw, code)]);
  }
  if (mode.deflate) cases.push(...deflateCases());
  for (const [name, options, statuses, header] of HTTP_CASES) cases.push([name, httpCase(options, statuses, header)]);
  return cases;
}

async function main() {
  const args = process.argv.slice(2);
  const withValue = ['--only', '--skip', '--deflate-expect', '--max-message'];
  const uri = args.find((a, i) => !a.startsWith('--') && !withValue.includes(args[i - 1]));
  const values = (flag) => args.filter((_, i) => args[i - 1] === flag);
  const only = values('--only'), skip = values('--skip');
  mode.deflate = args.includes('--deflate');
  mode.expect = parseParameters(values('--deflate-expect').join(';'));
  if (values('--max-message').length) mode.serverMaxMessage = Number(values('--max-message')[0]);
  if (!uri) {
    console.error('usage: client.js ws://127.0.0.1:PORT [--only PREFIX] [--skip PREFIX] [--deflate [--deflate-expect PARAMS] [--max-message BYTES]]');
    process.exit(2);
  }
  setTimeout(() => { console.log(`FAIL whole run: exceeded ${RUN_TIMEOUT / 1000} s`); process.exit(2); }, RUN_TIMEOUT).unref();

  let failures = 0;
  for (const [name, run] of allCases()) {
    if ((only.length && !only.some((p) => name.startsWith(p))) || skip.some((p) => name.startsWith(p))) continue;
    const start = Date.now();
    try {
      const note = await withTimeout(run(uri), CASE_TIMEOUT, 'the whole case');
      console.log(`PASS ${name} (${((Date.now() - start) / 1000).toFixed(2)} s${note ? `; ${note}` : ''})`);
    } catch (e) {
      failures++;
      console.log(`FAIL ${name}: ${e.message}`);
    }
  }
  const version = require('ws/package.json').version;
  console.log(`node ws ${version} client${mode.deflate ? ' (permessage-deflate)' : ''}: ${failures === 0 ? 'all passed' : `${failures} failed`}`);
  process.exit(failures ? 1 : 0);
}

main();
