// gRPC client for the E2E suite: runs every call shape against TARGET and prints one line per result.
// usage: node client.js HOST:PORT
'use strict';
const path = require('path');
const grpc = require('@grpc/grpc-js');
const loader = require('@grpc/proto-loader');

const def = loader.loadSync(path.join(__dirname, 'echo.proto'), { keepCase: true, defaults: true });
const e2e = grpc.loadPackageDefinition(def).e2e;
const echo = new e2e.Echo(process.argv[2], grpc.credentials.createInsecure());
const deadline = (ms) => ({ deadline: new Date(Date.now() + ms) });

const unary = (method, req, opts) => new Promise((resolve) =>
  echo[method](req, opts || deadline(10000), (err, res) => resolve(err ? `error ${err.code} ${err.details}` : `ok ${res.text}`)));

function count(n) {
  return new Promise((resolve) => {
    const got = [];
    const call = echo.Count({ text: 'c', n }, deadline(10000));
    call.on('data', (m) => got.push(m.n));
    call.on('error', (err) => resolve(`error ${err.code} ${err.details}`));
    call.on('end', () => resolve(`ok ${got.length} ${got.every((v, i) => v === i)}`));
  });
}

function chat(n) {
  return new Promise((resolve) => {
    const got = [];
    const call = echo.Chat(deadline(10000));
    let sent = 0;
    // ping-pong: the next message goes out only after the previous echo came back (true bidi, not a batch)
    call.on('data', (m) => { got.push(m.text); if (++sent < n) call.write({ text: `m${sent}` }); else call.end(); });
    call.on('error', (err) => resolve(`error ${err.code} ${err.details}`));
    call.on('end', () => resolve(`ok ${got.length} ${got.every((v, i) => v === `m${i}`)}`));
    call.write({ text: 'm0' });
  });
}

(async () => {
  console.log(`unary ${await unary('Unary', { text: 'hello grpc' })}`);
  console.log(`count ${await count(200)}`);
  console.log(`chat ${await chat(50)}`);
  console.log(`deadline ${await unary('Slow', { n: 3000 }, deadline(300))}`);
  console.log(`after-deadline ${await unary('Unary', { text: 'still here' })}`);
  console.log(`fail ${await unary('Fail', { text: 'bad request: 100% wrong' })}`);
  echo.close();
  process.exit(0);
})();
