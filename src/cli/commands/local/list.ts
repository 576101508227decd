import {Args} from '@oclif/core'
import {listMessages, type ListedMessage} from '../../../engine/local-list.js'
import {formatFlag} from '../../format-flag.js'
import {BaseCommand} from '../../base-command.js'
import {renderList} from '../../render/local-list.js'

/** `mailkeep local list EMAIL FOLDER` (docs/commands/local.md). */
export default class LocalList extends BaseCommand<typeof LocalList, ListedMessage[]> {
  static override summary = 'list the messages of a backed-up folder'
  static override description =
    "Prints UID, subject (RFC 2047 decoded) and date (ISO 8601 with the message's own offset) of every stored message. Reads only each message's header block. FOLDER is the server's folder name. Read-only. Exit status: 0; 2 folder not found; 6 the folder is damaged (the message names the repair command)."
  static override examples = ['<%= config.bin %> local list me@example.com INBOX', "<%= config.bin %> local list me@example.com 'Sent Items' --json"]
  static override args = {
    email: Args.string({description: 'the account (username)', required: true}),
    folder: Args.string({description: "the folder's server name", required: true}),
  }
  static override flags = {format: formatFlag}

  protected override async exec(): Promise<ListedMessage[]> {
    const config = await this.loadConfigAndWarn()
    return listMessages(config, this.args.email, this.args.folder, this.ctx)
  }

  protected override renderText(messages: ListedMessage[]): string {
    return renderList(messages)
  }
}
