import type { App } from '@slack/bolt';
import type { ListenerDeps } from '../deps.js';
import { broadcastCommand } from './broadcast-command.js';

export function registerCommands(app: App, deps: ListenerDeps): void {
  app.command('/broadcast', broadcastCommand(deps));
}
