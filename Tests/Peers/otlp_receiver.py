"""An OTLP/HTTP trace receiver for sagad's tracing tests, built on OpenTelemetry's own
protobuf definitions (PyPI's opentelemetry-proto), so that what sagad exports is read the
way every OpenTelemetry Collector reads it, not by sagad's own code.

    otlp_receiver.py PORT_FILE SPANS_FILE

Listens on 127.0.0.1 on a free port (written to PORT_FILE once listening), accepts
`POST /v1/traces` with `application/x-protobuf` bodies (gzip or not), decodes each as an
`ExportTraceServiceRequest` and appends one JSON line per span to SPANS_FILE:
    {"traceId", "spanId", "parentSpanId", "name", "kind", "attributes", "resource",
     "status": {"code", "message"}, "events": [{"name", "attributes"}], "start", "end"}
Anything else is answered 404/415 and logged to stderr. SIGTERM stops it.
"""

import gzip
import json
import os
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.trace.v1.trace_pb2 import Span

LOCK = threading.Lock()


def value(any_value):
    """An AnyValue as plain JSON."""
    kind = any_value.WhichOneof("value")
    if kind is None:
        return None
    if kind == "array_value":
        return [value(v) for v in any_value.array_value.values]
    if kind == "kvlist_value":
        return {kv.key: value(kv.value) for kv in any_value.kvlist_value.values}
    if kind == "bytes_value":
        return any_value.bytes_value.hex()
    return getattr(any_value, kind)


def attributes(pairs):
    return {kv.key: value(kv.value) for kv in pairs}


class Handler(BaseHTTPRequestHandler):
    spans_file = None

    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        sys.stderr.write("otlp_receiver: " + (format % args) + "\n")

    def do_POST(self):  # noqa: N802 - the base class's name
        if self.path != "/v1/traces":
            self.send_error(404)
            return
        if self.headers.get("Content-Type", "").split(";")[0].strip() != "application/x-protobuf":
            self.send_error(415, "only application/x-protobuf")
            return
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if self.headers.get("Content-Encoding", "") == "gzip":
            body = gzip.decompress(body)
        request = ExportTraceServiceRequest()
        request.ParseFromString(body)
        lines = []
        for resource_spans in request.resource_spans:
            resource = attributes(resource_spans.resource.attributes)
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    lines.append(
                        json.dumps(
                            {
                                "traceId": span.trace_id.hex(),
                                "spanId": span.span_id.hex(),
                                "parentSpanId": span.parent_span_id.hex(),
                                "name": span.name,
                                "kind": Span.SpanKind.Name(span.kind),
                                "attributes": attributes(span.attributes),
                                "resource": resource,
                                "status": {"code": span.status.code, "message": span.status.message},
                                "events": [
                                    {"name": e.name, "attributes": attributes(e.attributes)} for e in span.events
                                ],
                                "start": span.start_time_unix_nano,
                                "end": span.end_time_unix_nano,
                            },
                            sort_keys=True,
                        )
                    )
        with LOCK, open(self.spans_file, "a", encoding="utf-8") as out:
            for line in lines:
                out.write(line + "\n")
        reply = ExportTraceServiceResponse().SerializeToString()
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)


def main():
    port_file, spans_file = sys.argv[1], sys.argv[2]
    Handler.spans_file = spans_file
    open(spans_file, "a", encoding="utf-8").close()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    with open(port_file + ".tmp", "w", encoding="utf-8") as out:
        out.write(str(server.server_address[1]))
    # Renamed into place: a reader never sees a half-written port.
    os.replace(port_file + ".tmp", port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
