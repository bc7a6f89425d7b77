// One received message through the deliver pipeline (spam check, recipient resolution, encryption, size decision,
// hand-off to the next hop per copy), under its own deadline and the service's shutdown signal, to the answers
// Postfix gets. Never throws: anything unexpected is a deferral (runDelivery's rule).
import type { Config } from '../config/load-config.js';
import { deliverPolicyFrom } from '../deliver/create-deliver-deps.js';
import type { DeliverDeps, DeliveryRun, XForward } from '../deliver/ports.js';
import { runDelivery } from '../deliver/run-deliver.js';
import type { Envelope } from '../filter/ports.js';

export interface TransactionContext {
  readonly config: Config;
  readonly deps: DeliverDeps;
  /** Aborts every running transaction when the shutdown grace is over. */
  readonly shutdown: AbortSignal;
}

export async function runTransaction(
  raw: Buffer,
  envelope: Envelope,
  xforward: XForward,
  context: TransactionContext,
): Promise<DeliveryRun> {
  const { config, deps, shutdown } = context;
  const policy = deliverPolicyFrom(config);
  // The SMTP wiring is the after-queue content filter itself: there is no earlier scan of ours to trust.
  const spam = config.serveProtocol === 'smtp' ? { ...policy, deliverSpamCheck: 'always' as const } : policy;
  const signal = AbortSignal.any([AbortSignal.timeout(config.deadlineMs), shutdown]);
  const input = { raw, envelope, policy: spam, deadlineAt: deps.now() + config.deadlineMs, xforward };
  return runDelivery(input, deps, signal);
}
