"""Start moto's server on a free loopback port; print `port=N`; stop when stdin closes.

Used by the integration tests and `cargo xtask demo`. Stopping on stdin EOF means the server
never outlives the process that started it, even when that process is killed.
Request recording: set MOTO_ENABLE_RECORDING=true and MOTO_RECORDER_FILEPATH=<file>.

A second line, `control=M`, names a loopback port for what AWS does that no API call can make
the emulator do. One thing only: `POST /sign-in?account=ID&user=NAME` records a console sign-in
(AWS sets a user's PasswordLastUsed when they sign in; moto has no sign-in).
"""

import datetime
import logging
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from moto.iam.models import iam_backends
from moto.moto_api._internal.recorder.models import Recorder
from moto.moto_server.threaded_moto_server import ThreadedMotoServer


def _one_request_at_a_time(record):
    """moto's recorder appends each request from the request's own thread, a long line in
    several writes: two threads' lines interleave and both become unreadable (seen: 16 of
    9,950 lines in one test run, and a test reading the recording failed). One lock makes each
    line whole."""
    lock = threading.Lock()

    def locked(self, *args, **kwargs):
        with lock:
            return record(self, *args, **kwargs)

    return locked


Recorder._record_request = _one_request_at_a_time(Recorder._record_request)


class Control(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 (the http.server naming)
        url = urllib.parse.urlparse(self.path)
        query = urllib.parse.parse_qs(url.query)
        if url.path != "/sign-in" or "account" not in query or "user" not in query:
            self.send_response(404)
            self.end_headers()
            return
        user = iam_backends[query["account"][0]]["aws"].users.get(query["user"][0])
        if user is None:
            self.send_response(404)
            self.end_headers()
            return
        user.password_last_used = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


def main() -> None:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    _, port = server.get_host_and_port()
    control = ThreadingHTTPServer(("127.0.0.1", 0), Control)
    threading.Thread(target=control.serve_forever, daemon=True).start()
    # One write: a reader that takes only the first line (xtask) may close the pipe after it.
    print(f"port={port}\ncontrol={control.server_address[1]}", flush=True)
    sys.stdin.read()
    control.shutdown()
    server.stop()


if __name__ == "__main__":
    main()
