// SPDX-License-Identifier: Apache-2.0
// A tiny raw Discord-gateway client (ws package) for the integration test: identifies,
// heartbeats, and records every dispatch it receives. Not a library: just enough protocol.
'use strict';

const WebSocket = require('ws');

class GatewayClient {
  constructor(name, url, token, intents) {
    this.name = name;
    this.url = url;
    this.token = token;
    this.intents = intents;
    this.dispatches = [];  // {t, s, d} in arrival order
    this.closed = null;    // {code, reason} once closed
    this.waiters = [];
  }

  connect() {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`${this.url}/?v=10&encoding=json`);
      this.ws = ws;
      ws.on('error', (err) => reject(new Error(`${this.name}: websocket error ${err.message}`)));
      ws.on('open', () => resolve());
      ws.on('message', (data, isBinary) => this.onMessage(data, isBinary));
      ws.on('close', (code, reason) => {
        this.closed = { code, reason: reason.toString() };
        clearInterval(this.heartbeat);
        this.check();
      });
    });
  }

  onMessage(data, isBinary) {
    if (isBinary) {
      throw new Error(`${this.name}: received a binary frame`);
    }
    const frame = JSON.parse(data.toString());
    if (frame.op === 10) {
      this.heartbeat = setInterval(() => this.send({ op: 1, d: this.lastSeq ?? null }),
        frame.d.heartbeat_interval);
      this.send({
        op: 2,
        d: {
          token: this.token,
          intents: this.intents,
          properties: { os: 'linux', browser: 'herald-test', device: 'herald-test' },
        },
      });
    } else if (frame.op === 1) {
      this.send({ op: 1, d: this.lastSeq ?? null });
    } else if (frame.op === 0) {
      this.lastSeq = frame.s;
      this.dispatches.push({ t: frame.t, s: frame.s, d: frame.d });
    }
    this.check();
  }

  send(frame) {
    this.ws.send(JSON.stringify(frame));
  }

  /// Resolves with the first dispatch matching `pred`, rejects after `ms`.
  waitFor(what, pred, ms = 20000) {
    return new Promise((resolve, reject) => {
      const waiter = { pred, resolve, reject, what };
      waiter.timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`${this.name}: timed out after ${ms} ms waiting for ${what}; got ` +
          JSON.stringify(this.dispatches.map((f) => f.t)) +
          (this.closed ? `; closed ${JSON.stringify(this.closed)}` : '')));
      }, ms);
      this.waiters.push(waiter);
      this.check();
    });
  }

  check() {
    for (const w of [...this.waiters]) {
      const found = this.dispatches.find(w.pred);
      if (found) {
        clearTimeout(w.timer);
        this.waiters = this.waiters.filter((x) => x !== w);
        w.resolve(found);
      } else if (this.closed) {
        clearTimeout(w.timer);
        this.waiters = this.waiters.filter((x) => x !== w);
        w.reject(new Error(`${this.name}: connection closed ${JSON.stringify(this.closed)} ` +
          `while waiting for ${w.what}`));
      }
    }
  }

  close() {
    clearInterval(this.heartbeat);
    if (this.ws) {
      this.ws.close(1000);
    }
  }
}

module.exports = { GatewayClient };
