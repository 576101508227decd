import {describe, expect, it} from 'vitest'
import {clashName, destinationName, inboxStaysInbox, splitName, trimPrefix, type FolderNaming} from './folder-mapping.js'

const naming = (source: [string, string], destination: [string, string], inboxToInbox = true): FolderNaming => ({
  source: {prefix: source[0], delimiter: source[1]},
  destination: {prefix: destination[0], delimiter: destination[1]},
  inboxToInbox,
})

describe('destinationName', () => {
  it('is the identity between two servers of the same shape', () => {
    expect(destinationName('Lists/rust', naming(['', '/'], ['', '/']))).toBe('Lists/rust')
    expect(destinationName('INBOX.Lists.rust', naming(['INBOX.', '.'], ['INBOX.', '.']))).toBe('INBOX.Lists.rust')
    expect(destinationName('INBOX', naming(['INBOX.', '.'], ['INBOX.', '.']))).toBe('INBOX')
  })

  it("maps '.' with prefix INBOX. to '/' without prefix and back", () => {
    const dotToSlash = naming(['INBOX.', '.'], ['', '/'])
    const slashToDot = naming(['', '/'], ['INBOX.', '.'])
    expect(destinationName('INBOX.Sub', dotToSlash)).toBe('Sub')
    expect(destinationName('INBOX.Lists.rust', dotToSlash)).toBe('Lists/rust')
    expect(destinationName('INBOX', dotToSlash)).toBe('INBOX')
    expect(destinationName('Sub', slashToDot)).toBe('INBOX.Sub')
    expect(destinationName('Lists/rust', slashToDot)).toBe('INBOX.Lists.rust')
    expect(destinationName('INBOX', slashToDot)).toBe('INBOX')
  })

  it('accepts a prefix with or without its trailing delimiter', () => {
    expect(destinationName('INBOX.Sub', naming(['INBOX', '.'], ['', '/']))).toBe('Sub')
    expect(destinationName('Sub', naming(['', '/'], ['INBOX', '.']))).toBe('INBOX.Sub')
  })

  it('keeps names outside the source prefix, under the destination prefix', () => {
    expect(destinationName('other_public.x', naming(['INBOX.', '.'], ['', '/']))).toBe('other_public/x')
    expect(destinationName('Shared/x', naming(['', '/'], ['INBOX.', '.']))).toBe('INBOX.Shared.x')
  })

  it('does not strip a prefix that is the whole name', () => {
    expect(destinationName('other_public', naming(['other_public', '.'], ['', '/']))).toBe('other_public')
  })

  it('splits on the source delimiter, not on "/" (a "/" in a "." server name is a character)', () => {
    expect(destinationName('a/b.c', naming(['', '.'], ['', '.']))).toBe('a/b.c')
    expect(destinationName('a/b.c', naming(['', '.'], ['', '/']))).toBe('a/b/c')
  })

  it('puts the source INBOX under a prefix the user chose (a subtree), as imap-backup does', () => {
    expect(destinationName('INBOX', naming(['', '/'], ['Old', '/'], false))).toBe('Old/INBOX')
    expect(destinationName('Sent', naming(['', '/'], ['Old/', '/'], false))).toBe('Old/Sent')
  })

  // compat §9.2 items 43–48 as mailkeep reads them: the backup holds server names.
  it('compat 43/45: a "." source with --source-prefix my_sub goes to migrate-folder', () => {
    expect(destinationName('my_sub.migrate-folder', naming(['my_sub', '.'], ['', '/']))).toBe('migrate-folder')
    expect(destinationName('other_public.migrate-folder', naming(['other_public', '.'], ['', '.']))).toBe('migrate-folder')
  })

  it('compat 44/47: --destination-prefix X --destination-delimiter . goes to X.migrate-folder', () => {
    expect(destinationName('migrate-folder', naming(['', '/'], ['my_sub', '.'], false))).toBe('my_sub.migrate-folder')
    expect(destinationName('migrate-folder', naming(['', '.'], ['other_public', '.'], false))).toBe('other_public.migrate-folder')
  })

  it('compat 63: restore --prefix CIAO --delimiter . gives CIAO.stuff-to-restore', () => {
    expect(destinationName('stuff-to-restore', naming(['', '/'], ['CIAO', '.'], false))).toBe('CIAO.stuff-to-restore')
  })

  it('keeps a flat namespace flat', () => {
    expect(splitName('a.b', '')).toEqual(['a.b'])
    expect(destinationName('a.b', naming(['', ''], ['', '/']))).toBe('a.b')
  })
})

describe('inboxStaysInbox', () => {
  it('is true for no prefix, INBOX, and the server\'s own personal prefix', () => {
    expect(inboxStaysInbox('', '/', '')).toBe(true)
    expect(inboxStaysInbox('INBOX.', '.', 'INBOX.')).toBe(true)
    expect(inboxStaysInbox('inbox', '.', undefined)).toBe(true)
    expect(inboxStaysInbox('Mail/', '/', 'Mail/')).toBe(true)
  })

  it('is false for a subtree of the user\'s choosing', () => {
    expect(inboxStaysInbox('Archive', '/', '')).toBe(false)
    expect(inboxStaysInbox('CIAO', '.', 'INBOX.')).toBe(false)
  })
})

describe('helpers', () => {
  it('trimPrefix removes one trailing delimiter', () => {
    expect(trimPrefix('INBOX.', '.')).toBe('INBOX')
    expect(trimPrefix('INBOX', '.')).toBe('INBOX')
    expect(trimPrefix('a//', '/')).toBe('a/')
  })

  it('clashName follows imap-backup\'s -<uidvalidity>[-n]', () => {
    const slash = {prefix: '', delimiter: '/'}
    expect(clashName('Work', 1234, 0, slash)).toBe('Work-1234')
    expect(clashName('Work', 1234, 2, slash)).toBe('Work-1234-2')
    expect(clashName('Lists/rust', 1234, 0, slash)).toBe('Lists/rust-1234')
    expect(clashName('INBOX', 1234, 0, slash)).toBe('INBOX-1234')
  })

  it('clashName puts the clash folder of INBOX under the destination prefix, where every other name already is', () => {
    const dot = {prefix: 'INBOX.', delimiter: '.'}
    expect(clashName('INBOX.Work', 1234, 0, dot)).toBe('INBOX.Work-1234')
    expect(clashName('INBOX', 1234, 0, dot)).toBe('INBOX.INBOX-1234')
    expect(clashName('inbox', 1234, 1, dot)).toBe('INBOX.inbox-1234-1')
    expect(clashName('INBOX', 1234, 0, {prefix: 'INBOX', delimiter: '.'})).toBe('INBOX.INBOX-1234')
    expect(clashName('INBOX', 1234, 0, {prefix: 'Mail/', delimiter: '/'})).toBe('Mail/INBOX-1234')
    // A prefix the user chose as a subtree already holds INBOX (`Old/INBOX`): only suffixed.
    expect(clashName('Old/INBOX', 1234, 0, {prefix: 'Old', delimiter: '/'})).toBe('Old/INBOX-1234')
    // A flat namespace joins without a delimiter, as destinationName does.
    expect(clashName('INBOX', 1234, 0, {prefix: 'INBOX.', delimiter: ''})).toBe('INBOX.INBOX-1234')
  })
})
