/**
 * How step 8 of folder-upload.ts cuts the messages to append into batches: each batch is one
 * intent, so one fsync (docs/upload-maps.md, U2); a batch ends at `batchMessages` messages or
 * before it would pass `batchBytes`.
 */
import type {UploadTuning} from './types.js'

export interface MessageSize {
  bytes: number
  /** The size on the destination is recorded in the backup (not only its size in the backup). */
  known: boolean
}

/**
 * The batches of `todo`, in order, and their total size. A message whose known size is over the
 * destination's APPENDLIMIT (RFC 7889) is skipped here, before any intent names it; one whose
 * size is not known is left for the APPEND to check once it is read.
 */
export function appendBatches(
  todo: readonly number[],
  sizeOf: (uid: number) => MessageSize,
  limits: Pick<UploadTuning, 'batchMessages' | 'batchBytes'> & {appendLimit: number | undefined},
  skip: (uid: number, reason: string) => void,
): {batches: number[][]; total: number} {
  const limit = limits.appendLimit
  const batches: number[][] = []
  let current: number[] = []
  let bytes = 0
  let total = 0
  for (const uid of todo) {
    const {bytes: size, known} = sizeOf(uid)
    if (limit !== undefined && known && size > limit) {
      skip(uid, tooLarge(size, limit))
      continue
    }
    if (current.length > 0 && (current.length >= limits.batchMessages || bytes + size > limits.batchBytes)) {
      batches.push(current)
      current = []
      bytes = 0
    }
    current.push(uid)
    bytes += size
    total += size
  }
  if (current.length > 0) batches.push(current)
  return {batches, total}
}

export function tooLarge(size: number, limit: number): string {
  return `${size} bytes is larger than the destination's APPENDLIMIT of ${limit} bytes (RFC 7889)`
}
