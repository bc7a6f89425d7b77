// The fuzz run's key store: a throwaway PostgreSQL cluster with the tutorial's tables, a few keyed users, an alias,
// a two-key row and an unkeyed address; plus each pool address's private key for the oracle.
import * as openpgp from 'openpgp';
import { startPostgres, type PgCluster } from '../helpers/pg-cluster.js';
import { makeKey } from '../helpers/keys.js';
import type { OracleRecipient } from '../helpers/oracle.js';

export interface FuzzStore {
  readonly pg: PgCluster;
  /** Envelope addresses the generator picks from, with the key the oracle decrypts with (null: unkeyed). */
  readonly pool: readonly OracleRecipient[];
}

/** SQL text literal by dollar-quoting with a tag that cannot occur in the value. */
export function sqlText(value: string): string {
  let tag = 'k';
  while (value.includes(`$${tag}$`)) tag += 'k';
  return `$${tag}$${value}$${tag}$`;
}

export const insertUser = (email: string, pgpkey: string): string =>
  `INSERT INTO users (email, pgpkey, password, maildir) VALUES (${sqlText(email)}, ${sqlText(pgpkey)}, 'x', 'fuzz/');`;

export async function startFuzzStore(): Promise<FuzzStore> {
  const [alice, bob, erin1, erin2] = await Promise.all([
    makeKey({ kind: 'curve25519', email: 'alice@fuzz.test' }),
    makeKey({ kind: 'rsa2048', email: 'bob@fuzz.test' }),
    makeKey({ kind: 'curve25519', email: 'erin@fuzz.test' }),
    makeKey({ kind: 'curve25519', email: 'erin-laptop@fuzz.test' }),
  ]);
  const pg = await startPostgres();
  try {
    await pg.psql([
      insertUser('alice@fuzz.test', alice.publicArmored),
      insertUser('bob@fuzz.test', bob.publicArmored),
      insertUser('erin@fuzz.test', `${erin1.publicArmored}\n${erin2.publicArmored}`),
      "INSERT INTO aliases (alias, email) VALUES ('dave@fuzz.test', 'alice@fuzz.test');",
    ].join('\n'));
  } catch (error) {
    await pg.stop();
    throw error;
  }
  const priv = (armoredKey: string) => openpgp.readPrivateKey({ armoredKey });
  const [a, b, e] = await Promise.all([priv(alice.privateArmored), priv(bob.privateArmored), priv(erin2.privateArmored)]);
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
