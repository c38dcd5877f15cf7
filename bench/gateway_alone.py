#!/usr/bin/env python3
"""rr-gateway's own cost, without Kafka or daprd: figures for bench/PROFILING.md.

A stand-in for daprd answers every publish 204 at once and, with --replies, posts the published
body back to the gateway's reply route over one kept-alive connection (a reply the gateway matches by
its correlation id), wrapped as daprd wraps it for the gateway's rawPayload subscription: a CloudEvent
with the bytes in data_base64 (--delivery plain posts the bare reply object instead). Nothing here is a test; it prints figures.

  gateway_alone.py --gateway build/bin/rr-gateway waiting --counts 10000,19000
      N clients each hold one POST /api/send (the stand-in never replies); once the gateway's
      rr_gateway_pending gauge reaches N and its RSS has settled: (VmRSS at N - VmRSS after the same
      warm-up with none waiting) / N, smaps_rollup's Anonymous the same way, and /proc/net/sockstat's
      TCP `mem` (kernel socket buffers, machine-wide pages) beside it.
  gateway_alone.py --gateway build/bin/rr-gateway --wrap "valgrind --tool=callgrind" sequential --requests 1500
      warm-up, then requests one after another on one kept-alive connection, each answered 200.

Both the gateway and this driver need a descriptor per waiting request: RLIMIT_NOFILE's hard limit
(20,000 here) bounds the count; the soft limit is raised to it for both.
"""
import argparse
import asyncio
import base64
import json
import os
import resource
import shlex
import socket
import subprocess
import sys
import time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def read_kb(path, keys):
    out = {}
    try:
        with open(path) as f:
            for line in f:
                key, _, rest = line.partition(":")
                if key in keys:
                    out[key] = int(rest.split()[0])
    except OSError:
        pass
    return out


def sample(pid):
    status = read_kb(f"/proc/{pid}/status", {"VmRSS"})
    smaps = read_kb(f"/proc/{pid}/smaps_rollup", {"Rss", "Pss", "Anonymous", "Private_Dirty"})
    tcp = {}
    with open("/proc/net/sockstat") as f:
        for line in f:
            if line.startswith("TCP:"):
                fields = line.split()[1:]
                tcp = {fields[i]: int(fields[i + 1]) for i in range(0, len(fields) - 1, 2)}
    try:
        fds = len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        fds = -1
    return {"rss_kb": status.get("VmRSS", -1), "smaps_kb": smaps, "tcp": tcp, "fds": fds}


def settled(pid):
    """A sample once VmRSS moved by at most 0.5 % over a second (at most 15 s)."""
    before = sample(pid)["rss_kb"]
    for _ in range(15):
        time.sleep(1)
        now = sample(pid)["rss_kb"]
        if abs(now - before) * 200 <= max(before, 1):
            break
        before = now
    return sample(pid)


