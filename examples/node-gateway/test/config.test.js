// The configuration read from the environment.
"use strict";
const test = require("node:test");
const assert = require("node:assert/strict");
const { loadConfig } = require("../lib/config");
const { Waiters, ReplyClass } = require("../lib/waiters");

test("the late window keeps at most 10,000 finished ids unless LATE_WINDOW_MAX says otherwise", () => {
  // A leak soak times out tens of thousands of requests within the window's 60 s: only a count cap
  // keeps the window's memory flat while they arrive.
  assert.equal(loadConfig({}).lateWindowMax, 10000);
  assert.equal(new Waiters().lateWindowMax, 10000);
  assert.equal(loadConfig({ LATE_WINDOW_MAX: "500" }).lateWindowMax, 500);
  assert.throws(() => loadConfig({ LATE_WINDOW_MAX: "0" }), /LATE_WINDOW_MAX: expected a positive integer/);
  assert.throws(() => loadConfig({ LATE_WINDOW_MAX: "many" }), /LATE_WINDOW_MAX/);
});

test("a flood of timed-out requests leaves the late window at its count cap", async () => {
  const w = new Waiters({ lateWindowMs: 60000, lateWindowMax: 100 });
  for (let i = 0; i < 1000; i++) {
    const p = w.add(`id-${i}`, 60000);
    w.finish(`id-${i}`, { kind: "timeout" });
    await p;
  }
  assert.equal(w.size, 0);
  assert.equal(w.finished.size, 100);
  assert.equal(w.deliver("id-999", {}), ReplyClass.late, "the newest are kept");
  assert.equal(w.deliver("id-0", {}), ReplyClass.unknown, "the oldest went first");
});
