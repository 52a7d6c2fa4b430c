"""ElasticMQ stand-in: moto's SQS server, with the queues of an ElasticMQ
configuration file created at start, as ElasticMQ would create them.

    elasticmq_standin.py [--config /opt/elasticmq.conf] [--port 9324]
    elasticmq_standin.py --check      # exit 0 when every queue exists

Reads the `queues { ... }` block of the HOCON file (the subset ElasticMQ's
examples use: nested blocks, `key = value`, comments, includes ignored) and
maps defaultVisibilityTimeout, delay, receiveMessageWait, fifo,
contentBasedDeduplication and deadLettersQueue { name, maxReceiveCount } to
SQS attributes. Queues that others use as dead-letter queues come first.
"""

import argparse
import json
import os
import re
import signal
import sys
import threading
import time

TOKEN = re.compile(r'[ \t\r,]*(?:(#|//)[^\n]*|(\{)|(\})|("(?:[^"\\]|\\.)*")|([=:])|(\n)|([^\s{}=:"#]+))')


def tokens(text):
    pos = 0
    while pos < len(text):
        m = TOKEN.match(text, pos)
        if not m or m.end() == pos:
            break
        pos = m.end()
        comment, open_, close, quoted, eq, newline, word = m.groups()
        if comment:
            continue
        if open_ or close or eq or newline:
            yield (open_ or close or eq or newline)
        elif quoted is not None:
            yield ("str", json.loads(quoted))
        elif word is not None:
            yield ("str", word)


def parse(text):
    """HOCON subset -> nested dicts of strings."""
    stack = [{}]
    key = None
    value = []

    def flush():
        nonlocal key, value
        if key is not None and value:
            stack[-1][key] = " ".join(value)
        key, value = None, []

    for tok in tokens(text):
        if tok == "{":
            child = {}
            if key is not None:
                stack[-1][key] = child
            key, value = None, []
            stack.append(child)
        elif tok == "}":
            flush()
            if len(stack) > 1:
                stack.pop()
        elif tok in ("=", ":"):
            continue
        elif tok == "\n":
            flush()
        else:
            if key is None:
                key = tok[1]
            else:
                value.append(tok[1])
    flush()
    return stack[0]


def seconds(value):
    m = re.fullmatch(r"\s*(\d+)\s*(ms|millis|milliseconds|s|seconds?|m|minutes?)?\s*", value or "0")
    if not m:
        raise ValueError(f"not a duration: {value!r}")
    n, unit = int(m.group(1)), m.group(2) or "seconds"
    if unit.startswith("m") and unit not in ("m", "minute", "minutes"):
        return n // 1000
    if unit in ("m", "minute", "minutes"):
        return n * 60
    return n


def queues_from(path):
    with open(path, encoding="utf-8") as f:
        conf = parse(f.read())
    queues = conf.get("queues", {})
    if not isinstance(queues, dict):
        raise ValueError("`queues` is not a block")
    dlqs = {q.get("deadLettersQueue", {}).get("name") for q in queues.values() if isinstance(q, dict)}
    return sorted(queues.items(), key=lambda kv: kv[0] not in dlqs)


def attributes(name, q, account, region):
    attrs = {}
    if "defaultVisibilityTimeout" in q:
        attrs["VisibilityTimeout"] = str(seconds(q["defaultVisibilityTimeout"]))
    if "delay" in q:
        attrs["DelaySeconds"] = str(seconds(q["delay"]))
    if "receiveMessageWait" in q:
        attrs["ReceiveMessageWaitTimeSeconds"] = str(seconds(q["receiveMessageWait"]))
    if q.get("fifo") == "true" or name.endswith(".fifo"):
        attrs["FifoQueue"] = "true"
    if q.get("contentBasedDeduplication") == "true":
        attrs["ContentBasedDeduplication"] = "true"
    dlq = q.get("deadLettersQueue")
    if isinstance(dlq, dict) and dlq.get("name"):
        attrs["RedrivePolicy"] = json.dumps({
            "deadLetterTargetArn": f"arn:aws:sqs:{region}:{account}:{dlq['name']}",
            "maxReceiveCount": int(dlq.get("maxReceiveCount", "3")),
        })
    return attrs


def client(port):
    import boto3  # slow to import: only where needed

    # moto checks no signature; boto3 wants some credentials to sign with.
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "standin")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "standin")

    return boto3.client("sqs", endpoint_url=f"http://127.0.0.1:{port}",
                        region_name=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default="/opt/elasticmq.conf")
    ap.add_argument("--port", type=int, default=9324)
    ap.add_argument("--check", action="store_true", help="exit 0 when every configured queue exists")
    args = ap.parse_args()
    queues = queues_from(args.config)
    account = os.environ.get("MOTO_ACCOUNT_ID", "000000000000")
    region = os.environ.get("AWS_DEFAULT_REGION", "us-east-1")

    if args.check:
        sqs = client(args.port)
        for name, _ in queues:
            sqs.get_queue_url(QueueName=name)
        return 0

    from moto.moto_server.threaded_moto_server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="0.0.0.0", port=args.port, verbose=False)
    server.start()
    sqs = client(args.port)
    for name, q in queues:
        attrs = attributes(name, q if isinstance(q, dict) else {}, account, region)
        url = sqs.create_queue(QueueName=name, Attributes=attrs)["QueueUrl"]
        print(f"elasticmq stand-in (moto): queue {name} {json.dumps(attrs)} at {url}", flush=True)
    print(f"elasticmq stand-in (moto): SQS on port {args.port}", flush=True)

    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    while not done.wait(3600):
        pass
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
