// Closed-loop load with autocannon (as a library): N keep-alive connections, each sending its next
// request as soon as the previous answer arrives, for a fixed time. Every answer is checked (status
// and body): a wrong one is an error of the scenario, whatever the speed. Latencies are kept exactly
// (autocannon's own histogram rounds to whole milliseconds and keeps only 2xx), so rounds can be
// merged and percentiles taken over all of them.
import autocannon from 'autocannon';

/**
 * `check(status, body)` returns null when the answer is right, else a short reason.
 * Returns one measurement: requests answered, seconds, latencies (ms), errors by kind, a few samples.
 */
export async function cannon(baseUrl, { method = 'GET', path, headers = {}, body, connections, durationS, check }) {
  const m = newMeasurement();
  // Per connection: when its request was sent, until answered. autocannon forgets a request in flight
  // when the time is up, and one lost to a connection the server closed without answering; both are
  // seen here (see below).
  const clients = new Set();
  let dropped = 0;
  const instance = autocannon({
    url: baseUrl,
    connections,
    duration: durationS,
    timeout: 10,
    setupClient: (client) => {
      clients.add(client);
      client.on('request', () => {
        if (client.benchSentAt !== undefined) dropped++;
        client.benchSentAt = performance.now();
      });
      client.on('response', () => (client.benchSentAt = undefined));
      // Counted as errors by autocannon (reqError below); the next request is a new one. A timed-out
      // request also stays in the percentiles, with the time it was given (a lower bound).
      client.on('timeout', () => {
        if (client.benchSentAt !== undefined) m.latencies.push(performance.now() - client.benchSentAt);
        client.benchSentAt = undefined;
      });
      client.on('connError', () => (client.benchSentAt = undefined));
    },
    requests: [
      {
        method,
        path,
        headers, // autocannon adds Content-Length itself (a second one would be refused)
        body,
        onResponse: (status, resBody) => {
          const why = check(status, resBody);
          if (why) m.fail(status >= 500 ? 'server_error' : status >= 200 && status < 300 ? 'body' : 'status', `${status} ${why}`);
        },
      },
    ],
  });
  instance.on('response', (_client, _status, _bytes, responseTime) => m.record(responseTime));
  instance.on('reqError', (err) => m.fail(/timed out/.test(err.message) ? 'timeout' : 'connection', err.message));
  const result = await instance;
  const end = performance.now();
  m.seconds = result.duration;
  // Still unanswered when the time was up: not an error (the server may simply be slow, and a longer
  // round would have seen the answer), but leaving them out would keep exactly the slowest requests
  // out of the percentiles. Each counts with its age so far, a lower bound of its latency.
  for (const client of clients) {
    if (client.benchSentAt !== undefined) {
      m.latencies.push(end - client.benchSentAt);
      m.unfinished++;
    }
  }
  // A connection closed with a request unanswered (autocannon reconnects and sends a new one, silently).
  for (let i = 0; i < dropped; i++) m.fail('dropped', `${method} ${path}: connection closed without an answer`);
  return m;
}

export function newMeasurement() {
  return {
    requests: 0,
    seconds: 0,
    unfinished: 0,
    latencies: [],
    errors: { status: 0, body: 0, connection: 0, timeout: 0 },
    samples: [],
    record(ms) {
      this.requests++;
      this.latencies.push(ms);
    },
    fail(kind, why) {
      this.errors[kind] = (this.errors[kind] ?? 0) + 1;
      if (this.samples.length < 5) this.samples.push(`${kind}: ${why.slice(0, 200)}`);
    },
  };
}

/** Several measurements (rounds, warm-up excluded) of one target as one: totals, then percentiles. */
export function combine(measurements) {
  const latencies = measurements.flatMap((m) => m.latencies).sort((a, b) => a - b);
  const requests = measurements.reduce((n, m) => n + m.requests, 0);
  const unfinished = measurements.reduce((n, m) => n + m.unfinished, 0);
  const seconds = measurements.reduce((n, m) => n + m.seconds, 0);
  const errors = {};
  for (const m of measurements) for (const [k, n] of Object.entries(m.errors)) errors[k] = (errors[k] ?? 0) + n;
  return {
    requests,
    seconds: round(seconds, 2),
    rps: seconds > 0 ? Math.round(requests / seconds) : 0,
    p50_ms: round(percentile(latencies, 50), 2),
    p99_ms: round(percentile(latencies, 99), 2),
    // Requests still unanswered when a round ended: in the percentiles with their age then (a lower bound).
    unfinished,
    errors: Object.values(errors).reduce((a, b) => a + b, 0),
    error_kinds: errors,
    error_samples: measurements.flatMap((m) => m.samples).slice(0, 5),
  };
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

export function round(x, digits) {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
