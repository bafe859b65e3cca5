// Snapshots: the whole dataset as the RESP commands that rebuild it (Redis's AOF-rewrite form),
// preceded by a header naming the format version and the engine build. Any host writes the same bytes.
import { CommandWriter } from "../resp/command-writer";
import { dbs } from "./state";
import { DB_COUNT, Value, StreamValue, StringValue, TYPE_STREAM } from "../core/keyspace";
import { StreamIterator } from "../core/stream";
import { U64_MAX } from "../core/ids";
import { sortedGroups } from "../core/groups";
import { BUILD_HASH } from "../build-info";
import { SNAPSHOT_FORMAT } from "../abi";

export const SNAPSHOT_COMMAND = "RIVULET.SNAPSHOT";

export function writeSnapshot(w: CommandWriter): void {
  w.begin(3); w.argAscii(SNAPSHOT_COMMAND); w.argI64(SNAPSHOT_FORMAT); w.argAscii(BUILD_HASH);
  for (let d = 0; d < DB_COUNT; d++) {
    const db = dbs[d];
    if (db.size == 0) continue;
    w.begin(2); w.argAscii("SELECT"); w.argI64(d);
    const keys = db.map.keys();
    for (let i = 0; i < keys.length; i++) writeKey(w, keys[i], db.map.get(keys[i]));
  }
}

function writeKey(w: CommandWriter, key: string, v: Value): void {
  if (v.type != TYPE_STREAM) {
    const sv = changetype<StringValue>(v);
    w.begin(3); w.argAscii("SET"); w.argKey(key); w.arg(changetype<usize>(sv.data), sv.data.length);
    return;
  }
  const s = changetype<StreamValue>(v).stream;
  if (s.length == 0) {
    // An empty stream is still a key: create it with one entry trimmed away at once.
    w.begin(7); w.argAscii("XADD"); w.argKey(key); w.argAscii("MAXLEN"); w.argAscii("0"); w.argAscii("0-1"); w.argAscii("x"); w.argAscii("y");
  } else {
    const it = new StreamIterator(s, 0, 0, U64_MAX, U64_MAX, false);
    while (it.next()) {
      const e = it.entry;
      w.begin(3 + 2 * <i32>e.nfields); w.argAscii("XADD"); w.argKey(key); w.argId(e.ms, e.seq);
      e.startFields();
      for (let f: u32 = 0; f < e.nfields; f++) { e.nextField(); w.arg(e.fieldPtr, e.fieldLen); w.arg(e.valuePtr, e.valueLen); }
    }
  }
  w.begin(7); w.argAscii("XSETID"); w.argKey(key); w.argId(s.lastId.ms, s.lastId.seq);
  w.argAscii("ENTRIESADDED"); w.argU64(s.entriesAdded);
  w.argAscii("MAXDELETEDID"); w.argId(s.maxDeletedId.ms, s.maxDeletedId.seq);
  const gs = sortedGroups(s);
  for (let i = 0; i < gs.length; i++) {
    const g = gs[i];
    w.begin(7); w.argAscii("XGROUP"); w.argAscii("CREATE"); w.argKey(key); w.argKey(g.name);
    w.argId(g.lastId.ms, g.lastId.seq); w.argAscii("ENTRIESREAD"); w.argI64(g.entriesRead);
    // Entries released with XNACK belong to nobody: restore them the same way.
    const all = g.pel.list();
    for (let k = 0; k < all.length; k++) {
      const n = all[k];
      if (n.consumer != null) continue;
      w.begin(11); w.argAscii("XNACK"); w.argKey(key); w.argKey(g.name); w.argAscii("FAIL");
      w.argAscii("IDS"); w.argAscii("1"); w.argId(n.ms, n.seq);
      w.argAscii("RETRYCOUNT"); w.argU64(n.deliveryCount); w.argAscii("FORCE");
    }
    const cs = g.sortedConsumers();
    for (let j = 0; j < cs.length; j++) {
      const cons = cs[j];
      const pending = cons.pel.list();
      if (pending.length == 0) {
        w.begin(5); w.argAscii("XGROUP"); w.argAscii("CREATECONSUMER"); w.argKey(key); w.argKey(g.name); w.argKey(cons.name);
        continue;
      }
      for (let k = 0; k < pending.length; k++) {
        const n = pending[k];
        w.begin(12); w.argAscii("XCLAIM"); w.argKey(key); w.argKey(g.name); w.argKey(cons.name); w.argAscii("0");
        w.argId(n.ms, n.seq); w.argAscii("TIME"); w.argI64(<i64>n.deliveryTime);
        w.argAscii("RETRYCOUNT"); w.argU64(n.deliveryCount); w.argAscii("JUSTID"); w.argAscii("FORCE");
      }
    }
  }
}
