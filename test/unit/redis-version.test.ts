// The startup check of the Redis server's version against what the code sends it.
import { ConfigError } from '../../src/domain/errors.js';
import { createLogger } from '../../src/ops/logger.js';
import { closeRedis, connectRedis } from '../../src/ops/redis.js';
import { checkRedisVersion, MINIMUM_REDIS_VERSION, parseRedisVersion, REDIS_REQUIREMENTS } from '../../src/ops/redis-version.js';
import { startOwnRedis, type OwnRedis } from '../helpers/redis-server.js';

const info = (version: string) =>
  ['# Server', `redis_version:${version}`, 'redis_git_sha1:00000000', 'redis_mode:standalone', 'os:Linux 6.1.0 x86_64', 'tcp_port:6379', ''].join('\r\n');

describe('Redis version check', () => {
  test('the minimum is the newest version any required command needs: SET … EX … NX inside the counter script, Redis 2.6.12', () => {
    expect(MINIMUM_REDIS_VERSION).toEqual([2, 6, 12]);
    expect(REDIS_REQUIREMENTS.find((r) => r.since.join('.') === '2.6.12')?.command).toMatch(/SET .*NX/);
  });

  test('parses redis_version out of an INFO server reply', () => {
    expect(parseRedisVersion(info('7.0.15'))).toEqual([7, 0, 15]);
    expect(parseRedisVersion(info('7.2.4-valkey'))).toEqual([7, 2, 4]);
    expect(parseRedisVersion('# Server\r\nredis_mode:standalone\r\n')).toBeUndefined();
  });

  test.each(['2.6.12', '2.8.0', '6.0.20', '7.0.15', '7.4.1', '10.0.0'])('accepts Redis %s', (version) => {
    expect(() => checkRedisVersion(info(version))).not.toThrow();
  });

  test.each(['2.6.11', '2.4.18', '1.2.6'])('refuses Redis %s with a ConfigError naming REDIS_URL and what is missing', (version) => {
    const check = () => checkRedisVersion(info(version));
    expect(check).toThrow(ConfigError);
    expect(check).toThrow(/^REDIS_URL points at Redis .* needs Redis 2\.6\.12 or later for: .*SET key value EX seconds NX \(Redis 2\.6\.12/);
  });

  test('a reply without redis_version is refused too', () => {
    expect(() => checkRedisVersion('# Server\r\n')).toThrow(/REDIS_URL: the server did not report redis_version/);
  });

  describe('against a real Redis', () => {
    let own: OwnRedis | undefined;
    let url: string;
    beforeAll(async () => {
      if (process.env.TEST_REDIS_URL) url = process.env.TEST_REDIS_URL;
      else {
        own = await startOwnRedis();
        url = own.url;
      }
    });
    afterAll(() => own?.stop());

    test("the local server's INFO server passes, at startup too", async () => {
      // connectRedis runs the same check; it resolving means startup accepted this server.
      const redis = await connectRedis(url, createLogger('silent'));
      try {
        const reply = await redis.info('server');
        const version = checkRedisVersion(reply);
        expect(version[0]).toBeGreaterThanOrEqual(7);
      } finally {
        await closeRedis(redis);
      }
    });
  });
});
