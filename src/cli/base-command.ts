/**
 * The base of every command. It owns the global flags, builds the RunContext (logger, progress,
 * AbortSignal wired to SIGINT/SIGTERM), renders results as text or `--json`, and maps errors to
 * the exit-code table (src/shared/exit-codes.ts, docs/exit-codes.md).
 *
 * A command implements exec(), which parses nothing itself and calls one engine function, and
 * renderText() for the human form of the same typed result that `--json` prints.
 *
 * Commands that run long set `showsProgress`: on a terminal they get a progress line
 * (src/cli/progress-bar.ts) as their ProgressReporter, and log lines are routed through it so the
 * two never interleave.
 */
import {Command, Flags, Errors, type Interfaces} from '@oclif/core'
import {homedir} from 'node:os'
import {join} from 'node:path'
import {loadConfig, type Config} from '../config/index.js'
import {createLogger, type Logger, type LogLevel, type LogFormat} from '../shared/logger.js'
import {ExitCode, type ExitCodeValue} from '../shared/exit-codes.js'
import {InterruptedError, MailkeepError, toMailkeepError, UsageError, type StopSignal} from '../shared/errors.js'
import {scrubForeign, scrubOutput} from '../shared/secrets.js'
import {silentProgress, type ProgressReporter, type RunContext} from '../shared/context.js'
import {ProgressBar, progressAllowed} from './progress-bar.js'
import {DEFAULT_PROGRESS_INTERVAL_SECONDS, ProgressLog} from './progress-log.js'
import {exitLine} from './render/exit-meaning.js'
import {usageMessage} from './usage-message.js'

export type BaseFlags<T extends typeof Command> = Interfaces.InferredFlags<(typeof BaseCommand)['baseFlags'] & T['flags']>
export type BaseArgs<T extends typeof Command> = Interfaces.InferredArgs<T['args']>

export function defaultConfigPath(): string {
  return process.env['MAILKEEP_CONFIG'] ?? join(homedir(), '.mailkeep', 'config.json')
}

export abstract class BaseCommand<T extends typeof Command, R = unknown> extends Command {
  static override baseFlags = {
    config: Flags.string({char: 'c', description: 'config file (default ~/.mailkeep/config.json, or $MAILKEEP_CONFIG)', helpGroup: 'GLOBAL'}),
    quiet: Flags.boolean({char: 'q', description: 'print nothing but errors', helpGroup: 'GLOBAL', exclusive: ['verbose']}),
    verbose: Flags.boolean({char: 'v', description: 'log debugging detail', helpGroup: 'GLOBAL'}),
    json: Flags.boolean({description: 'print the result as JSON on stdout', helpGroup: 'GLOBAL'}),
    // No oclif default: a log_format in the config applies only when the flag is not given.
    'log-format': Flags.option({options: ['text', 'json'] as const, description: 'format of log lines on stderr [default: text]', helpGroup: 'GLOBAL'})(),
    'progress-interval': Flags.integer({
      min: 0,
      description: `long commands, when stderr is not a terminal: seconds between progress log lines, 0 for none [default: ${DEFAULT_PROGRESS_INTERVAL_SECONDS}]`,
      helpGroup: 'GLOBAL',
    }),
  }

  /** Commands that roll back on SIGINT/SIGTERM set this; others keep the default behaviour. */
  static handlesSignals = false

  /** Commands that show a progress line on a terminal set this (see progress-bar.ts). */
  static showsProgress = false

  protected flags!: BaseFlags<T>
  protected args!: BaseArgs<T>
  protected logger!: Logger
  protected ctx!: RunContext
  private abort = new AbortController()
  private signalHandlers: Array<[StopSignal, () => void]> = []
  private resultExitCode: ExitCodeValue = ExitCode.OK
  private progressBar: ProgressBar | undefined
  private progressLog: ProgressLog | undefined
  private logFormat: LogFormat = 'text'

  /** Calls one engine function and returns its typed result. */
  protected abstract exec(): Promise<R>

  /** The human form of the result; `--json` prints the result itself. */
  protected renderText(_result: R): string {
    return ''
  }

  protected get configPath(): string {
    return this.flags.config ?? defaultConfigPath()
  }

  /** Lets a command report a partial success (e.g. INCOMPLETE) while still printing its result. */
  protected setExitCode(code: ExitCodeValue): void {
    this.resultExitCode = code
  }

  protected makeProgress(): ProgressReporter {
    return silentProgress
  }

  override async init(): Promise<void> {
    await super.init()
    const {flags, args} = await this.parse({
      flags: this.ctor.flags,
      baseFlags: (this.ctor as typeof BaseCommand).baseFlags,
      args: this.ctor.args,
      strict: this.ctor.strict,
    })
    this.flags = flags as BaseFlags<T>
    // imap-backup's `-f json` (format-flag.ts), on the commands that declare it.
    if ((flags as {format?: string}).format === 'json') this.flags.json = true
    this.args = args as BaseArgs<T>
    this.setupOutput(this.flags['log-format'] ?? 'text')
    if ((this.ctor as typeof BaseCommand).handlesSignals) this.installSignalHandlers()
  }

