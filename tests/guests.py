"""Guest sources more than one test module builds (WIT and Python), kept in one place."""

P3_WIT = """\
package demo:p3@0.1.0;

world command { include wasi:cli/command@0.3.0; }
world service { include wasi:http/service@0.3.0; }
"""

COMMAND_PY = """\
import os
import sys
from wit_world import exports


class Run(exports.Run):
    async def run(self):
        print("args", sys.argv[1:], "greeting", os.environ.get("GREETING"))
        try:
            print("data", sorted(os.listdir("/data")))
        except OSError as exc:
            print("no data:", type(exc).__name__)
        if "fail" in sys.argv:
            raise SystemExit(3)
        while "spin" in sys.argv:
            pass
"""

SERVICE_PY = """\
import componentize_py_async_support
import wit_world
from componentize_py_types import Ok
from wit_world import exports
from wit_world.imports.wasi_http_types import Fields, Response


async def send(tx, text):
    with tx:
        await tx.write_all(text.encode())


class Handler(exports.Handler):
    async def handle(self, request):
        path = request.get_path_with_query() or "/"
        tx, rx = wit_world.byte_stream()
        componentize_py_async_support.spawn(send(tx, f"handled {path}"))
        trailers = wit_world.result_option_wasi_http_types_fields_wasi_http_types_error_code_future(
            lambda: Ok(None))[1]
        response = Response.new(Fields.from_list([("content-type", b"text/plain")]), rx, trailers)[0]
        if path.startswith("/missing"):
            response.set_status_code(404)
        return response
"""

SHOP_WIT = """\
package acme:shop@0.1.0;

interface pricing {
  record item { name: string, price: u32, qty: u32 }
  enum tier { bronze, silver, gold }
  total: func(items: list<item>, tier: tier) -> u32;
  fail: func(reason: string) -> u32;
}

interface logger {
  log: func(msg: string);
}

world shop {
  import logger;
  export pricing;
  export hello: func(name: string) -> string;
}
"""

SHOP_PY = """\
from wit_world.imports import logger


class WitWorld:
    def hello(self, name):
        logger.log("hello called with " + name)
        print("guest stdout:", name)
        return "Hello, " + name


class Pricing:
    def total(self, items, tier):
        discount = {0: 0, 1: 5, 2: 10}[tier.value]
        return sum(i.price * i.qty for i in items) * (100 - discount) // 100

    def fail(self, reason):
        raise ValueError(reason)
"""

PROBE_WIT = """package test:probe;

world probe {
  export read-file: func(path: string) -> string;
  export write-file: func(path: string, text: string) -> string;
  export list-dir: func(path: string) -> string;
  export remove-file: func(path: string) -> string;
  export rename-file: func(source: string, target: string) -> string;
  export make-dir: func(path: string) -> string;
  export get-env: func() -> list<string>;
  export get-args: func() -> list<string>;
  export read-stdin: func() -> string;
  export spin: func() -> u32;
  export hog: func(megabytes: u32) -> u32;
}
"""

PROBE_PY = """\
import os
import sys


def attempt(action):
    try:
        return "ok:" + str(action())
    except Exception as exc:
        return "error:" + type(exc).__name__


class WitWorld:
    def read_file(self, path):
        return attempt(lambda: open(path).read())

    def write_file(self, path, text):
        def go():
            with open(path, "w") as f:
                f.write(text)
            return len(text)
        return attempt(go)

    def list_dir(self, path):
        return attempt(lambda: sorted(os.listdir(path)))

    def remove_file(self, path):
        return attempt(lambda: os.remove(path))

    def rename_file(self, source, target):
        return attempt(lambda: os.rename(source, target))

    def make_dir(self, path):
        return attempt(lambda: os.mkdir(path))

    def get_env(self):
        return sorted(f"{k}={v}" for k, v in os.environ.items())

    def get_args(self):
        return list(sys.argv)

    def read_stdin(self):
        return sys.stdin.read()

    def spin(self):
        n = 0
        while True:
            n += 1

    def hog(self, megabytes):
        blocks = [bytearray(1024 * 1024) for _ in range(megabytes)]
        return len(blocks)
"""

