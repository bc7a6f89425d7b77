// The shapes a message takes inside pgpipe. Bytes stay Buffers; only header names become strings.

/** One header field exactly as it arrived: name plus all continuation lines, without the final line ending. */
export interface HeaderField {
  /** The field name as written (case preserved). */
  readonly name: string;
  /** Lower-cased name, for comparisons. */
  readonly lower: string;
  /** The whole field, `Name: value` plus folded continuation lines with their own line endings, no final EOL. */
  readonly raw: Buffer;
  /** The line ending that followed the field in the input ('' at end of input). Set by splitMessage. */
  readonly eol?: '' | '\n' | '\r\n';
}

export interface SplitMessage {
  /** Header fields in order. */
  readonly fields: readonly HeaderField[];
  /** Everything after the header/body separator (or after the header section when there is no separator). */
  readonly body: Buffer;
  /** Line ending used by the header section ('\n' for what Postfix pipe hands over). */
  readonly eol: '\n' | '\r\n';
  /** False when the input had no empty line ending the header section. */
  readonly hasSeparator: boolean;
  /** The empty line that ended the header section ('' when hasSeparator is false). Set by splitMessage. */
  readonly separator?: '' | '\n' | '\r\n';
  /**
   * A leading mbox `From sender date` envelope line, with its line ending, exactly as it came. It is not a header
   * field; the outer message keeps it first. Set by splitMessage only when present.
   */
  readonly envelope?: Buffer;
}

/** Why a message must pass through unchanged because it is already protected end to end. */
export type Protection =
  { readonly kind: 'none' } | { readonly kind: 'pgp-mime' | 'pgp-inline' | 'smime' | 'pgp-mime-exchange' };

export interface HeaderProtectionOptions {
  /** Copy the protected headers into the encrypted payload (protected-headers="v1"; hp="cipher"). */
  readonly enabled: boolean;
  /** The outer Subject: replaced by `placeholder` (RFC 9788 "[...]"), or kept visible when null. */
  readonly subjectPlaceholder: string | null;
}
