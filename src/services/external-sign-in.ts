// Signing in through an external identity provider (GitHub, Gitea, GitLab, Entra ID, any OpenID Connect
// provider): which account a provider identity belongs to, linking, creating accounts on first sign-in,
// and the audit of all of it. The face keeps the attempt (state, nonce, PKCE verifier) in the server-side
// session and hands it back here exactly once; provider tokens are used for the profile and never stored.
//
// Which account:
// 1. an OAuthConnection for (provider, provider user id) → its user (refused when disabled);
// 2. a person already signed in → the identity is linked to their account;
// 3. an account whose e-mail is the provider's address, only when the provider says it is verified →
//    linked to that account (an unverified address would let anyone take over the account);
// 4. otherwise a new account (OAUTH_AUTO_REGISTER), authSource = the provider's name.
import type { Metrics } from '../ops/metrics.js';
import { randomBytes } from 'node:crypto';
import type { Db, User } from '../db/client.js';
import { isUniqueViolation } from '../db/errors.js';
import { type Tx, writeTransaction } from '../db/transactions.js';
import { constantTimeEqual, randomToken } from '../domain/crypto.js';
import { NotFound } from '../domain/errors.js';
import { hasControlCharacters } from '../domain/control-characters.js';
import { ProviderError } from '../identity/providers/http.js';
import type { ExternalProfile, IdentityProvider } from '../identity/providers/types.js';
import type { Logger } from '../ops/logger.js';
import type { AuditLog } from './audit.js';
import type { RequestInfo } from './request-context.js';

/** A sign-in attempt between leaving for the provider and coming back, kept in the session. */
export interface PendingExternalSignIn {
  provider: string;
  state: string;
  nonce: string;
  codeVerifier: string;
  /** Local path to return to (already checked by the face). */
  redirect: string;
  startedAt: number;
}

