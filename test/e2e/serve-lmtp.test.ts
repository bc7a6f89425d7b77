// `pgpipe serve --protocol lmtp` as Postfix's delivery proxy (virtual_transport = lmtp:…) in front of Dovecot's LMTP,
// with the real components; the cases are in serve-cases.ts.
import { serveCases } from './serve-cases.js';

serveCases('lmtp');
