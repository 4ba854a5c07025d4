/**
 * Options that name the connection's settings from the command line, shared by
 * every command that connects: an Identity Manager settings file taken as the
 * connection, and the RSA private key for `enc:` values.
 */
import type { Argv } from 'yargs';

export interface ConnectionArgs {
  settings?: string;
  privateKey?: string;
}

export function connectionOptions<T>(y: Argv<T>): Argv<T & ConnectionArgs> {
  return y
    .option('settings', {
      type: 'string',
      describe: "An Identity Manager appsettings.agent.json whose Connections.<identifier> entry is the connection (overrides connection.settingsFile)",
    })
    .option('private-key', {
      type: 'string',
      describe: 'RSA private key (PEM) that decrypts enc: values (default: connection.secrets.privateKey or $SCIM_ETL_PRIVATE_KEY)',
    }) as Argv<T & ConnectionArgs>;
}
