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
