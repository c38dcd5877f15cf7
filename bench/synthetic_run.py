#!/usr/bin/env python3
"""Writes a synthetic rr-harness run folder of N requests, for measuring `rr-harness replay` at scale
without a stack: history.jsonl.gz and decisions.jsonl.gz in the format a compressed run leaves
(`run --compress`), run.json, scenario.yaml and the gateway's final /metrics, consistent with each other
so that the replay passes every check.

Mix (deterministic from --seed): 98 % answered 200 and checked on arrival (answer_verified, no answer
body, as a live run keeps them), 1 % timed out with a reply sent after the deadline (late), 1 % answered
200 with the reply duplicated (two reply lines, one duplicate counted). One gateway, broadcast mode.

Usage: synthetic_run.py OUT_DIR [--requests N] [--seed S]
"""
import argparse
import gzip
import json
import os
import random
import uuid

TIMEOUT_US = 1_000_000


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--requests", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=5)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    os.makedirs(a.out, exist_ok=True)
    t0 = 1_800_000_000_000_000
    matched = late = duplicate = 0
    with gzip.open(os.path.join(a.out, "history.jsonl.gz"), "wt", compresslevel=6) as hist, \
         gzip.open(os.path.join(a.out, "decisions.jsonl.gz"), "wt", compresslevel=6) as dec:
        for i in range(a.requests):
            cid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
            nonce = f"rr-{a.seed}-{i}"
            sent = t0 + i * 1000
            roll = rng.random()
            kind = "timeout" if roll < 0.01 else "dup" if roll < 0.02 else "ok"
            body = json.dumps({"action": "echo", "data": {"n": str(i)}, "nonce": nonce}, separators=(",", ":"))
            copies = 2 if kind == "dup" else 1
            delay = 1_100_000 if kind == "timeout" else 0
            dec.write(
                '{"copies":%d,"corrupt":false,"delay_us":%d,"drop":false,"error":false,"fields":{"nonce":"%s"},'
                '"id":"%s","key":"%s","kind":"ok","missing_id":false,"offset":%d,"partition":%d,"reorder":false,'
                '"request_topic":"rr.requests","rule":"default","service_us":0,"spacing_us":0,"topic":"rr.replies",'
                '"ts_us":%d,"type":"decision","wrong_id":"none"}\n'
                % (copies, delay, nonce, cid, nonce, i // 4, i % 4, sent + 300))
            for c in range(copies):
                rs = sent + 400 + delay + c * 100
                dec.write(
                    '{"copy":%d,"delivered_us":%d,"kind":"ok","planned_us":%d,"reply_id":"%s","request_id":"%s",'
                    '"sent_us":%d,"topic":"rr.replies","ts_us":%d,"type":"reply"}\n'
                    % (c + 1, rs + 2000, rs - 50, cid, cid, rs, rs + 2000))
            if kind == "timeout":
                late += 1
                done, status, outcome, resp, verified = sent + TIMEOUT_US + 5000, 504, "timeout", '{"error":"timeout"}', False
            else:
                matched += 1
                duplicate += copies - 1
                done, status, outcome, resp, verified = sent + 3000, 200, "ok", "", True
            line = {"classification": "", "client_error": "", "correlation_id": cid, "done_us": done, "gateway": 0,
                    "http_status": status, "index": i, "intended_us": sent, "nonce": nonce, "outcome": outcome,
                    "request_body": body, "response_body": resp, "sent_us": sent, "simulator_action": "",
                    "simulator_rule": ""}
            if verified:
                line["answer_verified"] = True
            hist.write(json.dumps(line, separators=(",", ":")) + "\n")
    with open(os.path.join(a.out, "metrics-gw-1.txt"), "w") as m:
        m.write(f'rr_gateway_replies_total{{class="matched"}} {matched}\n'
                f'rr_gateway_replies_total{{class="late"}} {late}\n'
                f'rr_gateway_replies_total{{class="duplicate"}} {duplicate}\n'
                'rr_gateway_replies_total{class="unknown"} 0\n'
                'rr_gateway_replies_total{class="malformed"} 0\n'
                'rr_gateway_pending 0\n')
    with open(os.path.join(a.out, "run.json"), "w") as r:
        json.dump({"gateways": 1, "decisions": "", "decisions_offset": 0, "metrics_errors": [""],
                   "baseline_errors": [], "pending": 0, "seed": a.seed}, r)
    with open(os.path.join(a.out, "seed"), "w") as s:
        s.write(f"{a.seed}\n")
    with open(os.path.join(a.out, "scenario.yaml"), "w") as s:
        s.write(f"""name: synthetic-scale
description: synthetic run folder for measuring replay at scale
seed: {a.seed}
stack: {{gateways: 1, gateway_timeout: 1s}}
traffic: {{mode: closed, concurrency: 8, requests: {a.requests}, body: {{action: echo, data: {{n: "{{{{seq}}}}"}}}}}}
expect:
  assert:
    - "class.late_reply == {late}"
    - "gateway.replies_duplicate == {duplicate}"
""")
    print(f"{a.requests} requests: {matched} ok ({duplicate} with a duplicate reply), {late} late")


if __name__ == "__main__":
    main()
