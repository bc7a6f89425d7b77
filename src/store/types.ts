// The database port: the tutorial's `users`/`aliases` tables behind either PostgreSQL (pg) or the embedded PGlite.

export interface QueryResult<Row> {
  readonly rows: Row[];
}

export interface Db {
  readonly kind: 'postgres' | 'embedded';
  /**
   * Parameterised query ($1, $2, ...). Never interpolate values into SQL. Failures throw
   * PgpipeError('db.unavailable').
   */
  query<Row = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<Row>>;
  /** Runs fn inside BEGIN/COMMIT; ROLLBACK on any throw. */
  transaction<T>(fn: (db: Db) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** What the store knows about one envelope recipient. */
export interface RecipientRecord {
  /** The recipient address as given. */
  readonly address: string;
  /** users.email of the matched row (for an alias: the first target that reached one), or null when none did. */
  readonly user: string | null;
  /** How it matched: the users table directly, or through an aliases row. */
  readonly via: 'user' | 'alias' | null;
  /** The users.pgpkey text (may hold several armored blocks; for an alias, every target's texts), or null. */
  readonly pgpkey: string | null;
  /**
   * Only for an alias that expands to more than one final address (several aliases rows, possibly through
   * chains): each final address, in order, with its own users row and key (null when it reached no users row).
   * Every one of them gets the message, so every one must be able to read it (see keys/recipient-keys.ts).
   */
  readonly targets?: readonly RecipientTarget[];
  /**
   * Set when the alias expansion went on beyond MAX_ALIAS_HOPS: pgpipe cannot tell who finally receives the mail,
   * so it cannot tell whose keys it needs (the filter holds such mail; see keys/recipient-keys.ts).
   */
  readonly unresolved?: 'hop-limit';
}

/** How addresses are matched: Postfix's recipient_delimiter, and the server's own domains for bare local parts. */
export interface AddressOptions {
  /** Characters that start an address extension ('' disables). */
  readonly delimiter: string;
  /** Domains besides those of the users rows where a bare local-part alias applies (the local_domains setting). */
  readonly localDomains?: readonly string[];
}

/** One final address an alias expands to. */
export interface RecipientTarget {
  /** The target address as stored in aliases.email. */
  readonly address: string;
  /** users.email of its row, or null when it has no users row (an outside address, a dead end). */
  readonly user: string | null;
  readonly pgpkey: string | null;
  /** Set when this branch of the expansion went on beyond MAX_ALIAS_HOPS (it may reach anybody). */
  readonly unresolved?: 'hop-limit';
}
