"""A Jaeger stand-in: receives OTLP/HTTP traces and counts them.

    otlp_receiver.py [--otlp-port 4318] [--query-port 16686]

POST /v1/traces on the OTLP port takes an ExportTraceServiceRequest, as
protobuf (application/x-protobuf) or JSON (application/json), and answers
an empty ExportTraceServiceResponse. The query port answers
GET /api/services ({"data": [service, ...], "total": n}, as Jaeger's query
API does), GET /api/stats (spans and requests per service) and GET /health.
"""

import argparse
import json
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

lock = threading.Lock()
spans_by_service = {}
requests = {"accepted": 0, "rejected": 0}


def fields(buf):
    """(field number, wire type, value) of one protobuf message."""
    i, n = 0, len(buf)

    def varint():
        nonlocal i
        shift = result = 0
        while True:
            if i >= n:
                raise ValueError("truncated varint")
            b = buf[i]
            i += 1
            result |= (b & 0x7F) << shift
            if not b & 0x80:
                return result
            shift += 7

    while i < n:
        key = varint()
        num, wire = key >> 3, key & 7
        if wire == 0:
            yield num, wire, varint()
        elif wire == 1:
            i += 8
            yield num, wire, None
        elif wire == 2:
            length = varint()
            if i + length > n:
                raise ValueError("truncated field")
            yield num, wire, buf[i:i + length]
            i += length
        elif wire == 5:
            i += 4
            yield num, wire, None
        else:
            raise ValueError(f"wire type {wire}")


def service_of_resource(resource):
    for num, wire, kv in fields(resource):
        if num != 1 or wire != 2:
            continue
        key, value = None, None
        for k, w, v in fields(kv):
            if k == 1 and w == 2:
                key = v.decode("utf-8", "replace")
            elif k == 2 and w == 2:
                for a, aw, av in fields(v):
                    if a == 1 and aw == 2:
                        value = av.decode("utf-8", "replace")
        if key == "service.name" and value:
            return value
    return "unknown_service"


def count_protobuf(body):
    counts = {}
    for num, wire, rs in fields(body):
        if num != 1 or wire != 2:
            continue
        service, spans = "unknown_service", 0
        for k, w, v in fields(rs):
            if k == 1 and w == 2:
                service = service_of_resource(v)
            elif k == 2 and w == 2:
                spans += sum(1 for s, sw, _ in fields(v) if s == 2 and sw == 2)
        counts[service] = counts.get(service, 0) + spans
    return counts


def count_json(body):
    counts = {}
    for rs in json.loads(body).get("resourceSpans", []):
        service = "unknown_service"
        for kv in rs.get("resource", {}).get("attributes", []):
            if kv.get("key") == "service.name":
                service = kv.get("value", {}).get("stringValue", service)
        spans = sum(len(ss.get("spans", [])) for ss in rs.get("scopeSpans", []))
        counts[service] = counts.get(service, 0) + spans
    return counts


class Otlp(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def reply(self, status, body, ctype):
        self.send_response(status)
        self.send_header("content-type", ctype)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        if self.path.split("?")[0] != "/v1/traces":
            return self.reply(404, b"not found\n", "text/plain")
        ctype = self.headers.get("content-type", "application/x-protobuf")
        if self.headers.get("content-encoding", "") == "gzip":
            import gzip
            body = gzip.decompress(body)
        try:
            counts = count_json(body) if "json" in ctype else count_protobuf(body)
        except (ValueError, json.JSONDecodeError) as e:
            with lock:
                requests["rejected"] += 1
            return self.reply(400, f"bad OTLP request: {e}\n".encode(), "text/plain")
        with lock:
            requests["accepted"] += 1
            for service, n in counts.items():
                spans_by_service[service] = spans_by_service.get(service, 0) + n
        if "json" in ctype:
            return self.reply(200, b"{}", "application/json")
        return self.reply(200, b"", "application/x-protobuf")


class Query(Otlp):
    def do_GET(self):
        path = self.path.split("?")[0]
        with lock:
            services = sorted(spans_by_service)
            stats = {"spans": dict(spans_by_service), "requests": dict(requests)}
        if path == "/health":
            return self.reply(200, b"ok\n", "text/plain")
        if path == "/api/services":
            return self.reply(200, json.dumps({"data": services, "total": len(services)}).encode(), "application/json")
        if path in ("/api/stats", "/"):
            stats["standin"] = "OTLP/HTTP receiver standing in for Jaeger: counts spans, keeps no traces"
            return self.reply(200, json.dumps(stats, indent=1).encode(), "application/json")
        return self.reply(404, b"not found\n", "text/plain")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--otlp-port", type=int, default=4318)
    ap.add_argument("--query-port", type=int, default=16686)
    args = ap.parse_args()
    servers = [ThreadingHTTPServer(("0.0.0.0", args.otlp_port), Otlp),
               ThreadingHTTPServer(("0.0.0.0", args.query_port), Query)]
    for s in servers:
        s.daemon_threads = True
        threading.Thread(target=s.serve_forever, daemon=True).start()
    print(f"jaeger stand-in: OTLP/HTTP on {args.otlp_port}, query API on {args.query_port}", flush=True)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    done.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
