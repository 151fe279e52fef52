// How wasmlab's values travel to and from jco's JavaScript bindings: JSON, with tags for what JSON lacks:
// {$: "big"} BigInt, {$: "f"} NaN/±Infinity/-0, {$: "u"} undefined, {$: "ta", k: TypedArrayName} typed arrays.
// Used by the Node engine (node_call.mjs) and by the browser call (served next to the transpiled module).
const TYPED = { Int8Array, Uint8Array, Int16Array, Uint16Array, Int32Array, Uint32Array, BigInt64Array,
                BigUint64Array, Float32Array, Float64Array };

export function revive(value) {
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

export function tag(value) {
  if (value === undefined) return { $: 'u' };
  if (typeof value === 'bigint') return { $: 'big', v: value.toString() };
  if (typeof value === 'number' && (!Number.isFinite(value) || Object.is(value, -0))) {
    return { $: 'f', v: Object.is(value, -0) ? '-0' : String(value) };
  }
  if (ArrayBuffer.isView(value)) return { $: 'ta', k: value.constructor.name, v: Array.from(value, tag) };
  if (Array.isArray(value)) return value.map(tag);
  if (value !== null && typeof value === 'object') {
    const out = {};
    for (const [k, v] of Object.entries(value)) out[k] = tag(v);
    return out;
  }
  return value;
}

