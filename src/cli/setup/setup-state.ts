/**
 * The config being edited by `mailkeep setup`: the file form (`ConfigFile`, as saveConfig()
 * writes it), what it looked like when setup started, and the notices to show on the next
 * screen.
 *
 * "Modified" is computed, not remembered: the current content is compared with the content at
 * the start (keys in any order). So toggling a setting twice leaves the account unmodified, and
 * setup writes the file exactly when its content would change (compat §3.2, "Setup only writes
 * the file if something has been modified").
 *
 * Every change goes through update(), which validates the whole config with the loader's own
 * parseConfig(): a change the loader would refuse is rejected with its message, so the wizard
 * can never produce a file that mailkeep cannot read.
 */
import {dirname, resolve} from 'node:path'
import {
  CONFIG_VERSION,
  DEFAULT_DOWNLOAD_STRATEGY,
  parseConfig,
  type AccountFile,
  type Config,
  type ConfigFile,
  type DownloadStrategy,
} from '../../config/index.js'
import {ConfigError} from '../../shared/errors.js'

export interface UpdateResult {
  /** Why the change was refused (it was not applied), in one line. */
  error?: string
  /** Warnings the change caused (e.g. a connection option mailkeep does not use). */
  warnings: string[]
}

export class SetupState {
  readonly path: string
  /** True when the config file existed when setup started. */
  readonly existed: boolean
  private file: ConfigFile
  private readonly original: string
  private readonly snapshots = new WeakMap<AccountFile, string>()
  private notices: string[] = []

  private constructor(path: string, file: ConfigFile, existed: boolean) {
    this.path = resolve(path)
    this.file = file
    this.existed = existed
    this.original = canonicalJson(file)
    for (const account of file.accounts) this.snapshots.set(account, canonicalJson(account))
  }

  /** A config file that does not exist yet: no accounts, the default strategy. */
  static empty(path: string): SetupState {
    return new SetupState(path, {version: CONFIG_VERSION, accounts: [], download_strategy: DEFAULT_DOWNLOAD_STRATEGY}, false)
  }

  static fromConfig(config: Config): SetupState {
    const state = new SetupState(config.path, structuredClone(config.raw), true)
    for (const warning of config.warnings) state.notice(`warning: ${withoutFilePrefix(warning, config.path)}`)
    return state
  }

  get configDir(): string {
    return dirname(this.path)
  }

  get accounts(): readonly AccountFile[] {
    return this.file.accounts
  }

  get downloadStrategy(): DownloadStrategy {
    return this.file.download_strategy ?? DEFAULT_DOWNLOAD_STRATEGY
  }

  /** The content to save (the edited file form). */
  get content(): ConfigFile {
    return this.file
  }

  isModified(): boolean {
    return canonicalJson(this.file) !== this.original
  }

  isAccountModified(account: AccountFile): boolean {
    const before = this.snapshots.get(account)
    return before === undefined || before !== canonicalJson(account)
  }

  /**
   * Applies `mutate` to a copy of the account, validates the whole config with the change and,
   * if the loader accepts it, makes the change. Otherwise nothing changes and `error` says why.
   */
  update(account: AccountFile, mutate: (draft: AccountFile) => void): UpdateResult {
    const index = this.file.accounts.indexOf(account)
    if (index < 0) throw new Error('update() of an account that is not in the config')
    const draft = structuredClone(account)
    mutate(draft)
    const accounts = [...this.file.accounts]
    accounts[index] = draft
    const result = this.check({...this.file, accounts})
    if (result.error !== undefined) return result
    for (const key of Object.keys(account)) delete (account as unknown as Record<string, unknown>)[key]
    Object.assign(account, draft)
    return result
  }

  /** Adds a new account (validated like update()). */
  addAccount(account: AccountFile): UpdateResult {
    const result = this.check({...this.file, accounts: [...this.file.accounts, account]})
    if (result.error === undefined) this.file.accounts.push(account)
    return result
  }

  removeAccount(account: AccountFile): void {
    this.file.accounts = this.file.accounts.filter((a) => a !== account)
  }

  setDownloadStrategy(strategy: DownloadStrategy): void {
    this.file.download_strategy = strategy
  }

  /** The config as the engine sees it (for a connection test of an account being edited). */
  toConfig(): Config {
    return parseConfig(this.file, this.path)
  }

  /** A line to show under the header of the next screen. */
  notice(line: string): void {
    this.notices.push(line)
  }

  takeNotices(): string[] {
    const notices = this.notices
    this.notices = []
    return notices
  }

  private check(candidate: ConfigFile): UpdateResult {
    const before = new Set(this.warnings(this.file))
    try {
      const config = parseConfig(candidate, this.path)
      const warnings = config.warnings.filter((w) => !before.has(w)).map((w) => withoutFilePrefix(w, this.path))
      return {warnings}
    } catch (error) {
      if (error instanceof ConfigError) return {error: withoutFilePrefix(error.message, this.path), warnings: []}
      throw error
    }
  }

  private warnings(file: ConfigFile): readonly string[] {
    try {
      return parseConfig(file, this.path).warnings
    } catch {
      return []
    }
  }
}

/** The loader's messages start with `Config file '<path>': `; on the setup screen that is noise. */
export function withoutFilePrefix(message: string, path: string): string {
  const prefix = `Config file '${path}': `
  return message.startsWith(prefix) ? message.slice(prefix.length) : message
}

/** JSON with the keys of every object sorted, so that key order does not count as a change. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return v
    const sorted: Record<string, unknown> = {}
    for (const key of Object.keys(v).sort()) sorted[key] = (v as Record<string, unknown>)[key]
    return sorted
  })
}
