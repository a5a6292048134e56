// Loads Envoy's .proto tree (as unpacked by tests/Core.Tests/Config/fetch-envoy-protos.sh) plus the
// istio-proxy extension protos beside this file into one protobufjs Root with the declared (snake_case)
// field names. Shared by generate-schema.js and ../Decoding/encode-with-protobufjs.js.
'use strict';
const fs = require('fs');
const path = require('path');
const protobuf = require('protobufjs');

function protoFiles(dir) {
  const out = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...protoFiles(full));
    else if (entry.name.endsWith('.proto')) out.push(full);
  }
  return out;
}

function loadEnvoyProtos(depsArg) {
  const depsDir = path.resolve(depsArg);
  const includeDirs = [
    path.join(depsDir, 'envoy-api'),
    path.join(depsDir, 'xds'),
    path.join(depsDir, 'protoc-gen-validate'),
    path.join(depsDir, 'googleapis'),
    path.join(__dirname, 'istio-protos'),
    path.dirname(require.resolve('protobufjs/package.json')), // google/protobuf/descriptor.proto
  ];
  const resolve = (origin, target) => {
    if (path.isAbsolute(target)) return target;
    for (const dir of includeDirs) {
      const candidate = path.join(dir, target);
      if (fs.existsSync(candidate)) return candidate;
    }
    return target; // protobufjs serves google/protobuf/{any,duration,...}.proto from its built-in copies
  };
  const files = [
    ...protoFiles(path.join(depsDir, 'envoy-api', 'envoy')),
    ...protoFiles(path.join(depsDir, 'xds', 'xds')),
    ...protoFiles(path.join(depsDir, 'xds', 'udpa')),
    ...protoFiles(path.join(__dirname, 'istio-protos')),
  ].sort();
  // The npm package ships the v3 API only; files that import a missing (v2) file are left out, repeatedly,
  // since leaving one out can orphan its importers.
  const known = new Set(files);
  const loadable = new Set(files);
  for (let changed = true; changed;) {
    changed = false;
    for (const file of [...loadable]) {
      const imports = [...fs.readFileSync(file, 'utf8').matchAll(/^import\s+(?:public\s+|weak\s+)?"([^"]+)"/gm)].map((m) => m[1]);
      const missing = imports.some((i) => {
        const r = resolve(file, i);
        return !i.startsWith('google/protobuf/') && (!path.isAbsolute(r) || (known.has(r) && !loadable.has(r)));
      });
      if (missing) {
        loadable.delete(file);
        changed = true;
      }
    }
  }
  const root = new protobuf.Root();
  root.resolvePath = resolve;
  root.loadSync([...loadable].sort(), { keepCase: true });
  root.resolveAll();
  return root;
}

module.exports = { loadEnvoyProtos, protobuf };