class StandIn:
    """daprd's publish endpoint: 204 at once; with replies, the body goes back to /dapr/replies."""

    def __init__(self, callback_port, replies, envelope=True):
        self.callback_port = callback_port
        self.replies = replies
        self.envelope = envelope
        self.queue = asyncio.Queue()

    async def handle(self, reader, writer):
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                body = await reader.readexactly(length) if length else b""
                first = head.split(b"\r\n", 1)[0]
                writer.write(b"HTTP/1.1 204 No Content\r\n\r\n")
                if self.replies and b"/v1.0/publish/" in first:
                    self.queue.put_nowait(cloud_event(body) if self.envelope else body)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        writer.close()

    async def deliver(self):
        reader = writer = None
        while True:
            body = await self.queue.get()
            if writer is None:
                reader, writer = await asyncio.open_connection("127.0.0.1", self.callback_port)
            writer.write(b"POST /dapr/replies HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                         b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            if length:
                await reader.readexactly(length)


def cloud_event(raw):
    """The reply as daprd delivers it to a rawPayload subscription: a CloudEvent whose data_base64 holds
    the bytes the replier produced, with the envelope fields daprd adds (values shaped like its own)."""
    return json.dumps({
        "data_base64": base64.b64encode(raw).decode(), "datacontenttype": "application/octet-stream",
        "id": "6f1c1f0e-1d1b-4c44-9d6e-5f4e0b9f5b21", "pubsubname": "rr-pubsub", "source": "rr-simulator",
        "specversion": "1.0", "time": "2026-12-01T10:00:00Z", "topic": "rr-replies",
        "traceid": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "tracestate": "",
        "type": "com.dapr.event.sent"}).encode()


def request_bytes(i, timeout_ms):
    body = json.dumps({"action": "bench", "seq": i, "nonce": f"n-{i}"}).encode()
    return (b"POST /api/send HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-Request-Timeout-Ms: " +
            str(timeout_ms).encode() + b"\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)


async def read_answer(reader):
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    body = await reader.readexactly(length) if length else b""
    return int(head.split()[1]), body


async def get(port, path):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    status, body = await read_answer(reader)
    writer.close()
    return status, body.decode()


async def pending(port):
    try:
        status, text = await asyncio.wait_for(get(port, "/metrics"), 10)
    except (OSError, asyncio.TimeoutError):
        return None
    for line in text.splitlines():
        if line.startswith("rr_gateway_pending "):
            return float(line.split()[1])
    return None


async def sequential(port, n, start=0):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    bad = 0
    for i in range(start, start + n):
        writer.write(request_bytes(i, 10000))
        status, _ = await read_answer(reader)
        bad += status != 200
    writer.close()
    return bad


async def hold(port, i, held, timeout_ms):
    """One waiting client: connects (paced by `held`'s semaphore), sends, and waits for the answer."""
    async with held["connecting"]:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(request_bytes(i, timeout_ms))
        await writer.drain()
    held["writers"].append(writer)
    try:
        await read_answer(reader)
    except (asyncio.IncompleteReadError, ConnectionError):
        pass


async def main_async(args):
    lim = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (lim[1], lim[1]))
    port, callback, dapr = free_port(), free_port(), free_port()
    standin = StandIn(callback, replies=args.mode == "sequential", envelope=args.delivery == "cloudevent")
    server = await asyncio.start_server(standin.handle, "127.0.0.1", dapr, backlog=1024)
    deliverer = asyncio.ensure_future(standin.deliver())
    cmd = shlex.split(args.wrap) + [args.gateway, "--listen", f"127.0.0.1:{port}", "--callback-listen",
                                    f"127.0.0.1:{callback}", "--dapr-http-port", str(dapr), "--max-pending",
                                    "25000", "--timeout", "600s", "--max-timeout", "600s", "--log-level", "warn",
                                    "--dapr-acquire-timeout", "60s"] + args.gateway_args
    gw = subprocess.Popen(cmd, preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (lim[1], lim[1])))
    try:
        for _ in range(600):
            try:
                if (await get(port, "/healthz"))[0] == 200:
                    break
            except OSError:
                await asyncio.sleep(0.1)
        # Warm-up: the daprd connections and the allocator's first arenas, for every figure alike.
        standin.replies = True
        await sequential(port, args.warmup)
        if args.mode == "sequential":
            t0 = time.time()
            bad = await sequential(port, args.requests, start=args.warmup)
            print(json.dumps({"requests": args.requests, "non_200": bad, "seconds": round(time.time() - t0, 2)}))
            return 0
        standin.replies = False
        loop = asyncio.get_running_loop()
        base = await loop.run_in_executor(None, settled, gw.pid)
        print(json.dumps({"waiting": 0, **base}), flush=True)
        held = {"connecting": asyncio.Semaphore(256), "writers": []}
        tasks, have = [], 0
        for target in args.counts:
            tasks += [asyncio.ensure_future(hold(port, i, held, 590000)) for i in range(have, target)]
            have = target
            deadline = time.time() + 300
            n = None
            while time.time() < deadline:
                n = await pending(port)
                if n is not None and n >= target:
                    break
                await asyncio.sleep(0.5)
            s = await loop.run_in_executor(None, settled, gw.pid)
            n = await pending(port)
            per = lambda now, then: round((now - then) * 1024 / n) if n else None
            print(json.dumps({
                "waiting": n, "target": target,
                "bytes_per_waiting_rss": per(s["rss_kb"], base["rss_kb"]),
                "bytes_per_waiting_anonymous": per(s["smaps_kb"].get("Anonymous", 0), base["smaps_kb"].get("Anonymous", 0)),
                "tcp_mem_pages_delta": s["tcp"].get("mem", 0) - base["tcp"].get("mem", 0),
                **s}), flush=True)
        for w in held["writers"]:
            w.close()
        for t in tasks:
            t.cancel()
        return 0
    finally:
        # The stand-in's connections end with the gateway: their cancelled readers are no news.
        asyncio.get_running_loop().set_exception_handler(lambda loop, context: None)
        gw.terminate()
        try:
            gw.wait(timeout=60)
        except subprocess.TimeoutExpired:
            gw.kill()
        deliverer.cancel()
        server.close()


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--gateway", required=True, help="the rr-gateway binary")
    p.add_argument("--wrap", default="", help="command the gateway runs under, e.g. valgrind --tool=callgrind")
    p.add_argument("--warmup", type=int, default=100)
    p.add_argument("--gateway-args", nargs="*", default=[])
    p.add_argument("--delivery", choices=["cloudevent", "plain"], default="cloudevent",
                   help="how a reply reaches the gateway: as daprd delivers it to a rawPayload subscription "
                        "(a CloudEvent with data_base64, the default) or as the plain reply object")
    sub = p.add_subparsers(dest="mode", required=True)
    w = sub.add_parser("waiting")
    w.add_argument("--counts", type=lambda s: [int(x) for x in s.split(",")], default=[10000, 19000])
    s = sub.add_parser("sequential")
    s.add_argument("--requests", type=int, default=1500)
    args = p.parse_args()
    sys.exit(asyncio.run(main_async(args)))


if __name__ == "__main__":
    main()
