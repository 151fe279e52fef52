// wasmlab's Node engine: loads a jco-transpiled component and answers calls.
// argv: MODULE CONFIG_JSON.  Requests are JSON lines on stdin: {path: [iface|null, func], args, repeat}.
// Each answer is one line on stdout after whatever the guest printed: "\x1eWASMLAB " + JSON.
// Values travel as JSON with tags for what JSON lacks: {$: "big"} BigInt, {$: "f"} NaN/±Infinity/-0,
// {$: "u"} undefined, {$: "ta", k: TypedArrayName} typed arrays.
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import * as cli from '@bytecodealliance/preview2-shim/cli';
import * as filesystem from '@bytecodealliance/preview2-shim/filesystem';
import * as sockets from '@bytecodealliance/preview2-shim/sockets';
import * as http from '@bytecodealliance/preview2-shim/http';

const [modulePath, configText] = process.argv.slice(2);
const config = JSON.parse(configText);
cli._setEnv(config.env);
cli._setArgs(config.args);
filesystem._clearPreopens();
for (const [guest, host] of config.dirs) filesystem._addPreopen(guest, host);
if (!config.sockets) { sockets._denyTcp(); sockets._denyUdp(); }
if (!config.nameLookup) sockets._denyDnsLookup();
if (!config.http) http._denyHttp();

const TYPED = { Int8Array, Uint8Array, Int16Array, Uint16Array, Int32Array, Uint32Array, BigInt64Array,
                BigUint64Array, Float32Array, Float64Array };

function revive(value) {
  if (Array.isArray(value)) return value.map(revive);
  if (value === null || typeof value !== 'object') return value;
  switch (value.$) {
    case 'big': return BigInt(value.v);
    case 'f': return Number(value.v);
    case 'u': return undefined;
    case 'ta': return TYPED[value.k].from(value.v.map(revive));
  }
  const out = {};
  for (const [k, v] of Object.entries(value)) out[k] = revive(v);
  return out;
}

function tag(value) {
  if (value === undefined) return { $: 'u' };
  if (typeof value === 'bigint') return { $: 'big', v: value.toString() };
  if (typeof value === 'number' && (!Number.isFinite(value) || Object.is(value, -0))) return { $: 'f', v: String(value) };
  if (ArrayBuffer.isView(value)) return { $: 'ta', k: value.constructor.name, v: Array.from(value, tag) };
  if (Array.isArray(value)) return value.map(tag);
  if (value !== null && typeof value === 'object') {
    const out = {};
    for (const [k, v] of Object.entries(value)) out[k] = tag(v);
    return out;
  }
  return value;
}

function answer(response) {
  process.stdout.write('\x1eWASMLAB ' + JSON.stringify(response) + '\n');
}

let component;
try {
  component = await import(pathToFileURL(modulePath));
  answer({ ready: true });
} catch (error) {
  answer({ trap: `instantiating failed: ${error?.message ?? error}` });
  process.exit(1);
}

const camel = (name) => name.replace(/-([a-z0-9])/g, (_, c) => c.toUpperCase());
const settle = () => new Promise((resolve) => setImmediate(resolve));

function lookup([iface, func]) {
  if (iface === null) return component[camel(func)];
  const short = iface.split('/').pop().split('@')[0];
  const target = component[iface] ?? component[camel(short)];
  return target?.[camel(func)];
}

for await (const line of createInterface({ input: process.stdin })) {
  const request = JSON.parse(line);
  const fn = lookup(request.path);
  let response;
  if (typeof fn !== 'function') {
    response = { missing: true };
  } else {
    const args = revive(request.args);
    const repeat = request.repeat ?? 1;
    const started = process.hrtime.bigint();
    try {
      let result;
      for (let i = 0; i < repeat; i++) result = fn(...args);
      response = { ok: tag(result) };
    } catch (error) {
      response = error && 'payload' in error ? { err: tag(error.payload) }
        : { trap: String(error?.message ?? error) };
    }
    response.ns = String((process.hrtime.bigint() - started) / BigInt(repeat));
  }
  // the guest's output passes from the shim's I/O worker to this thread's stdout: let it through first
  await settle();
  await settle();
  answer(response);
}
