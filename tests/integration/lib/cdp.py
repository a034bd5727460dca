"""A small client of Chromium's DevTools protocol, for tests that act on a
page (move the pointer, click, change the viewport) and read it back.

The protocol runs over a WebSocket (RFC 6455) to the port given with
--remote-debugging-port; Python's standard library has no WebSocket
client, so the few frames needed are written here: text frames, masked
from the client, and the server's unmasked replies. Every wait has a
deadline.
"""
import base64
import json
import os
import socket
import struct
import time
import urllib.request


class Cdp:
    def __init__(self, port, deadline=20.0):
        self.deadline = deadline
        self.next_id = 0
        end = time.monotonic() + deadline
        target = None
        while target is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=2) as r:
                    pages = [t for t in json.load(r) if t.get("type") == "page"]
                    target = pages[0]["webSocketDebuggerUrl"] if pages else None
            except OSError:
                pass
            if target is None:
                if time.monotonic() > end:
                    raise TimeoutError("no DevTools page target on port %d" % port)
                time.sleep(0.1)
        host, path = target.split("//", 1)[1].split("/", 1)
        self.sock = socket.create_connection(host.rsplit(":", 1), timeout=deadline)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f"GET /{path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\n"
                           f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                           "Sec-WebSocket-Version: 13\r\n\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(1)
            if not chunk:
                raise ConnectionError("DevTools closed the connection during the handshake")
            head += chunk
        if b" 101 " not in head.split(b"\r\n", 1)[0]:
            raise ConnectionError("DevTools refused the WebSocket: %r" % head[:80])

    def _recv_exact(self, n):
        buf = b""
        while len(buf) < n:
            chunk = self.sock.recv(n - len(buf))
            if not chunk:
                raise ConnectionError("DevTools closed the connection")
            buf += chunk
        return buf

    def _send(self, text):
        data = text.encode()
        mask = os.urandom(4)
        n = len(data)
        if n < 126:
            head = struct.pack("!BB", 0x81, 0x80 | n)
        elif n < 65536:
            head = struct.pack("!BBH", 0x81, 0x80 | 126, n)
        else:
            head = struct.pack("!BBQ", 0x81, 0x80 | 127, n)
        self.sock.sendall(head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))

    def _recv(self):
        message = b""
        while True:
            b0, b1 = self._recv_exact(2)
            n = b1 & 0x7F
            if n == 126:
                n = struct.unpack("!H", self._recv_exact(2))[0]
            elif n == 127:
                n = struct.unpack("!Q", self._recv_exact(8))[0]
            payload = self._recv_exact(n)
            op = b0 & 0x0F
            if op == 0x8:
                raise ConnectionError("DevTools closed the WebSocket")
            if op in (0x0, 0x1, 0x2):
                message += payload
                if b0 & 0x80:
                    return json.loads(message)

    def call(self, method, **params):
        """Sends a command and returns its result; raises on an error."""
        self.next_id += 1
        ident = self.next_id
        self._send(json.dumps({"id": ident, "method": method, "params": params}))
        end = time.monotonic() + self.deadline
        while time.monotonic() < end:
            msg = self._recv()
            if msg.get("id") == ident:
                if "error" in msg:
                    raise RuntimeError("%s: %s" % (method, msg["error"]))
                return msg.get("result", {})
        raise TimeoutError(method)

    def js(self, expression):
        """The value of a JavaScript expression (promises awaited)."""
        r = self.call("Runtime.evaluate", expression=expression, returnByValue=True,
                      awaitPromise=True)
        if "exceptionDetails" in r:
            raise RuntimeError("%s: %s" % (expression, r["exceptionDetails"].get("text")))
        return r["result"].get("value")

    def wait_for(self, expression, what, seconds=10.0):
        """Polls until the expression is truthy; returns its value."""
        end = time.monotonic() + seconds
        while True:
            v = self.js(expression)
            if v:
                return v
            if time.monotonic() > end:
                raise TimeoutError("waited %.0f s for %s" % (seconds, what))
            time.sleep(0.1)

    def click(self, x, y, move_only=False):
        """The mouse moved to (x, y), CSS pixels of the viewport, and pressed
        there unless move_only."""
        self.call("Input.dispatchMouseEvent", type="mouseMoved", x=x, y=y)
        if not move_only:
            for kind in ("mousePressed", "mouseReleased"):
                self.call("Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left",
                          clickCount=1)

    def center(self, selector):
        """The middle of the first element matching selector, scrolled into
        view, as (x, y)."""
        r = self.js("(() => { const e = document.querySelector(%s); if (!e) return null;"
                    " e.scrollIntoView({block: 'center'}); const b = e.getBoundingClientRect();"
                    " return [b.left + b.width / 2, b.top + b.height / 2, b.width, b.height]; })()"
                    % json.dumps(selector))
        if not r:
            raise LookupError("nothing matches " + selector)
        return r
