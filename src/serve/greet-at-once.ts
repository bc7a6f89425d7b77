// smtp-server holds every greeting back 100 ms to catch early talkers (SMTPConnection.init, a fixed timer with no
// option). Postfix's smtp/lmtp clients wait for the greeting, and 100 ms per connection would be most of serve's
// latency (and all of the bench sink's). This replaces init with the same listener set-up minus the timer. The
// connection limit that init also checked is serve's own onConnect (front-end.ts). If the internals moved, it throws
// at start rather than silently put the pause back.
import { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';

interface Internals {
  init(): void;
  _setListeners(ready: () => void): void;
  connectionReady(): void;
}

let patched = false;

export function greetAtOnce(): void {
  if (patched) return;
  const proto = SMTPConnection.prototype as unknown as Internals;
  if (![proto.init, proto._setListeners, proto.connectionReady].every((method) => typeof method === 'function')) {
    throw new Error('smtp-server internals changed (SMTPConnection.init): update src/serve/greet-at-once.ts');
  }
  proto.init = function init(this: Internals): void {
    this._setListeners(() => this.connectionReady());
  };
  patched = true;
}
