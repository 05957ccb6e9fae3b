// Admin pages for OAuth clients, at AuthGate's paths: the list (self-registered clients waiting for
// approval first), create and edit with every setting, rotate the secret, approve or reject, revoke all
// tokens, delete, and the users who authorized a client. Everything goes through the GraphQL API.
import type Router from '@koa/router';
import type { Context } from 'koa';
import { BadInput, NotFound } from '../../domain/errors.js';
import { describeScopes, KNOWN_SCOPES } from '../../domain/scope-descriptions.js';
import {
  AdminApproveClientDocument,
  AdminClientAuthorizationsDocument,
  AdminClientDocument,
  AdminClientListDocument,
  AdminClientRevokeAuthorizationDocument,
  AdminCreateClientDocument,
  AdminDeleteClientDocument,
  AdminRejectClientDocument,
  AdminRevokeAllClientTokensDocument,
  AdminRotateClientSecretDocument,
  AdminUpdateClientDocument,
  type ApprovalStatus,
  type ClientFilter,
  type ClientType,
  type CreateClientInput,
  type TokenProfile,
} from '../generated/graphql.js';
import {
  act,
  adminOnly,
  checked,
  csrfProtect,
  fieldErrors,
  flash,
  form,
  globalId,
  list,
  OperationFailed,
  paging,
  rawId,
  showOnce,
  text,
  withoutPaging,
  type FieldErrors,
  type PageDeps,
} from './kit.js';

const PAGE_SIZE = 20;
const BASE = '/admin/clients';

// Forms post the API's enum values; list filters in the query string are lower case (?type=public).
const TYPES: Record<string, ClientType> = { confidential: 'CONFIDENTIAL', public: 'PUBLIC' };
const STATUSES: Record<string, ApprovalStatus> = { pending: 'PENDING', approved: 'APPROVED', rejected: 'REJECTED' };
const ACTIVE: Record<string, boolean> = { yes: true, no: false };

const TYPE_OPTIONS: { value: ClientType; label: string }[] = [
  { value: 'CONFIDENTIAL', label: 'Confidential (keeps a secret)' },
  { value: 'PUBLIC', label: 'Public (PKCE, no secret)' },
];
const PROFILE_OPTIONS: { value: TokenProfile; label: string }[] = [
  { value: 'SHORT', label: 'Short-lived tokens' },
  { value: 'STANDARD', label: 'Standard (server defaults)' },
  { value: 'LONG', label: 'Long-lived tokens' },
];

/** What the create and edit forms show: the stored settings, or what the person typed. */
interface FormValues {
  name: string;
  description: string;
  clientType: string;
  redirectUris: string;
  allowedScopes: string[];
  enableDeviceFlow: boolean;
  enableAuthCodeFlow: boolean;
  enableClientCredentials: boolean;
  tokenProfile: string;
  active: boolean;
  isServiceAccount: boolean;
}

const NEW_CLIENT: FormValues = {
  name: '',
  description: '',
  clientType: 'CONFIDENTIAL',
  redirectUris: '',
  allowedScopes: ['openid', 'profile', 'email'],
  // No flow until the admin picks one: the code flow would also need a redirect URI.
  enableDeviceFlow: false,
  enableAuthCodeFlow: false,
  enableClientCredentials: false,
  tokenProfile: 'STANDARD',
  active: true,
  isServiceAccount: false,
};

