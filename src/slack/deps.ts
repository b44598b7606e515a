import type { BroadcastService } from '../broadcast/service.js';
import type { Logger } from '../logger.js';
import type { Approvers } from './approvers.js';
import type { Notifier } from './notifier.js';

/** What the listeners need; built once in app.ts. */
export interface ListenerDeps {
  service: BroadcastService;
  notifier: Notifier;
  approvers: Approvers;
  approvalChannel: string;
  logger: Logger;
  /** Attribute names defined in the IM app, offered as a hint in the modal (best effort). */
  attributeNames: () => Promise<string[]>;
  /** Work started after ack that tests and shutdown can wait for. */
  background: (work: Promise<unknown>) => void;
}
