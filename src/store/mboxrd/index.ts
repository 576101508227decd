/**
 * The MBOXRD codec: pure functions over Buffers, no file I/O (the transaction layer writes what
 * these return). The format, both reading rules and the exactness record are specified in
 * docs/mbox-format.md.
 */
export {MboxrdEncoder, encodeMessage, type EncoderOptions, type EncoderClose, type EncoderEnd, type EncodedMessage} from './encoder.js'
export {type ByteOutput} from './byte-sink.js'
export {MboxrdDecoder, decodeEntry} from './decoder.js'
export {legacyDecode, legacyToUpload} from './legacy.js'
export {
  FromLineStart,
  prefixBytes,
  quotesLine,
  quoteText,
  readerUnquotes,
  strictToCompat,
  unquotesLine,
  unquoteText,
  writerQuotes,
  WRITER_QUOTING,
  type QuotingRule,
} from './quoting.js'
export {
  isEntryStart,
  scanEntries,
  scanEntriesAsync,
  EntryScanner,
  type EntrySpan,
  type ScanRule,
} from './entry-scan.js'
export {
  validateExactnessRecord,
  toExactnessTuple,
  fromExactnessTuple,
  EolBuilder,
  EolCursor,
  type ExactnessRecord,
  type ExactnessTuple,
  type EolKinds,
  type AppendedCount,
} from './exactness.js'
export {separatorLine} from './from-line.js'
export {readSenderFields, type SenderFields} from './header-fields.js'
export {asctimeFromDate} from './date-asctime.js'
export {parseDateTime, type DateTimeFields} from './date-time.js'
export {HEADER_CAP} from './header-block.js'
