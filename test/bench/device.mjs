// Scenario 4's load: many pending device codes, each polled the way a well-behaved device polls
// (RFC 8628 §3.5). autocannon sends as fast as it can; a device waits `interval` between polls, so
// this is an open-loop scheduler instead: code i is first polled at i·interval/N, which spreads the
// polls evenly over time (N/interval polls per second in total), and each next poll of a code is sent
// `interval` after the previous answer arrived. The server timestamps a poll while handling it, before
// it answers, so two polls of one code always reach it at least `interval` apart: any slow_down is the
// server's mistake, and counts as an error like any other wrong answer.
// The polls share one keep-alive agent (http.mjs): a request waiting for a free socket counts in its
// latency, as it would for a device waiting on a busy server.
import { newMeasurement } from './load.mjs';

export const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

/** `count` fresh device codes for the CLI client, `concurrency` requests at a time. Failures are errors. */
export async function createDeviceCodes(client, clientId, count, concurrency, m = newMeasurement()) {
  const codes = [];
  let next = 0;
  const worker = async () => {
    while (next < count) {
      next++;
      try {
        const res = await client.postForm('/oauth/device/code', { client_id: clientId, scope: 'read' });
        const body = res.status === 200 ? JSON.parse(res.body) : {};
        if (typeof body.device_code === 'string' && Number.isInteger(body.interval)) codes.push({ deviceCode: body.device_code, interval: body.interval });
        else m.fail(res.status >= 500 ? 'server_error' : 'status', `POST /oauth/device/code ${res.status} ${res.body.slice(0, 120)}`);
      } catch (err) {
        m.fail('connection', `POST /oauth/device/code: ${err.message}`);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { codes, setup: m };
}

/**
 * Polls `codes` for `warmS + durationS` seconds; the polls sent in the first `warmS` seconds are the
 * warm-up (the same schedule and load, so nothing has to be polled twice too soon) and are measured
 * apart. Every answer must be 400 `authorization_pending` (the codes are never approved). Returns both
 * measurements, the nominal rate (N / interval) and how many answers were slow_down.
 */
export async function pollDeviceCodes(client, clientId, codes, { warmS, durationS }) {
  const warm = newMeasurement();
  const m = newMeasurement();
  const spacingMs = ((codes[0]?.interval ?? 5) * 1000) / Math.max(1, codes.length);
  const started = performance.now();
  const measureFrom = started + warmS * 1000;
  const stopAt = measureFrom + durationS * 1000;
  let slowDown = 0;
  let inFlight = 0;
  let scheduled = 0;
  let finish;
  const done = new Promise((resolve) => (finish = resolve));
  const settle = () => {
    if (inFlight === 0 && scheduled === 0) finish();
  };

  const poll = async (code) => {
    scheduled--;
    inFlight++;
    const t0 = performance.now();
    const into = t0 < measureFrom ? warm : m;
    try {
      const res = await client.postForm('/oauth/token', { grant_type: DEVICE_GRANT, device_code: code.deviceCode, client_id: clientId });
      into.record(performance.now() - t0);
      let body;
      try {
        body = JSON.parse(res.body);
      } catch {
        body = {};
      }
      if (body.error === 'slow_down') {
        slowDown++;
        into.fail('slow_down', `${res.status} ${res.body.slice(0, 160)}`);
        // As a device must (RFC 8628 §3.5): wait longer from now on.
        code.interval = Number.isInteger(body.interval) ? body.interval : code.interval + 5;
      } else if (res.status !== 400 || body.error !== 'authorization_pending') {
        into.fail(res.status >= 500 ? 'server_error' : res.status !== 400 ? 'status' : 'body', `${res.status} ${res.body.slice(0, 160)}`);
      }
    } catch (err) {
      const timedOut = /no answer/.test(err.message);
      // A timed-out poll stays in the percentiles with the time it was given (a lower bound).
      if (timedOut) into.latencies.push(performance.now() - t0);
      into.fail(timedOut ? 'timeout' : 'connection', err.message);
    }
    inFlight--;
    // The device waits `interval` after the answer.
    const at = performance.now() + code.interval * 1000;
    if (at < stopAt) later(code, at);
    settle();
  };
  const later = (code, at) => {
    scheduled++;
    setTimeout(() => poll(code), Math.max(0, at - performance.now()));
  };

  codes.forEach((code, i) => {
    const at = started + i * spacingMs;
    if (at < stopAt) later(code, at);
  });
  settle();
  await done;
  const end = performance.now();
  warm.seconds = Math.min(warmS, (end - started) / 1000);
  m.seconds = Math.max(0, (end - measureFrom) / 1000);
  return { warm, measurement: m, slowDown, nominalRps: Math.round(1000 / spacingMs) };
}
