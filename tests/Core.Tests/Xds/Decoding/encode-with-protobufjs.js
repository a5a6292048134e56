// The independent encoder for the xDS decoding tests: proto3 JSON resources -> protobuf bytes with
// protobufjs, which knows nothing of our schema or codec.
//
//   node encode-with-protobufjs.js <deps-dir> <in.json> <out.json>
//
// in.json: [{ "type": "envoy.config.listener.v3.Listener", "json": {...} }, ...]
// out.json: [{ "base64": "..." } | { "error": "..." }, ...] in the same order.
//
// protobufjs's fromObject does not implement the proto3 JSON forms of the well-known types, so this file
// converts them first (its own reading of protobuf.dev "JSON Mapping"): Duration/Timestamp strings, bare
// wrapper values, Struct/Value/ListValue as plain JSON, and Any as "@type" plus the packed message's fields.
'use strict';
const fs = require('fs');
const { loadEnvoyProtos, protobuf } = require('../Schema/load-protos.js');

const [depsArg, inFile, outFile] = process.argv.slice(2);
const root = loadEnvoyProtos(depsArg);

const WRAPPERS = new Set(['DoubleValue', 'FloatValue', 'Int64Value', 'UInt64Value', 'Int32Value', 'UInt32Value',
  'BoolValue', 'StringValue', 'BytesValue'].map((n) => 'google.protobuf.' + n));

function parseDuration(s) {
  const m = /^(-)?(\d+)(?:\.(\d{1,9}))?s$/.exec(s);
  if (!m) throw new Error(`bad duration ${JSON.stringify(s)}`);
  const sign = m[1] ? -1 : 1;
  const nanos = m[3] ? Number(m[3].padEnd(9, '0')) : 0;
  return { seconds: m[1] ? '-' + m[2] : m[2], nanos: sign * nanos };
}

function parseTimestamp(s) {
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/.exec(s);
  if (!m) throw new Error(`bad timestamp ${JSON.stringify(s)}`);
  const ms = Date.parse(m[1] + (m[3] === 'Z' ? 'Z' : m[3]));
  return { seconds: String(Math.floor(ms / 1000)), nanos: m[2] ? Number(m[2].padEnd(9, '0')) : 0 };
}

// The built-in well-known types in protobufjs name their fields in lowerCamelCase.
function toValue(v) {
  if (v === null) return { nullValue: 0 };
  if (typeof v === 'number') return { numberValue: v };
  if (typeof v === 'string') return { stringValue: v };
  if (typeof v === 'boolean') return { boolValue: v };
  if (Array.isArray(v)) return { listValue: { values: v.map(toValue) } };
  return { structValue: toStruct(v) };
}

function toStruct(o) {
  const fields = {};
  for (const k of Object.keys(o)) fields[k] = toValue(o[k]);
  return { fields };
}

function lookupType(typeUrl) {
  const name = typeUrl.substring(typeUrl.lastIndexOf('/') + 1);
  const t = root.lookup(name);
  if (!(t instanceof protobuf.Type)) throw new Error(`unknown Any type ${typeUrl}`);
  return t;
}

function convert(type, value) {
  const name = type.fullName.replace(/^\./, '');
  switch (name) {
    case 'google.protobuf.Duration': return parseDuration(value);
    case 'google.protobuf.Timestamp': return parseTimestamp(value);
    case 'google.protobuf.Struct': return toStruct(value);
    case 'google.protobuf.Value': return toValue(value);
    case 'google.protobuf.ListValue': return { values: value.map(toValue) };
    case 'google.protobuf.Any': {
      if (Object.keys(value).length === 0) return {};
      const inner = lookupType(value['@type']);
      const innerName = inner.fullName.replace(/^\./, '');
      let obj;
      if (innerName.startsWith('google.protobuf.') && innerName !== 'google.protobuf.Empty') {
        obj = convert(inner, value.value);
      } else {
        const rest = Object.assign({}, value);
        delete rest['@type'];
        obj = convert(inner, rest);
      }
      return { type_url: value['@type'], value: inner.encode(inner.fromObject(obj)).finish() };
    }
    default:
      if (WRAPPERS.has(name)) return { value: scalar(type.fields.value, value) };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new Error(`expected an object for ${name}, got ${JSON.stringify(value)}`);
  }
  const out = {};
  for (const key of Object.keys(value)) {
    // proto3 JSON parsers take the declared name or the lowerCamelCase JSON name.
    const field = type.fields[key] || type.fieldsArray.find((f) => f.name.replace(/_([a-z0-9])/g, (m, c) => c.toUpperCase()) === key);
    if (!field) throw new Error(`${name} has no field ${key}`);
    const v = value[key];
    if (v === null) continue;
    if (field.map) {
      const m = {};
      for (const k of Object.keys(v)) m[k] = fieldValue(field, v[k]);
      out[field.name] = m;
    } else if (field.repeated) {
      out[field.name] = v.map((item) => fieldValue(field, item));
    } else {
      out[field.name] = fieldValue(field, v);
    }
  }
  return out;
}

function fieldValue(field, v) {
  if (field.resolvedType instanceof protobuf.Type) return convert(field.resolvedType, v);
  return scalar(field, v);
}

function scalar(field, v) {
  if ((field.type === 'double' || field.type === 'float') && typeof v === 'string') return Number(v);
  return v;
}

const input = JSON.parse(fs.readFileSync(inFile, 'utf8'));
const output = input.map(({ type, json }) => {
  try {
    const t = root.lookupType(type);
    const obj = convert(t, json);
    const err = t.verify(t.fromObject(obj));
    if (err) return { error: err };
    return { base64: Buffer.from(t.encode(t.fromObject(obj)).finish()).toString('base64') };
  } catch (e) {
    return { error: String(e && e.message ? e.message : e) };
  }
});
fs.writeFileSync(outFile, JSON.stringify(output));
