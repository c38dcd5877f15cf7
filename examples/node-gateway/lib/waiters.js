// The correlation core: requests waiting for their reply, keyed by correlation id, plus a
// bounded memory of recently finished ids so that a stray reply is classified as late,
// duplicate or unknown instead of vanishing.
//
// An entry leaves the table exactly once: on its reply, on its deadline, when the client goes
// away, or when the publish failed. Whoever removes it settles its promise, so a waiter never
// outlives its request (the seed's table kept timed-out waiters for ever).
"use strict";

/** @typedef {{kind: "reply", reply: unknown} | {kind: "timeout"} | {kind: "cancelled", reason: string}} Outcome */

const ReplyClass = Object.freeze({
  matched: "matched",
  late: "late",
  duplicate: "duplicate",
  unknown: "unknown",
  malformed: "malformed",
});

class Waiters {
  /**
   * @param {{lateWindowMs?: number, lateWindowMax?: number, now?: () => number}} [options]
   *   now: a clock in milliseconds (tests pass their own).
   */
  constructor(options = {}) {
    this.lateWindowMs = options.lateWindowMs ?? 60000;
    this.lateWindowMax = options.lateWindowMax ?? 10000;
    this.now = options.now ?? (() => Date.now());
    /** @type {Map<string, {settle: (o: Outcome) => void, timer: NodeJS.Timeout, started: number}>} */
    this.pending = new Map();
    // Finished ids in finishing order (a Map keeps insertion order), so eviction by age or
    // count walks from the front.
    /** @type {Map<string, {at: number, answered: boolean, lateSeen: boolean}>} */
    this.finished = new Map();
  }

  get size() {
    return this.pending.size;
  }

  /** Oldest waiting entry's age in milliseconds (0 when none). */
  oldestAgeMs() {
    for (const entry of this.pending.values()) return this.now() - entry.started;
    return 0;
  }

  /**
   * Registers a waiter; its promise settles with the reply, a timeout after timeoutMs, or a
   * cancellation. Returns undefined when the id is already waiting (ids are random UUIDs, so
   * that is a caller's bug, reported rather than overwriting the first waiter).
   * @returns {Promise<Outcome> | undefined}
   */
  add(id, timeoutMs) {
    if (this.pending.has(id)) return undefined;
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.finish(id, { kind: "timeout" }), timeoutMs);
      this.pending.set(id, { settle: resolve, timer, started: this.now() });
    });
  }

  /**
   * Removes a still-waiting entry for a reason other than a reply. True for the one caller
   * that removed it.
   * @param {Outcome} outcome
   */
  finish(id, outcome) {
    const entry = this.pending.get(id);
    if (!entry) return false;
    this.pending.delete(id);
    clearTimeout(entry.timer);
    this.remember(id, false);
    entry.settle(outcome);
    return true;
  }

  /** Cancels a waiter whose client went away or whose publish failed. */
  cancel(id, reason) {
    return this.finish(id, { kind: "cancelled", reason });
  }

  /**
   * Classifies a delivered reply and hands it to its waiter when one is waiting.
   * @returns {string} a ReplyClass
   */
  deliver(id, reply) {
    this.evict();
    const entry = this.pending.get(id);
    if (entry) {
      this.pending.delete(id);
      clearTimeout(entry.timer);
      this.remember(id, true);
      entry.settle({ kind: "reply", reply });
      return ReplyClass.matched;
    }
    const f = this.finished.get(id);
    if (!f) return ReplyClass.unknown;
    if (f.answered || f.lateSeen) return ReplyClass.duplicate;
    // The first reply after the client stopped waiting is late; any further copy a duplicate.
    f.lateSeen = true;
    return ReplyClass.late;
  }

  /** Shutdown: every waiter is cancelled. */
  close() {
    for (const id of [...this.pending.keys()]) this.cancel(id, "shutdown");
  }

  remember(id, answered) {
    this.finished.delete(id);
    this.finished.set(id, { at: this.now(), answered, lateSeen: false });
    this.evict();
  }

  evict() {
    const horizon = this.now() - this.lateWindowMs;
    for (const [id, f] of this.finished) {
      if (f.at >= horizon && this.finished.size <= this.lateWindowMax) break;
      this.finished.delete(id);
    }
  }
}

module.exports = { Waiters, ReplyClass };
