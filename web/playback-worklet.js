// Agent audio playout on the audio rendering thread. A queue of 24 kHz mono chunks, each tagged
// with the conversation item it belongs to, played at the AudioContext's rate (linear
// interpolation). The playout clock is the count of source samples actually rendered, per item:
// that is what the caller HEARD, and what a truncate after barge-in must report.
//
// Messages accepted:
//   {type:'push', itemId, samples: Float32Array}   queue audio (24 kHz, [-1, 1])
//   {type:'end', itemId}                           no more audio will come for this item
//   {type:'flush', requestId}                      drop everything queued, now
// Messages posted:
//   {type:'progress', totalPlayed, queued, current, items: [[itemId, playedSamples], ...]}
//       about every 50 ms while something changed; `items` lists items that advanced
//   {type:'flushed', requestId, itemId, played, queued}
//       itemId is the item that was playing (or queued) when the flush came, or null
//   {type:'item_done', itemId, played}              an ended item has been played out completely
//   {type:'underrun', count}                        the queue ran dry in the middle of an item

const SOURCE_RATE = 24000;
const REPORT_INTERVAL_S = 0.05;
const MAX_REMEMBERED_ITEMS = 64;

class PlaybackProcessor extends AudioWorkletProcessor {
  constructor(options) {
    super();
    const prebufferMs = options?.processorOptions?.prebufferMs ?? 60;
    this.prebuffer = Math.round((SOURCE_RATE * prebufferMs) / 1000);
    this.step = SOURCE_RATE / sampleRate;
    this.queue = []; // {itemId, data, read}
    this.queued = 0; // source samples waiting
    this.frac = 0;
    this.primed = false; // playing; false while (re)filling the prebuffer
    this.played = new Map(); // itemId -> source samples rendered
    this.ended = new Set();
    this.changed = new Set();
    this.lastItem = null; // the item that rendered the most recent sample
    this.totalPlayed = 0;
    this.underruns = 0;
    this.framesSinceReport = 0;
    this.reportEvery = Math.round(sampleRate * REPORT_INTERVAL_S);
    this.port.onmessage = (e) => this.#onMessage(e.data);
  }

  #onMessage(msg) {
    switch (msg?.type) {
      case 'push':
        if (msg.samples.length === 0) return;
        this.queue.push({ itemId: msg.itemId, data: msg.samples, read: 0 });
        this.queued += msg.samples.length;
        if (!this.played.has(msg.itemId)) this.#remember(msg.itemId);
        break;
      case 'end':
        this.ended.add(msg.itemId);
        if (!this.queue.some((c) => c.itemId === msg.itemId)) this.#itemDone(msg.itemId);
        break;
      case 'flush': {
        const itemId = this.queue.length > 0 ? this.queue[0].itemId : this.lastItem;
        const queued = this.queued;
        this.queue = [];
        this.queued = 0;
        this.frac = 0;
        this.primed = false;
        this.#report();
        this.port.postMessage({
          type: 'flushed', requestId: msg.requestId, itemId,
          played: itemId == null ? 0 : (this.played.get(itemId) ?? 0), queued,
        });
        break;
      }
    }
  }

  #remember(itemId) {
    this.played.set(itemId, 0);
    if (this.played.size > MAX_REMEMBERED_ITEMS) {
      const oldest = this.played.keys().next().value;
      this.played.delete(oldest);
      this.ended.delete(oldest);
    }
  }

  #itemDone(itemId) {
    this.port.postMessage({ type: 'item_done', itemId, played: this.played.get(itemId) ?? 0 });
  }

  // Whether the head of the queue may start playing: enough is buffered to ride out network
  // jitter, or everything of the head item has arrived.
  #readyToStart() {
    if (this.queued >= this.prebuffer) return true;
    const head = this.queue[0];
    if (!head || !this.ended.has(head.itemId)) return false;
    return true;
  }

  // Advances past the current source sample, crediting it to its item.
  #consumeOne() {
    const head = this.queue[0];
    head.read++;
    this.queued--;
    this.totalPlayed++;
    this.played.set(head.itemId, (this.played.get(head.itemId) ?? 0) + 1);
    this.changed.add(head.itemId);
    this.lastItem = head.itemId;
    if (head.read >= head.data.length) {
      this.queue.shift();
      const next = this.queue[0];
      if ((!next || next.itemId !== head.itemId) && this.ended.has(head.itemId)) {
        this.#itemDone(head.itemId);
      }
    }
  }

  process(inputs, outputs) {
    const out = outputs[0][0];
    const frames = out.length;
    let i = 0;
    if (!this.primed && this.queue.length > 0 && this.#readyToStart()) this.primed = true;
    if (this.primed) {
      while (i < frames && this.queue.length > 0) {
        const head = this.queue[0];
        const x0 = head.data[head.read];
        let x1 = x0;
        if (head.read + 1 < head.data.length) x1 = head.data[head.read + 1];
        else if (this.queue.length > 1) x1 = this.queue[1].data[0];
        out[i++] = x0 + (x1 - x0) * this.frac;
        this.frac += this.step;
        while (this.frac >= 1 && this.queue.length > 0) {
          this.frac -= 1;
          this.#consumeOne();
        }
      }
      if (this.queue.length === 0) {
        this.primed = false;
        this.frac = 0;
        if (this.lastItem != null && !this.ended.has(this.lastItem)) {
          this.underruns++;
          this.port.postMessage({ type: 'underrun', count: this.underruns });
        }
        this.#report(); // tells the page that nothing is playing any more
      }
    }
    for (; i < frames; i++) out[i] = 0;
    for (let c = 1; c < outputs[0].length; c++) outputs[0][c].set(out);

    this.framesSinceReport += frames;
    if (this.framesSinceReport >= this.reportEvery) {
      this.framesSinceReport = 0;
      if (this.changed.size > 0) this.#report();
    }
    return true;
  }

  #report() {
    const items = [];
    for (const id of this.changed) items.push([id, this.played.get(id) ?? 0]);
    this.changed.clear();
    this.port.postMessage({
      type: 'progress', totalPlayed: this.totalPlayed, queued: this.queued,
      current: this.primed && this.queue.length > 0 ? this.queue[0].itemId : null, items,
    });
  }
}

registerProcessor('artagent-playback', PlaybackProcessor);
