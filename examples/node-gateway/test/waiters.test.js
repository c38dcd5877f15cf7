"use strict";
const test = require("node:test");
const assert = require("node:assert/strict");
const { Waiters, ReplyClass } = require("../lib/waiters");

function manualClock(start = 1000) {
  const clock = { t: start, now: () => clock.t };
  return clock;
}

test("a reply settles its waiter and leaves the table", async () => {
  const w = new Waiters();
  const p = w.add("a", 60000);
  assert.equal(w.size, 1);
  assert.equal(w.deliver("a", { payload: "x" }), ReplyClass.matched);
  assert.deepEqual(await p, { kind: "reply", reply: { payload: "x" } });
  assert.equal(w.size, 0);
});

test("a timed-out waiter is removed, its first reply is late and the next a duplicate", async () => {
  const w = new Waiters();
  const p = w.add("a", 1);
  assert.deepEqual(await p, { kind: "timeout" });
  assert.equal(w.size, 0, "the seed kept timed-out waiters for ever; this table must not");
  assert.equal(w.deliver("a", {}), ReplyClass.late);
  assert.equal(w.deliver("a", {}), ReplyClass.duplicate);
});

test("a second reply to an answered request is a duplicate; a never-seen id is unknown", async () => {
  const w = new Waiters();
  const p = w.add("a", 60000);
  assert.equal(w.deliver("a", {}), ReplyClass.matched);
  await p;
  assert.equal(w.deliver("a", {}), ReplyClass.duplicate);
  assert.equal(w.deliver("other-instance", {}), ReplyClass.unknown);
});

test("cancel removes exactly once and settles the waiter", async () => {
  const w = new Waiters();
  const p = w.add("a", 60000);
  assert.equal(w.cancel("a", "client_gone"), true);
  assert.equal(w.cancel("a", "client_gone"), false);
  assert.deepEqual(await p, { kind: "cancelled", reason: "client_gone" });
  assert.equal(w.size, 0);
  assert.equal(w.deliver("a", {}), ReplyClass.late);
});

test("an id already waiting is refused, the first waiter kept", async () => {
  const w = new Waiters();
  const p = w.add("a", 60000);
  assert.equal(w.add("a", 60000), undefined);
  assert.equal(w.size, 1);
  w.close();
  assert.deepEqual(await p, { kind: "cancelled", reason: "shutdown" });
});

test("finished ids are forgotten after the late window and beyond the count bound", async () => {
  const clock = manualClock();
  const w = new Waiters({ lateWindowMs: 100, lateWindowMax: 2, now: clock.now });
  for (const id of ["a", "b", "c"]) {
    const p = w.add(id, 60000);
    w.deliver(id, {});
    await p;
  }
  assert.equal(w.finished.size, 2, "bounded in count");
  assert.equal(w.deliver("a", {}), ReplyClass.unknown, "the oldest went first");
  assert.equal(w.deliver("c", {}), ReplyClass.duplicate);
  clock.t += 101;
  assert.equal(w.deliver("c", {}), ReplyClass.unknown, "bounded in time");
  assert.equal(w.finished.size, 0);
});

test("oldest pending age follows the clock", () => {
  const clock = manualClock();
  const w = new Waiters({ now: clock.now });
  assert.equal(w.oldestAgeMs(), 0);
  w.add("a", 60000);
  clock.t += 250;
  w.add("b", 60000);
  assert.equal(w.oldestAgeMs(), 250);
  w.close();
});
