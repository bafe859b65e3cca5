/**
 * `check-aof`: is a persisted file (an AOF or a snapshot) a valid sequence of commands, and where
 * would `--fix` cut it? Replays it into a scratch engine, which reports torn tails, invalid input and
 * failing commands with their offsets. Host-neutral: any storage, any output.
 */
import type { RawEngine } from '../../bindings/raw.js';
import { Logger } from './log.js';
import { CorruptFileError, replayFile } from './replay.js';
import type { Storage } from './storage.js';

/** Returns the exit code: 0 valid (or fixed), 1 not valid. `raw` is a fresh engine to replay into. */
export async function checkAof(raw: RawEngine, storage: Storage, name: string, shown: string, fix: boolean, out: (line: string) => void): Promise<number> {
  let validLength: number;
  let problem: string | null = null;
  try {
    const r = await replayFile(raw, storage, name, 'file', { log: new Logger() });
    validLength = r.validLength;
    out(`${shown}: ${r.commands} commands, ${r.size} bytes, ${r.torn ? 'valid up to ' + r.validLength : 'every command succeeded'}`);
    if (r.torn) problem = `torn last record: ${r.torn} at offset ${r.validLength} (${r.size - r.validLength} bytes)`;
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
