// The fuzz run's key store: a throwaway PostgreSQL cluster with the tutorial's tables, a few keyed users, an alias,
// a two-key row and an unkeyed address; plus each pool address's private key for the oracle.
import * as openpgp from 'openpgp';
import { startPostgres, type PgCluster } from '../helpers/pg-cluster.js';
import { makeKey } from '../helpers/keys.js';
import { seedStore } from '../helpers/seed.js';
import type { OracleRecipient } from '../helpers/oracle.js';

export interface FuzzStore {
  readonly pg: PgCluster;
  /** Envelope addresses the generator picks from, with the key the oracle decrypts with (null: unkeyed). */
  readonly pool: readonly OracleRecipient[];
}

export async function startFuzzStore(): Promise<FuzzStore> {
  const [alice, bob, erin1, erin2] = await Promise.all([
    makeKey({ kind: 'curve25519', email: 'alice@fuzz.test' }),
    makeKey({ kind: 'rsa2048', email: 'bob@fuzz.test' }),
    makeKey({ kind: 'curve25519', email: 'erin@fuzz.test' }),
    makeKey({ kind: 'curve25519', email: 'erin-laptop@fuzz.test' }),
  ]);
  const pg = await startPostgres();
  try {
    await seedStore(
      { databaseUrl: pg.url },
      [
        { email: 'alice@fuzz.test', pgpkey: alice.publicArmored },
        { email: 'bob@fuzz.test', pgpkey: bob.publicArmored },
        { email: 'erin@fuzz.test', pgpkey: `${erin1.publicArmored}\n${erin2.publicArmored}` },
      ],
      [{ alias: 'dave@fuzz.test', email: 'alice@fuzz.test' }],
    );
  } catch (error) {
    await pg.stop();
    throw error;
  }
  const priv = (armoredKey: string) => openpgp.readPrivateKey({ armoredKey });
  const [a, b, e] = await Promise.all([
    priv(alice.privateArmored),
    priv(bob.privateArmored),
    priv(erin2.privateArmored),
  ]);
  return {
    pg,
    pool: [
      { address: 'alice@fuzz.test', privateKey: a },
      { address: 'bob@fuzz.test', privateKey: b },
      { address: 'carol@fuzz.test', privateKey: null },
      { address: 'dave@fuzz.test', privateKey: a },
      { address: 'Alice+news@FUZZ.test', privateKey: a },
      { address: 'erin@fuzz.test', privateKey: e },
    ],
  };
}
