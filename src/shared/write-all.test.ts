import {mkdtemp, open, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it, vi} from 'vitest'
import {atomicWriteChunks} from './atomic-write.js'
import {LocalIoError} from './errors.js'
import {writeAll} from './write-all.js'

let dir: string

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mailkeep-write-all-'))
})

afterEach(async () => {
  vi.restoreAllMocks()
  await rm(dir, {recursive: true, force: true})
})

/**
 * Makes every write of file handles store at most `limit` bytes, as write(2) does on a file
 * system that is filling up; after `failAfter` bytes in all, writes fail with ENOSPC.
 */
async function shortWrites(limit: number, failAfter = Infinity): Promise<void> {
  const probe = await open(join(dir, 'probe'), 'w')
  const proto = Object.getPrototypeOf(probe) as {write: (...args: unknown[]) => Promise<{bytesWritten: number}>}
  await probe.close()
  const real = proto.write
  let total = 0
  vi.spyOn(proto, 'write').mockImplementation(async function (this: unknown, buffer: unknown, offset?: unknown, length?: unknown, position?: unknown) {
    // write(string, position, encoding) as well as write(buffer, offset, length, position).
    const bytes = typeof buffer === 'string' ? Buffer.from(buffer, (length as BufferEncoding | undefined) ?? 'utf8') : (buffer as Buffer)
    const [from, size, at] = typeof buffer === 'string' ? [0, bytes.length, offset ?? null] : [offset as number, length as number, position ?? null]
    if (total >= failAfter) throw Object.assign(new Error('ENOSPC: no space left on device, write'), {code: 'ENOSPC'})
    const n = Math.min(limit, size, failAfter - total)
    total += n
    return real.call(this, bytes, from, n, at)
  })
}

describe('writeAll', () => {
  it('writes everything when each write stores only part of it', async () => {
    await shortWrites(4096)
    const handle = await open(join(dir, 'f'), 'w')
    const data = Buffer.alloc(100_000, 'x')
    await writeAll(handle, data)
    await writeAll(handle, 'ü tail', 0)
    await handle.close()
    const written = await readFile(join(dir, 'f'))
    expect(written.length).toBe(100_000)
    expect(written.subarray(0, 7).toString()).toBe('ü tail')
  })
})

describe('atomicWriteChunks when the disk fills up (found by the disk-full reliability suite)', () => {
  const chunks = (): string[] => Array.from({length: 40}, (_, i) => `${String(i).padStart(2, '0')}:${'y'.repeat(100_000)}\n`)

  it('short writes: the whole content arrives, never its first pages only', async () => {
    await shortWrites(4096)
    await atomicWriteChunks(join(dir, 'meta.imap'), chunks())
    expect(await readFile(join(dir, 'meta.imap'), 'utf8')).toBe(chunks().join(''))
  })

  it('a write that cannot store the rest: a local I/O error, and the file keeps its old content', async () => {
    await writeFile(join(dir, 'meta.imap'), 'the committed metadata')
    await shortWrites(4096, 1_500_000)
    await expect(atomicWriteChunks(join(dir, 'meta.imap'), chunks())).rejects.toBeInstanceOf(LocalIoError)
    expect(await readFile(join(dir, 'meta.imap'), 'utf8')).toBe('the committed metadata')
  })
})
