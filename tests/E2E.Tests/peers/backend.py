#!/usr/bin/env python3
"""Test backend for the Sidecar E2E suite (runs behind nginx or directly).

usage: backend.py PORT REQUEST_LOG

Every request that arrives complete is appended to REQUEST_LOG as one line:
    METHOD PATH te=<transfer-encoding> cl=<content-length> body=<bytes received>
Endpoints:
  /echo            200, body = request body (Content-Length framing)
  /upload          200, body = "<bytes> <sha256hex>\n" (body streamed, never held in memory)
  /slow?ms=N       sleeps N ms, then 200 "slow done\n"
  /chunked?n=N&size=S   200, Transfer-Encoding: chunked, N chunks of S bytes ("0123456789" pattern)
  /headers         200, body = the request head as received
  /switch          101 Switching Protocols whether or not the request asked to upgrade (a misbehaving
                   or status-reflecting upstream), then echoes raw bytes
  /answer-then-close  200 with keep-alive framing, then closes the connection shortly after
                   (an upstream whose idle keep-alive timeout is very short)
  anything else    200 "backend <path>\n"
"""
import hashlib
import http.server
import socketserver
import sys
import threading
import time
import urllib.parse

LOG_LOCK = threading.Lock()
LOG_PATH = None


def log_request(line):
    with LOG_LOCK:
        with open(LOG_PATH, "a", encoding="utf-8") as f:
            f.write(line + "\n")


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "e2e-backend/1"

    def log_message(self, fmt, *args):  # keep stderr quiet
        pass

    def _body_chunks(self):
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        if "chunked" in te:
            while True:
                line = self.rfile.readline(65537)
                if not line:
                    raise ConnectionError("eof in chunk size")
                size = int(line.split(b";")[0].strip(), 16)
                if size == 0:
                    # trailers until empty line
                    while True:
                        t = self.rfile.readline(65537)
                        if not t or t in (b"\r\n", b"\n"):
                            return
                    return
                left = size
                while left > 0:
                    b = self.rfile.read(min(left, 65536))
                    if not b:
                        raise ConnectionError("eof in chunk")
                    left -= len(b)
                    yield b
                self.rfile.readline(3)  # CRLF after chunk data
        else:
            n = int(self.headers.get("Content-Length") or 0)
            while n > 0:
                b = self.rfile.read(min(n, 65536))
                if not b:
                    raise ConnectionError("eof in body")
                n -= len(b)
                yield b

    def _send(self, code, body, ctype="text/plain"):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _handle(self):
        url = urllib.parse.urlsplit(self.path)
        q = urllib.parse.parse_qs(url.query)
        te = self.headers.get("Transfer-Encoding") or "-"
        cl = self.headers.get("Content-Length") or "-"
        if url.path == "/upload":
            h = hashlib.sha256()
            total = 0
            for b in self._body_chunks():
                h.update(b)
                total += len(b)
            log_request(f"{self.command} {self.path} te={te} cl={cl} body={total}")
            self._send(200, f"{total} {h.hexdigest()}\n".encode())
            return
        body = b"".join(self._body_chunks())
        log_request(f"{self.command} {self.path} te={te} cl={cl} body={len(body)}")
        if url.path == "/echo":
            self._send(200, body, self.headers.get("Content-Type") or "application/octet-stream")
        elif url.path == "/slow":
            time.sleep(int(q.get("ms", ["1000"])[0]) / 1000.0)
            self._send(200, b"slow done\n")
        elif url.path == "/chunked":
            n = int(q.get("n", ["5"])[0])
            size = int(q.get("size", ["10"])[0])
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            chunk = (b"0123456789" * (size // 10 + 1))[:size]
            for _ in range(n):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                self.wfile.flush()
                time.sleep(0.01)
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        elif url.path == "/switch":
            self.wfile.write(b"HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: anything\r\n\r\n")
            self.wfile.flush()
            data = self.rfile.read1(65536)
            if data:
                log_request("RAW-AFTER-SWITCH " + data.decode("latin-1").split("\r\n")[0])
                self.wfile.write(data)
            self.close_connection = True
        elif url.path == "/answer-then-close":
            self._send(200, b"answered\n")
            self.wfile.flush()
            time.sleep(0.05)
            self.close_connection = True
        elif url.path == "/headers":
            head = self.requestline + "\r\n" + "".join(f"{k}: {v}\r\n" for k, v in self.headers.items())
            self._send(200, head.encode("latin-1"))
        else:
            self._send(200, f"backend {url.path}\n".encode())

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_HEAD = _handle


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256


def main():
    global LOG_PATH
    port = int(sys.argv[1])
    LOG_PATH = sys.argv[2]
    open(LOG_PATH, "a").close()
    srv = Server(("127.0.0.1", port), Handler)
    print(f"backend listening 127.0.0.1:{port}", flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
