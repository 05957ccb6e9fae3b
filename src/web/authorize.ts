// GET/POST /oauth/authorize: the browser side of the Authorization Code flow (RFC 6749 §4.1.1–4.1.2).
// It lives in the HTML face because people see it: sign-in, the consent page, error pages. The rules
// are in services/authorization-codes.ts (validation, codes) and services/authorization-flow.ts (sign-in,
// prompt and consent decisions); this file only renders their outcomes.
import type Router from '@koa/router';
import type { Context } from 'koa';
import type { Config } from '../config/env.js';
import { OAuthError } from '../domain/errors.js';
import { describeScopes } from '../domain/scope-descriptions.js';
import { queryParams, type Params } from '../http/body.js';
import { requestInfo } from '../http/request-info.js';
import { readResources } from '../oauth/resources.js';
import { UntrustedAuthorizationRequest, type AuthorizationRequest, type AuthorizationRequestInput } from '../services/authorization-codes.js';
import type { Services } from '../services/index.js';
import { csrfProtect } from './csrf.js';
import type { Renderer } from './render.js';
import { contentSecurityPolicy } from '../http/security-headers.js';

const REQUEST_PARAMS = ['client_id', 'redirect_uri', 'response_type', 'scope', 'state', 'code_challenge', 'code_challenge_method', 'nonce', 'prompt'] as const;

export function authorizeRoutes(router: Router, deps: { services: Pick<Services, 'authorizationCodes' | 'authorizationFlow'>; render: Renderer; config: Config }): void {
  const { services, render, config } = deps;

  async function authorize(ctx: Context): Promise<void> {
    const params: Params = ctx.method === 'GET' ? queryParams(ctx) : ctx.state.body!;
    const input = readInput(params);

    let base: { client: AuthorizationRequest['client']; redirectUri: string };
    try {
      base = await services.authorizationCodes.resolveClientAndRedirect(input);
    } catch (err) {
      if (!(err instanceof UntrustedAuthorizationRequest)) throw err;
      return render(ctx, 'error.njk', { title: 'Invalid authorization request', message: err.message }, 400);
    }

    let request: AuthorizationRequest;
    try {
      request = services.authorizationCodes.validate(base, input, readResources(params));
    } catch (err) {
      if (err instanceof OAuthError) return redirectBack(ctx, base.redirectUri, input.state, { error: err.error, error_description: err.description });
      throw err;
    }

    const user = ctx.state.user;
    const viewer = user ? { user, authTime: typeof ctx.session?.authTime === 'number' ? new Date(ctx.session.authTime) : new Date() } : null;
    // The consent page posts its answer; anything but "approve" is a refusal.
    const answer = ctx.method === 'POST' ? (params.get('decision') === 'approve' ? 'approve' : 'deny') : undefined;
    const outcome = await services.authorizationFlow.proceed(request, viewer, answer, requestInfo(ctx));
    switch (outcome.kind) {
      case 'sign_in':
        return ctx.redirect(`/login?redirect=${encodeURIComponent(`/oauth/authorize?${toQuery(input)}`)}`);
      case 'reauthenticate':
        // The session's sign-in is dropped and the request continues after the new sign-in without
        // `prompt`, so it does not ask again forever.
        delete ctx.session!.userId;
        return ctx.redirect(`/login?redirect=${encodeURIComponent(`/oauth/authorize?${toQuery({ ...input, prompt: undefined })}`)}`);
      case 'ask_consent':
        // The approve button's POST ends in a redirect to the client; browsers apply form-action to it.
        ctx.set('Content-Security-Policy', contentSecurityPolicy([new URL(request.redirectUri).origin]));
        return render(ctx, 'consent.njk', {
          clientName: request.client.name,
          clientDescription: request.client.description,
          redirectHost: new URL(request.redirectUri).host,
          scopes: describeScopes(request.scopes),
          resources: request.resources,
          fields: hiddenFields(input),
        });
      case 'respond':
        return redirectBack(ctx, request.redirectUri, request.state, outcome.params);
    }
  }

  /** RFC 6749 §4.1.2 / §4.1.2.1 responses, with `iss` (RFC 9207) so clients can detect mix-up attacks. */
  function redirectBack(ctx: Context, redirectUri: string, state: string | undefined, result: Record<string, string>): void {
    const url = new URL(redirectUri);
    for (const [k, v] of Object.entries(result)) url.searchParams.set(k, v);
    if (state !== undefined) url.searchParams.set('state', state);
    url.searchParams.set('iss', config.baseUrl);
    ctx.set('Cache-Control', 'no-store');
    ctx.redirect(url.toString());
  }

  router.get('/oauth/authorize', authorize);
  router.post('/oauth/authorize', csrfProtect, authorize);
}

function readInput(params: Params): AuthorizationRequestInput {
  const input: AuthorizationRequestInput = { resource: params.all('resource') };
  for (const name of REQUEST_PARAMS) input[name] = params.optional(name);
  return input;
}

function hiddenFields(input: AuthorizationRequestInput): { name: string; value: string }[] {
  const fields: { name: string; value: string }[] = [];
  for (const name of REQUEST_PARAMS) {
    const value = input[name];
    if (value !== undefined && name !== 'prompt') fields.push({ name, value });
  }
  for (const value of input.resource) fields.push({ name: 'resource', value });
  return fields;
}

function toQuery(input: AuthorizationRequestInput): string {
  const query = new URLSearchParams();
  for (const name of REQUEST_PARAMS) if (input[name] !== undefined) query.set(name, input[name]!);
  for (const value of input.resource) query.append('resource', value);
  return query.toString();
}
