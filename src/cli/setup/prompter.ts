/**
 * What the setup wizard needs from a terminal: draw a screen, ask for a choice, a line of text,
 * a secret, a yes/no, a set of choices. The wizard depends on this interface only; the one
 * implementation over @inquirer/prompts is inquirer-adapter.ts, so inquirer's API (and its
 * quirks) stays in one file.
 */

export interface Choice<T> {
  /** The label shown in the list. */
  name: string
  value: T
  /** Shown under the list while the choice is highlighted. */
  description?: string
}

export interface CheckboxChoice<T> extends Choice<T> {
  checked: boolean
}

export interface SelectOptions<T> {
  /** The choice highlighted at first (the first one when absent). */
  default?: T
  /** Number the entries `1.`, `2.`, … and let digits pick one (the main and account menus). */
  numbered?: boolean
}

export interface InputOptions {
  /** Returned for an empty answer, shown in brackets; Tab copies it into the line for editing. */
  default?: string
  /** `true`, or the message to show under the line (the answer is then asked again). */
  validate?: (value: string) => true | string
}

export interface Prompter {
  /** Clears the terminal and draws `text` at the top: each menu starts on a fresh screen. */
  screen(text: string): void
  /** Writes text as it is (a line ends with `\n`). */
  write(text: string): void
  select<T>(message: string, choices: ReadonlyArray<Choice<T>>, options?: SelectOptions<T>): Promise<T>
  input(message: string, options?: InputOptions): Promise<string>
  /** A secret: every typed character is shown as `*`, the value never. */
  secret(message: string): Promise<string>
  confirm(message: string, defaultValue: boolean): Promise<boolean>
  checkbox<T>(message: string, choices: ReadonlyArray<CheckboxChoice<T>>): Promise<T[]>
}

/**
 * The user left a prompt with Ctrl-C (or the terminal went away). The wizard stops without
 * saving; the command reports it with exit status 130.
 */
export class PromptCancelled extends Error {
  constructor(options?: {cause?: unknown}) {
    super('setup was interrupted', options)
    this.name = 'PromptCancelled'
  }
}