export function adminClientPages(router: Router, deps: PageDeps): void {
  const { gql, render } = deps;

  router.get(BASE, adminOnly, async (ctx) => {
    const filters = listFilters(ctx);
    const { status, ...others } = filters.api;
    // With no status chosen, pending registrations get their own section above the rest (on the
    // first page), and the paged list holds the others.
    const apart = status === undefined;
    const page = paging(ctx, PAGE_SIZE);
    const filter: ClientFilter = { ...others, ...(apart ? { statuses: ['APPROVED', 'REJECTED'] } : { status }) };
    const data = await gql.run(ctx, AdminClientListDocument, {
      ...page,
      filter,
      pendingFilter: { ...others, status: 'PENDING' },
      withPending: apart && !page.after && !page.before,
    });
    render(ctx, 'admin/clients-list.njk', {
      title: 'Clients',
      pending: data.pending ? { ...data.pending, edges: withRawIds(data.pending.edges) } : null,
      clients: { ...data.clients, edges: withRawIds(data.clients.edges) },
      filters: filters.form,
      base: withoutPaging(ctx),
      here: ctx.originalUrl,
      apart,
      showingPending: status === 'PENDING',
    });
  });

  router.get(`${BASE}/new`, adminOnly, async (ctx) => {
    renderForm(ctx, 'new', NEW_CLIENT, {});
  });

  router.post(BASE, adminOnly, csrfProtect, async (ctx) => {
    const values = readForm(ctx);
    try {
      const input = toInput(values);
      const { createClient } = await gql.run(ctx, AdminCreateClientDocument, { input });
      const { client, clientSecret } = createClient;
      flash(ctx, `Client “${client.name}” created.`);
      if (clientSecret) {
        showOnce(ctx, [
          { label: 'Client secret', value: clientSecret },
          { label: 'Client ID', value: client.clientId, note: 'Not a secret: it is also shown on this page.' },
        ]);
      }
      ctx.redirect(`${BASE}/${rawId(client.id)}`);
    } catch (err) {
      renderForm(ctx, 'new', values, fieldErrors(err), 400);
    }
  });

  router.get(`${BASE}/:id`, adminOnly, async (ctx) => {
    const client = await loadClient(ctx);
    render(ctx, 'admin/clients-detail.njk', {
      title: client.name,
      client,
      rawId: rawId(client.id),
      scopes: describeScopes(client.allowedScopes),
      createdById: client.createdBy ? rawId(client.createdBy.id) : null,
    });
  });

  router.get(`${BASE}/:id/edit`, adminOnly, async (ctx) => {
    const client = await loadClient(ctx);
    renderForm(ctx, 'edit', valuesOf(client), {}, 200, client);
  });

  router.post(`${BASE}/:id/update`, adminOnly, csrfProtect, async (ctx) => {
    const id = clientId(ctx);
    const values = readForm(ctx);
    try {
      const { updateClient } = await gql.run(ctx, AdminUpdateClientDocument, { id, input: toInput(values) });
      flash(ctx, `Client “${updateClient.client.name}” saved.`);
      if (updateClient.clientSecret) {
        showOnce(ctx, [{ label: 'Client secret', value: updateClient.clientSecret, note: 'The client is now confidential. Copy its secret now: it is stored hashed and will not be shown again.' }]);
      }
      ctx.redirect(`${BASE}/${rawId(id)}`);
    } catch (err) {
      const errors = fieldErrors(err);
      const client = await loadClient(ctx);
      renderForm(ctx, 'edit', values, errors, 400, client);
    }
  });

  router.post(`${BASE}/:id/rotate-secret`, adminOnly, csrfProtect, async (ctx) => {
    const id = clientId(ctx);
    await act(ctx, `${BASE}/${rawId(id)}`, async () => {
      const { rotateClientSecret } = await gql.run(ctx, AdminRotateClientSecretDocument, { id });
      showOnce(ctx, [{ label: 'New client secret', value: rotateClientSecret.clientSecret ?? '', note: 'The old secret no longer works. Copy this one now: it will not be shown again.' }]);
      return `New secret for “${rotateClientSecret.client.name}”.`;
    });
  });

  router.post(`${BASE}/:id/approve`, adminOnly, csrfProtect, async (ctx) => {
    const id = clientId(ctx);
    await act(ctx, `${BASE}/${rawId(id)}`, async () => {
      const { approveClient } = await gql.run(ctx, AdminApproveClientDocument, { id });
      return `“${approveClient.client.name}” approved: it can now obtain tokens.`;
    });
  });

  router.post(`${BASE}/:id/reject`, adminOnly, csrfProtect, async (ctx) => {
    const id = clientId(ctx);
    await act(ctx, `${BASE}/${rawId(id)}`, async () => {
      const { rejectClient } = await gql.run(ctx, AdminRejectClientDocument, { id });
      return `“${rejectClient.client.name}” rejected.`;
    });
  });

  router.post(`${BASE}/:id/revoke-all`, adminOnly, csrfProtect, async (ctx) => {
    const id = clientId(ctx);
    await act(ctx, `${BASE}/${rawId(id)}`, async () => {
      const { revokeAllClientTokens: r } = await gql.run(ctx, AdminRevokeAllClientTokensDocument, { id });
      return `Revoked ${plural(r.tokensRevoked, 'token')} and ${plural(r.authorizationsRevoked, 'authorization')} of “${r.client.name}”; its users must authorize it again.`;
    });
  });

  router.get(`${BASE}/:id/delete`, adminOnly, async (ctx) => {
    const client = await loadClient(ctx);
    render(ctx, 'admin/clients-delete.njk', { title: `Delete ${client.name}`, client, rawId: rawId(client.id) });
  });

  router.post(`${BASE}/:id/delete`, adminOnly, csrfProtect, async (ctx) => {
    const id = clientId(ctx);
    const client = await loadClient(ctx);
    await gql.run(ctx, AdminDeleteClientDocument, { id });
    flash(ctx, `Client “${client.name}” deleted, with its tokens and authorizations.`);
    ctx.redirect(BASE);
  });

  router.get(`${BASE}/:id/authorizations`, adminOnly, async (ctx) => {
    const id = clientId(ctx);
    const { client } = await gql.run(ctx, AdminClientAuthorizationsDocument, { id, ...paging(ctx, PAGE_SIZE) });
    if (!client) throw new NotFound('There is no client with this id.');
    render(ctx, 'admin/clients-authorizations.njk', {
      title: `Users who authorized ${client.name}`,
      client,
      rawId: rawId(client.id),
      authorizations: client.authorizations.edges.map(({ node }) => ({ ...node, rawId: rawId(node.id), userRawId: rawId(node.user.id) })),
      connection: client.authorizations,
      base: withoutPaging(ctx),
      here: ctx.originalUrl,
    });
  });

  router.post(`${BASE}/:id/authorizations/:authorizationId/revoke`, adminOnly, csrfProtect, async (ctx) => {
    const id = clientId(ctx);
    const authorization = globalId('Authorization', checkedRawId(ctx.params.authorizationId));
    await act(ctx, `${BASE}/${rawId(id)}/authorizations`, async () => {
      const { revokeAuthorization: r } = await gql.run(ctx, AdminClientRevokeAuthorizationDocument, { id: authorization });
      return `Authorization of ${r.authorization.user.username} revoked (${plural(r.tokensRevoked, 'token')} ended).`;
    });
  });

  async function loadClient(ctx: Context) {
    const { client } = await gql.run(ctx, AdminClientDocument, { id: clientId(ctx) });
    if (!client) throw new NotFound('There is no client with this id.');
    return client;
  }

  function renderForm(ctx: Context, mode: 'new' | 'edit', values: FormValues, errors: FieldErrors, status = 200, client?: { id: string; name: string; clientId: string }) {
    render(
      ctx,
      'admin/clients-form.njk',
      {
        title: mode === 'new' ? 'New client' : `Edit ${client!.name}`,
        mode,
        values,
        errors,
        client,
        rawId: client ? rawId(client.id) : null,
        action: mode === 'new' ? BASE : `${BASE}/${rawId(client!.id)}/update`,
        typeOptions: TYPE_OPTIONS,
        profileOptions: PROFILE_OPTIONS,
        scopeOptions: describeScopes([...KNOWN_SCOPES]),
      },
      status,
    );
  }
}

