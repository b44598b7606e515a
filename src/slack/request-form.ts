import { buildRequestModal, type ModalMode, type ModalPrefill, type ModalView } from '../../views/request-modal.js';
import type { ListenerDeps } from './deps.js';

/**
 * The request form as it should open now: the quota, the sandbox banner, the quiet hours and the
 * app's attribute names of the moment (every opener uses this, so the form is the same everywhere).
 */
export async function requestFormView(
  deps: ListenerDeps,
  o: { mode: ModalMode; prefill?: Partial<ModalPrefill>; privateMetadata: string },
): Promise<ModalView> {
  const [ctx, attributeNames] = await Promise.all([deps.viewContext(), deps.attributeNames().catch(() => undefined)]);
  return buildRequestModal({
    mode: o.mode,
    prefill: o.prefill ?? {},
    quota: ctx.quota,
    sandbox: ctx.sandbox,
    ...(ctx.quietHours ? { quietHours: ctx.quietHours } : {}),
    attributeNames: attributeNames ?? [],
    privateMetadata: o.privateMetadata,
  });
}
