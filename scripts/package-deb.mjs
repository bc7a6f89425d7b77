// `npm run package:deb`: pgpipe_VERSION_all.deb with dpkg-deb. The program is exactly the npm package (`npm pack`,
// so package.json's `files` decides what ships, built by its prepack/prepare) plus its production dependencies at
// the lockfile's versions, under /usr/lib/pgpipe. Around it: /usr/bin/pgpipe, the commented /etc/pgpipe/pgpipe.conf
// (generated from SETTINGS), pgpipe(1) (generated from --help), postfix-snippets as examples, the systemd unit of
// pgpipe serve (packaging/systemd/), the copyright of every bundled module, and the maintainer scripts in
// packaging/deb/.
// Usage: node scripts/package-deb.mjs [--out DIR] [--version V] [--no-build] [--compression xz|gzip|zstd]
//   --version V      package version (default: package.json's)
//   --no-build       pack the dist/ that is there (npm pack --ignore-scripts) instead of rebuilding it
//   --compression    dpkg-deb's -Z (default xz, which every dpkg reads; the tests use gzip: 1 s instead of ~40 s)
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { manPage } from './man-page.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
const { values: args } = parseArgs({
  options: {
    out: { type: 'string', default: ROOT },
    version: { type: 'string' },
    'no-build': { type: 'boolean' },
    compression: { type: 'string', default: 'xz' },
  },
});
const version = args.version ?? pkg.version;
// Debian's own convention for who builds the package; the default names no real person or address.
const MAINTAINER = process.env.DEBEMAIL
  ? `${process.env.DEBFULLNAME ?? 'pgpipe developers'} <${process.env.DEBEMAIL}>`
  : 'pgpipe developers <pgpipe@pgpipe.invalid>';
const LIB = 'usr/lib/pgpipe';
const DOC = 'usr/share/doc/pgpipe';
const CACHE_DIR = '/var/cache/pgpipe';

const run = (cmd, argv, options = {}) =>
  execFileSync(cmd, argv, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], ...options });