/** URLs carry the client's database id (a UUID); anything else cannot be a client. */
function checkedRawId(id: string | undefined): string {
  if (!id || !/^[A-Za-z0-9-]{1,64}$/.test(id)) throw new NotFound('There is no such client or authorization.');
  return id;
}

function clientId(ctx: Context): string {
  return globalId('Client', checkedRawId(ctx.params.id));
}

/** The list's filters from the query string: what the API gets and what the form shows again. */
function listFilters(ctx: Context): { api: ClientFilter; form: Record<string, string> } {
  const read = (name: string): string => {
    const value = ctx.query[name];
    if (Array.isArray(value)) throw new BadInput(`The filter "${name}" was given twice.`);
    return (value ?? '').trim();
  };
  const choose = <T>(name: string, choices: Record<string, T>): T | undefined => {
    const value = read(name).toLowerCase();
    if (value === '') return undefined;
    if (!(value in choices)) throw new BadInput(`"${value}" is not a valid ${name} filter (choose ${Object.keys(choices).join(', ')}).`);
    return choices[value];
  };
  const search = read('q');
  if (search.length > 200) throw new BadInput('The search text is at most 200 characters.');
  const api: ClientFilter = {};
  if (search) api.search = search;
  const type = choose('type', TYPES);
  if (type) api.type = type;
  const status = choose('status', STATUSES);
  if (status) api.status = status;
  const active = choose('active', ACTIVE);
  if (active !== undefined) api.active = active;
  return { api, form: { q: search, type: read('type'), status: read('status'), active: read('active') } };
}

