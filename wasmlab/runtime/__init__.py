"""Running components: engines and stores (``engines``), value codecs (``codecs``), host imports
(``host_imports``), components and instances (``component``), async calls (``async_calls``), core
modules (``core_modules``), usage metering (``usage``) and the wasmtime-command backend
(``wasmtime_command``).  Imports the toolchain, wac and the leaves, never the notebook layer.
"""

from wasmlab.runtime.teardown import wait_at_exit as _wait_at_exit

_wait_at_exit()
