// Describes the machine and formats the bench results as Markdown tables (printed and written to RESULTS.md).
// Pure formatting apart from machineInfo(), which only reads /proc and runs `--version` commands.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';

function firstLine(file, args) {
  try {
    return execFileSync(file, args, { stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .split('\n')[0]
      .trim();
  } catch {
    return 'unknown';
  }
}

export function machineInfo(root) {
  const model = cpus()[0]?.model?.trim() || 'unknown';
  let cpuModel = model;
  try {
    cpuModel =
      readFileSync('/proc/cpuinfo', 'utf8')
        .match(/^model name\s*:\s*(.+)$/m)?.[1]
        ?.trim() ?? model;
  } catch {
    // not Linux
  }
  const openpgp = JSON.parse(readFileSync(`${root}/node_modules/openpgp/package.json`, 'utf8')).version;
  return {
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    cpu: cpuModel,
    nproc: firstLine('nproc', []),
    memory: `${Math.round(totalmem() / 2 ** 30)} GiB`,
    kernel: firstLine('uname', ['-sr']),
    node: process.version,
    openpgp,
    perl: firstLine('perl', ['-e', 'print $^V']),
    gpg: firstLine('gpg', ['--version']),
    commit:
      firstLine('git', ['-C', root, 'rev-parse', '--short', 'HEAD']) +
      (firstLine('git', ['-C', root, 'status', '--porcelain', '--untracked-files=no']) ? ' + uncommitted changes' : ''),
  };
}

const ms = (value) => (value >= 1000 ? `${(value / 1000).toFixed(2)} s` : `${value.toFixed(0)} ms`);
const mb = (kb) => `${(kb / 1024).toFixed(0)} MB`;
const ratio = (value) => `${value.toFixed(2)}x`;
// GNU time reports CPU in 10 ms steps: below that there is no figure to show or divide by.
const cpu = (value) => (value < 10 ? '<10 ms' : ms(value));
const cpuRatio = (reference, pgpipe) => (reference < 10 || pgpipe < 10 ? '—' : `**${ratio(reference / pgpipe)}**`);

function table(head, rows) {
  const lines = [`| ${head.join(' | ')} |`, `|${head.map((_, i) => (i < 2 ? '---' : '---:')).join('|')}|`];
  for (const row of rows) lines.push(`| ${row.join(' | ')} |`);
  return lines.join('\n');
}

/**
 * @param {{ machine, command: string, settings: string, perMessage: object[], throughput: object[] }} results
 */
export function formatResults({ machine, command, settings, perMessage, throughput, pipeModes = [] }) {
  const perMessageTable = table(
    [
      'Workload',
      'Key',
      'pgpipe',
      'gpgit (ref)',
      'gpg floor',
      'ref/pgpipe time',
      'pgpipe RSS',
      'ref RSS',
      'floor RSS',
      'ref/pgpipe RSS',
    ],
    perMessage.map((r) => [
      r.workload,
      r.key,
      ms(r.pgpipe.ms),
      ms(r.reference.ms),
      ms(r.floor.ms),
      `**${ratio(r.reference.ms / r.pgpipe.ms)}**`,
      mb(r.pgpipe.rssKb),
      mb(r.reference.rssKb),
      mb(r.floor.rssKb),
      `**${ratio(r.reference.rssKb / r.pgpipe.rssKb)}**`,
    ]),
  );
  const cpuTable = table(
    ['Workload', 'Key', 'pgpipe CPU', 'gpgit (ref) CPU', 'gpg floor CPU', 'ref/pgpipe CPU'],
    perMessage.map((r) => [
      r.workload,
      r.key,
      cpu(r.pgpipe.cpuMs),
      cpu(r.reference.cpuMs),
      cpu(r.floor.cpuMs),
      cpuRatio(r.reference.cpuMs, r.pgpipe.cpuMs),
    ]),
  );
  const throughputTable = table(
    ['Run', 'Messages', 'pgpipe filter', 'pgpipe deliver', 'gpgit wrapper (ref)', 'filter/ref', 'deliver/ref'],
    throughput.map((r) => [
      r.mode,
      String(r.messages),
      `${r.pgpipe.toFixed(1)} msg/s`,
      `${r.deliver.toFixed(1)} msg/s`,
      `${r.reference.toFixed(1)} msg/s`,
      `**${ratio(r.pgpipe / r.reference)}**`,
      `**${ratio(r.deliver / r.reference)}**`,
    ]),
  );
  const argvText = {
    pgpipe: '`filter -oi -f S R`',
    deliver: '`deliver --lmtp unix:SINK -f S -- R`',
    reference: '`gpgit_postfix.sh -oi -f S R`',
  };
  const label = {
    pgpipe: 'pgpipe filter (sendmail stand-in)',
    deliver: 'pgpipe deliver (LMTP sink)',
    reference: 'gpgit wrapper (sendmail stand-in)',
  };
  const pipeTable = table(
    ['Command', 'as pipe(8) runs it', 'wall', 'CPU', 'peak RSS'],
    pipeModes.map((m) => [label[m.name] ?? m.name, argvText[m.name] ?? '', ms(m.ms), cpu(m.cpuMs), mb(m.rssKb)]),
  );
  const throughputSection = `## Postfix pipe(8) modes (10 KB message, Curve25519 key, no spam check)

\`pgpipe filter\` and the tutorial's gpgit wrapper re-inject with a sendmail stand-in that discards
(bench/sendmail-discard.sh); \`pgpipe deliver\` hands the copy over LMTP to a sink that answers 250 and discards
(bench/lmtp-sink.js, smtp-server in LMTP mode, greeting at once as Dovecot does). Real re-injection also costs
Postfix a queue file and a second pass (pickup, cleanup, qmgr, delivery), which deliver does not need; that is not in
these figures.

Per message (median wall and CPU of the process tree, the stand-ins included and the LMTP sink not):

${pipeTable}

Throughput:

${throughputTable}
`;
  return `# pgpipe benchmark results

Generated by \`${command}\` on ${machine.date} (commit ${machine.commit}).
Machine: ${machine.cpu}, nproc ${machine.nproc}, ${machine.memory} RAM, ${machine.kernel}.
Versions: Node ${machine.node}, openpgp ${machine.openpgp}, perl ${machine.perl}, ${machine.gpg}.
Settings: ${settings}.

Ratios are what matter; absolute times move from machine to machine. "ref" is gpgit's PGP/MIME path
(bench/gpgit-reference.pl: MIME::Parser + Mail::GnuPG mime_encrypt calling gpg); "gpg floor" is plain
\`gpg --encrypt --armor\` of the same bytes. Times are medians of whole-process wall time per message (runs
alternate pgpipe/ref/floor); RSS is the peak resident set of the largest process (GNU time %M). Every pgpipe
output was decrypted with gpg and compared with the original body.

## Per message (\`pgpipe encrypt\`, key from PostgreSQL)

${perMessageTable}

CPU time (user + system of the whole process tree, GNU time, 10 ms resolution; median) — steadier than wall time
when the machine is busy:

${cpuTable}

${throughput.length === 0 ? '' : throughputSection}`;
}
