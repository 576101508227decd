/**
 * "modify global options": the download strategy (docs/design.md, "Transactions and
 * savepoints"), each choice explained where it is chosen.
 */
import {DEFAULT_TUNING, type DownloadStrategy} from '../../config/index.js'
import {formatBytes} from '../render/text.js'
import {formatRows, TITLE_PREFIX} from './account-header.js'
import type {Choice} from './prompter.js'
import {drawScreen, type Wizard} from './wizard.js'

const SAVEPOINT = `every ${DEFAULT_TUNING.savepointMessages.toLocaleString('en-US')} messages, ${formatBytes(DEFAULT_TUNING.savepointBytes)} or ${DEFAULT_TUNING.savepointSeconds} s`

const STRATEGIES: ReadonlyArray<Choice<DownloadStrategy>> = [
  {
    name: 'delay_metadata: delay writing metadata (default)',
    value: 'delay_metadata',
    description: `Messages go to the mbox at once; their metadata is committed at each savepoint (${SAVEPOINT}). Fast; a crash loses at most the work since the last savepoint.`,
  },
  {
    name: 'direct: write straight to disk',
    value: 'direct',
    description: 'Every message is committed on its own (two fsyncs per message). Slower; a crash loses only the message being written.',
  },
  {
    name: 'delay_all: delay writing messages and metadata',
    value: 'delay_all',
    description: `Messages are held in memory (up to ${formatBytes(DEFAULT_TUNING.delayAllMaxBytes)}) and written at each savepoint. Fewest disk writes, more memory. imap-backup does not know it and uses its default.`,
  },
]

export async function globalOptionsMenu(w: Wizard): Promise<void> {
  for (;;) {
    drawScreen(w, `${TITLE_PREFIX} Global Options\n\n${formatRows([['download strategy', w.state.downloadStrategy]])}\n`)
    const action = await w.prompter.select<'strategy' | 'back'>(
      'Choose an action',
      [
        {name: 'change download strategy', value: 'strategy'},
        {name: 'back to main menu', value: 'back'},
      ],
      {numbered: true},
    )
    if (action === 'back') return
    const strategy = await w.prompter.select('Download strategy', STRATEGIES, {default: w.state.downloadStrategy})
    w.state.setDownloadStrategy(strategy)
  }
}
