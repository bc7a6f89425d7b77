// The progress display of `mailbox encrypt` on stderr: on a terminal one line redrawn in place with counts, rate
// and ETA (at most 10 times a second); otherwise (a log, cron) plain lines: one when a mailbox starts, one every
// 1,000 messages. Never message content.

export interface Progress {
  update(mailbox: string, done: number, total: number): void;
  /** Ends the mailbox's line (a terminal's redrawn line becomes permanent). */
  finish(mailbox: string, line: string): void;
}

const clock = (seconds: number): string => {
  const s = Math.max(0, Math.round(seconds));
  const mm = String(Math.floor(s / 60) % 60).padStart(2, '0');
  const ss = String(s % 60).padStart(2, '0');
  return s >= 3600 ? `${Math.floor(s / 3600)}:${mm}:${ss}` : `${Math.floor(s / 60)}:${ss}`;
};

export function createProgress(stream: NodeJS.WriteStream, now: () => number = Date.now): Progress {
  const tty = stream.isTTY === true;
  let started = now();
  let current = '';
  let drawn = -Infinity;
  return {
    update(mailbox, done, total) {
      if (mailbox !== current) {
        current = mailbox;
        started = now();
        drawn = -Infinity;
        if (!tty) stream.write(`pgpipe: ${mailbox}: ${total} message(s)\n`);
      }
      const elapsed = (now() - started) / 1000;
      const rate = elapsed > 0 ? done / elapsed : 0;
      const eta = rate > 0 ? ` ETA ${clock((total - done) / rate)}` : '';
      const line = `pgpipe: ${mailbox}: ${done}/${total}, ${rate.toFixed(1)} msg/s${eta}`;
      if (tty) {
        if (done < total && now() - drawn < 100) return;
        drawn = now();
        stream.write(`\r\x1b[K${line}`);
      } else if (done > 0 && done % 1000 === 0) {
        stream.write(`${line}\n`);
      }
    },
    finish(_mailbox, line) {
      stream.write(tty ? `\r\x1b[K${line}\n` : `${line}\n`);
    },
  };
}
