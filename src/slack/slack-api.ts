import { WebAPIHTTPError, WebAPIPlatformError, WebAPIRateLimitedError, WebAPIRequestError } from '@slack/web-api';
import { Agent, request } from 'undici';

/** The Slack Web API methods the app calls on its busiest paths, and their arguments. */
export interface ViewCalls {
  /** The trigger_id of a command or a click lives 3 s: this is the call that must not wait. */
  viewsOpen(args: { trigger_id: string; view: unknown }): Promise<Record<string, unknown>>;
  viewsUpdate(args: { view_id: string; hash?: string; view: unknown }): Promise<Record<string, unknown>>;
  viewsPublish(args: { user_id: string; view: unknown }): Promise<Record<string, unknown>>;
}

/**
 * The views.* calls as one JSON POST each on a keep-alive connection. Written here because
 * @slack/web-api form-encodes every body and builds its debug lines (a redacted copy of the
 * arguments and of the whole result) whatever the log level: for our 9 KB form that is ~1.7 ms of
 * CPU per views.open, more than everything else a command costs. Errors are @slack/web-api's own
 * classes with the same fields, so every caller handles them as before.
 */
export class SlackApi implements ViewCalls {
  readonly #base: string;
  readonly #auth: string;
  readonly #agent: Agent;
  readonly #timeoutMs: number;

  constructor(o: { token: string; apiUrl?: string; timeoutMs?: number }) {
    const base = o.apiUrl ?? 'https://slack.com/api/';
    this.#base = base.endsWith('/') ? base : `${base}/`;
    this.#auth = `Bearer ${o.token}`;
    this.#timeoutMs = o.timeoutMs ?? 10_000;
    this.#agent = new Agent({ keepAliveTimeout: 30_000, connect: { timeout: this.#timeoutMs } });
  }

  viewsOpen(args: { trigger_id: string; view: unknown }) {
    return this.call('views.open', args);
  }

  viewsUpdate(args: { view_id: string; hash?: string; view: unknown }) {
    return this.call('views.update', args);
  }

  viewsPublish(args: { user_id: string; view: unknown }) {
    return this.call('views.publish', args);
  }

  /** One call, never retried (what failed is the caller's to retry or to report). */
  async call(method: string, args: Record<string, unknown>): Promise<Record<string, unknown>> {
    let status: number;
    let headers: Record<string, string | string[] | undefined>;
    let text: string;
    try {
      const res = await request(`${this.#base}${method}`, {
        dispatcher: this.#agent,
        method: 'POST',
        headers: { authorization: this.#auth, 'content-type': 'application/json; charset=utf-8' },
        body: JSON.stringify(args),
        headersTimeout: this.#timeoutMs,
        bodyTimeout: this.#timeoutMs,
      });
      status = res.statusCode;
      headers = res.headers;
      text = await res.body.text();
    } catch (error) {
      throw new WebAPIRequestError(error instanceof Error ? error : new Error(String(error)));
    }
    if (status === 429) {
      const retryAfter = Number(first(headers['retry-after']));
      throw new WebAPIRateLimitedError(Number.isFinite(retryAfter) && retryAfter >= 0 ? retryAfter : 1);
    }
    if (status !== 200) throw new WebAPIHTTPError(status, '', flatHeaders(headers), text);
    let result: Record<string, unknown>;
    try {
      result = JSON.parse(text) as Record<string, unknown>;
    } catch {
      throw new WebAPIHTTPError(status, 'the answer was not JSON', flatHeaders(headers), text);
    }
    if (result['ok'] !== true) {
      throw new WebAPIPlatformError({ ...result, ok: false, error: typeof result['error'] === 'string' ? result['error'] : 'unknown_error' });
    }
    return result;
  }

  async close(): Promise<void> {
    await this.#agent.close();
  }
}

function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

function flatHeaders(h: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) if (v !== undefined) out[k] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}
