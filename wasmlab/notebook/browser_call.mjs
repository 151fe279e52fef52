// The browser half of wasmlab's BrowserCall widget (wasmlab/notebook/browser_engine.py), an anywidget module.
// Once per model (not per view) it has browser_run.mjs, served by the Jupyter server that serves this page
// (wasmlab's server extension: <base>/wasmlab/modules/), import the component's jco module and call the export
// with the kernel's arguments, and reports back through the synced traits: `answer` ({ok} or {err}, tagged JSON as
// values.mjs writes it; the kernel turns it into Python values), `browser_error`, `browser_seconds`, `state`.

// The page's base URL: on a hub it includes /user/NAME/.  Absolute, because this module itself is loaded from a
// blob: URL, against which a path would not resolve.
function baseUrl() {
  const config = document.getElementById('jupyter-config-data');
  const base = config ? JSON.parse(config.textContent).baseUrl : document.body.dataset.baseUrl;
  return new URL(base ?? '/', document.baseURI).href;
}

// tagged JSON values compared as values: the order of an object's keys does not matter
function same(a, b) {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => k in b && same(a[k], b[k]));
}

async function callInThisTab(model) {
  try {
    const xsrf = document.cookie.match(/(?:^|;\s*)_xsrf=([^;]*)/)?.[1];
    const runner = baseUrl() + 'wasmlab/modules/browser_run.mjs' + (xsrf ? '?_xsrf=' + encodeURIComponent(xsrf) : '');
    const { run } = await import(runner);
    const { answer, seconds } = await run(model.get('request'));
    model.set('browser_seconds', seconds);
    model.set('answer', answer);
    model.set('state', 'done');
  } catch (error) {
    model.set('browser_error', String(error?.message ?? error));
    model.set('state', 'failed');
  }
  model.save_changes();
}

// A model restored from a notebook's saved widget state has no kernel behind it (no comm): it shows what was
// saved and calls nothing, since no kernel would take the answer.  The model proxy anywidget hands us does not
// tell, the widget manager's model does: the kernel names it in `own_model_id`.
async function live(model) {
  try {
    return (await model.widget_manager.get_model(model.get('own_model_id'))).comm_live !== false;
  } catch {
    return true;
  }
}

async function start(model) {
  if (await live(model)) {
    await callInThisTab(model);
  } else {
    model.set('state', 'saved');
  }
}

function text(answer) {
  if (answer === undefined) return '';
  return 'ok' in answer ? JSON.stringify(answer.ok) : `err(${JSON.stringify(answer.err)})`;
}

const SHOWN = ['state', 'answer', 'browser_error', 'browser_seconds', 'target', 'wasmtime_text', 'expected'];

function render({ model, el }) {
  el.classList.add('wasmlab-browser-call');
  el.innerHTML = `<table>
<tr><th></th><th class="wasmlab-browser-target"></th></tr>
<tr><td>wasmtime (the kernel)</td><td><code class="wasmlab-wasmtime-result"></code></td></tr>
<tr><td>your browser (jco + preview2-shim)</td><td><code class="wasmlab-browser-result"></code></td></tr>
<tr><td>the same value</td><td class="wasmlab-browser-same"></td></tr>
<tr><td>the call in this tab took</td><td class="wasmlab-browser-time"></td></tr>
</table>`;
  const show = (cls, value) => { el.querySelector(cls).textContent = value; };
  const update = () => {
    const state = model.get('state');
    el.dataset.state = state;
    show('.wasmlab-browser-target', model.get('target'));
    show('.wasmlab-wasmtime-result', model.get('wasmtime_text'));
    if (state === 'saved') {
      show('.wasmlab-browser-result', 'run the cell to call it in this tab');
      show('.wasmlab-browser-same', '');
      show('.wasmlab-browser-time', '');
    } else if (state === 'loading') {
      show('.wasmlab-browser-result', 'loading…');
      show('.wasmlab-browser-same', '…');
      show('.wasmlab-browser-time', '…');
    } else if (state === 'failed') {
      show('.wasmlab-browser-result', 'could not run here: ' + model.get('browser_error'));
      show('.wasmlab-browser-same', 'no');
      show('.wasmlab-browser-time', '');
    } else {
      show('.wasmlab-browser-result', text(model.get('answer')));
      show('.wasmlab-browser-same', same(model.get('answer'), model.get('expected')) ? 'yes' : 'no');
      show('.wasmlab-browser-time', `${(model.get('browser_seconds') * 1000).toFixed(2)} ms`);
    }
  };
  update();
  for (const name of SHOWN) model.on(`change:${name}`, update);
  return () => { for (const name of SHOWN) model.off(`change:${name}`, update); };
}

export default {
  initialize({ model }) {
    // not awaited: the model is ready, and its views show "loading…", before the browser answers
    if (model.get('state') === 'loading') start(model);
  },
  render,
};
