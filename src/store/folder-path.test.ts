import {posix} from 'node:path'
import fc from 'fast-check'
import {describe, expect, it} from 'vitest'
import {InternalError, UsageError} from '../shared/errors.js'
import {decodeFolderPath, encodeFolderPath, folderNameWithSuffix, MAX_COMPONENT_BYTES, SUFFIX_RESERVE_BYTES} from './folder-path.js'

/** imap-backup's own mapping (compat §4.1): only `:` `%` `;`, as `%<hex>;`. */
function imapBackupEncode(name: string): string {
  return name.replace(/[:%;]/g, (c) => `%${c.charCodeAt(0).toString(16)};`)
}

/** NUL, C0 controls and DEL: what mailkeep never writes into a file name. */
function hasControlCharacter(text: string): boolean {
  return [...text].some((c) => c.charCodeAt(0) < 0x20 || c === '\x7f')
}

/** Characters that need mailkeep's safety escapes, biased towards the interesting ones. */
const unit = fc.oneof(
  {weight: 4, arbitrary: fc.constantFrom('/', '.', ':', '%', ';', '\0', '\n', '..', '%2e;', '%2f;', '%3a;', '\x7f', '\x1f', '\\', ' ')},
  {weight: 3, arbitrary: fc.string({unit: 'binary', minLength: 1, maxLength: 1})},
  {weight: 3, arbitrary: fc.string({unit: 'grapheme-ascii', minLength: 1, maxLength: 1})},
  {weight: 1, arbitrary: fc.integer({min: 0xd800, max: 0xdfff}).map((c) => String.fromCharCode(c))},
)
const folderName = fc.string({unit, minLength: 1, maxLength: 24})
const anyName = fc.string({unit, maxLength: 120})

function tryEncode(name: string): string | UsageError {
  try {
    return encodeFolderPath(name)
  } catch (error) {
    if (error instanceof UsageError) return error
    throw error
  }
}

describe('encodeFolderPath', () => {
  it('keeps imap-backup paths for ordinary names', () => {
    expect(encodeFolderPath('INBOX')).toBe('INBOX')
    expect(encodeFolderPath('[Gmail]/All Mail')).toBe('[Gmail]/All Mail')
    expect(encodeFolderPath('INBOX.Sub')).toBe('INBOX.Sub')
    expect(encodeFolderPath('Entwürfe')).toBe('Entwürfe')
    expect(encodeFolderPath('a:b')).toBe('a%3a;b')
    expect(encodeFolderPath('50%')).toBe('50%25;')
    expect(encodeFolderPath('x;y')).toBe('x%3b;y')
    expect(encodeFolderPath('.hidden/..x/a..b/...')).toBe('.hidden/..x/a..b/...')
  })

  // Where each hostile name lands, relative to the account root.
  const hostile: [string, string][] = [
    ['../../etc/passwd', '%2e;%2e;/%2e;%2e;/etc/passwd'],
    ['/etc/passwd', '%2f;etc/passwd'],
    ['a/../../b', 'a/%2e;%2e;/%2e;%2e;/b'],
    ['a/./b', 'a/%2e;/b'],
    ['..', '%2e;%2e;'],
    ['.', '%2e;'],
    ['../', '..%2f;'],
    ['/..', '%2f;..'],
    ['a\0b', 'a%0;b'],
    ['\n', '%a;'],
    ['tab\there\r\n', 'tab%9;here%d;%a;'],
    ['del\x7f', 'del%7f;'],
    ['a//b', 'a/%2f;b'],
    ['a///b', 'a/%2f;/b'],
    ['a////b', 'a/%2f;/%2f;b'],
    ['a/', 'a%2f;'],
    ['/', '%2f;'],
    ['//', '%2f;%2f;'],
    ['C:\\x', 'C%3a;\\x'],
    ['C:\\..\\x', 'C%3a;\\..\\x'],
    ['%2e;', '%25;2e%3b;'],
    ['%2e;%2e;/x', '%25;2e%3b;%25;2e%3b;/x'],
    ['\ud800x', '%d800;x'],
    ['\udfff', '%dfff;'],
    ['😀/\u0085', '😀/\u0085'],
  ]
  it.each(hostile)('puts %j at %j, inside the root', (name, expected) => {
    const encoded = encodeFolderPath(name)
    expect(encoded).toBe(expected)
    const root = '/backup/account'
    expect(posix.resolve(root, `${encoded}.mbox`).startsWith(`${root}/`)).toBe(true)
    expect(decodeFolderPath(encoded)).toBe(name)
  })

  it('refuses the empty name', () => {
    expect(() => encodeFolderPath('')).toThrow(UsageError)
  })

  it('refuses a component longer than 255 bytes (215 for the last one), naming the folder', () => {
    const last = MAX_COMPONENT_BYTES - SUFFIX_RESERVE_BYTES
    expect(encodeFolderPath('x'.repeat(last))).toBe('x'.repeat(last))
    expect(() => encodeFolderPath('x'.repeat(last + 1))).toThrow(UsageError)
    // Directories carry no suffix: they may use all 255 bytes.
    expect(encodeFolderPath(`${'x'.repeat(255)}/${'y'.repeat(last)}`)).toContain('/')
    for (const name of ['x'.repeat(256), 'é'.repeat(128), `a/${'x'.repeat(300)}`, ';'.repeat(64), '\0'.repeat(86)]) {
      expect(() => encodeFolderPath(name)).toThrow(UsageError)
      expect(() => encodeFolderPath(name)).toThrow(JSON.stringify(name))
    }
    // 53 escapes of 4 bytes fit in the last component, 54 do not: the limit is on the encoded name.
    expect(encodeFolderPath(';'.repeat(53))).toHaveLength(212)
    expect(() => encodeFolderPath(';'.repeat(54))).toThrow(UsageError)
  })

  it('property: never throws for short names; the result is a safe, normalised relative path', () => {
    fc.assert(
      fc.property(anyName, (name) => {
        const result = tryEncode(name)
        if (result instanceof UsageError) {
          // Each character grows to at most 4 bytes (`%3b;`), so only long names can fail.
          expect(name === '' || Buffer.byteLength(name) > MAX_COMPONENT_BYTES / 4).toBe(true)
          if (name !== '') expect(result.message).toContain(JSON.stringify(name))
          return
        }
        expect(result.startsWith('/')).toBe(false)
        expect(posix.normalize(result)).toBe(result)
        expect(posix.isAbsolute(result)).toBe(false)
        expect(hasControlCharacter(result)).toBe(false)
        // Well-formed UTF-16, so the file system stores exactly this name (no U+FFFD).
        expect(Buffer.from(result, 'utf8').toString('utf8')).toBe(result)
        for (const component of result.split('/')) {
          expect(component).not.toBe('')
          expect(component).not.toBe('.')
          expect(component).not.toBe('..')
          expect(Buffer.byteLength(component)).toBeLessThanOrEqual(MAX_COMPONENT_BYTES)
        }
        expect(decodeFolderPath(result)).toBe(name)
      }),
      {numRuns: 5000},
    )
  })

  it('property: a name imap-backup can store safely gets imap-backup\'s path', () => {
    fc.assert(
      fc.property(folderName, (name) => {
        const components = name.split('/')
        const safe =
          !hasControlCharacter(name) && Buffer.from(name).toString() === name && components.every((c) => c !== '' && c !== '.' && c !== '..')
        if (safe) expect(encodeFolderPath(name)).toBe(imapBackupEncode(name))
      }),
      {numRuns: 5000},
    )
  })

  it('is injective on a large random sample', () => {
    const names = new Set(fc.sample(folderName, {numRuns: 50_000, seed: 42}))
    const paths = new Set([...names].map((name) => encodeFolderPath(name)))
    expect(names.size).toBeGreaterThan(40_000)
    expect(paths.size).toBe(names.size)
  })
})

