// gRPC server for the E2E suite (h2c on 127.0.0.1:PORT). usage: node server.js PORT
'use strict';
const path = require('path');
const grpc = require('@grpc/grpc-js');
const loader = require('@grpc/proto-loader');

const def = loader.loadSync(path.join(__dirname, 'echo.proto'), { keepCase: true, defaults: true });
const e2e = grpc.loadPackageDefinition(def).e2e;
const server = new grpc.Server();
server.addService(e2e.Echo.service, {
  Unary: (call, cb) => cb(null, { text: call.request.text, n: call.request.n }),
  Count: (call) => {
    for (let i = 0; i < call.request.n; i++) call.write({ text: call.request.text, n: i });
    call.end();
  },
  Chat: (call) => {
    call.on('data', (m) => call.write(m));
    call.on('end', () => call.end());
  },
  Slow: (call, cb) => {
    const t = setTimeout(() => cb(null, { text: 'slow done' }), call.request.n);
    call.on('cancelled', () => clearTimeout(t));
  },
  Fail: (call, cb) => cb({ code: grpc.status.INVALID_ARGUMENT, details: call.request.text }),
});
server.bindAsync(`127.0.0.1:${process.argv[2]}`, grpc.ServerCredentials.createInsecure(), (err, port) => {
  if (err) { console.error(err); process.exit(1); }
  console.log(`grpc server listening ${port}`);
});
