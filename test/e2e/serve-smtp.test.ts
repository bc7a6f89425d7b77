// `pgpipe serve --protocol smtp` as Postfix's after-queue content filter (global content_filter, FILTER_README's
// re-injection smtpd), delivery by Dovecot's LMTP after re-injection, with the real components; the cases are in
// serve-cases.ts.
import { serveCases } from './serve-cases.js';

serveCases('smtp');
