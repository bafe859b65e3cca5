// The running snapshot as the data layer sees it: which objects belong to it, and what a write must
// leave in place so that the snapshot still sees the dataset as it was when it began.
//
// A snapshot k (server/snapshot.ts) covers exactly the objects that existed when it began. Every
// group, consumer and pending entry carries `born`, the epoch current when it was created: it belongs
// to snapshot k iff born < k. Nothing is ever copied for the snapshot. Instead, until the snapshot
// has written a part, a write that would change or free it
//   - retires what it removes (blocks, groups, consumers, pending entries: kept, unlinked from the
//     live structure, chained to their owner, freed once the snapshot passed them),
//   - shadows what it changes in place (a stream's last ID / entries-added / max-deleted ID, a
//     group's last ID / entries-read, a pending entry's owner / delivery time / count: fields kept
//     in the object itself, stamped with the epoch they belong to),
//   - marks entries it deletes (FLAG_SNAPLIVE) or appends below the snapshot's last ID (FLAG_SNAPNEW),
//   - detaches whole values it deletes, overwrites or flushes (core/keyspace.ts).
// So the snapshot needs no memory beyond its output, and no write ever waits for it or fails for it.

/** Epoch of the running snapshot; 0 when none runs. */
export let activeSnapshot: u32 = 0;
/** Epoch of the most recent snapshot (stamped on new objects as `born`). */
export let lastEpoch: u32 = 0;

export function startEpoch(): u32 {
  lastEpoch++;
  activeSnapshot = lastEpoch;
  return lastEpoch;
}

export function endEpoch(): void { activeSnapshot = 0; }

/** True if an object created in epoch `born` belongs to the running snapshot. */
@inline export function inSnapshot(born: u32): bool { return born < activeSnapshot; }

/** True if a shadow stamped `epoch` still has to be written (it was taken for the running snapshot). */
@inline export function shadowedNow(epoch: u32): bool { return activeSnapshot != 0 && epoch == activeSnapshot; }
