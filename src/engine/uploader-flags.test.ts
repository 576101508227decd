import {describe, expect, it} from 'vitest'
import {FlagPolicy, keywordsOf, sameFlagSet} from './uploader-flags.js'

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
