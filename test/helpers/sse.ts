// Reads a GraphQL subscription over Server-Sent Events (Yoga's transport) over real HTTP, collecting
// each `next` payload as it arrives, so a test can wait for the events it expects.
import { print, type DocumentNode } from 'graphql';

export interface SseSubscription<T> {
  status: number;
  /** Every payload received so far, in order. */
  received: { data?: T; errors?: { message: string; extensions?: Record<string, unknown> }[] }[];
  /** Resolves with the first payload matching `match`, or rejects after `timeoutMs`. */
  waitFor(match: (data: T) => boolean, timeoutMs?: number): Promise<T>;
  /** Resolves when the server ends the stream. */
  ended: Promise<void>;
  close(): void;
}

export async function subscribe<T>(
  url: string,
  document: DocumentNode,
  variables: Record<string, unknown>,
  headers: Record<string, string>,
): Promise<SseSubscription<T>> {
  const abort = new AbortController();
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...headers },
    body: JSON.stringify({ query: print(document), variables }),
    signal: abort.signal,
  });
  const received: SseSubscription<T>['received'] = [];
  const waiters = new Set<() => void>();
  let ended: Promise<void> = Promise.resolve();
  if (res.ok && res.body) {
    ended = (async () => {
      const decoder = new TextDecoder();
      let buffer = '';
      try {
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          buffer += decoder.decode(chunk, { stream: true });
          for (let end = buffer.indexOf('\n\n'); end !== -1; end = buffer.indexOf('\n\n')) {
            const message = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const data = message
              .split('\n')
              .filter((line) => line.startsWith('data:'))
              .map((line) => line.slice(5).trim())
              .join('\n');
            if (/^event: *next/m.test(message) && data) {
              received.push(JSON.parse(data) as SseSubscription<T>['received'][number]);
              for (const wake of waiters) wake();
            }
          }
        }
      } catch {
        // aborted by close()
      }
    })();
  }
  return {
    status: res.status,
    received,
    ended,
    waitFor(match, timeoutMs = 10_000) {
      return new Promise<T>((resolve, reject) => {
        const check = () => {
          const hit = received.find((r) => r.data && match(r.data));
          if (!hit) return false;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(hit.data!);
          return true;
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no matching subscription event within ${timeoutMs} ms; received ${JSON.stringify(received).slice(0, 2000)}`));
        }, timeoutMs);
        if (!check()) waiters.add(check);
      });
    },
    close: () => abort.abort(),
  };
}
