"""Start moto's server on a free loopback port; print `port=N`; stop when stdin closes.

Used by the integration tests and `cargo xtask demo`. Stopping on stdin EOF means the server
never outlives the process that started it, even when that process is killed.
Request recording: set MOTO_ENABLE_RECORDING=true and MOTO_RECORDER_FILEPATH=<file>.
"""

import logging
import sys

from moto.moto_server.threaded_moto_server import ThreadedMotoServer


def main() -> None:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    _, port = server.get_host_and_port()
    print(f"port={port}", flush=True)
    sys.stdin.read()
    server.stop()


if __name__ == "__main__":
    main()
