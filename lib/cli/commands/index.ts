/** Every command of SPEC §2, one module each. */
import type { CommandModule } from 'yargs';
import { exportCommand } from './export.js';
import { fulfillCommand } from './fulfill.js';
import { runCommand } from './run.js';
import { validateCommand } from './validate.js';
import { discoverCommand } from './discover.js';
import { checkCommand } from './check.js';
import { sandboxCommand } from './sandbox.js';
import { encryptCommand } from './encrypt.js';

export const commands: CommandModule<any, any>[] = [
  exportCommand,
  fulfillCommand,
  runCommand,
  validateCommand,
  discoverCommand,
  checkCommand,
  sandboxCommand,
  encryptCommand,
];
