#!/usr/bin/env python3
"""A webhook receiver for Alertmanager, as a phone app's bridge would be.

    webhook.py ADDRESS PORT FILE

Listens on ADDRESS:PORT; every POST body that is JSON is appended to FILE
as one line (compact JSON), flushed at once, and answered 200. Anything
else is answered 400. Runs until killed.
"""
import http.server
import json
import sys

MAX_BODY = 1 << 20


class Hook(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length <= 0 or length > MAX_BODY:
            self.send_error(400, "no body or too large")
            return
        try:
            doc = json.loads(self.rfile.read(length))
        except ValueError:
            self.send_error(400, "not JSON")
            return
        with open(self.server.out, "a", encoding="utf-8") as f:
            f.write(json.dumps(doc, separators=(",", ":")) + "\n")
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, fmt, *args):
        sys.stderr.write("webhook: " + (fmt % args) + "\n")


def main():
    if len(sys.argv) != 4:
        sys.stderr.write(__doc__)
        return 2
    server = http.server.HTTPServer((sys.argv[1], int(sys.argv[2])), Hook)
    server.out = sys.argv[3]
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
