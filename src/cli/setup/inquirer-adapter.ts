/**
 * The Prompter over @inquirer/prompts 7 — the only module of the wizard that knows inquirer.
 *
 * Quirks absorbed here:
 * - inquirer rejects a prompt left with Ctrl-C with `ExitPromptError` (and an aborted one with
 *   `AbortPromptError`); both become PromptCancelled, matched by name because the classes live
 *   in @inquirer/core, which is not a direct dependency.
 * - `select` shows 7 entries and pages the rest; the menus are short, so every entry is shown.
 * - `input` returns its default for an empty answer. Where an empty answer must mean "clear",
 *   callers ask without a default and show the current value in the message instead.
 * - `password` with `mask` echoes one `*` per character; without it nothing at all. The mask
 *   is used so the user sees that typing arrives; the value itself is never written.
 * - Text the wizard writes itself goes through scrubOutput(), like every other output of
 *   mailkeep; inquirer's own echo of an `input` answer cannot be scrubbed, which is why secrets
 *   are only ever asked with `secret()`.
 */
import {checkbox, confirm, input, password, select} from '@inquirer/prompts'
import {scrubOutput} from '../../shared/secrets.js'
import {PromptCancelled, type CheckboxChoice, type Choice, type InputOptions, type Prompter, type SelectOptions} from './prompter.js'

/** Cursor home, then erase the whole display (ECMA-48 CUP and ED 2). */
const CLEAR_SCREEN = '\u001B[H\u001B[2J'
const CANCEL_ERRORS = new Set(['ExitPromptError', 'AbortPromptError', 'CancelPromptError'])

export function inquirerPrompter(output: NodeJS.WriteStream = process.stdout): Prompter {
  const write = (text: string): void => {
    output.write(scrubOutput(text))
  }
  return {
    screen(text) {
      if (output.isTTY) output.write(CLEAR_SCREEN)
      write(text.endsWith('\n') ? text : `${text}\n`)
    },
    write,
    select<T>(message: string, choices: ReadonlyArray<Choice<T>>, options: SelectOptions<T> = {}) {
      return ask(() =>
        select<T>({
          message,
          choices: choices.map((c) => ({name: c.name, value: c.value, ...(c.description === undefined ? {} : {description: c.description})})),
          pageSize: Math.max(choices.length, 1),
          loop: false,
          ...('default' in options ? {default: options.default} : {}),
          theme: {indexMode: options.numbered === true ? 'number' : 'hidden'},
        }),
      )
    },
    input(message: string, options: InputOptions = {}) {
      const validate = options.validate
      return ask(() =>
        input({
          message,
          ...(options.default === undefined || options.default === '' ? {} : {default: options.default}),
          ...(validate === undefined ? {} : {validate: (value: string) => validate(value.trim())}),
        }),
      ).then((value) => value.trim())
    },
    secret(message: string) {
      return ask(() => password({message, mask: '*'}))
    },
    confirm(message: string, defaultValue: boolean) {
      return ask(() => confirm({message, default: defaultValue}))
    },
    checkbox<T>(message: string, choices: ReadonlyArray<CheckboxChoice<T>>) {
      return ask(() =>
        checkbox<T>({
          message,
          choices: choices.map((c) => ({name: c.name, value: c.value, checked: c.checked})),
          pageSize: Math.max(choices.length, 1),
          loop: false,
        }),
      )
    },
  }
}

async function ask<T>(prompt: () => Promise<T>): Promise<T> {
  try {
    return await prompt()
  } catch (error) {
    if (error instanceof Error && CANCEL_ERRORS.has(error.name)) throw new PromptCancelled({cause: error})
    throw error
  }
}
