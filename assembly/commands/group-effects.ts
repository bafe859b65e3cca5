// Effects of group reads and claims, in the forms Redis propagates them (see reference 5.9).
import * as E from "../server/effects";
import { Group, Nack } from "../core/groups";

/** XCLAIM key group consumer 0 id TIME ms RETRYCOUNT n FORCE JUSTID LASTID last: restores one NACK exactly. */
export function effectClaim(dbId: i32, key: string, g: Group, n: Nack): void {
  if (!E.effectsEnabled() || n.consumer == null) return;
  E.markCustom();
  E.effect(14, dbId);
  E.argAscii("XCLAIM"); E.argKey(key); E.argKey(g.name); E.argKey(n.consumer!.name); E.argAscii("0");
  E.argId(n.ms, n.seq);
  E.argAscii("TIME"); E.argI64(<i64>n.deliveryTime);
  E.argAscii("RETRYCOUNT"); E.argU64(n.deliveryCount);
  E.argAscii("FORCE"); E.argAscii("JUSTID");
  E.argAscii("LASTID"); E.argId(g.lastId.ms, g.lastId.seq);
}

/** XGROUP SETID key group last ENTRIESREAD n: the group's position and read counter. */
export function effectSetId(dbId: i32, key: string, g: Group): void {
  if (!E.effectsEnabled()) return;
  E.markCustom();
  E.effect(7, dbId);
  E.argAscii("XGROUP"); E.argAscii("SETID"); E.argKey(key); E.argKey(g.name);
  E.argId(g.lastId.ms, g.lastId.seq);
  E.argAscii("ENTRIESREAD"); E.argI64(g.entriesRead);
}

export function effectCreateConsumer(dbId: i32, key: string, g: Group, consumer: string): void {
  if (!E.effectsEnabled()) return;
  E.markCustom();
  E.effect(5, dbId);
  E.argAscii("XGROUP"); E.argAscii("CREATECONSUMER"); E.argKey(key); E.argKey(g.name); E.argKey(consumer);
}

/** A pending entry dropped because its stream entry is gone. */
export function effectAck(dbId: i32, key: string, g: Group, ms: u64, seq: u64): void {
  if (!E.effectsEnabled()) return;
  E.markCustom();
  E.effect(4, dbId);
  E.argAscii("XACK"); E.argKey(key); E.argKey(g.name); E.argId(ms, seq);
}
