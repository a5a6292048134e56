'use strict';
// Envoy protos loaded with protobufjs (keepCase, so the config dump's snake_case names match), and a
// converter from protojson (the config dump's form: "@type" Anys, "5s" Durations, bare wrapper values,
// Struct as plain JSON) to real protobuf bytes.
const fs = require('fs');
const path = require('path');
const protobuf = require('protobufjs');

function createRoot(depsDir) {
  const includes = ['envoy-api', 'xds', 'googleapis', 'protoc-gen-validate'].map((d) => path.join(depsDir, d));
  const root = new protobuf.Root();
  root.resolvePath = (origin, target) => {
    if (path.isAbsolute(target) && fs.existsSync(target)) return target;
    for (const dir of includes) {
      const p = path.join(dir, target);
      if (fs.existsSync(p)) return p;
    }
    // google/protobuf/*.proto: protobufjs bundles the well-known types; descriptor.proto ships beside it.
    const bundled = path.join(path.dirname(require.resolve('protobufjs/package.json')), target);
    return fs.existsSync(bundled) ? bundled : target;
  };
  // Index "package.Message" -> file for every top-level message, so an Any's type can be loaded on demand.
  const index = new Map();
  const walk = (dir) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (entry.name.endsWith('.proto')) {
        const text = fs.readFileSync(p, 'utf8');
        const pkg = /^package\s+([\w.]+)\s*;/m.exec(text);
        if (!pkg) continue;
        for (const m of text.matchAll(/^message\s+(\w+)\s*\{/gm)) index.set(pkg[1] + '.' + m[1], p);
      }
    }
  };
  for (const dir of includes) walk(dir);
  const loaded = new Set();
  const lookup = (fullName) => {
    let t = root.lookup(fullName);
    if (t instanceof protobuf.Type) return t;
    const file = index.get(fullName);
    if (!file || loaded.has(file)) return null;
    loaded.add(file);
    root.loadSync(file, { keepCase: true });
    root.resolveAll();
    t = root.lookup(fullName);
    return t instanceof protobuf.Type ? t : null;
  };
  return { root, lookup };
}

const WRAPPERS = new Set(['DoubleValue', 'FloatValue', 'Int64Value', 'UInt64Value', 'Int32Value', 'UInt32Value',
  'BoolValue', 'StringValue', 'BytesValue'].map((n) => '.google.protobuf.' + n));

function parseDuration(s) {
  const m = /^(-?)(\d+)(?:\.(\d{1,9}))?s$/.exec(String(s));
  if (!m) throw new Error('bad duration ' + s);
  const nanos = m[3] ? parseInt(m[3].padEnd(9, '0'), 10) : 0;
  const sign = m[1] ? -1 : 1;
  return { seconds: sign * parseInt(m[2], 10), nanos: sign * nanos };
}

function valueFromJson(v) {
  if (v === null) return { null_value: 0 };
  if (Array.isArray(v)) return { list_value: { values: v.map(valueFromJson) } };
  switch (typeof v) {
    case 'number': return { number_value: v };
    case 'string': return { string_value: v };
    case 'boolean': return { bool_value: v };
    default: return { struct_value: structFromJson(v) };
  }
}

function structFromJson(obj) {
  const fields = {};
  for (const [k, v] of Object.entries(obj || {})) fields[k] = valueFromJson(v);
  return { fields };
}

function structToJson(s) {
  const out = {};
  for (const [k, v] of Object.entries((s && s.fields) || {})) out[k] = valueToJson(v);
  return out;
}

function valueToJson(v) {
  const get = (k) => (k in v ? v[k] : v[camel(k)]);
  if (get('struct_value')) return structToJson(get('struct_value'));
  if (get('list_value')) return (get('list_value').values || []).map(valueToJson);
  for (const k of ['string_value', 'number_value', 'bool_value']) if (get(k) !== undefined) return get(k);
  return null;
}

