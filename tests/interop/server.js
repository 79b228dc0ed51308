#!/usr/bin/node
// Echo server on Node `ws` (Debian node-ws), the reverse-direction peer.
//
//   NODE_PATH=/usr/share/nodejs /usr/bin/node tests/interop/server.js [--host H] [--port P] [--max-message N]
//
// Prints `listening on HOST:PORT` once ready; echoes text as text and binary as binary; ws answers
// pings and completes the close handshake; stops on SIGINT/SIGTERM.
'use strict';
const { WebSocketServer } = require('ws');

const options = { host: '127.0.0.1', port: 0, maxMessage: 64 * 1024 * 1024 };
for (let i = 2; i < process.argv.length; i += 2) {
  const [flag, value] = [process.argv[i], process.argv[i + 1]];
  if (flag === '--host') options.host = value;
  else if (flag === '--port') options.port = Number(value);
  else if (flag === '--max-message') options.maxMessage = Number(value);
  else { console.error(`unknown option ${flag}`); process.exit(2); }
}

const server = new WebSocketServer({
  host: options.host, port: options.port, maxPayload: options.maxMessage, perMessageDeflate: false, backlog: 4096,
});
server.on('listening', () => {
  const { address, port } = server.address();
  process.stdout.write(`listening on ${address}:${port}\n`);
});
server.on('connection', (ws) => {
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  ws.on('error', () => {});  // protocol errors: ws has already sent the close frame
});

const stop = () => {
  for (const ws of server.clients) ws.close(1001, 'server stopping');
  server.close();
  setTimeout(() => process.exit(0), 200).unref();
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
