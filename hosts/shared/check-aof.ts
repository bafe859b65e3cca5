/**
 * `check-aof`: is a persisted file (an AOF or a snapshot) a valid sequence of commands, and where
 * would `--fix` cut it? Scans the RESP framing, then replays it into a scratch engine (every command
 * must succeed). Host-neutral: any storage, any output.
 */
import type { RawEngine } from '../../bindings/raw.js';
import { Logger } from './log.js';
import { CorruptFileError, replayFile, scanFile } from './replay.js';
import type { Storage } from './storage.js';

/** Returns the exit code: 0 valid (or fixed), 1 not valid. `raw` is a fresh engine to replay into. */
export async function checkAof(raw: RawEngine, storage: Storage, name: string, shown: string, fix: boolean, out: (line: string) => void): Promise<number> {
  let validLength: number;
  let problem: string | null = null;
  try {
    const scan = await scanFile(storage, name);
    validLength = scan.validLength;
    if (scan.torn) problem = `torn last record: ${scan.torn} at offset ${scan.validLength} (${scan.size - scan.validLength} bytes)`;
    out(`${shown}: ${scan.commands} commands, ${scan.size} bytes, RESP format ${scan.torn ? 'valid up to ' + scan.validLength : 'ok'}`);
    if (!scan.torn) {
      try {
        await replayFile(raw, storage, name, 'file', { log: new Logger() });
        out('replay: every command succeeded');
      } catch (e) {
        if (!(e instanceof CorruptFileError)) throw e;
        problem = `${e.reason} (command at offset ${e.offset})`;
        validLength = e.validLength;
      }
    }
  } catch (e) {
    if (!(e instanceof CorruptFileError)) throw e;
    problem = `${e.reason} at offset ${e.offset}`;
    validLength = e.validLength;
  }
  if (!problem) {
    out('AOF is valid');
    return 0;
  }
  out(`AOF is not valid: ${problem}`);
  if (!fix) {
    out(`'rivulet check-aof --fix ${shown}' would truncate it to ${validLength} bytes`);
    return 1;
  }
  await storage.truncate(name, validLength);
  out(`Successfully truncated AOF to ${validLength} bytes`);
  return 0;
}
