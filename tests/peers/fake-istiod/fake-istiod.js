'use strict';
// A fake istiod for the xDS client tests: serves ADS (SotW and Delta) on loopback with resources taken from
// real Envoy config dumps, pushes on command, and reports every request it receives.
//   node fake-istiod.js <envoy-protos deps dir> <config dumps dir>
// stdout: one JSON event per line ({"event":"listening","port":N}, "stream", "request", "response", "closed", "done").
// SDS (type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret) is served like RDS/EDS: by name, put with putRaw.
// stdin: one JSON command per line ({"id":N,"cmd":"put"|"putRaw"|"remove"|"push"|"disconnect"|"rawResponse"|...}).
const fs = require('fs');
const path = require('path');
const readline = require('readline');
const grpc = require('@grpc/grpc-js');
const { createRoot, makeConverter, structToJson } = require('./proto-json');

const [depsDir, dumpsDir] = process.argv.slice(2);
const { root, lookup } = createRoot(depsDir);
root.loadSync(path.join(depsDir, 'envoy-api/envoy/service/discovery/v3/ads.proto'), { keepCase: true });
root.resolveAll();
const converter = makeConverter(lookup);
const T = {
  req: lookup('envoy.service.discovery.v3.DiscoveryRequest'),
  resp: lookup('envoy.service.discovery.v3.DiscoveryResponse'),
  dreq: lookup('envoy.service.discovery.v3.DeltaDiscoveryRequest'),
  dresp: lookup('envoy.service.discovery.v3.DeltaDiscoveryResponse'),
};

const TYPES = {
  CDS: 'type.googleapis.com/envoy.config.cluster.v3.Cluster',
  EDS: 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment',
  LDS: 'type.googleapis.com/envoy.config.listener.v3.Listener',
  RDS: 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration',
  SDS: 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret',
};
const ORDER = ['CDS', 'EDS', 'LDS', 'RDS', 'SDS'];
const SHORT = Object.fromEntries(Object.entries(TYPES).map(([k, v]) => [v, k]));
const WILDCARD = new Set(['CDS', 'LDS']);

function emit(event) { process.stdout.write(JSON.stringify(event) + '\n'); }

// ---- the catalog: every resource of every dump, as protojson, by type and name ----
const catalog = { CDS: new Map(), EDS: new Map(), LDS: new Map(), RDS: new Map(), SDS: new Map() };
function addToCatalog(kind, json, file) {
  const name = kind === 'EDS' ? json.cluster_name : json.name;
  if (name && !catalog[kind].has(name)) catalog[kind].set(name, { json, file });
}
function walkDumps(dir) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) { walkDumps(p); continue; }
    let doc;
    try { doc = JSON.parse(fs.readFileSync(p, 'utf8')); } catch { continue; }
    for (const c of (doc && doc.configs) || []) {
      const file = path.relative(dumpsDir, p);
      for (const x of c.static_clusters || []) addToCatalog('CDS', x.cluster, file);
      for (const x of c.dynamic_active_clusters || []) addToCatalog('CDS', x.cluster, file);
      for (const x of c.static_listeners || []) addToCatalog('LDS', x.listener, file);
      for (const x of c.dynamic_listeners || []) if (x.active_state) addToCatalog('LDS', x.active_state.listener, file);
      for (const x of c.static_route_configs || []) addToCatalog('RDS', x.route_config, file);
      for (const x of c.dynamic_route_configs || []) addToCatalog('RDS', x.route_config, file);
      for (const x of c.static_endpoint_configs || []) addToCatalog('EDS', x.endpoint_config, file);
      for (const x of c.dynamic_endpoint_configs || []) addToCatalog('EDS', x.endpoint_config, file);
    }
  }
}
walkDumps(dumpsDir);

// ---- the server's current resources: kind -> name -> {version, bytes} ----
const state = { CDS: new Map(), EDS: new Map(), LDS: new Map(), RDS: new Map(), SDS: new Map() };
let versionCounter = 0;
let nonceCounter = 0;

function encodeFromCatalog(kind, name, from) {
  const entry = catalog[kind].get(from || name);
  if (!entry) throw new Error(`no ${kind} '${from || name}' in the dumps`);
  const json = JSON.parse(JSON.stringify(entry.json));
  if (kind === 'EDS') json.cluster_name = name; else json.name = name;
  if (kind === 'CDS' && json.eds_cluster_config && json.eds_cluster_config.service_name) json.eds_cluster_config.service_name = name;
  const typeName = TYPES[kind].substring(TYPES[kind].lastIndexOf('/') + 1);
  return converter.encode(lookup(typeName), json);
}

// ---- streams ----
const streams = new Map();
let streamCounter = 0;

function sotwPush(s, kind) {
  const sub = s.subs[kind];
  if (!sub) return null;
  const resources = [];
  const names = [];
  for (const [name, r] of state[kind]) {
    if (!sub.wildcard && !sub.names.has(name)) continue;
    resources.push({ type_url: TYPES[kind], value: r.bytes });
    names.push(name);
  }
  const nonce = 'n' + (++nonceCounter);
  const version = 'v' + versionCounter;
  s.lastNonce[kind] = nonce;
  s.call.write({ version_info: version, resources, type_url: TYPES[kind], nonce });
  emit({ event: 'response', stream: s.id, type: kind, nonce, version, names });
  return nonce;
}

