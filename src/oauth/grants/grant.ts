import type { OAuthClient } from '../../db/client.js';
import type { Params } from '../../http/body.js';
import type { Services } from '../../services/index.js';
import type { RequestInfo } from '../../services/request-context.js';
import type { TokenSet } from '../../services/tokens.js';

/** The services a grant may call: the token endpoint hands each grant these, not the whole core. */
export type GrantServices = Pick<Services, 'authorizationCodes' | 'clientCredentials' | 'deviceCodes' | 'tokens'>;

/** One grant type of the token endpoint (RFC 6749 §4/§6, RFC 8628 §3.4). Adding a grant is adding a file. */
export interface GrantHandler {
  readonly grantType: string;
  /** The parameters this grant reads; each must appear at most once. */
  readonly parameters: readonly string[];
  handle(input: { client: OAuthClient; params: Params; services: GrantServices; req: RequestInfo }): Promise<TokenSet>;
}
