// A reader that closes the pipe before pgpipe writes (`pgpipe doctor --help | head -1`): hand-run commands end
// quietly, encrypt fails as its output did not arrive (75 with a 4.x.x line), and neither reports a crash.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { seedEmbeddedDir } from '../helpers/embedded-template.js';
import { runCli, type CliResult } from '../helpers/run-cli.js';

/** Runs bin/pgpipe with its stdout pipe closed by the reader at once; resolves to exit code and stderr. */
const withClosedStdout = (args: string[], input = ''): Promise<CliResult> => runCli(args, { input, closeStdout: true });

describe('a reader that closes stdout early', () => {
  for (const args of [['--help'], ['doctor', '--help'], ['key', 'import', '--help'], ['--version']]) {
    it(`pgpipe ${args.join(' ')} exits 0 without an error line`, async () => {
      const result = await withClosedStdout(args);
      assert.equal(result.stderr, '');
      assert.equal(result.code, 0);
    });
  }

  it('pgpipe encrypt to nobody with a key: 75 and one 4.x.x line, not "internal error"', async () => {
    const message = 'From: a@example.org\nTo: b@example.org\nSubject: s\n\nbody\n';
    const scratch = mkdtempSync(join(tmpdir(), 'pgpipe-closed-stdout-'));
    const dir = seedEmbeddedDir(join(scratch, 'store'));
    const result = await withClosedStdout(['encrypt', '--to', 'b@example.org', '--data-dir', dir], message);
    rmSync(scratch, { recursive: true, force: true });
    assert.equal(result.code, 75, result.stderr);
    assert.match(result.stderr, /^4\.3\.0 pgpipe: standard output closed before the whole result was written\n$/);
  });
});
