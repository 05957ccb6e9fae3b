// Counters the hottest requests move are tallied in memory and handed to prom-client when read
// (ops/metrics.ts talliedCounter): every read must show every count, once.
import { Metrics } from '../../src/ops/metrics.js';

const line = (text: string, series: string) => text.split('\n').find((l) => l.startsWith(`${series} `));

test('tallied counts appear on every scrape, cumulatively, and are never counted twice', async () => {
  const m = new Metrics();
  for (let i = 0; i < 3; i++) m.cacheHit('token');
  m.cacheHit('client');
  m.cacheMiss('user');
  m.tokenValidation.count('valid');
  m.tokenValidation.count('expired');
  let text = await m.registry.metrics();
  expect(line(text, 'cache_hits_total{cache="token"}')).toBe('cache_hits_total{cache="token"} 3');
  expect(line(text, 'cache_hits_total{cache="client"}')).toBe('cache_hits_total{cache="client"} 1');
  expect(line(text, 'cache_misses_total{cache="user"}')).toBe('cache_misses_total{cache="user"} 1');
  expect(line(text, 'oauth_token_validation_total{result="valid"}')).toBe('oauth_token_validation_total{result="valid"} 1');
  expect(line(text, 'oauth_token_validation_total{result="expired"}')).toBe('oauth_token_validation_total{result="expired"} 1');
  // Nothing new: the same figures, not doubled.
  text = await m.registry.metrics();
  expect(line(text, 'cache_hits_total{cache="token"}')).toBe('cache_hits_total{cache="token"} 3');
  m.cacheHit('token');
  m.cacheHit('token');
  text = await m.registry.metrics();
  expect(line(text, 'cache_hits_total{cache="token"}')).toBe('cache_hits_total{cache="token"} 5');
  // get() (the JSON form) reads the same way.
  m.tokenValidation.count('valid');
  const valid = (await m.tokenValidation.get()).values.find((v) => v.labels.result === 'valid');
  expect(valid?.value).toBe(2);
});

test('a name outside the known caches is folded into "other"', async () => {
  const m = new Metrics();
  m.cacheHit('nonsense' as never);
  expect(line(await m.registry.metrics(), 'cache_hits_total{cache="other"}')).toBe('cache_hits_total{cache="other"} 1');
});

test('an instance that does not record (METRICS_ENABLED off) keeps every series empty, through every recorder', async () => {
  const on = new Metrics();
  const off = new Metrics({ record: false });
  for (const m of [on, off]) {
    m.cacheHit('token');
    m.tokenValidation.count('valid');
    m.tokenValidationDuration.observe({ provider: 'local' }, 0.002);
    m.tokensIssuedFor('client_credentials', true);
    m.tokensRevokedFor('rotation', 2);
    m.rateLimitHit('token');
    m.httpInFlight.inc();
    m.deviceCodesActive.set(7);
    m.externalApiTimer('github')();
    m.sessionEnded({ expired: 'logout' }, Date.now() - 1000);
  }
  const series = (text: string) => text.split('\n').filter((l) => l && !l.startsWith('#'));
  const recorded = series(await on.registry.metrics());
  expect(recorded).toEqual(
    expect.arrayContaining([
      'cache_hits_total{cache="token"} 1',
      'oauth_token_validation_total{result="valid"} 1',
      'oauth_token_validation_duration_seconds_count{provider="local"} 1',
      'oauth_tokens_issued_total{token_type="refresh",grant_type="client_credentials"} 1',
      'http_requests_in_flight 1',
      'oauth_device_codes_active 7',
    ]),
  );
  // Only the unlabelled series prom-client always shows, at zero.
  expect(series(await off.registry.metrics()).filter((l) => !/ 0$/.test(l))).toEqual([]);
});