/** The sign-in did not happen; `message` is safe to show, `reason` is what the audit log records. */
export class ExternalSignInRefused extends Error {
  override name = 'ExternalSignInRefused';
  constructor(
    readonly reason: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

export interface ExternalSignInResult {
  user: User;
  created: boolean;
  linked: boolean;
  redirect: string;
}

const ATTEMPT_LIFETIME_MS = 10 * 60_000;
const USERNAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;

export class ExternalSignInService {
  constructor(
    private readonly db: Db,
    private readonly audit: AuditLog,
    private readonly providers: Map<string, IdentityProvider>,
    private readonly opts: { autoRegister: boolean; dialect: 'sqlite' | 'postgresql' },
    private readonly logger?: Logger,
    private readonly metrics?: Pick<Metrics, 'oauthCallback' | 'externalApiTimer' | 'authLogin' | 'sessionsCreated'>,
  ) {}

  /** The enabled providers, for the login page's buttons. */
  list(): { name: string; displayName: string }[] {
    return [...this.providers.values()].map((p) => ({ name: p.config.name, displayName: p.config.displayName }));
  }

  has(name: string): boolean {
    return this.providers.has(name);
  }

  /** Starts an attempt: the provider URL to send the person to and what the session must keep. */
  async begin(name: string, redirect: string, req: RequestInfo): Promise<{ url: string; pending: PendingExternalSignIn }> {
    const provider = this.provider(name);
    const pending: PendingExternalSignIn = {
      provider: name,
      state: randomToken(32),
      nonce: randomToken(32),
      codeVerifier: randomBytes(48).toString('base64url'),
      redirect,
      startedAt: Date.now(),
    };
    try {
      return { url: await provider.authorizationUrl(pending), pending };
    } catch (err) {
      if (err instanceof ProviderError) throw this.providerFailed(name, err, req);
      throw err;
    }
  }

  /**
   * Finishes an attempt. `pending` is what the session held (the face has already removed it, so a
   * replayed callback finds nothing); `currentUserId` is the person signed in, if any (their account
   * gets the link). Throws NotFound (unknown provider) or ExternalSignInRefused; nothing is created then.
   */
  async complete(
    name: string,
    params: { code?: string; state?: string; error?: string },
    pending: PendingExternalSignIn | undefined,
    currentUserId: string | undefined,
    req: RequestInfo,
  ): Promise<ExternalSignInResult> {
    const provider = this.provider(name);
    if (!pending || pending.provider !== name) {
      throw this.refuse(name, 'no_pending_attempt', 'This sign-in was not started here, has already been used, or your session ended. Please start again.', req);
    }
    if (!params.state || !constantTimeEqual(params.state, pending.state)) {
      throw this.refuse(name, 'state_mismatch', 'This sign-in answer does not belong to your sign-in attempt. Please start again.', req);
    }
    if (Date.now() - pending.startedAt > ATTEMPT_LIFETIME_MS) throw this.refuse(name, 'attempt_expired', 'This sign-in took too long. Please start again.', req);
    if (params.error) {
      const code = /^[A-Za-z0-9_.-]{1,64}$/.test(params.error) ? params.error : 'unknown';
      const message = code === 'access_denied' ? `You did not allow signing in with ${provider.config.displayName}.` : `${provider.config.displayName} refused the sign-in (${code}).`;
      throw this.refuse(name, `provider_error_${code}`, message, req, undefined, 403);
    }
    if (!params.code) throw this.refuse(name, 'missing_code', `${provider.config.displayName} sent no authorization code. Please start again.`, req);
    let profile: ExternalProfile;
    const timed = this.metrics?.externalApiTimer(name);
    try {
      profile = cleanProfile(await provider.finish(params.code, pending));
    } catch (err) {
      if (err instanceof ProviderError) throw this.providerFailed(name, err, req);
      throw err;
    } finally {
      timed?.();
    }
    let outcome: { user: User; created: boolean; linked: boolean; linkReason?: string };
    try {
      outcome = await this.resolve(name, profile, currentUserId, req);
    } catch (err) {
      // Two callbacks of the same identity at once: the other one created the link or account first.
      if (!isUniqueViolation(err)) throw err;
      outcome = await this.resolve(name, profile, currentUserId, req);
    }
    const { user } = outcome;
    this.audit.record({
      eventType: 'AUTHENTICATION_SUCCESS',
      actor: { userId: user.id, username: user.username },
      request: req,
      details: { method: 'external', provider: name, provider_user_id: profile.providerUserId, created: outcome.created, linked: outcome.linked },
    });
    this.metrics?.oauthCallback(name, 'success');
    this.metrics?.authLogin.inc({ auth_source: 'oauth', result: 'success' });
    // The face starts the signed-in session with this user, as after a password sign-in.
    this.metrics?.sessionsCreated.inc();
    return { user, created: outcome.created, linked: outcome.linked, redirect: pending.redirect };
  }

  private async resolve(name: string, profile: ExternalProfile, currentUserId: string | undefined, req: RequestInfo) {
    const displayName = this.provider(name).config.displayName;
    const now = new Date();
    const connectionData = { email: profile.email ?? null, displayName: (profile.username ?? profile.displayName ?? null)?.slice(0, 200) ?? null, lastUsedAt: now };
    const result = await writeTransaction(this.db, this.opts.dialect, async (tx) => {
      const existing = await tx.oAuthConnection.findUnique({ where: { provider_providerUserId: { provider: name, providerUserId: profile.providerUserId } }, include: { user: true } });
      if (currentUserId) {
        const current = await tx.user.findUnique({ where: { id: currentUserId } });
        if (!current?.active) return { refused: ['user_disabled', 'This account is disabled.', 403] as const };
        if (existing && existing.userId !== current.id) {
          return { refused: ['linked_to_another_user', `This ${displayName} account is already linked to another account here.`, 409] as const, user: current };
        }
        if (existing) {
          await tx.oAuthConnection.update({ where: { id: existing.id }, data: connectionData });
          return { user: await touch(tx, current.id, now), created: false, linked: false };
        }
        const other = await tx.oAuthConnection.findUnique({ where: { userId_provider: { userId: current.id, provider: name } } });
        if (other?.providerUserId === profile.providerUserId) {
          await tx.oAuthConnection.update({ where: { id: other.id }, data: connectionData });
          return { user: await touch(tx, current.id, now), created: false, linked: false };
        }
        if (other) return { refused: ['provider_already_linked', `Your account is already linked to another ${displayName} account; an administrator can unlink it.`, 409] as const, user: current };
        await this.link(tx, current, name, profile, connectionData, 'signed_in', req);
        return { user: await touch(tx, current.id, now), created: false, linked: true };
      }
      if (existing) {
        if (!existing.user.active) return { refused: ['user_disabled', 'This account is disabled. Ask an administrator.', 403] as const, user: existing.user };
        await tx.oAuthConnection.update({ where: { id: existing.id }, data: connectionData });
        return { user: await touch(tx, existing.userId, now), created: false, linked: false };
      }
      const sameEmail = profile.email ? await findByEmail(tx, profile.email) : null;
      if (sameEmail) {
        if (!profile.emailVerified) {
          return {
            refused: [
              'email_unverified',
              `An account with this e-mail address exists here, but ${displayName} does not say the address is verified, so it was not linked. Verify the address at ${displayName}, or sign in with your password first and then sign in with ${displayName} to link it.`,
              409,
            ] as const,
            user: sameEmail,
          };
        }
        if (!sameEmail.active) return { refused: ['user_disabled', 'This account is disabled. Ask an administrator.', 403] as const, user: sameEmail };
        const other = await tx.oAuthConnection.findUnique({ where: { userId_provider: { userId: sameEmail.id, provider: name } } });
        // Linked a moment ago by a concurrent sign-in of the same identity (read committed saw it only now).
        if (other?.providerUserId === profile.providerUserId) {
          await tx.oAuthConnection.update({ where: { id: other.id }, data: connectionData });
          return { user: await touch(tx, sameEmail.id, now), created: false, linked: false };
        }
        if (other) return { refused: ['provider_already_linked', `The account with this e-mail address is already linked to another ${displayName} account.`, 409] as const, user: sameEmail };
        await this.link(tx, sameEmail, name, profile, connectionData, 'verified_email', req);
        return { user: await touch(tx, sameEmail.id, now), created: false, linked: true };
      }
      if (!this.opts.autoRegister) {
        return { refused: ['auto_register_disabled', `No account here is linked to this ${displayName} account, and accounts are not created automatically. Ask an administrator to create your account.`, 403] as const };
      }
      const username = await freeUsername(tx, profile);
      const user = await tx.user.create({
        data: {
          username,
          email: profile.emailVerified ? profile.email! : null,
          emailVerified: profile.emailVerified,
          fullName: (profile.displayName ?? '').slice(0, 200),
          passwordHash: null,
          authSource: name,
          lastLoginAt: now,
        },
      });
      await this.audit.recordIn(tx, {
        eventType: 'USER_AUTO_REGISTERED',
        actor: { userId: user.id, username: user.username },
        subject: { type: 'user', id: user.id },
        request: req,
        details: { username, provider: name, provider_user_id: profile.providerUserId, email: user.email },
      });
      await tx.oAuthConnection.create({ data: { userId: user.id, provider: name, providerUserId: profile.providerUserId, ...connectionData } });
      return { user, created: true, linked: false };
    });
    if ('refused' in result && result.refused) {
      const [reason, message, status] = result.refused;
      throw this.refuse(name, reason, message, req, { profile, user: result.user }, status);
    }
    return result as { user: User; created: boolean; linked: boolean };
  }

  private async link(tx: Tx, user: User, name: string, profile: ExternalProfile, data: { email: string | null; displayName: string | null; lastUsedAt: Date }, reason: string, req: RequestInfo) {
    const connection = await tx.oAuthConnection.create({ data: { userId: user.id, provider: name, providerUserId: profile.providerUserId, ...data } });
    await this.audit.recordIn(tx, {
      eventType: 'CONNECTION_LINKED',
      actor: { userId: user.id, username: user.username },
      subject: { type: 'user', id: user.id },
      request: req,
      details: { username: user.username, provider: name, provider_user_id: profile.providerUserId, connection_id: connection.id, reason },
    });
  }

  private provider(name: string): IdentityProvider {
    const provider = this.providers.get(name);
    if (!provider) throw new NotFound('There is no sign-in provider with this name.');
    return provider;
  }

  /** The provider failed or answered something unusable: logged with its status (never a credential), audited, refused. */
  private providerFailed(name: string, err: ProviderError, req: RequestInfo): ExternalSignInRefused {
    this.logger?.warn('identity provider request failed', { provider: name, reason: err.reason, status: err.status });
    return this.refuse(name, err.reason, err.message, req, undefined, 502);
  }

  private refuse(
    name: string,
    reason: string,
    message: string,
    req: RequestInfo,
    who?: { profile?: ExternalProfile; user?: User },
    status = 400,
  ): ExternalSignInRefused {
    this.audit.record({
      eventType: 'AUTHENTICATION_FAILURE',
      severity: 'WARNING',
      success: false,
      actor: { userId: who?.user?.id, username: who?.user?.username },
      request: req,
      details: { method: 'external', provider: name, reason, provider_user_id: who?.profile?.providerUserId },
    });
    this.metrics?.oauthCallback(name, 'error');
    this.metrics?.authLogin.inc({ auth_source: 'oauth', result: 'failure' });
    return new ExternalSignInRefused(reason, message, status);
  }
}

/**
 * What a provider said, made safe to store and show: no control characters (PostgreSQL refuses NUL;
 * in names they hide what a person reads), bounded lengths, an address only when it looks like one.
 */
function cleanProfile(profile: ExternalProfile): ExternalProfile {
  const text = (value: string | undefined, max: number) => {
    const cleaned = value?.replace(/[\u0000-\u001f\u007f]/g, '').trim().slice(0, max);
    return cleaned ? cleaned : undefined;
  };
  const email = profile.email?.trim();
  const emailOk = email !== undefined && email.length <= 254 && /^[^\s@\u0000-\u001f\u007f]+@[^\s@\u0000-\u001f\u007f]+$/.test(email);
  if (!profile.providerUserId || hasControlCharacters(profile.providerUserId) || profile.providerUserId.length > 255) {
    throw new ProviderError('user_id_malformed', 'The identity provider sent an answer this server could not read.');
  }
  return {
    providerUserId: profile.providerUserId,
    username: text(profile.username, 64),
    displayName: text(profile.displayName, 200),
    email: emailOk ? email : undefined,
    emailVerified: emailOk && profile.emailVerified,
  };
}

async function touch(tx: Tx, userId: string, now: Date): Promise<User> {
  return tx.user.update({ where: { id: userId }, data: { lastLoginAt: now } });
}

async function findByEmail(tx: Tx, email: string): Promise<User | null> {
  const exact = await tx.user.findUnique({ where: { email } });
  if (exact) return exact;
  const lower = email.toLowerCase();
  return lower === email ? null : tx.user.findUnique({ where: { email: lower } });
}

/** The provider's username when free, else with a number after it; something valid whatever the provider sent. */
async function freeUsername(tx: Tx, profile: ExternalProfile): Promise<string> {
  const cleaned = (profile.username ?? profile.email?.split('@')[0] ?? '').replace(/[^A-Za-z0-9._@-]/g, '').replace(/^[^A-Za-z0-9]+/, '').slice(0, 56);
  const base = USERNAME.test(cleaned) ? cleaned : `user-${profile.providerUserId.replace(/[^A-Za-z0-9]/g, '').slice(0, 16) || randomToken(4)}`;
  for (let i = 1; i <= 20; i++) {
    const candidate = i === 1 ? base : `${base}-${i}`;
    if (!(await tx.user.findUnique({ where: { username: candidate } }))) return candidate;
  }
  return `${base.slice(0, 48)}-${randomToken(6).replace(/[^A-Za-z0-9]/g, '').slice(0, 8)}`;
}
