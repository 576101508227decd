/**
 * The exactness record: what an MBOXRD entry alone cannot say about the message the server sent
 * (docs/design.md, "The .imap file"; docs/mbox-format.md). With it, an entry written by mailkeep
 * gives back the original bytes exactly (compat §"Where mailkeep deliberately differs", item 2).
 *
 * It is stored in the `.imap` file as part of the tuple `[uid, size, internaldate, appended, eol]`,
 * so everything here is plain JSON and everything read back is validated: the file is untrusted.
 */
import {DamagedError} from '../../shared/errors.js'

/**
 * Which line breaks of the stored body were CRLF on the server:
 * - `0`: every one was CRLF (also used when the body has no line break at all);
 * - `1`: every one was a bare LF;
 * - `[k, d1, d2, …]`: the listed line breaks were bare LF (`k = 0`) or CRLF (`k = 1`) and all the
 *   others the opposite kind. The list holds 0-based indexes among the body's LFs, delta-encoded
 *   from −1: `d1 = index₁ + 1`, `d2 = index₂ − index₁`, …, every delta ≥ 1.
 */
export type EolKinds = 0 | 1 | readonly [0 | 1, ...number[]]

/** How many LF bytes were added after the body so that the entry ends with a blank line. */
export type AppendedCount = 0 | 1 | 2

export interface ExactnessRecord {
  /** Byte size of the original message (RFC 3501 RFC822.SIZE). */
  readonly size: number
  readonly appended: AppendedCount
  readonly eol: EolKinds
}

/** The tuple stored in `mailkeep_messages` of the `.imap` file. */
export type ExactnessTuple = [
  uid: number,
  size: number,
  internaldate: number | null,
  appended: AppendedCount,
  eol: EolKinds,
]

/**
 * Collects the kind of each LF of a body, in order, and encodes them as {@link EolKinds}.
 *
 * Memory is proportional to the number of *changes* of kind (at most twice the shorter list plus
 * one), not to the number of lines, so a 50 MB message with uniform line ends costs nothing.
 */
export class EolBuilder {
  private count = 0
  private crlfCount = 0
  private lastKind: boolean | undefined
  private firstKind = false
  /** LF indexes at which the kind differs from the LF before. */
  private readonly changes: number[] = []

  add(crlf: boolean): void {
    if (this.lastKind === undefined) {
      this.firstKind = crlf
    } else if (crlf !== this.lastKind) {
      this.changes.push(this.count)
    }
    this.lastKind = crlf
    if (crlf) this.crlfCount++
    this.count++
  }

  /** Number of LFs added so far. */
  get lineBreaks(): number {
    return this.count
  }

  build(): EolKinds {
    const bare = this.count - this.crlfCount
    if (bare === 0) return 0
    if (this.crlfCount === 0) return 1
    // List the rarer kind; on a tie list the bare LFs (k = 0). Deterministic, so streaming and
    // whole-buffer encoding give the same record.
    const k: 0 | 1 = bare <= this.crlfCount ? 0 : 1
    const listCrlf = k === 1
    const out: [0 | 1, ...number[]] = [k]
    let previous = -1
    let kind = this.firstKind
    let start = 0
    for (let r = 0; r <= this.changes.length; r++) {
      const end = r < this.changes.length ? (this.changes[r] as number) : this.count
      if (kind === listCrlf) {
        for (let index = start; index < end; index++) {
          out.push(index - previous)
          previous = index
        }
      }
      kind = !kind
      start = end
    }
    return out
  }
}

/** Reads {@link EolKinds} back, one LF at a time, in order. */
export class EolCursor {
  private index = 0
  private listPosition = 1
  private nextListed: number
  private readonly listedKind: boolean
  private readonly otherKind: boolean
  private readonly list: readonly number[] | undefined

  constructor(eol: EolKinds) {
    if (eol === 0 || eol === 1) {
      this.list = undefined
      this.listedKind = eol === 0
      this.otherKind = this.listedKind
      this.nextListed = -1
    } else {
      this.list = eol
      this.listedKind = eol[0] === 1
      this.otherKind = !this.listedKind
      this.nextListed = eol.length > 1 ? (eol[1] as number) - 1 : -1
    }
  }

