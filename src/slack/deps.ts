import type { BroadcastService } from '../broadcast/service.js';
import type { BroadcastRequest } from '../broadcast/types.js';
import type { Logger } from '../logger.js';
import type { ViewContext } from '../../views/context.js';
import type { Approvers } from './approvers.js';
import type { ViewCalls } from './slack-api.js';

/** What the listeners need; built once in app.ts. */
export interface ListenerDeps {
  service: BroadcastService;
  approvers: Approvers;
  /** views.open, views.update and views.publish (see slack-api.ts for why not through Bolt's client). */
  slack: ViewCalls;
  approvalChannel: string;
  logger: Logger;
  sandbox: boolean;
  /** Attribute names defined in the IM app (best effort, cached): offered in the form and checked at submission. */
  attributeNames: () => Promise<string[] | undefined>;
  /** The view context of the moment, for any request (or none). */
  viewContext: (r?: BroadcastRequest) => Promise<ViewContext>;
  /** Run work that follows an ack so that idle() and shutdown wait for it; resolves when it is done. */
  track: (work: () => Promise<unknown>) => Promise<void>;
}
