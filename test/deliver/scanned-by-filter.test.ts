// Pure: which messages carry our own filter's spam verdict (deliver_spam_check = unless-scanned skips spamc).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { filterVerdict } from '../../src/deliver/scanned-by-filter.js';

const VERDICT =
  'X-Spam-Checker-Version: SpamAssassin 4.0.1 (2022-12-14) on mx.example.org\nX-Spam-Status: No, score=-1.0 required=5.0\n';
const pickup = (uid: number): string =>
  `Received: by mx.example.org (Postfix, from userid ${uid})\n\tid 4XkQ2t1abc; Tue,  1 Dec 2026 18:00:00 +0000 (UTC)\n`;
const smtpd =
  'Received: from client.example.net (client.example.net [192.0.2.1])\n\tby mx.example.org (Postfix) with ESMTPS id 4XkQ2t2def\n\tfor <bob@example.org>; Tue,  1 Dec 2026 17:59:59 +0000 (UTC)\n';
const body = 'From: a@example.net\nSubject: s\n\nbody\n';
const msg = (text: string): Buffer => Buffer.from(text);

describe('filterVerdict', () => {
  it("re-injected by our uid with spamd's headers: the verdict, no rescan", () => {
    assert.deepEqual(filterVerdict(msg(`${pickup(998)}${VERDICT}${smtpd}${body}`), 998), {
      kind: 'scanned',
      spam: false,
      score: '-1.0',
    });
    const spam = 'X-Spam-Flag: YES\nX-Spam-Status: Yes, score=1000.0 required=5.0\n';
    assert.deepEqual(filterVerdict(msg(`${pickup(998)}${spam}${smtpd}${body}`), 998), {
      kind: 'scanned',
      spam: true,
      score: '1000.0',
    });
  });

  it("a milter field above pickup's Received does not matter; only the first Received counts", () => {
    assert.notEqual(
      filterVerdict(msg(`DKIM-Signature: v=1; a=rsa-sha256; d=example.org\n${pickup(998)}${VERDICT}${body}`), 998),
      null,
    );
  });

  it('everything else is scanned again', () => {
    const cases: [string, Buffer, number | null][] = [
      ["another user's sendmail (forged verdict)", msg(`${pickup(1000)}${VERDICT}${body}`), 998],
      ["root's sendmail", msg(`${pickup(0)}${VERDICT}${body}`), 998],
      ['straight from smtpd with a forged verdict', msg(`${smtpd}${VERDICT}${body}`), 998],
      ['a forged pickup line below the real top Received', msg(`${smtpd}${pickup(998)}${VERDICT}${body}`), 998],
      ['ours, but spamd was down at filter time (no verdict)', msg(`${pickup(998)}${smtpd}${body}`), 998],
      ['no Received at all', msg(`${VERDICT}${body}`), 998],
      ['the verdict only in the body', msg(`${pickup(998)}${body}${VERDICT}`), 998],
      ['uid unknown', msg(`${pickup(998)}${VERDICT}${body}`), null],
    ];
    for (const [what, raw, uid] of cases) assert.equal(filterVerdict(raw, uid), null, what);
  });
});