// Reproducible output: every timestamp (changelog, man page, file mtimes clamped by dpkg-deb) is the commit's.
const epoch =
  process.env.SOURCE_DATE_EPOCH ??
  (() => {
    try {
      return run('git', ['-C', ROOT, 'log', '-1', '--format=%ct'], { stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    } catch {
      return String(Math.floor(Date.now() / 1000));
    }
  })();
const date = new Date(Number(epoch) * 1000);

const work = mkdtempSync(join(tmpdir(), 'pgpipe-deb-'));
const stage = join(work, 'root');
const at = (...parts) => join(stage, ...parts);
const write = (path, text, mode = 0o644) => {
  mkdirSync(dirname(at(path)), { recursive: true });
  writeFileSync(at(path), text, { mode });
  chmodSync(at(path), mode);
};

try {
  // 1. The npm package, unpacked as /usr/lib/pgpipe, and its production dependencies (no scripts run: none need to).
  const packArgs = ['pack', '--json', '--pack-destination', work, ...(args['no-build'] ? ['--ignore-scripts'] : [])];
  // Anything the build prints before npm's JSON is skipped.
  const packed = JSON.parse(run('npm', packArgs, { cwd: ROOT }).replace(/^[^[]*/s, ''))[0];
  mkdirSync(at(LIB), { recursive: true });
  run('tar', ['-xzf', join(work, packed.filename), '-C', at(LIB), '--strip-components=1', '--no-same-owner']);
  cpSync(join(ROOT, 'package-lock.json'), at(LIB, 'package-lock.json'));
  const ciArgs = ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline'];
  ciArgs.push('--loglevel=error');
  run('npm', ciArgs, { cwd: at(LIB), stdio: ['ignore', 'ignore', 'inherit'] });
  rmSync(at(LIB, 'package-lock.json'));
  removeDevFiles(at(LIB, 'node_modules'));
  // The README is documentation: /usr/share/doc, not the program directory.
  const readme = readFileSync(at(LIB, 'README.md'));
  rmSync(at(LIB, 'README.md'));

  // 2. The code cache lives in /var/cache/pgpipe, made by postinst for the installed Node (the build machine's may
  // differ) and never written by the filter user. The loader finds it through a symlink beside the bundle.
  const caches = readdirSync(at(LIB, 'dist')).filter((name) => name.endsWith('.v8-cache'));
  if (caches.length === 0) throw new Error('no dist/*.v8-cache in the npm package: was the bundle built?');
  mkdirSync(at(CACHE_DIR), { recursive: true });
  for (const name of caches) {
    rmSync(at(LIB, 'dist', name));
    symlinkSync(`${CACHE_DIR}/${name}`, at(LIB, 'dist', name));
  }
  mkdirSync(at('usr/bin'), { recursive: true });
  symlinkSync('../lib/pgpipe/bin/pgpipe', at('usr/bin/pgpipe'));

  // 3. Config, man page, docs. Both generators run the staged program, so a package that cannot start fails here.
  const { configTemplate } = await import(pathToFileURL(at(LIB, 'dist/config/config-template.js')).href);
  write('etc/pgpipe/pgpipe.conf', configTemplate());
  const man = manPage(at(LIB, 'bin/pgpipe'), { version, date: date.toISOString().slice(0, 10) });
  write('usr/share/man/man1/pgpipe.1.gz', gzipSync(man, { level: 9 }));
  cpSync(at(LIB, 'postfix-snippets'), at(DOC, 'examples'), { recursive: true });
  // pgpipe serve's unit, shipped disabled: postinst neither enables nor starts it (Postfix is wired first).
  write('lib/systemd/system/pgpipe-serve.service', readFileSync(join(ROOT, 'packaging/systemd/pgpipe-serve.service')));
  write(`${DOC}/README.md.gz`, gzipSync(readme, { level: 9 }));
  write(`${DOC}/changelog.gz`, gzipSync(changelog(), { level: 9 }));
  write(`${DOC}/copyright`, copyright());

  // 4. Modes as Debian expects them: directories and scripts 0755, everything else 0644.
  normalizeModes(stage);

  // 5. Control area.
  const debian = at('DEBIAN');
  mkdirSync(debian);
  for (const name of ['postinst', 'prerm', 'postrm', 'triggers']) {
    cpSync(join(ROOT, 'packaging/deb', name), join(debian, name));
    chmodSync(join(debian, name), name === 'triggers' ? 0o644 : 0o755);
  }
  writeFileSync(join(debian, 'conffiles'), '/etc/pgpipe/pgpipe.conf\n');
  writeFileSync(join(debian, 'md5sums'), md5sums(stage, new Set(['DEBIAN', 'etc/pgpipe/pgpipe.conf'])));
  const installedSize = run('du', ['-sk', '--apparent-size', '--exclude=DEBIAN', stage]).split('\t')[0];
  writeFileSync(join(debian, 'control'), control(installedSize));

  const out = resolve(args.out, `pgpipe_${version}_all.deb`);
  mkdirSync(args.out, { recursive: true });
  run('dpkg-deb', ['--root-owner-group', `-Z${args.compression}`, '--build', stage, `${out}.tmp`], {
    env: { ...process.env, SOURCE_DATE_EPOCH: epoch },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  renameSync(`${out}.tmp`, out);
  console.log(out);
} finally {
  rmSync(work, { recursive: true, force: true });
}

function control(installedSizeKb) {
  return `Package: pgpipe
Version: ${version}
Architecture: all
Maintainer: ${MAINTAINER}
Installed-Size: ${installedSizeKb}
Depends: nodejs (>= 20), adduser
Recommends: postfix, spamc, postgresql-client
Section: mail
Priority: optional
Description: encrypt incoming mail to OpenPGP keys stored in PostgreSQL
 pgpipe is a Postfix content filter for a self-hosted mail server. Postfix
 runs it (pipe(8)) for every incoming message: it runs spamc, encrypts the
 message to each recipient's OpenPGP public key stored in PostgreSQL
 (users.pgpkey), and re-injects the PGP/MIME result with sendmail, so the
 server holds only ciphertext. It never loses mail: anything unexpected is
 a temporary failure that Postfix retries.
 .
 It replaces gpgit.pl from the "End-to-end encrypted email server" tutorial
 and reads that tutorial's users and aliases tables unchanged. The Postfix
 and PostgreSQL wiring is in /usr/share/doc/pgpipe/examples/.
`;
}

function changelog() {
  // Debian's date format (RFC 5322), e.g. "Tue, 01 Dec 2026 17:54:23 +0000".
  const when = date.toUTCString().replace('GMT', '+0000');
  return `pgpipe (${version}) unstable; urgency=medium

  * pgpipe ${version}. Built from the npm package by scripts/package-deb.mjs; see
    /usr/share/doc/pgpipe/README.md.gz for what it does.

 -- ${MAINTAINER}  ${when}
`;
}

/** DEP-5 copyright: pgpipe itself, then every bundled npm module with its own license text. */
function copyright() {
  const indent = (text) =>
    text
      .trim()
      .split('\n')
      .map((line) => (line.trim() === '' ? ' .' : ` ${line.trimEnd()}`))
      .join('\n');
  // Licenses Debian ships in /usr/share/common-licenses are referred to, not copied.
  const common = {
    'Apache-2.0': 'Apache-2.0',
    'LGPL-3.0+': 'LGPL-3',
    'LGPL-3.0-or-later': 'LGPL-3',
    'GPL-3.0+': 'GPL-3',
  };
  const paragraphs = [
    `Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: pgpipe
Comment: ${LIB}/node_modules holds pgpipe's npm dependencies at the exact versions of its
 package-lock.json, unmodified; each one's license follows.`,
    `Files: *
Copyright: the pgpipe developers
License: GPL-3+
 This program is free software: you can redistribute it and/or modify it under the terms of the GNU General
 Public License as published by the Free Software Foundation, either version 3 of the License, or (at your
 option) any later version.
 .
 On Debian systems, the complete text of the GNU General Public License version 3 can be found in
 /usr/share/common-licenses/GPL-3.`,
  ];
  for (const dir of moduleDirs(at(LIB, 'node_modules'))) {
    const meta = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    const license = typeof meta.license === 'string' ? meta.license : 'see below';
    const file = readdirSync(dir).find((name) => /^(licen[cs]e|copying)/i.test(name));
    const text = file ? readFileSync(join(dir, file), 'utf8') : `${meta.name} states its license as ${license}.`;
    const body = common[license]
      ? `On Debian systems, the complete text of this license is in /usr/share/common-licenses/${common[license]}.`
      : text;
    paragraphs.push(`Files: ${relative(stage, dir)}/*
Copyright: ${meta.author?.name ?? (typeof meta.author === 'string' ? meta.author : `the ${meta.name} authors`)}
License: ${license.replace(/[()]/g, '').replace(/ OR /g, ' or ')}
 ${meta.name} ${meta.version}
 .
${indent(body)}`);
  }
  return `${paragraphs.join('\n\n')}\n`;
}

/** Every installed package directory under node_modules (scoped and nested ones too), sorted. */
function moduleDirs(nodeModules) {
  if (!existsSync(nodeModules)) return [];
  return readdirSync(nodeModules)
    .sort()
    .flatMap((name) => {
      if (name.startsWith('.')) return [];
      const dir = join(nodeModules, name);
      if (name.startsWith('@')) return moduleDirs(dir);
      if (!existsSync(join(dir, 'package.json'))) return [];
      return [dir, ...moduleDirs(join(dir, 'node_modules'))];
    });
}

/** Modules' own editor, lint, CI and VCS files (.eslintrc, .github/, .npmignore, ...): nothing that runs. */
function removeDevFiles(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const dev = name.startsWith('.') && name !== '.bin' && name !== '.package-lock.json';
    if (dev) rmSync(path, { recursive: true, force: true });
    else if (lstatSync(path).isDirectory()) removeDevFiles(path);
  }
}

function normalizeModes(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const stat = lstatSync(path);
    if (stat.isSymbolicLink()) continue;
    if (stat.isDirectory()) {
      chmodSync(path, 0o755);
      normalizeModes(path);
    } else {
      const script = readFileSync(path).subarray(0, 2).toString('latin1') === '#!';
      chmodSync(path, script && (stat.mode & 0o111) !== 0 ? 0o755 : 0o644);
    }
  }
}

function md5(file) {
  return createHash('md5').update(readFileSync(file)).digest('hex');
}

function md5sums(dir, skip) {
  const lines = [];
  const walk = (sub) => {
    for (const name of readdirSync(join(dir, sub)).sort()) {
      const rel = sub === '' ? name : `${sub}/${name}`;
      const stat = lstatSync(join(dir, rel));
      if (skip.has(rel)) continue;
      if (stat.isDirectory()) walk(rel);
      else if (stat.isFile()) lines.push(`${md5(join(dir, rel))}  ${rel}`);
    }
  };
  walk('');
  return `${lines.join('\n')}\n`;
}
