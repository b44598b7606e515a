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
  /** Run work that follows an ack so that idle() and shutdown wait for it; resolves when it is done. */
  track: (work: () => Promise<unknown>) => Promise<void>;
}