function readForm(ctx: Context): FormValues {
  const body = form(ctx);
  return {
    name: text(body, 'name'),
    description: text(body, 'description'),
    clientType: text(body, 'clientType').toUpperCase(),
    redirectUris: list(body, 'redirectUris', /\s+/).join(' '),
    // Checkboxes repeat the name; a script may send them space-separated instead.
    allowedScopes: body.all('allowedScopes').flatMap((v) => v.split(/[\s,]+/)).filter(Boolean),
    enableDeviceFlow: checked(body, 'enableDeviceFlow'),
    enableAuthCodeFlow: checked(body, 'enableAuthCodeFlow'),
    enableClientCredentials: checked(body, 'enableClientCredentials'),
    tokenProfile: text(body, 'tokenProfile').toUpperCase(),
    active: checked(body, 'active'),
    isServiceAccount: checked(body, 'isServiceAccount'),
  };
}

/** The form's values as API input; a value no option offers is the person's to fix, next to its field. */
function toInput(values: FormValues): CreateClientInput {
  const clientType = TYPE_OPTIONS.find((o) => o.value === values.clientType)?.value;
  if (!clientType) throw new OperationFailed('Choose confidential or public.', 'BAD_USER_INPUT', 'clientType');
  const tokenProfile = PROFILE_OPTIONS.find((o) => o.value === values.tokenProfile)?.value;
  if (!tokenProfile) throw new OperationFailed('Choose a token profile.', 'BAD_USER_INPUT', 'tokenProfile');
  return {
    name: values.name,
    description: values.description,
    clientType,
    redirectUris: values.redirectUris ? values.redirectUris.split(' ') : [],
    allowedScopes: values.allowedScopes,
    enableDeviceFlow: values.enableDeviceFlow,
    enableAuthCodeFlow: values.enableAuthCodeFlow,
    enableClientCredentials: values.enableClientCredentials,
    tokenProfile,
    active: values.active,
    isServiceAccount: values.isServiceAccount,
  };
}

function valuesOf(client: {
  name: string;
  description: string;
  clientType: ClientType;
  redirectUris: string[];
  allowedScopes: string[];
  enableDeviceFlow: boolean;
  enableAuthCodeFlow: boolean;
  enableClientCredentials: boolean;
  tokenProfile: TokenProfile;
  active: boolean;
  isServiceAccount: boolean;
}): FormValues {
  return { ...client, redirectUris: client.redirectUris.join(' ') };
}

/** Rows link to pages by database id, as URLs do. */
function withRawIds<N extends { id: string }>(edges: { node: N }[]): { node: N & { rawId: string } }[] {
  return edges.map(({ node }) => ({ node: { ...node, rawId: rawId(node.id) } }));
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
