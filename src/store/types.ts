// The database port: the tutorial's `users`/`aliases` tables behind either PostgreSQL (pg) or the embedded PGlite.

export interface QueryResult<Row> {
  readonly rows: Row[];
}

export interface Db {
  readonly kind: 'postgres' | 'embedded';
  /** Parameterised query ($1, $2, ...). Never interpolate values into SQL. Failures throw PgpipeError('db.unavailable'). */
  query<Row = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<Row>>;
  /** Runs fn inside BEGIN/COMMIT; ROLLBACK on any throw. */
  transaction<T>(fn: (db: Db) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** What the store knows about one envelope recipient. */
export interface RecipientRecord {
  /** The recipient address as given. */
  readonly address: string;
  /** users.email of the matched row, or null when neither a user nor an alias matched. */
  readonly user: string | null;
  /** How it matched: the users table directly, or through an aliases row. */
  readonly via: 'user' | 'alias' | null;
  /** The users.pgpkey text (may hold several armored blocks), or null. */
  readonly pgpkey: string | null;
}
