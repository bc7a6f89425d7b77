// What every admin command function is handed: the open store and the clock. Commands never open the store,
// read argv or exit themselves (so each one runs against any store, in tests as in the CLI); register-admin.ts
// wires these for the CLI, tests pass their own.
import type { AddressOptions, Db } from '../store/types.js';

export interface AdminDeps {
  readonly db: Db;
  readonly now: () => Date;
  /** How the filter matches addresses (delimiter, local domains); tests may leave it out: `+`, no extra domains. */
  readonly addressing?: AddressOptions;
}
