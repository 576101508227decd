import type {Config} from '../../config/index.js'
import {runTransfer} from '../../engine/upload/copy.js'
import type {TransferReport} from '../../engine/upload/types.js'
import {namingFlags, transferArgs, transferOptions, TRANSFER_EXIT_STATUS, UploadCommand} from '../transfer-command.js'

/** `mailkeep copy SOURCE_EMAIL DESTINATION_EMAIL` (docs/commands/copy-mirror-migrate.md). */
export default class Copy extends UploadCommand<typeof Copy> {
  static override summary = 'back up an account, then copy its backup to another account (additive)'

  static override description = [
    "First backs up SOURCE_EMAIL, then, for every folder of its backup, uploads to DESTINATION_EMAIL what is not there yet and sets the flags of earlier copies to the backed-up ones. Messages that exist only on the destination are kept. Source→destination UIDs are recorded in the folder's .mirror file (imap-backup compatible), so a rerun uploads nothing twice, also without UIDPLUS and after a crash.",
    TRANSFER_EXIT_STATUS,
  ].join('\n\n')

  static override examples = ['<%= config.bin %> copy me@old.example me@new.example', '<%= config.bin %> copy me@example.com archive@example.com --destination-prefix INBOX.old --destination-delimiter .']

  static override args = transferArgs
  static override flags = namingFlags

  protected override upload(config: Config): Promise<TransferReport> {
    return runTransfer(transferOptions('copy', config, this.args, this.flags), this.ctx)
  }
}
