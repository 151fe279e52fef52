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
