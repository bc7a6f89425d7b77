// Builds the benchmark's synthetic messages deterministically (same bytes on every run and machine).
// Bench only: these are made-up messages, never user mail. LF line endings, as Postfix hands mail to pipe(8).

/** xorshift32: fast, seeded, good enough for filler bytes. */
function prng(seed) {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

function randomBytes(size, seed) {
  const next = prng(seed);
  const words = new Uint32Array(Math.ceil(size / 4));
  for (let i = 0; i < words.length; i += 1) words[i] = next();
  return Buffer.from(words.buffer, 0, size);
}

const WORDS = (
  'the of and to in is that for it as was with be by on not he this are or his from at which but have an they ' +
  'you were her all she there would their we him been has when who will more no if out so said what up its about ' +
  'into than them can only other new some could time these two may then do first any my now such like our over ' +
  'man me even most made after also did many before must through back years where much your way well down should ' +
  'because each just those people how too little state good very make world still own see men work long get here ' +
  'between both life being under never day same another know while last might us great old year off come since ' +
  'against go came right used take three encryption mailbox server message postfix key'
).split(' ');

/** Prose-like text, lines of at most 72 chars, exactly `size` bytes long. */
function prose(size, seed) {
  const next = prng(seed);
  const lines = [];
  let length = 0;
  let line = '';
  while (length < size) {
    const word = WORDS[next() % WORDS.length];
    if (line.length + word.length + 1 > 72) {
      lines.push(line);
      length += line.length + 1;
      line = '';
    }
    line = line ? `${line} ${word}` : word;
  }
  return (lines.join('\n') + '\n').slice(0, size - 1) + '\n';
}

function base64Lines(bytes) {
  return bytes.toString('base64').replace(/.{76}/g, '$&\n').replace(/\n?$/, '\n');
}

function headers(subject, contentType, extra = []) {
  return (
    [
      'Return-Path: <alice@sender.example>',
      'Received: from mail.sender.example (mail.sender.example [192.0.2.10])',
      '\tby mx.supersecure.example (Postfix) with ESMTPS id 4ABCDEF012',
      '\tfor <bench@supersecure.example>; Sat, 21 Nov 2026 06:00:00 +0000 (UTC)',
      'DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=sender.example; s=mail;',
      '\th=from:to:subject:date:message-id; bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=;',
      '\tb=dGhpcyBpcyBub3QgYSByZWFsIHNpZ25hdHVyZSwganVzdCBiZW5jaCBmaWxsZXI=',
      'From: Alice Sender <alice@sender.example>',
      'To: Bench Recipient <bench@supersecure.example>',
      `Subject: ${subject}`,
      'Date: Sat, 21 Nov 2026 06:00:00 +0000',
      `Message-ID: <${subject.replace(/\W+/g, '-')}@sender.example>`,
      'MIME-Version: 1.0',
      `Content-Type: ${contentType}`,
      ...extra,
    ].join('\n') + '\n\n'
  );
}

function textMessage() {
  return Buffer.from(
    headers('Quarterly notes', 'text/plain; charset=utf-8', ['Content-Transfer-Encoding: 8bit']) +
      prose(10 * 1024 - 700, 10),
    'latin1',
  );
}

function htmlMessage() {
  const text = prose(12 * 1024, 20);
  const paragraphs = prose(40 * 1024, 21)
    .split('\n')
    .map((line, i) => (i % 12 === 0 ? `<p><img src="cid:img${i % 3}@bench" alt="figure"> ${line}` : line))
    .join('\n');
  const html = `<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>Newsletter</title></head>\n<body>\n${paragraphs}</body></html>\n`;
  const images = [0, 1, 2].map((i) => randomBytes(36 * 1024, 200 + i));
  const parts = [
    headers('Newsletter with pictures', 'multipart/related; boundary="rel-1"; type="multipart/alternative"'),
    'This is a multi-part message in MIME format.\n',
    '--rel-1\nContent-Type: multipart/alternative; boundary="alt-1"\n\n',
    '--alt-1\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n',
    text,
    '--alt-1\nContent-Type: text/html; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n',
    html,
    '--alt-1--\n',
    ...images.flatMap((bytes, i) => [
      `--rel-1\nContent-Type: image/png; name="figure${i}.png"\nContent-Transfer-Encoding: base64\n`,
      `Content-ID: <img${i}@bench>\nContent-Disposition: inline; filename="figure${i}.png"\n\n`,
      base64Lines(bytes),
    ]),
    '--rel-1--\n',
  ];
  return Buffer.from(parts.join(''), 'latin1');
}

function attachmentMessage() {
  // 15 MB of binary → ~20.3 MB of base64: a "20 MB message" as Postfix counts size.
  const attachment = randomBytes(15 * 1000 * 1000, 300);
  const parts = [
    headers('Scans attached', 'multipart/mixed; boundary="mix-1"'),
    'This is a multi-part message in MIME format.\n',
    '--mix-1\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n',
    prose(2 * 1024, 30),
    '--mix-1\nContent-Type: application/octet-stream; name="scans.bin"\nContent-Transfer-Encoding: base64\n',
    'Content-Disposition: attachment; filename="scans.bin"\n\n',
    base64Lines(attachment),
    '--mix-1--\n',
  ];
  return Buffer.from(parts.join(''), 'latin1');
}

/** The three workloads, in table order. `build()` is lazy so --only skips building what is not measured. */
export const WORKLOADS = [
  { name: 'text-10k', label: '10 KB text', build: textMessage },
  { name: 'html-200k', label: '200 KB HTML+images', build: htmlMessage },
  { name: 'attach-20m', label: '20 MB attachment', build: attachmentMessage },
];
