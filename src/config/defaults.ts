/**
 * Default values of the optional settings. Where mailkeep's default differs from imap-backup's
 * the comment says why; docs/config.md lists them all.
 */
import type {DownloadStrategy} from './types.js'

export const CONFIG_VERSION = '2.2'

export const DEFAULT_DOWNLOAD_STRATEGY: DownloadStrategy = 'delay_metadata'

/** imap-backup's default is 1 (one UID FETCH per message); 100 cuts round trips a hundredfold. */
export const DEFAULT_MULTI_FETCH_SIZE = 100

export const DEFAULT_TUNING = {
  savepointMessages: 1000,
  savepointBytes: 32 * 1024 * 1024,
  savepointSeconds: 30,
  delayAllMaxBytes: 64 * 1024 * 1024,
  largeMessageBytes: 8 * 1024 * 1024,
} as const

/** Net::IMAP's defaults, which imap-backup keeps. */
export const DEFAULT_TLS_PORT = 993
export const DEFAULT_STARTTLS_PORT = 143
/**
 * imap-backup (Net::IMAP) waits 30 s. mailkeep waits 10 s for the TCP connection and as long
 * again for the greeting, and retries the first connection only within that time: a server that
 * does not answer within seconds on a working network is not there, and a nightly run should say
 * so quickly (a wrong port took 3½ minutes to fail, with every retry waiting 30 s).
 */
export const DEFAULT_OPEN_TIMEOUT_SECONDS = 10
export const DEFAULT_IDLE_RESPONSE_TIMEOUT_SECONDS = 5
/** mailkeep: a server silent this long while a command is pending is taken as gone. */
export const DEFAULT_SOCKET_TIMEOUT_SECONDS = 120

/** How long a password_command / oauth2_token_command may run (a pinentry prompt included). */
export const DEFAULT_SECRET_COMMAND_TIMEOUT_MS = 120_000
