// Commands that exist for persistence: the snapshot header.
import { Args } from "../resp/args";
import { Client } from "../server/client";
import * as W from "../resp/writer";
import { replyError } from "../server/dispatch";
import { parseIntArg, argInt } from "./common";
import { SNAPSHOT_FORMAT } from "../abi";

// RIVULET.SNAPSHOT format-version build-hash
export function snapshotHeaderCommand(c: Client, a: Args): void {
  if (!parseIntArg(a, 1)) return;
  if (argInt != SNAPSHOT_FORMAT) {
    replyError("ERR unsupported snapshot format version " + argInt.toString() + " (this engine reads " + SNAPSHOT_FORMAT.toString() + ")");
    return;
  }
  W.ok();
}
