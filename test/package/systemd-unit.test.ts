// packaging/systemd/pgpipe-serve.service on its own (the Debian package test verifies the installed copy): what
// systemd-analyze makes of it, and that it agrees with the settings and with the wiring `pgpipe setup` applies.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SETTINGS } from '../../src/config/settings.js';
import { serveSocket, type WiringOptions } from '../../src/setup/postfix-wiring.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const UNIT = readFileSync(join(ROOT, 'packaging/systemd/pgpipe-serve.service'), 'utf8');
const analyze = spawnSync('systemd-analyze', ['--version']).status === 0;

/** The [Service] section's settings (the last value of a key wins, as in systemd). */
function service(): Map<string, string> {
  const section = /^\[Service\]\n([\s\S]*?)(?=^\[|(?![\s\S]))/m.exec(UNIT)?.[1] ?? '';
  const values = new Map<string, string>();
  for (const line of section.split('\n')) {
    const match = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (match) values.set(match[1] ?? '', match[2] ?? '');
  }
  return values;
}

describe('pgpipe-serve.service', () => {
  it(
    'passes systemd-analyze verify (with the checkout as the program)',
    { skip: !analyze && 'no systemd-analyze' },
    () => {
      const dir = mkdtempSync(join(tmpdir(), 'pgpipe-unit-'));
      try {
        // verify insists that ExecStart's program exists: the checkout's stands in for /usr/bin/pgpipe.
        const unit = join(dir, 'pgpipe-serve.service');
        writeFileSync(unit, UNIT.replace('ExecStart=/usr/bin/pgpipe ', `ExecStart=${join(ROOT, 'bin/pgpipe')} `));
        const result = spawnSync('systemd-analyze', ['verify', '--man=no', unit], { encoding: 'utf8', cwd: dir });
        assert.equal(result.status, 0, `${result.stdout}${result.stderr}`);
        assert.equal(`${result.stdout}${result.stderr}`.trim(), '');
        const security = spawnSync('systemd-analyze', ['security', '--offline=yes', unit], { encoding: 'utf8' });
        const level = /Overall exposure level for pgpipe-serve\.service: ([\d.]+)/.exec(security.stdout)?.[1];
        assert.ok(Number(level) <= 3.5, `exposure ${level ?? '?'}:\n${security.stdout}`);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );

  it('runs pgpipe serve as pgpipe, reloads with SIGHUP, stops with SIGTERM after serve_grace has had its time', () => {
    const s = service();
    assert.equal(s.get('ExecStart'), '/usr/bin/pgpipe serve');
    assert.equal(s.get('ExecReload'), '/bin/kill -HUP $MAINPID');
    assert.equal(s.get('KillSignal'), 'SIGTERM');
    assert.equal(s.get('User'), 'pgpipe');
    assert.equal(s.get('Restart'), 'on-failure');
    const grace = SETTINGS.find((x) => x.key === 'serveGraceMs')?.schema.parse(undefined) as number;
    assert.ok(
      Number(s.get('TimeoutStopSec')) * 1000 > grace + 10_000,
      'TimeoutStopSec leaves no time past serve_grace',
    );
  });

  it("lets serve create its socket where setup's serve-lmtp wiring puts it, and nowhere else", () => {
    const s = service();
    const wiring = { mode: 'serve-lmtp', postfixConfig: '/etc/postfix' } as WiringOptions;
    assert.equal(s.get('ProtectSystem'), 'strict');
    assert.equal(s.get('ReadWritePaths'), `-${serveSocket(wiring).dir}`);
    assert.equal(s.get('UMask'), '0007'); // the socket 0770: the setgid directory's group (postfix) and pgpipe
  });

  it('keeps the hardening the issue asks for, and not MemoryDenyWriteExecute (V8 writes code at run time)', () => {
    const s = service();
    for (const [key, value] of Object.entries({
      NoNewPrivileges: 'yes',
      ProtectHome: 'yes',
      PrivateTmp: 'yes',
      PrivateDevices: 'yes',
      ProtectKernelTunables: 'yes',
      ProtectKernelModules: 'yes',
      ProtectKernelLogs: 'yes',
      ProtectControlGroups: 'yes',
      RestrictAddressFamilies: 'AF_UNIX AF_INET AF_INET6',
      RestrictNamespaces: 'yes',
      LockPersonality: 'yes',
      RestrictRealtime: 'yes',
      RestrictSUIDSGID: 'yes',
      SystemCallArchitectures: 'native',
      CapabilityBoundingSet: '',
    })) {
      assert.equal(s.get(key), value, key);
    }
    assert.equal(s.has('MemoryDenyWriteExecute'), false);
    assert.doesNotMatch(UNIT, /^\[Install\][\s\S]*^WantedBy=(?!multi-user\.target$)/m);
  });
});
