import {Args} from '@oclif/core'
import {showMessages, type ShownMessage} from '../../../engine/inspect/local-show.js'
import {UsageError} from '../../../shared/errors.js'
import {isClosedPipe} from '../../closed-pipe.js'
import {formatFlag} from '../../format-flag.js'
import {BaseCommand} from '../../base-command.js'
import {showBytes, showJson} from '../../render/local-show.js'

/** `mailkeep local show EMAIL FOLDER UID[,UID...]` (docs/commands/local.md). */
export default class LocalShow extends BaseCommand<typeof LocalShow, ShownMessage[]> {
  static override summary = 'print stored messages'
  static override description =
    'Writes each message to stdout exactly as stored: for messages mailkeep backed up, the bytes the server sent; for messages imap-backup backed up, its stored text. With several UIDs each message is preceded by a "| UID: n |" box. --json gives [{uid, offset, length, flags, body, exact}], plus body_base64 when the bytes are not valid UTF-8. Read-only. Exit status: 0; 2 folder or UID not found; 6 the folder is damaged.'
  static override examples = ['<%= config.bin %> local show me@example.com INBOX 42 > message.eml', '<%= config.bin %> local show me@example.com INBOX 1,2,3']
  static override args = {
    email: Args.string({description: 'the account (username)', required: true}),
    folder: Args.string({description: "the folder's server name", required: true}),
    uids: Args.string({description: 'UID, or UIDs separated by commas', required: true}),
  }
  static override flags = {format: formatFlag}

  protected override async exec(): Promise<ShownMessage[]> {
    const uids = parseUids(this.args.uids)
    const config = await this.loadConfigAndWarn()
    return showMessages(config, this.args.email, this.args.folder, uids, this.ctx)
  }

  /** Bytes go to stdout as they are: no text conversion, nothing added to a single message. */
  override async run(): Promise<void> {
    const messages = await this.exec()
    if (this.flags.json) {
      this.out(JSON.stringify(showJson(messages), null, 2))
      return
    }
    const bytes = showBytes(messages)
    // A reader that left (`| head`) is not an error: closed-pipe.ts, and the exit status stays 0.
    await new Promise<void>((resolve, reject) => process.stdout.write(bytes, (error) => (error && !isClosedPipe(error) ? reject(error) : resolve())))
  }
}

/** `1,2,3` → [1, 2, 3]; UIDs are 32-bit non-zero numbers (RFC 3501 §2.3.1.1). */
function parseUids(text: string): number[] {
  const parts = text.split(',').map((p) => p.trim())
  const uids = parts.map((p) => (/^\d{1,10}$/.test(p) ? Number(p) : Number.NaN))
  if (parts.length === 0 || uids.some((u) => !Number.isSafeInteger(u) || u < 1 || u > 0xffffffff)) {
    throw new UsageError(`invalid UID list '${text}'`, {hint: 'give UIDs as numbers separated by commas, e.g. 12 or 12,15'})
  }
  return uids
}