  /** True if the next LF of the body was CRLF in the original. */
  next(): boolean {
    const index = this.index++
    if (index !== this.nextListed) return this.otherKind
    const list = this.list as readonly number[]
    this.listPosition++
    this.nextListed = this.listPosition < list.length ? index + (list[this.listPosition] as number) : -1
    return this.listedKind
  }

  /** How many listed line breaks were never reached (non-zero means the record does not fit). */
  get unreached(): number {
    return this.list === undefined || this.nextListed < 0 ? 0 : this.list.length - this.listPosition
  }
}

/**
 * Checks an exactness record read from untrusted JSON and returns it typed. Throws DamagedError
 * saying which field is wrong; `context` (such as "UID 17 in 'INBOX.imap'") starts the message.
 */
export function validateExactnessRecord(value: unknown, context = 'exactness record'): ExactnessRecord {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new DamagedError(`${context}: expected an object {size, appended, eol}, got ${describe(value)}`)
  }
  const {size, appended, eol} = value as Record<string, unknown>
  return checkFields(size, appended, eol, context)
}

/** Builds the `.imap` tuple for one message. */
export function toExactnessTuple(uid: number, internaldate: number | null, record: ExactnessRecord): ExactnessTuple {
  return [uid, record.size, internaldate, record.appended, record.eol]
}

/** Reads one `mailkeep_messages` tuple from untrusted JSON; throws DamagedError if it is malformed. */
export function fromExactnessTuple(
  value: unknown,
  context = 'mailkeep_messages entry',
): {uid: number; internaldate: number | null; record: ExactnessRecord} {
  if (!Array.isArray(value) || value.length !== 5) {
    throw new DamagedError(`${context}: expected [uid, size, internaldate, appended, eol], got ${describe(value)}`)
  }
  const [uid, size, internaldate, appended, eol] = value as unknown[]
  if (!isUint(uid) || uid < 1 || uid > 0xffffffff) {
    throw new DamagedError(`${context}: uid must be an integer from 1 to 4294967295, got ${describe(uid)}`)
  }
  if (internaldate !== null && (typeof internaldate !== 'number' || !Number.isSafeInteger(internaldate))) {
    const got = describe(internaldate)
    throw new DamagedError(`${context}: internaldate must be an integer (Unix seconds) or null, got ${got}`)
  }
  return {uid, internaldate, record: checkFields(size, appended, eol, `${context} (uid ${uid})`)}
}

function checkFields(size: unknown, appended: unknown, eol: unknown, context: string): ExactnessRecord {
  if (!isUint(size)) {
    throw new DamagedError(`${context}: size must be a non-negative integer, got ${describe(size)}`)
  }
  if (appended !== 0 && appended !== 1 && appended !== 2) {
    throw new DamagedError(`${context}: appended must be 0, 1 or 2, got ${describe(appended)}`)
  }
  return {size, appended, eol: checkEol(eol, size, context)}
}

function checkEol(eol: unknown, size: number, context: string): EolKinds {
  if (eol === 0 || eol === 1) return eol
  if (!Array.isArray(eol)) {
    throw new DamagedError(`${context}: eol must be 0, 1 or an array [k, d1, …], got ${describe(eol)}`)
  }
  const list = eol as unknown[]
  if (list.length < 2) {
    throw new DamagedError(`${context}: eol array must list at least one line break, got ${describe(eol)}`)
  }
  const k = list[0]
  if (k !== 0 && k !== 1) {
    throw new DamagedError(`${context}: eol[0] must be 0 or 1, got ${describe(k)}`)
  }
  let index = -1
  for (let i = 1; i < list.length; i++) {
    const delta = list[i]
    if (!isUint(delta) || delta < 1) {
      throw new DamagedError(`${context}: eol[${i}] must be a positive integer, got ${describe(delta)}`)
    }
    index += delta
    // A message of `size` bytes has at most `size` line breaks.
    if (index >= size) {
      throw new DamagedError(`${context}: eol lists line break ${index}, but the message has only ${size} bytes`)
    }
  }
  return list as [0 | 1, ...number[]]
}

function isUint(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0
}

function describe(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value)
  return text.length > 60 ? `${text.slice(0, 57)}...` : text
}
