#!/usr/bin/node
// Echo server on Node `ws` (Debian node-ws), the reverse-direction peer.
//
//   NODE_PATH=/usr/share/nodejs /usr/bin/node tests/interop/server.js [--host H] [--port P] [--max-message N]
//       [--deflate [--deflate-params PARAMS]] [--pubsub]
//
// Prints `listening on HOST:PORT` once ready; echoes text as text and binary as binary; ws answers
// pings and completes the close handshake; stops on SIGINT/SIGTERM. --deflate accepts
// permessage-deflate offers (threshold 0: every message is compressed); --deflate-params
// "server_no_context_takeover;client_max_window_bits=10" adds the server's wishes. --pubsub sends
// every message to every connected client (the sender included) instead of echoing it.
'use strict';
const { WebSocketServer } = require('ws');

const options = { host: '127.0.0.1', port: 0, maxMessage: 64 * 1024 * 1024, deflate: false, deflateParams: '', pubsub: false };
for (let i = 2; i < process.argv.length; i += 2) {
  const [flag, value] = [process.argv[i], process.argv[i + 1]];
  if (flag === '--host') options.host = value;
  else if (flag === '--port') options.port = Number(value);
  else if (flag === '--max-message') options.maxMessage = Number(value);
  else if (flag === '--deflate') { options.deflate = true; i -= 1; }
  else if (flag === '--pubsub') { options.pubsub = true; i -= 1; }
  else if (flag === '--deflate-params') options.deflateParams = value;
  else { console.error(`unknown option ${flag}`); process.exit(2); }
}

// "server_no_context_takeover;server_max_window_bits=10" -> ws's options (camel case).
function perMessageDeflate() {
  if (!options.deflate) return false;
  const wishes = { threshold: 0 };
  for (const p of options.deflateParams.split(';').map((x) => x.trim()).filter((x) => x)) {
    const [key, value] = p.split('=');
    wishes[key.replace(/_(.)/g, (_, c) => c.toUpperCase())] = value === undefined ? true : Number(value);
  }
  return wishes;
}

const server = new WebSocketServer({
  host: options.host, port: options.port, maxPayload: options.maxMessage, perMessageDeflate: perMessageDeflate(), backlog: 4096,
});
server.on('listening', () => {
  const { address, port } = server.address();
  process.stdout.write(`listening on ${address}:${port}\n`);
});
server.on('connection', (ws) => {
  ws.on('message', (data, isBinary) => {
    for (const client of options.pubsub ? server.clients : [ws]) client.send(data, { binary: isBinary });
  });
  ws.on('error', () => {});  // protocol errors: ws has already sent the close frame
});

const stop = () => {
  for (const ws of server.clients) ws.close(1001, 'server stopping');
  server.close();
  setTimeout(() => process.exit(0), 200).unref();
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
