// wasmlab's Node engine: loads a jco-transpiled component and answers calls.
// argv: MODULE CONFIG_JSON.  Requests are JSON lines on stdin: {path: [iface|null, func], args, repeat}.
// Each answer is one line on stdout after whatever the guest printed: "\x1eWASMLAB " + JSON.
// Values travel as tagged JSON (values.mjs).
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import * as cli from '@bytecodealliance/preview2-shim/cli';
import * as filesystem from '@bytecodealliance/preview2-shim/filesystem';
import * as sockets from '@bytecodealliance/preview2-shim/sockets';
import * as http from '@bytecodealliance/preview2-shim/http';
import { revive, tag } from './values.mjs';

const [modulePath, configText] = process.argv.slice(2);
const config = JSON.parse(configText);
cli._setEnv(config.env);
cli._setArgs(config.args);
filesystem._clearPreopens();
for (const [guest, host] of config.dirs) filesystem._addPreopen(guest, host);
if (!config.sockets) { sockets._denyTcp(); sockets._denyUdp(); }
if (!config.nameLookup) sockets._denyDnsLookup();
if (!config.http) http._denyHttp();

const line = (response) => '\x1eWASMLAB ' + JSON.stringify(response) + '\n';
const settle = () => new Promise((resolve) => setImmediate(resolve));

// The guest prints through the shim's I/O worker, whose stdout reaches ours later, through a message port.
// Answers take the same way (the shim's stdout stream), so each one arrives after everything printed before it.
async function answer(response) {
  const out = cli.stdout.getStdout();
  const bytes = new TextEncoder().encode(line(response));
  for (let at = 0; at < bytes.length;) {
    const room = Math.min(Number(out.checkWrite()), 4096, bytes.length - at);
    if (room === 0) {
      await settle(); // the port drains into our stdout meanwhile
      continue;
    }
    out.write(bytes.subarray(at, at + room));
    at += room;
  }
}

let component;
try {
  component = await import(pathToFileURL(modulePath));
} catch (error) {
  process.stdout.write(line({ trap: `instantiating failed: ${error?.message ?? error}` }), () => process.exit(1));
  await new Promise(() => {}); // exits once that is written
}
await answer({ ready: true });

const camel = (name) => name.replace(/-([a-z0-9])/g, (_, c) => c.toUpperCase());

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
  await answer(response);
}