  /**
   * Applies the config file's `log_format` (docs/config.md) when `--log-format` was not given:
   * the logger (and ctx) are rebuilt. Call it right after loading the config.
   */
  protected useConfigLogFormat(format: LogFormat | undefined): void {
    if (format === undefined || this.flags['log-format'] !== undefined || format === this.logFormat) return
    this.setupOutput(format)
  }

  /**
   * Loads the config file (`--config`), applies its `log_format` and logs its warnings: the first
   * step of every command that works on the configured accounts.
   */
  protected async loadConfigAndWarn(): Promise<Config> {
    const config = await loadConfig(this.configPath)
    this.useConfigLogFormat(config.logFormat)
    for (const warning of config.warnings) this.logger.warn(warning)
    return config
  }

  /**
   * Builds the logger, the progress reporter and ctx for one log format. A command that shows
   * progress gets the progress line on a terminal, else (unless --quiet) a progress log line
   * every --progress-interval seconds.
   */
  private setupOutput(format: LogFormat): void {
    this.stopProgress()
    this.progressBar = undefined
    this.progressLog = undefined
    this.logFormat = format
    const level: LogLevel = this.flags.quiet ? 'error' : this.flags.verbose ? 'debug' : 'info'
    const settings = {quiet: this.flags.quiet, json: this.flags.json, logFormat: format}
    const showsProgress = (this.ctor as typeof BaseCommand).showsProgress
    if (showsProgress && progressAllowed(process.stderr, settings)) {
      this.progressBar = new ProgressBar(process.stderr)
    }
    const bar = this.progressBar
    this.logger = createLogger({level, format, ...(bar === undefined ? {} : {write: (line: string) => bar.log(line)})})
    if (showsProgress && bar === undefined && !this.flags.quiet) {
      const interval = this.flags['progress-interval'] ?? DEFAULT_PROGRESS_INTERVAL_SECONDS
      this.progressLog = new ProgressLog(this.logger, interval, {fields: format === 'json'})
    }
    this.ctx = {logger: this.logger, progress: bar ?? this.progressLog ?? this.makeProgress(), signal: this.abort.signal}
  }

  /** Removes the progress line (or stops the progress log) for good, before the result or an error is printed. */
  protected stopProgress(): void {
    this.progressBar?.stop()
    this.progressLog?.stop()
  }

  async run(): Promise<void> {
    const result = await this.exec()
    this.stopProgress()
    // Compact, one line: what imap-backup prints, and what line-based tools handle best.
    if (this.flags.json) this.out(JSON.stringify(result))
    else {
      const text = this.renderText(result)
      if (text !== '') this.out(text)
    }
    process.exitCode = this.resultExitCode
  }

  /** Writes to stdout, with secrets removed. */
  protected out(text: string): void {
    process.stdout.write(scrubOutput(text.endsWith('\n') ? text : `${text}\n`))
  }

  override async catch(error: Error & {exitCode?: number}): Promise<void> {
    this.stopProgress()
    const failure = asMailkeepError(error, this.id?.replaceAll(':', ' '))
    process.exitCode = failure.exitCode
    const json = this.flags?.json ?? process.argv.includes('--json')
    if (json) {
      const body = {error: {name: failure.name, message: failure.message, hint: failure.hint, exitCode: failure.exitCode}}
      this.out(JSON.stringify(body, null, 2))
      return
    }
    let text = `mailkeep: error: ${failure.message}\n`
    if (failure.hint !== undefined) text += `hint: ${failure.hint}\n`
    // What an interruption did (rolled back to the last savepoint) and that a rerun continues.
    else if (failure instanceof InterruptedError) text += `${exitLine(failure.exitCode)}\n`
    if (failure.exitCode === ExitCode.INTERNAL) {
      const original = failure.cause instanceof Error ? failure.cause : failure
      text = `mailkeep: internal error: ${scrubForeign(original.stack ?? original.message)}\nThis is a bug in mailkeep; please report it with the output above.\n`
    }
    process.stderr.write(scrubOutput(text))
  }

  override async finally(error: Error | undefined): Promise<void> {
    this.stopProgress()
    for (const [signal, handler] of this.signalHandlers) process.off(signal, handler)
    this.signalHandlers = []
    await super.finally(error)
  }

  private installSignalHandlers(): void {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      const handler = (): void => {
        if (this.abort.signal.aborted) {
          // A second signal: stop now. The store is crash-safe; the next run repairs the tail.
          this.stopProgress()
          process.exit(signal === 'SIGINT' ? ExitCode.SIGINT : ExitCode.SIGTERM)
        }
        this.logger?.warn(`received ${signal}: rolling back to the last savepoint`)
        this.abort.abort(new InterruptedError(signal))
      }
      process.on(signal, handler)
      this.signalHandlers.push([signal, handler])
    }
  }
}

function asMailkeepError(error: unknown, command?: string): MailkeepError {
  // oclif's own parse errors (unknown flag, missing argument) are usage errors.
  if (error instanceof Errors.CLIError && !(error instanceof MailkeepError)) {
    if (error instanceof Errors.ExitError) return toMailkeepError(error)
    return new UsageError(usageMessage(error), {hint: command === undefined ? 'see `mailkeep help`' : `see \`mailkeep help ${command}\``})
  }
  return toMailkeepError(error)
}
