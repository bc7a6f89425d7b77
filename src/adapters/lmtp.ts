// deliver's Lmtp port: the next-hop client (next-hop.ts) speaking LMTP to the address given by --lmtp / `lmtp`.
import type { Lmtp } from '../deliver/ports.js';
import { createNextHop, parseNextHopAddress } from './next-hop.js';

export { parseNextHopAddress as parseLmtpAddress, type NextHopTarget as LmtpTarget } from './next-hop.js';

export function createLmtp(config: { readonly lmtp?: string | undefined }): Lmtp {
  return {
    async deliver(payload, envelope, signal, forward) {
      const address = config.lmtp ?? '';
      if (parseNextHopAddress(address) === null)
        return { kind: 'failed', reason: 'no LMTP address configured (--lmtp unix:/path or inet:host:port)' };
      return createNextHop({ address, protocol: 'lmtp' }).deliver(payload, envelope, signal, forward);
    },
  };
}