function deltaPush(s, kind, force) {
  const sub = s.subs[kind];
  if (!sub) return null;
  const inScope = (name) => sub.wildcard || sub.names.has(name);
  const resources = [];
  const names = [];
  for (const [name, r] of state[kind]) {
    if (!inScope(name) || s.sent[kind].get(name) === r.version) continue;
    resources.push({ name, version: r.version, resource: { type_url: TYPES[kind], value: r.bytes } });
    names.push(name);
    s.sent[kind].set(name, r.version);
  }
  const removed = [];
  for (const name of [...s.sent[kind].keys()]) {
    if (inScope(name) && !state[kind].has(name)) { removed.push(name); s.sent[kind].delete(name); }
  }
  if (!force && resources.length === 0 && removed.length === 0) return null;
  const nonce = 'n' + (++nonceCounter);
  s.lastNonce[kind] = nonce;
  s.call.write({ system_version_info: 'v' + versionCounter, resources, type_url: TYPES[kind], nonce, removed_resources: removed });
  emit({ event: 'response', stream: s.id, type: kind, nonce, version: 'v' + versionCounter, names, removed });
  return nonce;
}

function push(s, kind, force) { return s.delta ? deltaPush(s, kind, force) : sotwPush(s, kind); }

function describeRequest(req, delta) {
  const out = { type: SHORT[req.type_url] || req.type_url, type_url: req.type_url, nonce: req.response_nonce || '' };
  if (req.node) out.node = { id: req.node.id, cluster: req.node.cluster, user_agent_name: req.node.user_agent_name, metadata: structToJson(req.node.metadata), locality: req.node.locality || null };
  if (req.error_detail) out.error = { code: req.error_detail.code || 0, message: req.error_detail.message || '' };
  if (delta) {
    out.subscribe = req.resource_names_subscribe || [];
    out.unsubscribe = req.resource_names_unsubscribe || [];
    out.initial_versions = req.initial_resource_versions || {};
  } else {
    out.version = req.version_info || '';
    out.names = req.resource_names || [];
  }
  return out;
}

function onRequest(s, req) {
  const d = describeRequest(req, s.delta);
  emit({ event: 'request', stream: s.id, ...d });
  const kind = SHORT[req.type_url];
  if (!kind) return;
  if (s.delta) {
    const first = !s.subs[kind];
    if (first) s.subs[kind] = { wildcard: false, names: new Set() };
    const sub = s.subs[kind];
    if (first && WILDCARD.has(kind) && d.subscribe.length === 0) sub.wildcard = true;
    for (const n of d.subscribe) { if (n === '*') sub.wildcard = true; else sub.names.add(n); }
    for (const n of d.unsubscribe) { if (n === '*') sub.wildcard = false; sub.names.delete(n); s.sent[kind].delete(n); }
    if (first) for (const [n, v] of Object.entries(d.initial_versions)) s.sent[kind].set(n, v);
    if (d.error) return; // NACK: istiod logs it and does not push
    if (first || d.subscribe.length > 0) {
      if (!s.paused) push(s, kind, first);
    }
    return;
  }
  // SotW, as istiod's ShouldRespond: NACK -> no push; empty nonce -> (re)subscribe, push;
  // stale nonce -> ignore; same nonce with new names -> push.
  const prevNames = s.subs[kind] ? s.subs[kind].names : null;
  const names = new Set(d.names);
  s.subs[kind] = { wildcard: WILDCARD.has(kind) && names.size === 0, names };
  if (d.error) return;
  if (d.nonce === '') { if (!s.paused) push(s, kind); return; }
  if (d.nonce !== s.lastNonce[kind]) return;
  const added = [...names].some((n) => !prevNames || !prevNames.has(n));
  if (added && !s.paused) push(s, kind);
}

function handler(delta) {
  return (call) => {
    const s = { id: ++streamCounter, call, delta, subs: {}, lastNonce: {}, sent: { CDS: new Map(), EDS: new Map(), LDS: new Map(), RDS: new Map(), SDS: new Map() }, paused: pausedNewStreams };
    streams.set(s.id, s);
    emit({ event: 'stream', stream: s.id, protocol: delta ? 'delta' : 'sotw', authorization: call.metadata.get('authorization')[0] || null, clusterId: call.metadata.get('clusterid')[0] || null });
    call.on('data', (req) => { try { onRequest(s, req); } catch (e) { emit({ event: 'error', message: String(e && e.stack || e) }); } });
    call.on('end', () => { streams.delete(s.id); emit({ event: 'closed', stream: s.id }); try { call.end(); } catch { /* already closed */ } });
    call.on('error', () => { streams.delete(s.id); emit({ event: 'closed', stream: s.id }); });
    call.on('cancelled', () => { streams.delete(s.id); emit({ event: 'closed', stream: s.id }); });
  };
}

