/**
 * The records of an upload map's journal and of its file's entries (upload-map.ts): one entry as
 * it is held while it changes, the journal's line types, and their parsing, checked field by
 * field (an entry that fails is damage, a journal line that fails is a torn last write).
 */
import {isNonNegativeInt, isObject, isPositiveInt} from './json-guards.js'
import type {PendingUpload} from './upload-map.js'

export interface MutableEntry {
  folder: string | undefined
  sourceUidValidity: number | undefined
  destinationUidValidity: number | undefined
  map: Map<number, number>
  pending: PendingUpload | undefined
  clash: boolean
  /** mirror: keys of the entry object that mailkeep does not know, kept on rewrite. */
  extra: Record<string, unknown>
  /** mirror: keys of the entry's `mailkeep` object that this version does not know. */
  extraMailkeep: Record<string, unknown>
}

export type JournalLine =
  | {t: 'r'; u: string; f: string; s: number; d: number; c?: true}
  | {t: 'm'; u: string; f: string; p: Array<[number, number]>}
  | {t: 'x'; u: string; f: string; s: number[]}
  | {t: 'p'; u: string; f: string; from: number; uids: number[]}

export function applyLine(entry: MutableEntry, line: JournalLine): void {
  switch (line.t) {
    case 'r':
      entry.sourceUidValidity = line.s
      entry.destinationUidValidity = line.d
      entry.map = new Map()
      entry.pending = undefined
      entry.clash = line.c === true
      break
    case 'm':
      for (const [s, d] of line.p) entry.map.set(s, d)
      break
    case 'x':
      for (const s of line.s) entry.map.delete(s)
      break
    case 'p':
      entry.pending = line.uids.length === 0 ? undefined : {from: line.from, uids: line.uids}
      break
  }
}

export function parseJournalLine(text: string): JournalLine | undefined {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return undefined
  }
  if (!isObject(value) || typeof value['u'] !== 'string' || typeof value['f'] !== 'string') return undefined
  switch (value['t']) {
    case 'r':
      return isPositiveInt(value['s']) && isPositiveInt(value['d']) && (value['c'] === undefined || value['c'] === true) ? (value as JournalLine) : undefined
    case 'm':
      return Array.isArray(value['p']) && value['p'].every((p) => Array.isArray(p) && p.length === 2 && isPositiveInt(p[0]) && isPositiveInt(p[1])) ? (value as JournalLine) : undefined
    case 'x':
      return Array.isArray(value['s']) && value['s'].every(isPositiveInt) ? (value as JournalLine) : undefined
    case 'p':
      return isNonNegativeInt(value['from']) && Array.isArray(value['uids']) && value['uids'].every(isPositiveInt) ? (value as JournalLine) : undefined
    default:
      return undefined
  }
}

export function parsePending(value: unknown, fail: () => Error): PendingUpload | undefined {
  if (value === undefined || value === null) return undefined
  if (!isObject(value) || !isNonNegativeInt(value['from']) || !Array.isArray(value['uids']) || !value['uids'].every(isPositiveInt)) throw fail()
  return value['uids'].length === 0 ? undefined : {from: value['from'], uids: value['uids'] as number[]}
}

export function optionalUid(value: unknown, fail: () => Error): number | undefined {
  if (value === undefined || value === null) return undefined
  // imap-backup's test helpers write UIDVALIDITY as a string ("42"); accept numeric strings.
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value
  if (!isPositiveInt(n)) throw fail()
  return n
}

export function mapObject(map: ReadonlyMap<number, number>): Record<string, number> {
  const out: Record<string, number> = {}
  for (const src of [...map.keys()].sort((a, b) => a - b)) out[String(src)] = map.get(src)!
  return out
}

