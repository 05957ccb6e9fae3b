// Typed errors thrown by the core. Each face (REST, HTML, GraphQL) maps them to its own wire format
// in exactly one place; services never know how an error will be rendered.

/** Startup/configuration problem: the process must refuse to start, naming what is wrong. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * An OAuth protocol error named after its RFC error code (RFC 6749 §5.2, RFC 8628 §3.5,
 * RFC 7009, RFC 7591 §3.2.2, RFC 8707 §2). `status` is the HTTP status the token-style
 * endpoints answer with.
 */
export class OAuthError extends Error {
  override name = 'OAuthError';
  constructor(
    readonly error: string,
    readonly description: string,
    readonly status = 400,
  ) {
    // A protocol error is an answer (authorization_pending on every device poll), not a fault: nothing
    // reads its stack, and capturing one was the biggest single cost of a poll.
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(description);
    Error.stackTraceLimit = limit;
  }
}

export class InvalidRequest extends OAuthError {
  constructor(description: string) {
    super('invalid_request', description);
  }
}

/** RFC 6749 §5.2: 401 with WWW-Authenticate when the client tried to authenticate. */
export class InvalidClient extends OAuthError {
  constructor(description = 'client authentication failed') {
    super('invalid_client', description, 401);
  }
}

export class InvalidGrant extends OAuthError {
  constructor(description: string) {
    super('invalid_grant', description);
  }
}

export class UnauthorizedClient extends OAuthError {
  constructor(description: string) {
    super('unauthorized_client', description);
  }
}

export class UnsupportedGrantType extends OAuthError {
  constructor(description: string) {
    super('unsupported_grant_type', description);
  }
}

export class InvalidScope extends OAuthError {
  constructor(description: string) {
    super('invalid_scope', description);
  }
}

export class InvalidTarget extends OAuthError {
  constructor(description: string) {
    super('invalid_target', description);
  }
}

/** RFC 7009 §2.2.1: a token_type_hint this server does not know. */
export class UnsupportedTokenType extends OAuthError {
  constructor(description: string) {
    super('unsupported_token_type', description);
  }
}

/** RFC 7591 §3.2.2: the registration metadata as a whole is unacceptable. */
export class InvalidClientMetadata extends OAuthError {
  constructor(description: string) {
    super('invalid_client_metadata', description);
  }
}

/** RFC 7591 §3.2.2: one or more redirect URIs are unacceptable. */
export class InvalidRedirectUri extends OAuthError {
  constructor(description: string) {
    super('invalid_redirect_uri', description);
  }
}

/** RFC 8628 §3.5 polling answers. */
export class AuthorizationPending extends OAuthError {
  constructor() {
    super('authorization_pending', 'the user has not yet approved the request');
  }
}

export class SlowDown extends OAuthError {
  constructor(readonly interval: number) {
    super('slow_down', `polling too fast; wait at least ${interval} seconds between requests`);
  }
}

export class AccessDenied extends OAuthError {
  constructor(description = 'the user denied the request') {
    super('access_denied', description, 400);
  }
}

export class ExpiredToken extends OAuthError {
  constructor(description = 'the device code has expired') {
    super('expired_token', description);
  }
}

/** RFC 6750 §3.1: the bearer token presented to a resource is not valid. */
export class InvalidToken extends OAuthError {
  constructor(description = 'the access token is invalid, expired or revoked') {
    super('invalid_token', description, 401);
  }
}

/** RFC 6750 §3.1: the token is valid but lacks a scope the resource requires (403). */
export class InsufficientScope extends OAuthError {
  constructor(
    readonly scope: string,
    description: string,
  ) {
    super('insufficient_scope', description, 403);
  }
}

// Non-protocol domain errors (pages and GraphQL).
export class NotFound extends Error {
  override name = 'NotFound';
}
export class Forbidden extends Error {
  override name = 'Forbidden';
}
export class Conflict extends Error {
  override name = 'Conflict';
}
/** The user-facing input is wrong; the message is safe to show. */
export class BadInput extends Error {
  override name = 'BadInput';
  /** The input field the message is about (e.g. `username`), so a form can show it next to that field. */
  constructor(
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

/** Every failed sign-in looks the same, whatever the cause, so usernames cannot be probed. */
export class InvalidCredentials extends Error {
  override name = 'InvalidCredentials';
  constructor() {
    super('Invalid username or password.');
  }
}

/** Too many failed attempts for this account or address: no attempt is evaluated before `retryAfter` seconds. */
export class TooManyAttempts extends Error {
  override name = 'TooManyAttempts';
  constructor(readonly retryAfter: number) {
    super(`too many failed attempts; retry after ${retryAfter} seconds`);
  }
}

/**
 * Something the action depends on is unavailable right now (the database stayed locked through every
 * retry, or Redis is down and policy says refuse rather than go ahead unguarded). Nothing was written;
 * the client may simply try again after `retryAfter` seconds. 503 rather than 500: it is load or an
 * outage, not a bug (RFC 6749 §4.1.2.1 names the code).
 */
export class TemporarilyUnavailable extends OAuthError {
  constructor(
    description = 'the server is busy; retry the request',
    readonly retryAfter = 1,
  ) {
    super('temporarily_unavailable', description, 503);
  }
}

// --- External identity (issue 12) ---

/**
 * The sign-in source an account uses (an HTTP API user service) gave no answer: timed out, kept failing
 * or answered something that is not its documented reply. Nothing was created or changed.
 */
export class SignInSourceUnavailable extends TemporarilyUnavailable {
  constructor() {
    super('The sign-in service is not answering right now. Please try again in a minute.', 30);
  }
}

/** The credentials were accepted by an external source but this server will not sign the person in; the message is safe to show. */
export class SignInRefused extends Error {
  override name = 'SignInRefused';
}
