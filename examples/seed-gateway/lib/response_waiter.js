// The seed's ResponseWaiter, ported as it is: a map of correlation id -> completion source.
//
// DEFECT KEPT ON PURPOSE (1): waitAsync races the completion against a delay and, when the delay
// wins, returns null WITHOUT removing the entry. Every request that never gets a reply leaves its
// waiter (the completion source, its callbacks and the request it was registered with) in the
// map for the life of the process. A reply that arrives after the timeout does remove it, and
// then resolves a promise nobody awaits any more: DEFECT (2), the late reply is lost silently.
"use strict";

class ResponseWaiter {
  constructor() {
    /** @type {Map<string, {resolve: (payload: string) => void, task: Promise<string>, request: unknown, registeredAt: Date}>} */
    this.waiters = new Map();
  }

  /** Like TaskCompletionSource registered before the publish; it keeps the request for logging. */
  register(correlationId, request) {
    let resolve;
    const task = new Promise((r) => {
      resolve = r;
    });
    const waiter = { resolve, task, request, registeredAt: new Date() };
    this.waiters.set(correlationId, waiter);
    return waiter;
  }

  /** Resolves with the payload, or null after timeoutMs. The entry stays in the map on timeout.
   *  `registered` is what register() returned: like the controller awaiting the TaskCompletionSource it
   *  holds, a reply that completed it during the publish is still this request's answer. */
  async waitAsync(correlationId, timeoutMs, registered = this.waiters.get(correlationId)) {
    const waiter = registered;
    if (!waiter) return null;
    let timer;
    const delay = new Promise((r) => {
      timer = setTimeout(() => r(null), timeoutMs);
    });
    const result = await Promise.race([waiter.task, delay]);
    clearTimeout(timer);
    return result;
  }

  /** TryRemove + TrySetResult: true when someone had registered the id (awaited or not). */
  complete(correlationId, payload) {
    const waiter = this.waiters.get(correlationId);
    if (!waiter) return false;
    this.waiters.delete(correlationId);
    waiter.resolve(payload);
    return true;
  }

  get size() {
    return this.waiters.size;
  }
}

module.exports = { ResponseWaiter };
