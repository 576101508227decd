/**
 * How much a session accepts from the server in one piece (imapflow's `maxLiteralSize` and
 * `maxResponseSize`), so that a broken or hostile server cannot make mailkeep buffer a gigabyte:
 * imapflow assembles every literal whole, and holds it twice for an instant while it
 * concatenates the chunks (docs/imap.md, "Buffering"). Its defaults are 1 GiB per literal and
 * 2 GiB per response.
 *
 * No legitimate literal needs to be near that. The engine fetches a message whole only when it
 * is at most `wholeMessageBytes` (the config's `large_message_bytes`, 8 MiB by default, checked
 * with `UID SEARCH LARGER`); bigger ones are downloaded in chunks of `chunkBytes` with partial
 * FETCHes (RFC 3501 §6.4.5). The limit is a few times the larger of the two, for the slack
 * between what SEARCH LARGER and RFC822.SIZE count and what the literal holds (bare LF sent as
 * CRLF, servers that estimate sizes), and never under 64 MiB, so that a server that ignores the
 * byte range of a partial FETCH and sends a whole message still gets through for all but very
 * large ones. A literal over the limit fails its command with OversizedResponseError before any
 * of its bytes are read; the engine then downloads that batch's messages in chunks.
 */

/** The floor of the literal limit. */
export const MIN_LITERAL_LIMIT_BYTES = 64 * 1024 * 1024
/** How many times the largest expected literal the limit allows. */
export const LITERAL_LIMIT_FACTOR = 4
/** What a response may hold besides its one literal: the FETCH line around it (UID, FLAGS with the folder's keywords, INTERNALDATE, MODSEQ). */
export const RESPONSE_HEADROOM_BYTES = 1024 * 1024

/** imapflow's `maxLiteralSize` for a session whose caller fetches messages up to `wholeMessageBytes` whole. */
export function literalLimit(wholeMessageBytes: number, chunkBytes: number): number {
  return Math.max(MIN_LITERAL_LIMIT_BYTES, LITERAL_LIMIT_FACTOR * wholeMessageBytes, LITERAL_LIMIT_FACTOR * chunkBytes)
}

/**
 * imapflow's `maxResponseSize`: one literal at the limit plus its framing. imapflow requires it
 * to be above the literal limit, or a literal of exactly the limit could not be received. It also
 * bounds a line without a literal (imapflow's own line limit is 1 GiB): a SEARCH answer of
 * millions of UIDs still fits.
 */
export function responseLimit(literalBytes: number): number {
  return literalBytes + RESPONSE_HEADROOM_BYTES
}
