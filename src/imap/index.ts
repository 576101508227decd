/**
 * The IMAP layer (docs/imap.md). The only importer of imapflow; the engine sees the types of
 * types.ts and these functions.
 */
export {connect, DEFAULT_DOWNLOAD_CHUNK_BYTES} from './connect.js'
export {ImapConnectionError, OversizedResponseError, type ConnectionFailure} from './imap-errors.js'
export {classifyImapError, type ErrorContext} from './classify.js'
export {serverAnswer, type ServerAnswer} from './server-answer.js'
export {decodeMailboxName, encodeMailboxName} from './mutf7.js'
export {compactUidSet, expandUidSet, isValidUidSet, uidSetMatcher} from './uid-set.js'
export type * from './types.js'
