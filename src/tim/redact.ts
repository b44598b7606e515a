// Keeps secrets out of anything a person or a log may see. The request URL carries the
// UserSig in its query string, so URLs are removed wholesale rather than trimmed.

const URL_PATTERN = /\b(?:https?|wss?):\/\/[^\s"'<>]+/gi;
const USERSIG_PARAM = /usersig=[^&\s"'<>]*/gi;
// A UserSig is base64(zlib(...)) with +/= swapped for *-_; zlib streams start with 0x78,
// so the encoded form starts with "eJ" (default level), "eAE" (no compression) or "eNo" (best).
const USERSIG_SHAPE = /\be(?:J|AE|No)[A-Za-z0-9*\-_]{40,}/g;

/** Replace anything that is, or looks like, a UserSig (a usersig= parameter or the encoded form). */
export function redactUserSigs(text: string): string {
  return text.replace(USERSIG_PARAM, 'usersig=[redacted]').replace(USERSIG_SHAPE, '[redacted]');
}

export function redactSecrets(text: string, secrets: readonly string[] = []): string {
  let out = text;
  for (const s of secrets) if (s.length >= 4) out = out.split(s).join('[redacted]');
  return redactUserSigs(out.replace(URL_PATTERN, '[url]'));
}