// protobufjs loads its bundled google/protobuf types with camelCase field names, Envoy's with snake_case:
// the objects built here use snake_case and are renamed to whatever the target type really has.
const camel = (k) => k.replace(/_([a-z])/g, (m, c) => c.toUpperCase());
function adapt(type, obj) {
  if (!(type instanceof protobuf.Type) || obj === null || typeof obj !== 'object' || Buffer.isBuffer(obj)) return obj;
  const out = {};
  for (const [k, v] of Object.entries(obj)) {
    const field = type.fields[k] || type.fields[camel(k)];
    if (!field) { out[k] = v; continue; }
    field.resolve();
    const rt = field.resolvedType;
    if (field.map) out[field.name] = Object.fromEntries(Object.entries(v).map(([mk, mv]) => [mk, adapt(rt, mv)]));
    else if (field.repeated) out[field.name] = v.map((x) => adapt(rt, x));
    else out[field.name] = adapt(rt, v);
  }
  return out;
}

function makeConverter(lookup) {
  const unknownTypes = new Set();

  // An Any from protojson: its type is loaded on demand; a type not in Envoy's tree (Istio's own filter
  // configs) becomes an Any with an empty value, which is still a valid message of any proto3 type.
  function anyFromJson(json) {
    const typeUrl = json['@type'];
    const fullName = typeUrl.substring(typeUrl.lastIndexOf('/') + 1);
    const type = lookup(fullName);
    if (!type) {
      unknownTypes.add(fullName);
      return { type_url: typeUrl, value: Buffer.alloc(0) };
    }
    const rest = { ...json };
    delete rest['@type'];
    const wkt = '.' + fullName;
    let body;
    if (WRAPPERS.has(wkt) || wkt === '.google.protobuf.Duration' || wkt === '.google.protobuf.Struct' || wkt === '.google.protobuf.Value') {
      body = adapt(type, convertSpecial(wkt, rest.value));
    } else {
      body = convertMessage(type, rest);
    }
    return { type_url: typeUrl, value: Buffer.from(type.encode(type.fromObject(body)).finish()) };
  }

  function convertSpecial(fullName, v) {
    if (WRAPPERS.has(fullName)) return { value: v };
    switch (fullName) {
      case '.google.protobuf.Duration': return parseDuration(v);
      case '.google.protobuf.Struct': return structFromJson(v);
      case '.google.protobuf.Value': return valueFromJson(v);
      case '.google.protobuf.ListValue': return { values: v.map(valueFromJson) };
      case '.google.protobuf.Any': return anyFromJson(v);
      case '.google.protobuf.Empty': return {};
      case '.google.protobuf.Timestamp': {
        const ms = Date.parse(v);
        return { seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1e6 };
      }
      default: return undefined;
    }
  }

  function convertField(field, v) {
    field.resolve();
    const rt = field.resolvedType;
    if (rt instanceof protobuf.Type) {
      const special = convertSpecial(rt.fullName, v);
      if (special !== undefined) return adapt(rt, special);
      return convertMessage(rt, v);
    }
    return v;
  }

  function convertMessage(type, json) {
    const out = {};
    for (const [key, v] of Object.entries(json)) {
      if (key === '@type') continue; // the dump wraps top-level resources as Anys
      const field = type.fields[key] || type.fields[key.replace(/[A-Z]/g, (c) => '_' + c.toLowerCase())];
      if (!field) throw new Error(`${type.fullName} has no field ${key}`);
      if (field.map) {
        const m = {};
        for (const [mk, mv] of Object.entries(v)) m[mk] = convertField(field, mv);
        out[field.name] = m;
      } else if (field.repeated) {
        out[field.name] = v.map((x) => convertField(field, x));
      } else {
        out[field.name] = convertField(field, v);
      }
    }
    return out;
  }

  function encode(type, json) {
    return Buffer.from(type.encode(type.fromObject(convertMessage(type, json))).finish());
  }

  return { encode, unknownTypes };
}

module.exports = { createRoot, makeConverter, structToJson };
