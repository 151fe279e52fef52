// One call of a browser-transpiled component, for the BrowserCall widget (browser_call.mjs).  Served from the
// Jupyter server's <base>/wasmlab/modules/ (copied there next to values.mjs), not part of the widget's own
// module: that one is loaded from a blob: URL, so its imports carry no Referer, and the server refuses a
// cookie-authenticated GET with neither a Referer nor an XSRF token.  The widget imports this module with the
// token; the imports from here (the shim, the component) then carry this module's URL as their Referer.
import * as cli from '../shim/cli.js';
import { revive, tag } from './values.mjs';

const camel = (name) => name.replace(/-([a-z0-9])/g, (_, c) => c.toUpperCase());

function exported(component, [iface, func]) {
  if (iface === null) return component[camel(func)];
  const short = camel(iface.split('/').pop().split('@')[0]);
  return (component[iface] ?? component[short])?.[camel(func)];
}

// request: {module, path: [iface|null, func], args (tagged JSON), config: {env, args}}.
// Returns {answer: {ok} | {err} (tagged JSON), seconds}; throws when the module cannot load or the call traps.
export async function run(request) {
  cli._setEnv(request.config.env);
  cli._setArgs(request.config.args);
  const component = await import(new URL(request.module, import.meta.url).href);
  const name = request.path.filter(Boolean).join('#');
  const fn = exported(component, request.path);
  if (typeof fn !== 'function') throw new Error(`the transpiled module has no ${name}`);
  const args = revive(request.args);
  const started = performance.now();
  let answer;
  try {
    answer = { ok: tag(fn(...args)) };
  } catch (error) {
    if (!(error && 'payload' in error)) throw new Error(`${name} trapped: ${error?.message ?? error}`);
    answer = { err: tag(error.payload) };
  }
  return { answer, seconds: (performance.now() - started) / 1000 };
}
