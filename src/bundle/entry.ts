// The esbuild bundle's entry (scripts/build-bundle.mjs bundles its compiled dist/bundle/entry.js): main, and the
// warm-up run once at build time so that the V8 code cache holds compiled code for every path a message takes. The
// warm-up uses a throwaway key and a synthetic message: the cache holds compiled code, never mail. Everything it
// needs is imported lazily, so loading the bundle runs no more module code than dist/cli.js does (esbuild keeps
// lazily imported modules lazy).
import type { PublicKey } from 'openpgp';

export { main } from '../cli.js';

export async function warmUp(): Promise<void> {
  const { buildProgram } = await import('../cli.js');
  const { modeFor } = await import('../modes.js');
  const { loadConfig } = await import('../config/load-config.js');
  const { splitMessage, removeFields } = await import('../message/split-message.js');
  const { detectProtection } = await import('../message/detect-protection.js');
  const { inspectKeys } = await import('../keys/inspect-keys.js');
  const { encryptPayloadArmor } = await import('../keys/encrypt-payload.js');
  const { encryptMessage, encryptOptionsFrom } = await import('../encrypt/encrypt-message.js');
  const { isSpamField } = await import('../filter/check-spam.js');
  await import('../commands/run-encrypt.js');
  await import('../mail-path/pipe-mode.js');
  await import('../filter/run-filter.js');
  await import('../filter/create-filter-deps.js');
  await import('../deliver/deliver-mode.js');
  await import('../deliver/run-deliver.js');
  await import('../deliver/create-deliver-deps.js');
  await import('../adapters/lmtp.js');
  await import('nodemailer/lib/smtp-connection/index.js'); // lazy in pgpipe (only deliver talks LMTP)
  await import('../adapters/key-lookup.js');
  await import('execa'); // lazy in pgpipe (only the filter starts children), but the filter needs it compiled
  await import('../store/pg-db.js');
  const { generateKey } = await import('openpgp');
  for (const argv of [[], ['encrypt'], ['filter'], ['deliver']]) {
    modeFor(argv);
    await buildProgram(argv[0]);
  }
  const config = loadConfig({ flags: {}, env: { PGPIPE_CONFIG: '/dev/null' } });
  const text = 'From: a@warm-up.invalid\nTo: b@warm-up.invalid\nSubject: warm-up\nContent-Type: text/plain\n\nhi\n';
  const raw = removeFields(Buffer.from(text), isSpamField);
  const userIDs = [{ email: 'b@warm-up.invalid' }];
  const made = [
    await generateKey({ type: 'ecc', curve: 'curve25519Legacy', userIDs, format: 'armored' }),
    await generateKey({ type: 'rsa', rsaBits: 3072, userIDs, format: 'armored' }),
  ];
  for (const { publicKey } of made) {
    const keys = (await inspectKeys(publicKey)).map((r) => r.key).filter((k): k is PublicKey => k !== null);
    const message = splitMessage(raw);
    detectProtection(message);
    await encryptMessage(message, keys, encryptOptionsFrom(config));
    await encryptMessage(message, keys, { ...encryptOptionsFrom(config), mode: 'prefer-inline' }); // inline path
    await encryptPayloadArmor(raw, keys, true); // the streamed path of large messages
  }
}
