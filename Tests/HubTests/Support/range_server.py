"""A static file server with HTTP Range support and injected faults, for the hub pull tests.

Serves DIR on 127.0.0.1 at an OS-chosen port and prints the port on its first stdout line.
--cut-after N: the first response for each blob sends N bytes of the body, then drops the
connection (a transfer cut in the middle). --fail-first K: the first K requests answer 503.
Requests are logged to stderr as `METHOD PATH RANGE STATUS`.
"""
import argparse
import http.server
import os
import re
import sys
import threading


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("directory")
    parser.add_argument("--cut-after", type=int, default=None)
    parser.add_argument("--fail-first", type=int, default=0)
    args = parser.parse_args()
    root = os.path.realpath(args.directory)
    lock = threading.Lock()
    cut_done = set()
    failures = [args.fail_first]

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *a):
            pass

        def do_GET(self):
            with lock:
                if failures[0] > 0:
                    failures[0] -= 1
                    self.send_response(503)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    print(f"GET {self.path} - 503", file=sys.stderr, flush=True)
                    return
            path = os.path.realpath(os.path.join(root, self.path.lstrip("/")))
            if not path.startswith(root + os.sep) or not os.path.isfile(path):
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            size = os.path.getsize(path)
            start, end, status = 0, size - 1, 200
            header = self.headers.get("Range")
            if header:
                m = re.fullmatch(r"bytes=(\d+)-(\d*)", header)
                start = int(m.group(1))
                if m.group(2):
                    end = min(int(m.group(2)), size - 1)
                if start >= size:
                    self.send_response(416)
                    self.send_header("Content-Range", f"bytes */{size}")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                status = 206
            self.send_response(status)
            self.send_header("Content-Length", str(end - start + 1))
            if status == 206:
                self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
            self.end_headers()
            print(f"GET {self.path} {header or '-'} {status}", file=sys.stderr, flush=True)
            with open(path, "rb") as f:
                f.seek(start)
                body = f.read(end - start + 1)
            cut = False
            with lock:
                if args.cut_after is not None and "/blobs/" in self.path and self.path not in cut_done:
                    cut_done.add(self.path)
                    cut = True
            if cut:
                self.wfile.write(body[: args.cut_after])
                self.wfile.flush()
                self.close_connection = True
                self.connection.shutdown(2)
                return
            self.wfile.write(body)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
