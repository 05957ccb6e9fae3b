// A scripted person with a browser: keeps cookies, follows the forms the pages render (hidden
// fields such as _csrf included) and never runs scripts. Enough to drive the HTML flows over HTTP.
export interface Page {
  status: number;
  url: string;
  html: string;
  location?: string;
}

export class ScriptedBrowser {
  private cookies = new Map<string, string>();

  constructor(private readonly baseUrl: string) {}

  /** The same browser (one cookie jar) talking to another address: a second instance behind the same issuer. */
  at(baseUrl: string): ScriptedBrowser {
    const other = new ScriptedBrowser(baseUrl);
    other.cookies = this.cookies;
    return other;
  }

  async get(path: string): Promise<Page> {
    return this.request('GET', path);
  }

  /** Submits the form whose action matches `action` on `page`, with its hidden fields plus `fields`. */
  async submit(page: Page, action: string, fields: Record<string, string>, opts: { dropCsrf?: boolean } = {}): Promise<Page> {
    const form = findForm(page.html, action);
    const data = { ...form.hidden, ...fields };
    if (opts.dropCsrf) delete data._csrf;
    return this.post(form.action, data);
  }

  async post(path: string, fields: Record<string, string>): Promise<Page> {
    return this.request('POST', path, new URLSearchParams(fields).toString());
  }

  /** Follows redirects (same origin only) until a page renders. */
  async follow(page: Page, max = 5): Promise<Page> {
    let current = page;
    for (let i = 0; i < max && current.location; i++) {
      const next = new URL(current.location, this.baseUrl);
      if (next.origin !== new URL(this.baseUrl).origin) return current;
      current = await this.get(next.pathname + next.search);
    }
    return current;
  }

  async login(username: string, password: string, redirect?: string): Promise<Page> {
    const page = await this.get(`/login${redirect ? `?redirect=${encodeURIComponent(redirect)}` : ''}`);
    return this.submit(page, '/login', { username, password });
  }

  /** A request of any kind with this browser's cookies (e.g. a page script calling /graphql). */
  async fetch(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    headers.set('cookie', [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '));
    return fetch(new URL(path, this.baseUrl), { ...init, headers, redirect: 'manual' });
  }

  cookieNames(): string[] {
    return [...this.cookies.keys()];
  }

  private async request(method: string, path: string, body?: string): Promise<Page> {
    const url = new URL(path, this.baseUrl).toString();
    const res = await fetch(url, {
      method,
      redirect: 'manual',
      headers: {
        cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '),
        ...(body !== undefined ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
      body,
    });
    for (const setCookie of res.headers.getSetCookie()) {
      const [pair] = setCookie.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      if (value === '' || /expires=Thu, 01 Jan 1970/i.test(setCookie)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return { status: res.status, url, html: await res.text(), location: res.headers.get('location') ?? undefined };
  }
}

export function findForm(html: string, action: string): { action: string; hidden: Record<string, string> } {
  const forms = [...html.matchAll(/<form\b[^>]*action="([^"]*)"[^>]*>([\s\S]*?)<\/form>/g)];
  const form = forms.find((f) => decode(f[1]!) === action || decode(f[1]!).startsWith(action + '?'));
  if (!form) throw new Error(`no form with action ${action} on the page:\n${html.slice(0, 2000)}`);
  const hidden: Record<string, string> = {};
  // Like a browser: every named input's current value (hidden or prefilled) is submitted.
  for (const input of form[2]!.matchAll(/<input\b[^>]*>/g)) {
    const name = /name="([^"]*)"/.exec(input[0])?.[1];
    const value = /value="([^"]*)"/.exec(input[0])?.[1] ?? '';
    if (name) hidden[name] = decode(value);
  }
  return { action: decode(form[1]!), hidden };
}

function decode(text: string): string {
  return text
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}
