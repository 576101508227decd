/**
 * The dummy message of `utils ignore-history` and its mbox entry: byte for byte what imap-backup
 * writes (compat §9.2 item 117), through the real encoder.
 */
import {describe, expect, it} from 'vitest'
import {encodeMessage} from './mboxrd/index.js'
import {dummyMessage} from './placeholders.js'

describe('dummyMessage', () => {
  it("is imap-backup's text, and is stored as its entry", () => {
    expect(dummyMessage(1).toString()).toBe('From: fake@email.com\nSubject: Message 1 not backed up\nSkipped 1\n')
    const {entry} = encodeMessage(dummyMessage(1))
    expect(entry.toString()).toBe('From fake@email.com\nFrom: fake@email.com\nSubject: Message 1 not backed up\nSkipped 1\n\n')
    expect(encodeMessage(dummyMessage(4242)).entry.toString()).toBe('From fake@email.com\nFrom: fake@email.com\nSubject: Message 4242 not backed up\nSkipped 4242\n\n')
  })
})
