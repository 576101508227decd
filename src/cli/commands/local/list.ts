import {Args} from '@oclif/core'
import {streamMessages, type ListedMessage} from '../../../engine/inspect/local-list.js'
import {formatFlag} from '../../format-flag.js'
import {BaseCommand} from '../../base-command.js'
import {MessageTable} from '../../render/local-list.js'
import {StreamWriter, writeJsonArray} from '../../stream-output.js'

/** `mailkeep local list EMAIL FOLDER` (docs/commands/local.md). */
export default class LocalList extends BaseCommand<typeof LocalList, AsyncIterable<ListedMessage>> {
  static override summary = 'list the messages of a backed-up folder'
  static override description =
    "Prints UID, date, sender, size and subject (RFC 2047 decoded) of every stored message; --json gives [{uid, date, subject, from, size}] with the date in ISO 8601 with the message's own offset. Reads only each message's header block. FOLDER is the server's folder name. Read-only; works while a backup runs (it reads what is committed). `mailkeep local search` finds messages across folders. Exit status: 0; 2 folder not found; 6 the folder is damaged (the message names the repair command)."
  static override examples = ['<%= config.bin %> local list me@example.com INBOX', "<%= config.bin %> local list me@example.com 'Sent Items' --json"]
  static override args = {
    email: Args.string({description: 'the account (username)', required: true}),
    folder: Args.string({description: "the folder's server name", required: true}),
  }
  static override flags = {format: formatFlag}

  protected override async exec(): Promise<AsyncIterable<ListedMessage>> {
    const config = await this.loadConfigAndWarn()
    return streamMessages(config, this.args.email, this.args.folder, this.ctx)
  }

  /** Each line (or JSON item) is written as it is read: a 100,000-message folder is not held. */
  override async run(): Promise<void> {
    const messages = await this.exec()
    const out = new StreamWriter()
    if (this.flags.json) {
      await writeJsonArray(messages, out)
      return
    }
    const table = new MessageTable()
    let first = true
    for await (const m of messages) {
      // The header once the folder was found (an unknown one is an error, without a header).
      if (first) await out.write(table.header())
      first = false
      await out.write(table.line(m))
    }
    if (first) await out.write(table.header())
    await out.flush()
  }
}
