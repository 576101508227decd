/**
 * The source side of folder names, found per backed-up folder (docs/delimiters-and-prefixes.md,
 * "Where the source delimiter and prefix come from"). A stored name is the full name the source
 * server gave it (`INBOX.Lists.rust`), so it must be split on THAT server's delimiter — which the
 * backup records with each folder (`mailkeep.delimiter`, `mailkeep.prefix` in the `.imap`,
 * docs/design.md), so that a restore still gets it right once that server is gone (imap-backup
 * issues #199, #209). Precedence:
 *
 * - delimiter: `--source-delimiter` > recorded in the folder's metadata > the source server's
 *   (asked once, and only when a folder records none) > `/`, with a warning;
 * - prefix, where the command takes it from the server (restore, `--automatic-namespaces`):
 *   recorded > the source server's > `''`; otherwise `--source-prefix`, default `''`
 *   (copy, mirror, migrate, as imap-backup).
 *
 * An explicit option wins because the user may know better (a backup of a server whose LIST
 * lied); a recorded value beats the live server because the live server may be another one by
 * now (the account moved; the config points at the new host), while the names are the old one's.
 */
import type {Logger} from '../../shared/logger.js'
import type {FolderServerState} from '../../store/metadata.js'
import type {NamingSide} from './folder-mapping.js'

export type RecordedNaming = Pick<FolderServerState, 'delimiter' | 'prefix'>

/** Where the source delimiter of a folder came from (for the report and the warnings). */
export type NamingOrigin = 'option' | 'backup' | 'server' | 'default'

export interface SourceNamingOptions {
  /** `--source-delimiter` */
  delimiter?: string
  /** `--source-prefix`; used only when prefixFromServer is false. */
  prefix?: string
  /** restore and `--automatic-namespaces`: the prefix is the source server's (recorded or live). */
  prefixFromServer: boolean
  /** `--automatic-namespaces`: what the backup does not record MUST come from the server. */
  strict: boolean
  /** The source server's personal namespace; called at most once, and only when needed. */
  live: () => Promise<{prefix: string; delimiter: string} | {error: Error}>
  /** The source account, for messages. */
  account: string
  logger: Logger
}

export class SourceNaming {
  private liveAnswer: Promise<{prefix: string; delimiter: string} | {error: Error}> | undefined
  private liveKnown: {prefix: string; delimiter: string} | {error: Error} | undefined
  private warnedDefault = false
  private warnedOption = false
  /** Folder → the side its names were split with. */
  private readonly used = new Map<string, NamingSide>()

  constructor(private readonly options: SourceNamingOptions) {}

  /** The source side for a folder with this recorded naming (asks the server if it must). */
  async side(folder: string, recorded: RecordedNaming): Promise<NamingSide> {
    const o = this.options
    const needDelimiter = o.delimiter === undefined && recorded.delimiter === undefined
    const needPrefix = o.prefixFromServer && recorded.prefix === undefined
    let live: {prefix: string; delimiter: string} | {error: Error} | undefined
    if (needDelimiter || needPrefix) {
      this.liveAnswer ??= o.live().then((answer) => (this.liveKnown = answer))
      live = await this.liveAnswer
      if ('error' in live && o.strict) throw live.error
    }
    const side = this.resolve(folder, recorded, live)
    this.used.set(folder, side)
    return side
  }

  /** The side without asking the server (for reports of folders that were not attempted). */
  peek(recorded: RecordedNaming): NamingSide {
    return this.resolve(undefined, recorded, this.liveKnown)
  }

  /**
   * The side to show as the run's naming: the one most folders used (normally all of them), and
   * the folders that used another one.
   */
  summary(): {side: NamingSide; others: Map<string, NamingSide>} {
    const counts = new Map<string, {side: NamingSide; n: number}>()
    for (const side of this.used.values()) {
      const key = JSON.stringify([side.prefix, side.delimiter])
      const c = counts.get(key) ?? {side, n: 0}
      c.n++
      counts.set(key, c)
    }
    let best: NamingSide | undefined
    let most = 0
    for (const {side, n} of counts.values()) if (n > most) [best, most] = [side, n]
    const side = best ?? this.peek({})
    const others = new Map([...this.used].filter(([, s]) => s.prefix !== side.prefix || s.delimiter !== side.delimiter))
    return {side, others}
  }

  private resolve(folder: string | undefined, recorded: RecordedNaming, live: {prefix: string; delimiter: string} | {error: Error} | undefined): NamingSide {
    const o = this.options
    const server = live !== undefined && !('error' in live) ? live : undefined
    // A server that names no delimiter (flat, or it did not say) tells nothing about the names.
    const serverDelimiter = server?.delimiter === '' ? undefined : server?.delimiter
    let delimiter: string
    let origin: NamingOrigin
    if (o.delimiter !== undefined) [delimiter, origin] = [o.delimiter, 'option']
    else if (recorded.delimiter !== undefined) [delimiter, origin] = [recorded.delimiter, 'backup']
    else if (serverDelimiter !== undefined) [delimiter, origin] = [serverDelimiter, 'server']
    else [delimiter, origin] = ['/', 'default']
    let prefix: string
    if (!o.prefixFromServer) prefix = o.prefix ?? ''
    else prefix = recorded.prefix ?? server?.prefix ?? ''

    if (folder !== undefined) {
      const known = recorded.delimiter ?? serverDelimiter
      if (origin === 'option' && known !== undefined && known !== delimiter && !this.warnedOption) {
        this.warnedOption = true
        const where = recorded.delimiter !== undefined ? 'the delimiter the backup recorded' : "the source server's delimiter"
        o.logger.warn(`--source-delimiter '${delimiter}' is not ${where} for '${folder}' ('${known}'); the option is used`)
      }
      const delimiterUnknown = origin === 'default' && server === undefined
      const prefixUnknown = o.prefixFromServer && recorded.prefix === undefined && server === undefined
      if ((delimiterUnknown || prefixUnknown) && !this.warnedDefault) {
        this.warnedDefault = true
        const why = live !== undefined && 'error' in live ? ` and the server of '${o.account}' could not be reached (${live.error.message})` : ''
        const what = [
          ...(delimiterUnknown ? [`folder names are split on '${delimiter}' (use --source-delimiter to say which delimiter they were made with)`] : []),
          ...(prefixUnknown ? ['no namespace prefix is removed'] : []),
        ]
        o.logger.warn(
          `the backup of '${folder}' does not record the source server's hierarchy delimiter and namespace prefix (it was written by imap-backup or an older mailkeep)${why}: ${what.join('; ')}`,
        )
      }
    }
    return {prefix, delimiter}
  }
}
