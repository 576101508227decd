/**
 * Provider defaults chosen from the username's domain, as imap-backup does (compat §6.10). Only
 * the exact domains below match: `@googlemail.com` and Google Workspace domains are `other`.
 * The provider's special behaviour (Gmail drops `\Noselect` folders, Apple lists from the root
 * `""`) belongs to the engine; this module only names the provider and its host.
 */
import type {ProviderKind} from './types.js'

export interface Provider {
  readonly kind: ProviderKind
  /** The IMAP host used when the account sets no `server`. */
  readonly host: string | undefined
}

const BY_DOMAIN: ReadonlyMap<string, Provider> = new Map([
  ['gmail.com', {kind: 'gmail', host: 'imap.gmail.com'}],
  ['fastmail.com', {kind: 'fastmail', host: 'imap.fastmail.com'}],
  ['fastmail.fm', {kind: 'fastmail', host: 'imap.fastmail.com'}],
  ['icloud.com', {kind: 'apple', host: 'imap.mail.me.com'}],
  ['mac.com', {kind: 'apple', host: 'imap.mail.me.com'}],
  ['me.com', {kind: 'apple', host: 'imap.mail.me.com'}],
  ['purelymail.com', {kind: 'purelymail', host: 'mailserver.purelymail.com'}],
])

const OTHER: Provider = {kind: 'other', host: undefined}

/** Domain names are case-insensitive (RFC 5321 §2.4), so `Me@GMail.com` is Gmail too. */
export function providerFor(username: string): Provider {
  const at = username.lastIndexOf('@')
  if (at < 0) return OTHER
  return BY_DOMAIN.get(username.slice(at + 1).toLowerCase()) ?? OTHER
}
