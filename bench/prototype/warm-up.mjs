// PROTOTYPE (bench only): warm-up code compiled into the snapshot/code-cache entries (build-snapshot.mjs,
// scripts/build-bundle.mjs does the same for the shipped code cache). It runs at build time only.
// Build-time only: nothing here sees a real message or key; results are dropped before the heap is saved.
export const WARM_UP = `
import { buildProgram } from './dist/cli.js';
import { loadConfig } from './dist/config/load-config.js';
import { splitMessage } from './dist/message/split-message.js';
import { detectProtection } from './dist/message/detect-protection.js';
import { inspectKeys } from './dist/keys/inspect-keys.js';
import { encryptMessage, headerProtectionFrom } from './dist/commands/encrypt-message.js';
import { generateKey } from 'openpgp';
async function warmUp() {
  buildProgram();
  const config = loadConfig({ flags: {}, env: { PGPIPE_CONFIG: '/dev/null' } });
  const raw = Buffer.from('From: a@warm-up.invalid\\nTo: b@warm-up.invalid\\nSubject: warm-up\\nContent-Type: text/plain\\n\\nwarm-up\\n');
  for (const type of ['curve25519', 'rsa']) {
    const { publicKey } = await generateKey(type === 'rsa'
      ? { type: 'rsa', rsaBits: 3072, userIDs: [{ email: 'b@warm-up.invalid' }], format: 'armored' }
      : { type: 'curve25519', userIDs: [{ email: 'b@warm-up.invalid' }], format: 'armored' });
    const reports = await inspectKeys(publicKey);
    const message = splitMessage(raw);
    detectProtection(message);
    await encryptMessage(message, reports.map((r) => r.key).filter(Boolean), headerProtectionFrom(config));
  }
}
`;
