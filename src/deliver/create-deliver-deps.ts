// Deliver's real ports and policy from the Config: the filter's key lookup, spamc and encryptor (their lazy imports
// included), with LMTP to Dovecot in place of sendmail.
import { createLmtp } from '../adapters/lmtp.js';
import type { Config } from '../config/load-config.js';
import { createFilterDeps, policyFrom } from '../filter/create-filter-deps.js';
import type { DeliverDeps, DeliverPolicy } from './ports.js';

export function deliverPolicyFrom(config: Config): DeliverPolicy {
  return { ...policyFrom(config), deliverSpamCheck: config.deliverSpamCheck };
}

export function createDeliverDeps(config: Config): DeliverDeps {
  const { keys, spamc, encryptor, now } = createFilterDeps(config);
  return { keys, spamc, encryptor, now, lmtp: createLmtp(config), uid: process.getuid?.() ?? null };
}
