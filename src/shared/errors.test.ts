import {describe, expect, it} from 'vitest'
import {readFileSync} from 'node:fs'
import {ExitCode} from './exit-codes.js'
import {ConfigError, ConnectionError, InterruptedError, LocalIoError, localIoError, toMailkeepError} from './errors.js'

describe('errors', () => {
  it('carries the exit code of the table', () => {
    expect(new ConfigError('x').exitCode).toBe(ExitCode.CONFIG)
    expect(new ConnectionError('x').exitCode).toBe(111)
    expect(new InterruptedError('SIGINT').exitCode).toBe(130)
    expect(new InterruptedError('SIGTERM').exitCode).toBe(143)
  })

  it('turns ENOSPC into a LocalIoError naming the file', () => {
    const e = localIoError(Object.assign(new Error('boom'), {code: 'ENOSPC'}), 'append to', '/b/INBOX.mbox')
    expect(e).toBeInstanceOf(LocalIoError)
    expect((e as LocalIoError).message).toBe("cannot append to '/b/INBOX.mbox': no space left on device")
    expect((e as LocalIoError).exitCode).toBe(ExitCode.LOCAL_IO)
  })

  // Found by test/reliability (a write-layer fault): an mbox reaching the file system's largest
  // file size (FAT32: 4 GiB) or `ulimit -f` failed with EFBIG, which was taken for a bug (exit 70)
  // or for a problem of one message instead of ending the run like a full disk.
  it('turns EFBIG (file too large) into a LocalIoError too', () => {
    const e = localIoError(Object.assign(new Error('boom'), {code: 'EFBIG'}), 'append to', '/b/INBOX.mbox')
    expect(e).toBeInstanceOf(LocalIoError)
    expect((e as LocalIoError).message).toBe("cannot append to '/b/INBOX.mbox': file too large")
  })

  it('treats unknown errors as internal', () => {
    expect(toMailkeepError(new TypeError('x')).exitCode).toBe(ExitCode.INTERNAL)
  })

  it('agrees with docs/exit-codes.md', () => {
    const doc = readFileSync(new URL('../../docs/exit-codes.md', import.meta.url), 'utf8')
    const rows = [...doc.matchAll(/^\| (\d+) \| `(\w+)` \|/gm)].map((m) => [m[2], Number(m[1])])
    expect(Object.fromEntries(rows)).toEqual(ExitCode)
  })
})
