// Records every server event of a Realtime client and lets a test wait for the next one that
// matches, without racing: waitFor() looks at events already received (from a mark on) as well as
// those still to come.

export class EventRecorder {
  /** `source` has on('event', fn) (OpenAIRealtimeWS) — or pass nothing and call record(). */
  constructor(source) {
    this.events = [];
    this.waiters = new Set();
    source?.on('event', (event) => this.record(event));
  }

  record(event) {
    const index = this.events.length;
    this.events.push(event);
    for (const waiter of this.waiters) {
      if (index >= waiter.from && waiter.matches(event)) {
        this.waiters.delete(waiter);
        clearTimeout(waiter.timer);
        waiter.resolve(event);
      }
    }
  }

  /** A position in the event stream; pass it as `from` to ignore what came before. */
  mark() {
    return this.events.length;
  }

  /** Events of `type` received since `from`. */
  all(type, from = 0) {
    return this.events.slice(from).filter((e) => e.type === type);
  }

  /** The types received since `from`, for failure messages. */
  summary(from = 0, max = 60) {
    const types = this.events.slice(from).map((e) => e.type);
    const counted = [];
    for (const t of types) {
      const last = counted[counted.length - 1];
      if (last && last.type === t) last.n++;
      else counted.push({ type: t, n: 1 });
    }
    const text = counted.map(({ type, n }) => (n > 1 ? `${type} x${n}` : type));
    return text.length > max ? [...text.slice(0, max), '...'].join(', ') : text.join(', ');
  }

  /**
   * Resolves with the first event of `type` at index >= from for which where(event) holds.
   * Rejects after timeoutMs with the list of what did arrive.
   */
  waitFor(type, { from = 0, where = () => true, timeoutMs = 30_000 } = {}) {
    const matches = (e) => e.type === type && where(e);
    const found = this.events.slice(from).find(matches);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const waiter = { from, matches, resolve };
      waiter.timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new Error(`no ${type} event within ${timeoutMs / 1000} s; received since the ` +
          `mark: ${this.summary(from) || '(nothing)'}`));
      }, timeoutMs);
      this.waiters.add(waiter);
    });
  }

  cancelAll() {
    for (const waiter of this.waiters) clearTimeout(waiter.timer);
    this.waiters.clear();
  }
}
