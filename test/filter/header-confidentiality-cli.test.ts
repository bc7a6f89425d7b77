// Issue 11 items 6 and 7 through the real `pgpipe filter` (real PostgreSQL, recording sendmail, the fuzz oracle):
// Keywords, Comments and every signature over the plaintext (ARC set, DKIM under any name, bh= fields) never reach
// the outer header of an encrypted copy; Keywords and Comments are inside it; --keep-subject leaves them outside.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { assertOutcome, runFilterCli, startWorld, type FaultWorld } from '../faults/support.js';
import { decryptWithOpenpgpJs } from '../helpers/decrypt.js';

interface Tokens {
  subject: string;
  keywords: string;
  comments: string;
  hash: string;
}

function signedMessage(): { raw: Buffer; tokens: Tokens } {
  const id = randomBytes(5).toString('hex');
  const tokens = { subject: `ZQS${id}s1Z`, keywords: `ZQK${id}k1Z`, comments: `ZQC${id}c1Z`, hash: `ZQH${id}h1Z` };
  const raw = Buffer.from(
    [
      'Received: from mail.google.example by mx.faults.test; Sat, 21 Nov 2026 07:10:02 +0000',
      'ARC-Seal: i=1; a=rsa-sha256; cv=none; d=google.example; s=arc; b=c2VhbA==',
      `ARC-Message-Signature: i=1; a=rsa-sha256; d=google.example; s=arc; h=subject:keywords; bh=${tokens.hash}=;`,
      '\tb=YW1z',
      'ARC-Authentication-Results: i=1; mx.google.example; dkim=pass',
      `X-Google-DKIM-Signature: v=1; d=1e100.example; h=subject; bh=${tokens.hash}=; b=Z29vZ2xl`,
      `X-Relay-Signature: v=1; d=relay.example; bh = ${tokens.hash}= ; b = cmVsYXk=`,
      'From: Sender <sender@example.org>',
      'To: alice@faults.test',
      `Subject: Vote ${tokens.subject}`,
      `Keywords: ${tokens.keywords}`,
      `Comments: ${tokens.comments},`,
      ' folded',
      `Message-ID: <${id}@example.org>`,
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=us-ascii',
      '',
      'the body',
      '',
    ].join('\n'),
    'latin1',
  );
  return { raw, tokens };
}

describe('filter: hcp_baseline and plaintext signatures', () => {
  let world: FaultWorld;
  before(async () => {
    world = await startWorld();
  });
  after(async () => world?.close());

  test('default policy: none of them outside, Keywords and Comments inside, every reader input byte kept', async () => {
    const { raw, tokens } = signedMessage();
    const r = await runFilterCli({ world, input: raw });
    assertOutcome(r, 0, Object.values(tokens));
    assert.equal(r.verdict.ok && r.verdict.outcome, 'exit0-encrypted');
    const copy = r.handoffs[0]?.data.toString('latin1') ?? '';
    const outer = copy.slice(0, copy.indexOf('-----BEGIN PGP MESSAGE-----'));
    for (const token of Object.values(tokens)) assert.ok(!outer.includes(token), `${token} not outside`);
    assert.doesNotMatch(outer, /^(arc-|x-google-dkim|x-relay-signature|keywords|comments)/im);
    assert.match(outer, /^Received: from mail\.google\.example/m);
    const key = world.alice.privateKey?.armor() ?? '';
    const inner = (await decryptWithOpenpgpJs(copy, key)).toString('latin1');
    const moved = `\r\nKeywords: ${tokens.keywords}\r\nComments: ${tokens.comments},\r\n folded\r\n`;
    assert.ok(inner.slice(0, inner.indexOf('\r\n\r\n') + 2).includes(moved), 'both in the protected root header');
    assert.doesNotMatch(inner, /^HP-Outer: (Keywords|Comments)/im);
  });

  test('--keep-subject: Keywords and Comments stay outside like the Subject; signatures still dropped', async () => {
    const { raw, tokens } = signedMessage();
    const r = await runFilterCli({ world, input: raw, flags: ['--keep-subject'] });
    assert.equal(r.run.code, 0, r.run.output);
    const copy = r.handoffs[0]?.data.toString('latin1') ?? '';
    const outer = copy.slice(0, copy.indexOf('-----BEGIN PGP MESSAGE-----'));
    assert.ok(outer.includes(`Keywords: ${tokens.keywords}\n`));
    assert.ok(outer.includes(`Subject: Vote ${tokens.subject}\n`));
    assert.ok(!outer.includes(tokens.hash), 'no body hash outside');
  });
});
