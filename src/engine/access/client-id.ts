import {mailkeepVersion} from '../../shared/version.js'

/**
 * What mailkeep tells servers about itself with the RFC 2971 ID command. Some servers refuse to
 * work without it (163.com answers "Unsafe Login", imap-backup issue #217).
 */
export function mailkeepClientId(): {name: string; version: string} {
  return {name: 'mailkeep', version: mailkeepVersion()}
}
