import {describe, expect, it} from 'vitest'
import type {TransferFolderReport, TransferReport} from '../../engine/upload/types.js'
import {renderTransferSummary} from './transfer-summary.js'

const folder = (over: Partial<TransferFolderReport>): TransferFolderReport => ({
  source: 'INBOX',
  destination: 'INBOX',
  outcome: 'ok',
  created: false,
  uploaded: 0,
  bytes: 0,
  alreadyPresent: 0,
  placeholders: 0,
  adopted: 0,
  flagsUpdated: 0,
  deleted: 0,
  skipped: [],
  droppedFlags: [],
  notes: [],
  seconds: 0.1,
  ...over,
})

const report = (folders: TransferFolderReport[], exitCode: 0 | 4 = 0): TransferReport => ({
  command: 'restore',
  source: 'me@example.com',
  destination: 'me@example.com',
  naming: {sourcePrefix: '', sourceDelimiter: '/', destinationPrefix: '', destinationDelimiter: '/'},
  folders,
  exitCode,
  seconds: 2.1,
})

describe('renderTransferSummary', () => {
  it('lists folders that changed, counts the others, and says where a clash went', () => {
    const text = renderTransferSummary(
      report([
        folder({uploaded: 12, bytes: 1258291, alreadyPresent: 3}),
        folder({source: 'Work', destination: 'Work-1606316666', created: true, clash: {folder: 'Work', uidValidity: 17}, uploaded: 40, bytes: 1024}),
        folder({source: 'Sent', destination: 'Sent', alreadyPresent: 9}),
      ]),
    )
    expect(text).toContain('restore me@example.com → me@example.com')
    expect(text).toMatch(/INBOX +→ INBOX +12 uploaded \(1\.20 MiB\), 3 already there/)
    expect(text).toContain("'Work' holds other mail (UIDVALIDITY 17): left untouched, created 'Work-1606316666'")
    expect(text).toContain('(1 more folder already up to date)')
    expect(text).toMatch(/total: 52 uploaded .*, 12 already there, 0 found there, in 2\.1 s/)
  })

  it('says what a folder that clashed already held, and the placeholders it did not upload', () => {
    const text = renderTransferSummary(
      report([
        folder({source: 'Work', destination: 'Work-1606316666', created: true, clash: {folder: 'Work', uidValidity: 17, present: 38}, uploaded: 2, bytes: 2048, adopted: 38}),
        folder({source: 'Lists', destination: 'Lists', clash: {folder: 'Lists', uidValidity: 18, present: 5}, adopted: 5}),
        folder({source: 'Archive', destination: 'Archive', uploaded: 1, bytes: 100, placeholders: 3}),
      ]),
    )
    expect(text).toContain("2 uploaded (2.00 KiB), 38 found there and recorded; 'Work' holds other mail (UIDVALIDITY 17) and 38 messages of this backup (recorded, not uploaded again): left untouched, created 'Work-1606316666'")
    expect(text).toContain("5 found there and recorded; 'Lists' holds other mail (UIDVALIDITY 18) and 5 messages of this backup (recorded, not uploaded again): left untouched, nothing else to upload")
    expect(text).toContain('1 uploaded (100 B); 3 ignore-history placeholders not uploaded (not mail)')
  })

  it('lists what was not uploaded, with reasons, and the exit meaning; --quiet keeps only that', () => {
    const skipped = Array.from({length: 7}, (_, i) => ({uid: i + 1, reason: 'larger than the APPENDLIMIT'}))
    const r = report([folder({source: 'Big', destination: 'Big', outcome: 'incomplete', skipped}), folder({source: 'Fine', destination: 'Fine', uploaded: 1})], 4)
    const text = renderTransferSummary(r)
    expect(text).toContain('NOT uploaded: 7 messages')
    expect(text).toContain('UID 1: larger than the APPENDLIMIT')
    expect(text).toContain('… and 2 more (--json lists them all)')
    expect(text).toMatch(/exit 4 \(INCOMPLETE\)/)
    const quiet = renderTransferSummary(r, {quiet: true})
    expect(quiet).not.toContain('Fine')
    expect(quiet).toContain('NOT uploaded: 7 messages')
    expect(renderTransferSummary(report([folder({alreadyPresent: 2})]), {quiet: true})).toBe('')
  })
})
