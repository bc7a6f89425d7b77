// The filter's real ports (key store, spamc, sendmail, encryption, clock) and its policy, both from the Config.
// Key store and OpenPGP are imported only when a message needs them (start-up time).
import { createSendmail } from '../adapters/sendmail.js';
import { createSpamc } from '../adapters/spamc.js';
import type { Config } from '../config/load-config.js';
import type { FilterDeps, FilterPolicy } from './ports.js';

export function policyFrom(config: Config): FilterPolicy {
  const { spamCheck, spamdDown, missingKey, unusableKey, messageSizeLimit, oversize } = config;
  return { spamCheck, spamdDown, missingKey, unusableKey, messageSizeLimit, oversize };
}

export function createFilterDeps(config: Config): FilterDeps {
  return {
    keys: {
      async lookup(addresses, signal) {
        const { createKeyLookup } = await import('../adapters/key-lookup.js');
        return createKeyLookup(config).lookup(addresses, signal);
      },
    },
    spamc: createSpamc(config),
    sendmail: createSendmail(config),
    encryptor: {
      async encrypt(message, keys) {
        const { encryptMessage, encryptOptionsFrom } = await import('../encrypt/encrypt-message.js');
        return encryptMessage(message, keys, encryptOptionsFrom(config));
      },
      async minimumSize(message) {
        const { minimumEncryptedSize, encryptOptionsFrom } = await import('../encrypt/encrypt-message.js');
        return minimumEncryptedSize(message, encryptOptionsFrom(config));
      },
    },
    now: Date.now,
  };
}
