// Whose request budget a protocol request spends (TOKEN_RATE_LIMIT, INTROSPECT_RATE_LIMIT,
// DEVICE_CODE_RATE_LIMIT): one busy client must neither be throttled by its neighbours nor starve
// them, so clients get budgets of their own instead of sharing their address's.
//
// A budget keyed by a client_id the request merely claims could be spent by anyone who knows the
// client_id (they are not secret): an attacker sending a victim's client_id would exhaust the
// victim's budget from anywhere. So the claim is checked before it chooses the key, cheaply, and the
// key follows what the check proved:
// - a confidential client whose secret is right → its own budget (`client:<id>`), wherever it calls
//   from; only holders of the secret can spend it;
// - an active public client → `client:<id>` per address: a public client_id proves nothing, so a
//   claimant only ever spends the share of its own address (the CLI users behind one NAT share it,
//   two different public clients there do not);
// - anything else (no credentials, an unknown or inactive client, a wrong secret) → the address, so
//   inventing client_ids buys no fresh budgets and guessing secrets is limited per address.
// The check is one lookup by the client_id's unique index and a SHA-256 of the presented secret (no
// audit event: the endpoint authenticates for real next and audits a failure once). The credentials
// are read as the endpoint reads them; a request whose credentials cannot be read spends its address's budget
// and then gets the endpoint's own error.
import type { Context } from 'koa';
import { limitAddress } from '../domain/addresses.js';
import type { Params } from '../http/body.js';
import { addressKey, type LimitKey } from '../http/rate-limit.js';
import type { ClientService } from '../services/clients.js';
import { readClientCredentials } from './client-auth.js';

export function clientLimitKey(clients: Pick<ClientService, 'identify'>) {
  return async function limitKey(ctx: Context): Promise<LimitKey> {
    let creds;
    try {
      creds = readClientCredentials(ctx, ctx.state.body as Params);
    } catch {
      return addressKey(ctx);
    }
    const proven = await clients.identify(creds);
    if (proven === 'authenticated') return { key: `client:${creds.clientId}`, kind: 'client', clientId: creds.clientId };
    if (proven === 'claimed') return { key: `client:${creds.clientId}:addr:${limitAddress(ctx.ip)}`, kind: 'client_address', clientId: creds.clientId };
    return addressKey(ctx);
  };
}
