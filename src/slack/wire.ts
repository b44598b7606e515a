/**
 * A Block Kit structure as the JSON text Slack reads from a form field. The Web API client would
 * serialize an object itself, and then copy and serialize it again for its debug log whatever the
 * log level; handing it the text once saves both on every card, thread entry and DM. (Forms and
 * the Home tab go through slack-api.ts, which sends one JSON body.)
 */
export function asJson(value: unknown): never {
  return JSON.stringify(value) as never;
}