HELLO_WASI_WAT = """\
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "hello from WASI\\n")
  (func (export "_start")
    (i32.store (i32.const 0) (i32.const 16))
    (i32.store (i32.const 4) (i32.const 16))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
    (call $exit (i32.const 3))))
"""

SPIN_WIT = """\
package test:spin;

world spin {
  export forever: func();
  export burn: func(n: u64) -> u64;
  export add: func(a: u32, b: u32) -> u32;
}
"""

SPIN_WAT = """\
(module
  (memory (export "memory") 1)
  (func (export "forever") (loop $again (br $again)))
  (func (export "burn") (param $n i64) (result i64)
    (block $done
      (loop $again
        (br_if $done (i64.eqz (local.get $n)))
        (local.set $n (i64.sub (local.get $n) (i64.const 1)))
        (br $again)))
    (i64.const 42))
  (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) i32.const 0))
"""


def calculator_wat(namespace: str) -> tuple[str, str]:
    """Two WAT components in package ``NAMESPACE:calc``: an adder exporting ``add``, and a calculator
    importing it and exporting ``calculate(a, b) = 2 * (a + b)``."""
    adder = f"""(component
  (core module $m (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add))
  (core instance $i (instantiate $m))
  (func $add (param "a" s32) (param "b" s32) (result s32) (canon lift (core func $i "add")))
  (instance $inst (export "add" (func $add)))
  (export "{namespace}:calc/add" (instance $inst))
)"""
    calculator = f"""(component
  (import "{namespace}:calc/add" (instance $add (export "add" (func (param "a" s32) (param "b" s32) (result s32)))))
  (core func $add (canon lower (func $add "add")))
  (core module $m
    (import "host" "add" (func $add (param i32 i32) (result i32)))
    (func (export "calculate") (param i32 i32) (result i32)
      local.get 0 local.get 1 call $add i32.const 2 i32.mul))
  (core instance $h (export "add" (func $add)))
  (core instance $i (instantiate $m (with "host" (instance $h))))
  (func $c (param "a" s32) (param "b" s32) (result s32) (canon lift (core func $i "calculate")))
  (export "calculate" (func $c))
)"""
    return adder, calculator


FETCH_WIT = """\
package test:fetch;

world fetcher {
  import wasi:cli/environment@0.2.6;
  export wasi:cli/run@0.2.6;
  export get: func(url: string) -> result<string, string>;
}
"""

# built with componentize-js's http feature: fetch imports wasi:http/types and outgoing-handler
FETCH_JS = """\
import { getEnvironment } from "wasi:cli/environment@0.2.6";

async function fetchText(url) {
  let response;
  try {
    response = await fetch(url, { headers: { "x-guest": "javascript" } });
  } catch (error) {
    throw `could not fetch ${url}: ${error.message}`;
  }
  return `${response.status} ${await response.text()}`;
}

export async function get(url) {
  return await fetchText(url);
}

export const run = {
  async run() {
    const url = new Map(getEnvironment()).get("URL");
    console.log(await fetchText(url));
  },
};
"""

PYFETCH_WIT = """\
package test:pyfetch;

world fetcher {
  import wasi:http/outgoing-handler@0.2.6;
  export get: func(authority: string, path: string) -> result<string, string>;
}
"""

# a GET with wasi:http/outgoing-handler itself: send, wait for the response, read its body to the end
PYFETCH_PY = """\
from componentize_py_types import Err
from wit_world.imports import outgoing_handler, streams, types


class WitWorld:
    def get(self, authority, path):
        request = types.OutgoingRequest(types.Fields.from_list([("x-guest", b"python")]))
        request.set_scheme(types.Scheme_Http())
        request.set_authority(authority)
        request.set_path_with_query(path)
        try:
            future = outgoing_handler.handle(request, None)
        except Err as error:
            raise Err(f"could not send: {error.value}")
        with future:
            with future.subscribe() as ready:
                ready.block()
            answer = future.get()
        if isinstance(answer.value, Err):
            raise Err(f"could not fetch: {answer.value.value}")
        with answer.value.value as response:
            chunks = []
            with response.consume() as body:
                with body.stream() as stream:
                    while True:
                        try:
                            chunks.append(stream.blocking_read(65536))
                        except Err as error:
                            if isinstance(error.value, streams.StreamError_Closed):
                                break
                            raise
            return f"{response.status()} {b''.join(chunks).decode()}"
"""
