// AUTH_MODE and HTTP_API_* (issue 12): AuthGate's names and defaults, and every bad combination a
// ConfigError naming the variable, so a misconfigured sign-in source stops startup.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/env.js';
import { ConfigError } from '../../src/domain/errors.js';

const load = (env: Record<string, string>) => loadConfig({ DATA_DIR: mkdtempSync(join(tmpdir(), 'authgate-config-')), ...env });
const PRODUCTION = { NODE_ENV: 'production', BASE_URL: 'https://auth.example.com', JWT_SECRET: 'j'.repeat(40), SESSION_SECRET: 's'.repeat(40) };
const refused = (env: Record<string, string>, message: RegExp) => {
  expect(() => load(env)).toThrow(ConfigError);
  expect(() => load(env)).toThrow(message);
};

describe('AUTH_MODE and HTTP_API_*', () => {
  test("AuthGate's defaults: local, and no user service unless HTTP_API_URL is set", () => {
    const config = load({});
    expect(config.authMode).toBe('local');
    expect(config.httpApi).toBeUndefined();
  });

  test("http_api with AuthGate's defaults: 10 s bound, 3 retries from 1 s to 10 s, no caller authentication", () => {
    const config = load({ AUTH_MODE: 'http_api', HTTP_API_URL: 'https://users.example.com/api/verify' });
    expect(config.authMode).toBe('http_api');
    expect(config.httpApi).toEqual({
      url: 'https://users.example.com/api/verify',
      timeoutMs: 10_000,
      maxRetries: 3,
      retryDelayMs: 1000,
      maxRetryDelayMs: 10_000,
      insecureSkipVerify: false,
      auth: { mode: 'none' },
    });
    expect(config.warnings).toEqual([]);
  });

  test('durations in Go notation including milliseconds; simple mode with the default and a custom header; hmac', () => {
    const config = load({
      AUTH_MODE: 'http_api',
      HTTP_API_URL: 'http://127.0.0.1:9000/verify?tenant=a',
      HTTP_API_TIMEOUT: '2m',
      HTTP_API_RETRY_DELAY: '500ms',
      HTTP_API_MAX_RETRY_DELAY: '1.5s',
      HTTP_API_MAX_RETRIES: '0',
      HTTP_API_AUTH_MODE: 'simple',
      HTTP_API_AUTH_SECRET: 'the-secret',
    });
    expect(config.httpApi).toMatchObject({ url: 'http://127.0.0.1:9000/verify?tenant=a', timeoutMs: 120_000, retryDelayMs: 500, maxRetryDelayMs: 1500, maxRetries: 0, auth: { mode: 'simple', header: 'X-API-Secret', secret: 'the-secret' } });
    expect(load({ HTTP_API_URL: 'https://u.example.com', HTTP_API_AUTH_MODE: 'simple', HTTP_API_AUTH_SECRET: 'x', HTTP_API_AUTH_HEADER: 'X-Key' }).httpApi!.auth).toEqual({ mode: 'simple', header: 'X-Key', secret: 'x' });
    expect(load({ HTTP_API_URL: 'https://u.example.com', HTTP_API_AUTH_MODE: 'hmac', HTTP_API_AUTH_SECRET: 'h' }).httpApi!.auth).toEqual({ mode: 'hmac', secret: 'h' });
  });

  test.each([
    [{ AUTH_MODE: 'http_api' }, /^AUTH_MODE=http_api needs HTTP_API_URL/],
    [{ AUTH_MODE: 'HTTP_API', HTTP_API_URL: 'https://u.example.com' }, /^AUTH_MODE must be one of local, http_api, got "HTTP_API"/],
    [{ HTTP_API_URL: 'users.example.com/verify' }, /^HTTP_API_URL is not a valid URL/],
    [{ HTTP_API_URL: 'ftp://users.example.com/verify' }, /^HTTP_API_URL must be an http:\/\/ or https:\/\/ URL/],
    [{ HTTP_API_URL: 'https://svc:pw@users.example.com/verify' }, /^HTTP_API_URL must not carry credentials/],
    [{ HTTP_API_URL: 'https://u.example.com', HTTP_API_AUTH_MODE: 'hmac' }, /^HTTP_API_AUTH_MODE=hmac needs HTTP_API_AUTH_SECRET/],
    [{ HTTP_API_URL: 'https://u.example.com', HTTP_API_AUTH_MODE: 'simple', HTTP_API_AUTH_SECRET: '   ' }, /^HTTP_API_AUTH_MODE=simple needs HTTP_API_AUTH_SECRET/],
    [{ HTTP_API_URL: 'https://u.example.com', HTTP_API_AUTH_MODE: 'basic' }, /^HTTP_API_AUTH_MODE must be one of none, simple, hmac, got "basic"/],
    [{ HTTP_API_URL: 'https://u.example.com', HTTP_API_AUTH_MODE: 'simple', HTTP_API_AUTH_SECRET: 'x', HTTP_API_AUTH_HEADER: 'X Key' }, /^HTTP_API_AUTH_HEADER must be a header name/],
    [{ HTTP_API_URL: 'https://u.example.com', HTTP_API_AUTH_MODE: 'simple', HTTP_API_AUTH_SECRET: 'x', HTTP_API_AUTH_HEADER: 'Host' }, /^HTTP_API_AUTH_HEADER cannot be Host/],
    [{ HTTP_API_URL: 'https://u.example.com', HTTP_API_TIMEOUT: 'ten seconds' }, /^HTTP_API_TIMEOUT must be a duration/],
    [{ HTTP_API_URL: 'https://u.example.com', HTTP_API_TIMEOUT: '0' }, /^HTTP_API_TIMEOUT must be between/],
    [{ HTTP_API_URL: 'https://u.example.com', HTTP_API_MAX_RETRIES: '-1' }, /^HTTP_API_MAX_RETRIES must be an integer/],
    [{ HTTP_API_URL: 'https://u.example.com', HTTP_API_RETRY_DELAY: '5s', HTTP_API_MAX_RETRY_DELAY: '1s' }, /^HTTP_API_MAX_RETRY_DELAY \(1000 ms\) must be at least HTTP_API_RETRY_DELAY/],
    [{ HTTP_API_URL: 'https://u.example.com', HTTP_API_INSECURE_SKIP_VERIFY: 'maybe' }, /^HTTP_API_INSECURE_SKIP_VERIFY must be true or false/],
    [{ ...PRODUCTION, HTTP_API_URL: 'https://u.example.com', HTTP_API_INSECURE_SKIP_VERIFY: 'true' }, /^HTTP_API_INSECURE_SKIP_VERIFY=true is refused in production/],
  ])('refused at startup, naming the variable (%j)', (env, message) => refused(env, message));

  test('skipping certificate checks is allowed outside production only', () => {
    expect(load({ HTTP_API_URL: 'https://u.example.com', HTTP_API_INSECURE_SKIP_VERIFY: 'true' }).httpApi!.insecureSkipVerify).toBe(true);
  });

  test('warned, not refused: settings without HTTP_API_URL, a secret without a mode, and in production plain http or no caller authentication', () => {
    expect(load({ HTTP_API_AUTH_MODE: 'hmac', HTTP_API_TIMEOUT: '5s' }).warnings).toEqual(['HTTP_API_TIMEOUT, HTTP_API_AUTH_MODE are set without HTTP_API_URL and have no effect']);
    expect(load({ HTTP_API_URL: 'https://u.example.com', HTTP_API_AUTH_SECRET: 'x' }).warnings).toEqual([expect.stringMatching(/^HTTP_API_AUTH_SECRET is set but HTTP_API_AUTH_MODE is none/)]);
    expect(load({ HTTP_API_URL: 'https://u.example.com', HTTP_API_AUTH_MODE: 'hmac', HTTP_API_AUTH_SECRET: 'x', HTTP_API_AUTH_HEADER: 'X-Key' }).warnings).toEqual([
      expect.stringMatching(/^HTTP_API_AUTH_HEADER is only used with HTTP_API_AUTH_MODE=simple/),
    ]);
    expect(load({ ...PRODUCTION, HTTP_API_URL: 'http://users.internal/verify' }).warnings).toEqual([
      expect.stringMatching(/^HTTP_API_URL uses plain http:\/\/ to a non-loopback host/),
      expect.stringMatching(/^HTTP_API_AUTH_MODE=none: /),
    ]);
    expect(load({ ...PRODUCTION, HTTP_API_URL: 'http://127.0.0.1:9000/verify', HTTP_API_AUTH_MODE: 'hmac', HTTP_API_AUTH_SECRET: 'x' }).warnings).toEqual([]);
  });
});
