/** How the folders of an upload run are named, and what a folder's backup records about it. */
import type {FolderStore} from '../../store/folder-store.js'
import {destinationName, type NamingSide} from './folder-mapping.js'
import type {RecordedNaming, SourceNaming} from './source-naming.js'

/**
 * How the folders of a run are named: the source side per folder (recorded in its metadata, or
 * from options or the server: source-naming.ts), the destination side for all.
 */
export interface RunNaming {
  source: SourceNaming
  destination: NamingSide
  inboxToInbox: boolean
}

/** The destination name of a folder whose source side is `side`. */
export function targetName(name: string, side: NamingSide, naming: RunNaming): string {
  return destinationName(name, {source: side, destination: naming.destination, inboxToInbox: naming.inboxToInbox})
}

/** What the folder's metadata records about its naming (nothing for a folder not backed up). */
export function recordedNaming(folder: FolderStore | undefined): RecordedNaming {
  if (folder?.exists !== true) return {}
  const {delimiter, prefix} = folder.serverState
  return {...(delimiter === undefined ? {} : {delimiter}), ...(prefix === undefined ? {} : {prefix})}
}
