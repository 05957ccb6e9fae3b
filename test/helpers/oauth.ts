// Plain HTTP calls to the protocol endpoints, for tests that need to see exact status codes and bodies.
export async function postForm(url: string, fields: Record<string, string>, headers: Record<string, string> = {}) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(fields).toString(),
  });
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // not JSON: the test will look at `text`
  }
  return { status: res.status, headers: res.headers, json, text };
}

export const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function json(res: Response): Promise<Record<string, any>> {
  return (await res.json()) as Record<string, unknown>;
}
