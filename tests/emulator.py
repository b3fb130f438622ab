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
import moto.moto_api._internal.recorder.models as recorder
from moto.moto_server.threaded_moto_server import ThreadedMotoServer


class _OneWriterAtATime:
    """moto's recorder appends each request's line from that request's thread, a long line in
    several writes, so two threads' lines interleaved and both became unreadable (seen: 16 of
    9,950 lines in one test run; a test reading the recording failed). The recorder's `open` is
    this: the file is opened, written and closed under one lock (reading the request does not
    wait for it)."""

    lock = threading.Lock()

    def __init__(self, path, mode="r"):
        self.path, self.mode = path, mode

    def __enter__(self):
        self.lock.acquire()
        try:
            self.file = open(self.path, self.mode)
        except BaseException:
            self.lock.release()
            raise
        return self.file

    def __exit__(self, *exc):
        try:
            self.file.close()
        finally:
            self.lock.release()


recorder.open = _OneWriterAtATime


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
