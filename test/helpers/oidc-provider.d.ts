// The little of node-oidc-provider's API the tests use (the package ships no type declarations).
declare module 'oidc-provider' {
  import type { Server } from 'node:http';
  export interface Account {
    accountId: string;
    claims(use: string, scope: string): Promise<Record<string, unknown>>;
  }
  export default class Provider {
    constructor(issuer: string, configuration: Record<string, unknown> & { findAccount?: (ctx: unknown, id: string) => Promise<Account | undefined> });
    listen(port: number, host?: string): Server;
  }
}
