import {describe, expect, it} from 'vitest'
import type {FolderStatus, ImapSession} from '../../imap/types.js'
import {MissingFolderError, RemoteError} from '../../shared/errors.js'
import {statusCreating} from './status-creating.js'

/** A session whose folder `name` appears when `appearsAt` says (another client creating it). */
function session(script: {exists: () => boolean; create: () => void}): ImapSession {
  const status: FolderStatus = {messages: 2, uidNext: 3, uidValidity: 77}
  return {
    status: (folder: string) => (script.exists() ? Promise.resolve(status) : Promise.reject(new MissingFolderError(folder))),
    createFolder: () => Promise.resolve(script.create()),
  } as unknown as ImapSession
}

describe('statusCreating', () => {
  it('creates a missing folder', async () => {
    let exists = false
    const result = await statusCreating(session({exists: () => exists, create: () => void (exists = true)}), 'Work')
    expect(result).toEqual({status: {messages: 2, uidNext: 3, uidValidity: 77}, created: true})
  })

  it('uses a folder another client created between its STATUS and the CREATE (Cyrus: a bare "NO Mailbox already exists")', async () => {
    let exists = false
    const s = session({
      exists: () => exists,
      create: () => {
        exists = true // the other client's CREATE landed first
        throw new RemoteError("server answered NO to CREATE in 'Work': Mailbox already exists")
      },
    })
    expect(await statusCreating(s, 'Work')).toEqual({status: {messages: 2, uidNext: 3, uidValidity: 77}, created: false})
  })

  it('a CREATE the server refuses, with the folder still missing, is the error', async () => {
    const s = session({
      exists: () => false,
      create: () => {
        throw new RemoteError('Invalid mailbox name')
      },
    })
    await expect(statusCreating(s, 'Work')).rejects.toThrow('Invalid mailbox name')
  })
})