const ser = (type) => (obj) => (Buffer.isBuffer(obj) ? obj : Buffer.from(type.encode(type.fromObject(obj)).finish()));
const de = (type) => (buf) => type.toObject(type.decode(buf), { longs: String, defaults: false, arrays: true, objects: true });
const service = {
  StreamAggregatedResources: {
    path: '/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources',
    requestStream: true, responseStream: true,
    requestSerialize: ser(T.req), requestDeserialize: de(T.req), responseSerialize: ser(T.resp), responseDeserialize: de(T.resp),
  },
  DeltaAggregatedResources: {
    path: '/envoy.service.discovery.v3.AggregatedDiscoveryService/DeltaAggregatedResources',
    requestStream: true, responseStream: true,
    requestSerialize: ser(T.dreq), requestDeserialize: de(T.dreq), responseSerialize: ser(T.dresp), responseDeserialize: de(T.dresp),
  },
};

let pausedNewStreams = false;

// Ends a stream with UNAVAILABLE, as istiod going away does; grpc-js turns an 'error' event into the status.
function cut(s, why) {
  streams.delete(s.id);
  s.call.emit('error', { code: grpc.status.UNAVAILABLE, details: 'fake istiod: ' + why });
}
const server = new grpc.Server();
server.addService(service, { StreamAggregatedResources: handler(false), DeltaAggregatedResources: handler(true) });

function runCommand(c) {
  const kinds = c.types || ORDER;
  switch (c.cmd) {
    case 'put': { // {type, name, from?, version?}
      versionCounter++;
      state[c.type].set(c.name, { version: c.version || 'r' + versionCounter, bytes: encodeFromCatalog(c.type, c.name, c.from) });
      return {};
    }
    case 'putJson': { // {type, name, json (protojson, as a config dump shows it), version?}
      versionCounter++;
      const typeName = TYPES[c.type].substring(TYPES[c.type].lastIndexOf('/') + 1);
      state[c.type].set(c.name, { version: c.version || 'r' + versionCounter, bytes: converter.encode(lookup(typeName), c.json) });
      return {};
    }
    case 'putRaw': // {type, name, base64, version?}
      versionCounter++;
      state[c.type].set(c.name, { version: c.version || 'r' + versionCounter, bytes: Buffer.from(c.base64, 'base64') });
      return {};
    case 'remove':
      versionCounter++;
      state[c.type].delete(c.name);
      return {};
    case 'push': { // push the given kinds to every stream; returns the nonces sent
      const nonces = [];
      for (const s of streams.values()) for (const k of kinds) { const n = push(s, k, false); if (n) nonces.push(n); }
      return { nonces };
    }
    case 'rawResponse': // write these bytes as a whole response message on every stream
      for (const s of streams.values()) s.call.write(Buffer.from(c.base64, 'base64'));
      return {};
    case 'pushThenDisconnect': { // push the first kind, then cut the stream before anything else
      for (const s of [...streams.values()]) {
        push(s, kinds[0], false);
        cut(s, 'disconnect mid-push');
      }
      return {};
    }
    case 'disconnect':
      for (const s of [...streams.values()]) cut(s, 'disconnect');
      return {};
    case 'pauseNewStreams': // new streams get no automatic pushes until resumed (to observe backoff)
      pausedNewStreams = !!c.value;
      return {};
    case 'catalog':
      return Object.fromEntries(Object.entries(catalog).map(([k, m]) => [k, [...m.keys()]]));
    case 'unknownTypes':
      return { types: [...converter.unknownTypes] };
    default:
      throw new Error('unknown command ' + c.cmd);
  }
}

readline.createInterface({ input: process.stdin }).on('line', (line) => {
  if (!line.trim()) return;
  let c;
  try { c = JSON.parse(line); } catch (e) { emit({ event: 'error', message: 'bad command: ' + line }); return; }
  try { emit({ event: 'done', id: c.id, result: runCommand(c) }); } catch (e) { emit({ event: 'done', id: c.id, error: String(e && e.message || e) }); }
}).on('close', () => { server.forceShutdown(); process.exit(0); });

// FAKE_ISTIOD_CERT / FAKE_ISTIOD_KEY (PEM files): serve TLS as istiod does on 15012 (a client certificate is
// accepted but not required); otherwise plaintext, as on 15010.
const credentials = process.env.FAKE_ISTIOD_CERT
  ? grpc.ServerCredentials.createSsl(null, [{ cert_chain: fs.readFileSync(process.env.FAKE_ISTIOD_CERT), private_key: fs.readFileSync(process.env.FAKE_ISTIOD_KEY) }], false)
  : grpc.ServerCredentials.createInsecure();
server.bindAsync('127.0.0.1:0', credentials, (err, port) => {
  if (err) { emit({ event: 'error', message: String(err) }); process.exit(1); }
  emit({ event: 'listening', port, catalog: Object.fromEntries(Object.entries(catalog).map(([k, m]) => [k, m.size])) });
});
