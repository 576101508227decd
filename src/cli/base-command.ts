/**
 * The base of every command. It owns the global flags, builds the RunContext (logger, progress,
 * AbortSignal wired to SIGINT/SIGTERM), renders results as text or `--json`, and maps errors to
 * the exit-code table (src/shared/exit-codes.ts, docs/exit-codes.md).
 *
 * A command implements exec(), which parses nothing itself and calls one engine function, and
 * renderText() for the human form of the same typed result that `--json` prints.
 */
import {Command, Flags, Errors, type Interfaces} from '@oclif/core'
import {homedir} from 'node:os'
import {join} from 'node:path'
import {createLogger, type Logger, type LogLevel, type LogFormat} from '../shared/logger.js'
import {ExitCode, type ExitCodeValue} from '../shared/exit-codes.js'
import {InterruptedError, MailkeepError, toMailkeepError, UsageError, type StopSignal} from '../shared/errors.js'
import {scrubSecrets} from '../shared/secrets.js'
import {silentProgress, type ProgressReporter, type RunContext} from '../shared/context.js'

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
    'log-format': Flags.option({options: ['text', 'json'] as const, description: 'format of log lines on stderr', helpGroup: 'GLOBAL', default: 'text'})(),
  }

  /** Commands that roll back on SIGINT/SIGTERM set this; others keep the default behaviour. */
  static handlesSignals = false

  protected flags!: BaseFlags<T>
  protected args!: BaseArgs<T>
  protected logger!: Logger
  protected ctx!: RunContext
  private abort = new AbortController()
  private signalHandlers: Array<[StopSignal, () => void]> = []
  private resultExitCode: ExitCodeValue = ExitCode.OK

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
    this.args = args as BaseArgs<T>
    const level: LogLevel = this.flags.quiet ? 'error' : this.flags.verbose ? 'debug' : 'info'
    this.logger = createLogger({level, format: this.flags['log-format'] as LogFormat})
    if ((this.ctor as typeof BaseCommand).handlesSignals) this.installSignalHandlers()
    this.ctx = {logger: this.logger, progress: this.makeProgress(), signal: this.abort.signal}
  }

  async run(): Promise<void> {
    const result = await this.exec()
    if (this.flags.json) this.out(JSON.stringify(result, null, 2))
    else {
      const text = this.renderText(result)
      if (text !== '') this.out(text)
    }
    process.exitCode = this.resultExitCode
  }

  /** Writes to stdout, with secrets removed. */
  protected out(text: string): void {
    process.stdout.write(scrubSecrets(text.endsWith('\n') ? text : `${text}\n`))
  }

  override async catch(error: Error & {exitCode?: number}): Promise<void> {
    const failure = asMailkeepError(error)
    process.exitCode = failure.exitCode
    const json = this.flags?.json ?? process.argv.includes('--json')
    if (json) {
      const body = {error: {name: failure.name, message: failure.message, hint: failure.hint, exitCode: failure.exitCode}}
      this.out(JSON.stringify(body, null, 2))
      return
    }
    let text = `mailkeep: error: ${failure.message}\n`
    if (failure.hint !== undefined) text += `hint: ${failure.hint}\n`
    if (failure.exitCode === ExitCode.INTERNAL) {
      const original = failure.cause instanceof Error ? failure.cause : failure
      text = `mailkeep: internal error: ${original.stack ?? original.message}\nThis is a bug in mailkeep; please report it with the output above.\n`
    }
    process.stderr.write(scrubSecrets(text))
  }

  override async finally(error: Error | undefined): Promise<void> {
    for (const [signal, handler] of this.signalHandlers) process.off(signal, handler)
    this.signalHandlers = []
    await super.finally(error)
  }

  private installSignalHandlers(): void {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      const handler = (): void => {
        if (this.abort.signal.aborted) {
          // A second signal: stop now. The store is crash-safe; the next run repairs the tail.
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

function asMailkeepError(error: unknown): MailkeepError {
  // oclif's own parse errors (unknown flag, missing argument) are usage errors.
  if (error instanceof Errors.CLIError && !(error instanceof MailkeepError)) {
    if (error instanceof Errors.ExitError) return toMailkeepError(error)
    return new UsageError(error.message.split('\n')[0] ?? error.message, {hint: 'see mailkeep help'})
  }
  return toMailkeepError(error)
}
