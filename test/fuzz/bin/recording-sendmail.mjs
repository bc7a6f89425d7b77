#!/usr/bin/env node
// Recording sendmail stand-in for fuzz and fault tests: stores argv and stdin under $RECORD_DIR, then behaves as
// $RECORD_MODE says. Test-only: it writes the message it receives (plaintext) into the test's own directory.
//   RECORD_MODE=ok (default) | exit (exit $RECORD_EXIT after reading everything) | hang (read all, never exit)
//             | hang-before-read (never read, never exit) | die-mid-read (SIGKILL itself after $RECORD_AFTER bytes)
//             | exit0-unread (exit 0 at once without reading stdin: a broken sendmail)
//   RECORD_FAIL_CALL=N: only the Nth invocation in this $RECORD_DIR exits $RECORD_EXIT (default 75); others succeed.
// Files: <id>.start.json {argv} at start; <id>.eml (stdin bytes) and <id>.done.json {argv, exit, bytes} at the end.
// A copy counts as handed on only when <id>.done.json exists with exit 0.
import { readdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.env.RECORD_DIR;
if (!dir) {
  process.stderr.write('recording-sendmail: RECORD_DIR unset\n');
  process.exit(75);
}
const mode = process.env.RECORD_MODE ?? 'ok';
const id = `${process.hrtime.bigint()}-${process.pid}`;
const argv = process.argv.slice(2);
const callNo = readdirSync(dir).filter((n) => n.endsWith('.start.json')).length + 1;
writeFileSync(join(dir, `${id}.start.json`), JSON.stringify({ argv, pid: process.pid }));

const forever = () => setInterval(() => {}, 1 << 30);
if (mode === 'hang-before-read') {
  forever();
} else if (mode === 'exit0-unread') {
  process.exit(0);
} else {
  const chunks = [];
  let bytes = 0;
  const after = Number(process.env.RECORD_AFTER ?? '1');
  process.stdin.on('data', (chunk) => {
    chunks.push(chunk);
    bytes += chunk.length;
    if (mode === 'die-mid-read' && bytes >= after) process.kill(process.pid, 'SIGKILL');
  });
  process.stdin.on('end', () => {
    if (mode === 'hang') return forever();
    const failCall = Number(process.env.RECORD_FAIL_CALL ?? '0');
    const failing = mode === 'exit' && (failCall === 0 || failCall === callNo);
    const exit = failing ? Number(process.env.RECORD_EXIT ?? '75') : 0;
    writeFileSync(join(dir, `${id}.eml`), Buffer.concat(chunks));
    writeFileSync(join(dir, `${id}.tmp`), JSON.stringify({ argv, exit, bytes }));
    renameSync(join(dir, `${id}.tmp`), join(dir, `${id}.done.json`));
    if (exit !== 0) process.stderr.write(`recording-sendmail: exiting ${exit} by request\n`);
    process.exit(exit);
  });
}
