/**
 * manifest.yml asks for exactly the bot scopes the code needs: every Slack Web API method called
 * in src/ is looked up in the table below (a new call fails here until its scope is decided), and
 * the manifest's scopes equal what those methods need, each with a comment saying why.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');

/** Bot-token scope of each method the app calls (Slack's method pages); null = none needed. */
const METHOD_SCOPES: Record<string, string | null> = {
  'auth.test': null,
  'chat.postMessage': 'chat:write',
  'chat.update': 'chat:write',
  'chat.postEphemeral': 'chat:write',
  'chat.getPermalink': null,
  'views.open': null,
  'views.publish': null,
  'views.update': null,
  'usergroups.users.list': 'usergroups:read',
  'users.info': 'users:read',
  'conversations.open': 'im:write',
  'conversations.history': 'channels:history',
};
/** Scopes that no single method needs: the slash command, and posting in public channels without an invite. */
const FEATURE_SCOPES = ['commands', 'chat:write.public'];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

function methodsCalled(): Set<string> {
  // `client.chat.postMessage(`, `app.client.views.open(`, `new WebClient(…).auth.test(`, and SlackApi's `call('views.open'`.
  const call = /(?:\bclient|\))\.(auth|chat|views|usergroups|users|conversations|reactions|pins|files|team|bookmarks)\.([a-zA-Z]+(?:\.[a-zA-Z]+)?)\(/g;
  const found = new Set<string>();
  for (const file of sourceFiles(join(ROOT, 'src'))) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(call)) found.add(`${m[1]}.${m[2]}`);
    // src/slack/slack-api.ts: `this.call('views.open', …)`.
    for (const m of text.matchAll(/\.call\('([a-z]+\.[a-zA-Z.]+)'/g)) found.add(m[1]!);
  }
  return found;
}

function manifestScopes(): { scope: string; comment: string }[] {
  const text = readFileSync(join(ROOT, 'manifest.yml'), 'utf8');
  const bot = text.slice(text.indexOf('\n    bot:\n'), text.indexOf('\nsettings:'));
  return [...bot.matchAll(/^\s+- ([a-z.:_]+)\s*(?:#\s*(.*))?$/gm)].map((m) => ({ scope: m[1]!, comment: m[2] ?? '' }));
}

describe('manifest.yml scopes', () => {
  it('finds the Web API calls in src/ (the scan is not blind)', () => {
    const called = methodsCalled();
    for (const m of ['chat.postMessage', 'chat.update', 'views.open', 'usergroups.users.list', 'auth.test']) expect(called).toContain(m);
  });

  it('knows the scope of every method the code calls', () => {
    const unknown = [...methodsCalled()].filter((m) => !(m in METHOD_SCOPES));
    expect(unknown, 'add these methods to METHOD_SCOPES and their scopes to manifest.yml').toEqual([]);
  });

  it('asks for exactly the scopes those methods need, each with a reason', () => {
    const needed = new Set([...FEATURE_SCOPES, ...[...methodsCalled()].map((m) => METHOD_SCOPES[m]).filter((s): s is string => Boolean(s))]);
    const declared = manifestScopes();
    expect(new Set(declared.map((d) => d.scope))).toEqual(needed);
    for (const d of declared) expect(d.comment.length, `${d.scope} has a comment`).toBeGreaterThan(10);
  });
});
