import {describe, expect, it} from 'vitest'
import {RemoteError} from '../../shared/errors.js'
import {FlagPolicy, keywordsOf, mayConcernKeywords, sameFlagSet} from './flags.js'

/** A RemoteError as classify.ts makes it from imapflow's rejection of `tag NO [CODE] text`. */
function refusal(status: 'NO' | 'BAD', code: string | undefined, text: string): RemoteError {
  const attributes = code === undefined ? [{type: 'TEXT', value: text}] : [{type: 'ATOM', value: '', section: [{type: 'ATOM', value: code}]}, {type: 'TEXT', value: text}]
  const cause = Object.assign(new Error('Command failed'), {responseStatus: status, responseText: text, response: {tag: 'A1', command: status, attributes}})
  return new RemoteError(`server answered ${status} to APPEND`, {cause})
}

describe('FlagPolicy', () => {
  it('sets system flags and any keyword when PERMANENTFLAGS has \\*', () => {
    const policy = new FlagPolicy(['\\Answered', '\\Flagged', '\\Deleted', '\\Seen', '\\Draft', '\\*'])
    expect(policy.choose(['Seen', 'Flagged', '$Forwarded', 'Work'])).toEqual({flags: ['\\Seen', '\\Flagged', '$Forwarded', 'Work'], dropped: []})
  })

  it('never sets \\Deleted or \\Recent, and does not report them', () => {
    expect(new FlagPolicy(undefined).choose(['Deleted', 'Recent', 'Seen'])).toEqual({flags: ['\\Seen'], dropped: []})
  })

  it('drops, with a reason, keywords a folder without \\* does not list, and invalid ones', () => {
    const policy = new FlagPolicy(['\\Seen', '\\Flagged', '$Label1'])
    const choice = policy.choose(['Seen', 'Draft', '$label1', '$Other', 'bad keyword', 'x(y'])
    expect(choice.flags).toEqual(['\\Seen', '$label1'])
    expect(choice.dropped.map((d) => d.flag)).toEqual(['\\Draft', '$Other', 'bad keyword', 'x(y'])
    expect(choice.dropped[0]!.reason).toMatch(/PERMANENTFLAGS/)
    expect(choice.dropped[1]!.reason).toMatch(/new keywords/)
    expect(choice.dropped[2]!.reason).toMatch(/not a valid IMAP keyword/)
  })

  it('takes every flag as permanent without PERMANENTFLAGS (RFC 3501 §7.1)', () => {
    expect(new FlagPolicy(undefined).choose(['Answered', '$MDNSent']).flags).toEqual(['\\Answered', '$MDNSent'])
  })

  it('drops keywords the server refused from then on', () => {
    const policy = new FlagPolicy(undefined)
    policy.refuse(['$Big'])
    expect(policy.choose(['Seen', '$big'])).toEqual({flags: ['\\Seen'], dropped: [{flag: '$big', reason: 'the server refused it'}]})
  })

  it('managed() excludes \\Deleted and \\Recent', () => {
    expect(FlagPolicy.managed('\\Seen')).toBe(true)
    expect(FlagPolicy.managed('$x')).toBe(true)
    expect(FlagPolicy.managed('\\deleted')).toBe(false)
    expect(FlagPolicy.managed('\\Recent')).toBe(false)
  })
})

describe('flag helpers', () => {
  it('sameFlagSet ignores order and the case of system flags, not of keywords', () => {
    expect(sameFlagSet(['\\Seen', '$a'], ['$a', '\\SEEN'])).toBe(true)
    expect(sameFlagSet(['$a'], ['$A'])).toBe(false)
    expect(sameFlagSet(['\\Seen'], ['\\Seen', '\\Flagged'])).toBe(false)
  })

  it('keywordsOf keeps the keywords', () => {
    expect(keywordsOf(['\\Seen', '$a', 'b'])).toEqual(['$a', 'b'])
  })
})

describe('mayConcernKeywords: is a refused APPEND or STORE worth retrying without its keywords?', () => {
  it.each([
    ['BAD (a keyword the server cannot parse)', refusal('BAD', undefined, 'Invalid arguments'), true],
    ['NO [CANNOT]', refusal('NO', 'CANNOT', 'Keywords are not supported'), true],
    ['NO [CLIENTBUG]', refusal('NO', 'CLIENTBUG', 'Bad request'), true],
    ['a code-less NO that names flags', refusal('NO', undefined, 'Invalid flag list'), true],
    ['a vague code-less NO', refusal('NO', undefined, 'APPEND failed'), true],
    ['NO [OVERQUOTA]', refusal('NO', 'OVERQUOTA', 'Quota exceeded'), false],
    ['NO [TOOBIG]', refusal('NO', 'TOOBIG', 'Message too big'), false],
    ['NO [LIMIT]', refusal('NO', 'LIMIT', 'Too many messages'), false],
    ['NO [TRYCREATE]', refusal('NO', 'TRYCREATE', 'Mailbox does not exist'), false],
    ['NO [SERVERBUG] even when it names flags', refusal('NO', 'SERVERBUG', 'flag index corrupt'), false],
    ['a code-less NO about the size', refusal('NO', undefined, 'Message too large'), false],
    ['a code-less NO about the quota', refusal('NO', undefined, 'Mailbox is full: quota exceeded'), false],
  ])('%s → %s', (_what, error, expected) => {
    expect(mayConcernKeywords(error)).toBe(expected)
  })

  it('is false for anything that is not a NO or BAD from the server', () => {
    expect(mayConcernKeywords(new RemoteError('unparseable response'))).toBe(false)
    expect(mayConcernKeywords(new Error('boom'))).toBe(false)
  })
})
