/**
 * The dummy message of `utils ignore-history` and its mbox entry: byte for byte what imap-backup
 * writes (compat §9.2 item 117), through the real encoder.
 */
import {describe, expect, it} from 'vitest'
import {encodeMessage} from './mboxrd/index.js'
import {dummyMessage, placeholderUids} from './placeholders.js'
import {FolderStore} from './folder-store.js'
import {silentLogger} from '../shared/logger.js'
import {withTempDir} from '../../test/support/temp-dir.js'

describe('dummyMessage', () => {
  it("is imap-backup's text, and is stored as its entry", () => {
    expect(dummyMessage(1).toString()).toBe('From: fake@email.com\nSubject: Message 1 not backed up\nSkipped 1\n')
    const {entry} = encodeMessage(dummyMessage(1))
    expect(entry.toString()).toBe('From fake@email.com\nFrom: fake@email.com\nSubject: Message 1 not backed up\nSkipped 1\n\n')
    expect(encodeMessage(dummyMessage(4242)).entry.toString()).toBe('From fake@email.com\nFrom: fake@email.com\nSubject: Message 4242 not backed up\nSkipped 4242\n\n')
  })
})

describe('placeholderUids', () => {
  // Soak seed 2436308718 on Courier: `local repair` had kept the placeholder of UID 14 under UID
  // 1 (the server no longer had 14), and a restore uploaded it as mail.
  it('finds a placeholder under any UID, and nothing that is not exactly one', async () => {
    await withTempDir(async (root) => {
      const folder = await FolderStore.open(root, 'INBOX', {mode: 'write', logger: silentLogger})
      await folder.initialize(7)
      const tx = await folder.begin()
      const date = new Date(1_700_000_000_000)
      await tx.append({uid: 1, flags: [], internalDate: date}, dummyMessage(14))
      await tx.append({uid: 2, flags: [], internalDate: date}, dummyMessage(2))
      await tx.append({uid: 3, flags: [], internalDate: date}, Buffer.from('From: fake@email.com\nSubject: Message 3 not backed up\nSkipped 4\n'))
      await tx.append({uid: 4, flags: [], internalDate: date}, Buffer.from('From: fake@email.com\nSubject: Message 4 not backed up\nSkipped 4\nP.S. real mail\n'))
      await tx.append({uid: 5, flags: [], internalDate: date}, Buffer.from('Subject: hello\r\n\r\nbody\r\n'))
      await tx.commit()
      expect([...(await placeholderUids(folder))].sort()).toEqual([1, 2])
      await folder.close()
    })
  })
})
