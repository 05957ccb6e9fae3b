// Child loggers are made when they first write (ops/logger.ts LazyChild): their lines must be exactly
// those of a pino child made at once, and levels that are off must write nothing.
import { captureLog } from '../helpers/log-capture.js';

test("a child's lines carry its bindings, its parent's and its own children's", () => {
  const log = captureLog('info');
  const child = log.logger.child({ request_id: 'r-1' });
  child.info('first', { a: 1 });
  child.child({ component: 'x' }).warn('second', { b: 2 });
  child.error('third');
  const lines = log.lines();
  expect(lines.map((l) => [l.level, l.msg, l.request_id, l.component, l.a, l.b])).toEqual([
    ['info', 'first', 'r-1', undefined, 1, undefined],
    ['warn', 'second', 'r-1', 'x', undefined, 2],
    ['error', 'third', 'r-1', undefined, undefined, undefined],
  ]);
});

test('a level that is off writes nothing and says so', () => {
  const log = captureLog('warn');
  const child = log.logger.child({ request_id: 'r-2' });
  child.debug('no');
  child.info('no');
  expect(log.text()).toBe('');
  expect([child.enabled('debug'), child.enabled('info'), child.enabled('warn'), child.enabled('error')]).toEqual([false, false, true, true]);
  expect(log.logger.enabled('info')).toBe(false);
  child.warn('yes');
  expect(log.lines()).toEqual([expect.objectContaining({ level: 'warn', msg: 'yes', request_id: 'r-2' })]);
});

test('credentials in fields are still redacted in a child', () => {
  const log = captureLog('info');
  log.logger.child({ request_id: 'r-3' }).info('line', { client_secret: 's3cret', body: { password: 'hunter2' } });
  expect(log.text()).not.toMatch(/s3cret|hunter2/);
  expect(log.lines()[0]).toMatchObject({ client_secret: '[REDACTED]', body: { password: '[REDACTED]' }, request_id: 'r-3' });
});
