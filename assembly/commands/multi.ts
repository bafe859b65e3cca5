// MULTI / EXEC / DISCARD. Queued commands were validated when queued; EXEC runs them with blocking
// denied (a blocking XREAD answers as if it timed out), then blocked clients are served once.
import { Args } from "../resp/args";
import { Client } from "../server/client";
import * as W from "../resp/writer";
import { replyError, call, lookupQueued } from "../server/dispatch";
import { setDenyBlocking } from "./xread";
import { setInExec, nowMs } from "../server/state";
import { jobs } from "../server/jobs";
import { CommandQueue } from "../server/command-queue";

// MULTI
export function multiCommand(c: Client, a: Args): void {
  if (c.inMulti) { replyError("ERR MULTI calls can not be nested"); return; }
  c.inMulti = true;
  c.multiFailed = false;
  W.ok();
}

// DISCARD
export function discardCommand(c: Client, a: Args): void {
  if (!c.inMulti) { replyError("ERR DISCARD without MULTI"); return; }
  c.discardMulti();
  W.ok();
}

// EXEC
export function execCommand(c: Client, a: Args): void {
  if (!c.inMulti) { replyError("ERR EXEC without MULTI"); return; }
  if (c.multiFailed) {
    c.discardMulti();
    replyError("EXECABORT Transaction discarded because of previous errors.");
    return;
  }
  const queue = c.multiQueue;
  c.multiQueue = new CommandQueue();
  c.inMulti = false;
  c.multiDenyOom = false;
  W.arrayLen(queue.length);
  setDenyBlocking(true);
  setInExec(true);
  queue.rewind();
  while (queue.next(queued)) {
    W.setTarget(c.output, c.resp);
    call(c, lookupQueued(queued), queued);
  }
  setInExec(false);
  setDenyBlocking(false);
  W.setTarget(c.output, c.resp);
  queue.clear();
  // A BGSAVE / BGREWRITEAOF in the transaction was scheduled; Redis's cron starts it right after.
  jobs.startScheduled(nowMs);
}

/** The queued command EXEC is running (its arguments point into the queue). */
const queued = new Args();
