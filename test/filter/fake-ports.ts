// Fakes for runFilter's ports: programmable results, and a record of every call for assertions.
import { readKey, type PublicKey } from 'openpgp';
import type {
  ChildResult,
  Envelope,
  FilterDeps,
  FilterInput,
  FilterPolicy,
  KeyState,
  MemberState,
} from '../../src/filter/ports.js';
import { encryptMessage } from '../../src/encrypt/encrypt-message.js';
import { makeKey } from '../helpers/keys.js';

export const ok = (stdout: Buffer = Buffer.alloc(0)): ChildResult => ({
  exitCode: 0,
  signal: null,
  stdout,
  stderrLine: '',
  failure: null,
});
export const exited = (exitCode: number): ChildResult => ({
  exitCode,
  signal: null,
  stdout: Buffer.alloc(0),
  stderrLine: '',
  failure: null,
});

export const DEFAULT_POLICY: FilterPolicy = {
  spamCheck: true,
  spamdDown: 'deliver',
  missingKey: 'deliver',
  unusableKey: 'defer',
  messageSizeLimit: 10_240_000,
  oversize: 'reject',
};

/** Prepends spamd-like headers, as spamc does for a scanned message. */
export function scanned(raw: Buffer, spam = false): ChildResult {
  const headers = `${spam ? 'X-Spam-Flag: YES\n' : ''}X-Spam-Checker-Version: SpamAssassin 4.0.1\nX-Spam-Status: ${spam ? 'Yes, score=999.0' : 'No, score=0.1'} required=5.0\n`;
  return ok(Buffer.concat([Buffer.from(headers), raw]));
}

export interface Calls {
  spamc: Buffer[];
  lookups: string[][];
  encrypt: string[][];
  sendmail: { raw: Buffer; envelope: Envelope }[];
}

export interface FakeOptions {
  spamc?: (raw: Buffer, signal: AbortSignal) => Promise<ChildResult> | ChildResult;
  states?: Record<string, KeyState>;
  lookup?: (addresses: readonly string[], signal: AbortSignal) => Promise<ReadonlyMap<string, KeyState>>;
  encrypt?: FilterDeps['encryptor']['encrypt'];
  sendmail?: (raw: Buffer, envelope: Envelope, signal: AbortSignal, call: number) => Promise<ChildResult> | ChildResult;
}

export function fakeDeps(options: FakeOptions = {}): { deps: FilterDeps; calls: Calls } {
  const calls: Calls = { spamc: [], lookups: [], encrypt: [], sendmail: [] };
  const deps: FilterDeps = {
    spamc: {
      async run(raw, _timeout, signal) {
        calls.spamc.push(raw);
        return options.spamc ? options.spamc(raw, signal) : scanned(raw);
      },
    },
    keys: {
      async lookup(addresses, signal) {
        calls.lookups.push([...addresses]);
        if (options.lookup) return options.lookup(addresses, signal);
        return new Map(addresses.map((a) => [a, options.states?.[a] ?? { kind: 'no-key' }]));
      },
    },
    encryptor: {
      async encrypt(message, keys) {
        calls.encrypt.push(keys.map((k) => k.getFingerprint().toUpperCase()));
        if (options.encrypt) return options.encrypt(message, keys);
        const hp = { enabled: true, subjectPlaceholder: '[...]' };
        return encryptMessage(message, keys, { hp, mode: 'pgpmime', inlineFlatten: false });
      },
      async minimumSize(message) {
        return Math.ceil((message.body.length * 4) / 3);
      },
    },
    sendmail: {
      async send(raw, envelope, signal) {
        calls.sendmail.push({ raw, envelope });
        return options.sendmail ? options.sendmail(raw, envelope, signal, calls.sendmail.length) : ok();
      },
    },
    now: Date.now,
  };
  return { deps, calls };
}

export interface UserKey {
  state: MemberState;
  privateArmored: string;
  fingerprint: string;
}

export async function userKey(email: string): Promise<UserKey> {
  const made = await makeKey({ kind: 'curve25519', email });
  const key: PublicKey = await readKey({ armoredKey: made.publicArmored });
  const fingerprint = key.getFingerprint().toUpperCase();
  return {
    state: { kind: 'keys', keys: [key], fingerprints: [fingerprint] },
    privateArmored: made.privateArmored,
    fingerprint,
  };
}

export function input(
  raw: Buffer | string,
  recipients: string[],
  policy: Partial<FilterPolicy> = {},
  sender = 'sender@example.net',
): FilterInput {
  return {
    raw: typeof raw === 'string' ? Buffer.from(raw) : raw,
    envelope: { sender, recipients },
    policy: { ...DEFAULT_POLICY, ...policy },
    deadlineAt: Date.now() + 60_000,
  };
}