describe('decodeFolderPath', () => {
  it('reads the names imap-backup wrote', () => {
    expect(decodeFolderPath('[Gmail]/All Mail')).toBe('[Gmail]/All Mail')
    expect(decodeFolderPath('a%3a;b')).toBe('a:b')
    expect(decodeFolderPath('50%25;')).toBe('50%')
    expect(decodeFolderPath('x%3b;y/%25;%3a;')).toBe('x;y/%:')
  })

  it('property: inverts imap-backup\'s mapping for any name', () => {
    fc.assert(fc.property(anyName, (name) => {
      expect(decodeFolderPath(imapBackupEncode(name))).toBe(name)
    }), {numRuns: 2000})
  })

  it('keeps a % that does not start a well-formed escape', () => {
    expect(decodeFolderPath('50%')).toBe('50%')
    expect(decodeFolderPath('%zz;')).toBe('%zz;')
    expect(decodeFolderPath('%03a;')).toBe('%03a;')
    expect(decodeFolderPath('%110000;')).toBe('%110000;')
    expect(decodeFolderPath('%%3a;')).toBe('%:')
  })
})

describe('folderNameWithSuffix', () => {
  it('appends to the server name, which is then encoded (compat §4.6)', () => {
    expect(folderNameWithSuffix('INBOX', 1606316666)).toBe('INBOX-1606316666')
    expect(folderNameWithSuffix('INBOX', '-1606316666')).toBe('INBOX-1606316666')
    expect(folderNameWithSuffix('INBOX', '-1606316666-2')).toBe('INBOX-1606316666-2')
    expect(folderNameWithSuffix('[Gmail]/All Mail', 7)).toBe('[Gmail]/All Mail-7')
    expect(encodeFolderPath(folderNameWithSuffix('a:b', 42))).toBe('a%3a;b-42')
    // The suffix lands in the last component, so `..` and a trailing `/` stop being special.
    expect(encodeFolderPath(folderNameWithSuffix('..', 1))).toBe('..-1')
    expect(encodeFolderPath(folderNameWithSuffix('a/', '-1-2'))).toBe('a/-1-2')
  })

  it('refuses a result that cannot be stored, and a malformed suffix', () => {
    expect(() => folderNameWithSuffix('x'.repeat(250), 1606316666)).toThrow(UsageError)
    expect(() => folderNameWithSuffix('', 1)).toThrow(UsageError)
    for (const bad of [-1, 1.5, Number.NaN, '', '1', '-', '-1/2', '/../1', '-1-', '-x']) {
      expect(() => folderNameWithSuffix('INBOX', bad)).toThrow(InternalError)
    }
  })
})
