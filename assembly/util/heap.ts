// The allocator as the page budget sees it: how much the engine can still allocate without linear
// memory growing past the budget, and the tiers of that room each kind of work may use.
//
// Growth itself is capped: scripts/grow-guard.mjs wraps every memory.grow of the module so that it
// fails past `growLimitPages`; the allocator then traps. The engine never gets there: denyoom writes
// answer OOM, buffers refuse to grow, long reads stop early, all while a reserve is still free.
//
//   budget ─┬─ in use (data, connections, garbage not yet collected)
//           ├─ free blocks of the allocator (TLSF free lists)   ┐
//           └─ pages not grown yet (limit − memory.size())       ┘ room
//
// Tiers, with R = reserve() = max(budget / 4, 64 KiB):
//   room ≥ R          denyoom writes run (XADD, SET, XGROUP CREATE, MULTI queueing, rv_xadd_batch …)
//   room ≥ R / 2      reads that deliver many entries keep going (XREADGROUP, XAUTOCLAIM, woken readers)
//   room ≥ n + R / 4  a reply, input or INFO buffer may grow to n bytes
//   below             only the small, bounded allocations of non-denyoom commands (replies of a few
//                     bytes, effects, PEL bookkeeping) — the reserve exists for them
//
// Room is one free block, not a sum: the largest block TLSF holds (O(1) from its bitmaps) is what
// one allocation can get without growing. The TLSF layout read here is AssemblyScript 0.28's
// (~lib/rt/tlsf.ts; test/limits.test.ts checks it against INFO memory).
import { ROOT } from "rt/tlsf";

/** Pages linear memory may grow to (0 = no limit). Read by the grow guard (scripts/grow-guard.mjs). */
export let growLimitPages: i32 = 0;
export function setGrowLimit(pages: i32): void { growLimitPages = pages; roomHigh = -1; }

// TLSF (wasm32): Root = flMap: usize, then FL_BITS u32 second-level maps, then FL_BITS × SL_SIZE list
// heads (16-byte aligned). Block = mmInfo: usize (size | 2 tag bits), prev, next.
const SL_BITS: u32 = 4;
const FL_BITS: u32 = 31 - (SL_BITS + 4);
const SL_START: usize = sizeof<usize>();
const HL_START: usize = (SL_START + (<usize>FL_BITS << 2) + 15) & ~15;
const TAGS_MASK: usize = 3;
const BLOCK_NEXT: usize = 2 * sizeof<usize>();

@inline function slMap(root: usize, fl: u32): u32 { return load<u32>(root + SL_START + (<usize>fl << 2)); }
@inline function head(root: usize, fl: u32, sl: u32): usize {
  return load<usize>(root + HL_START + (((<usize>fl << SL_BITS) + <usize>sl) << alignof<usize>()));
}

/** Size of the largest free block (a lower bound within its size class: the head of the largest list). */
export function largestFreeBlock(): usize {
  const root = changetype<usize>(ROOT);
  if (root == 0) return 0;
  const fl = load<usize>(root);
  if (fl == 0) return 0;
  const f = <u32>(31 - clz<u32>(<u32>fl));
  const sm = slMap(root, f);
  if (sm == 0) return 0;
  const b = head(root, f, <u32>(31 - clz<u32>(sm)));
  return b == 0 ? 0 : load<usize>(b) & ~TAGS_MASK;
}

/** Set by totalFreeBytes(piece): how many allocations of `piece` bytes the free blocks hold. */
let piecesFree: i64 = 0;

/** Bytes in all free blocks, counting how many `piece`-byte allocations they hold (walks the free
 *  lists: for INFO and for the slow path of fits(), not hot paths). */
export function totalFreeBytes(piece: i64 = 0): u64 {
  piecesFree = 0;
  const root = changetype<usize>(ROOT);
  if (root == 0) return 0;
  // an allocation takes its size rounded up by at most 1/16, plus its header
  const need = piece > 0 ? piece + (piece >> 4) + 16 : 0;
  let total: u64 = 0;
  let fls = <u32>load<usize>(root);
  while (fls != 0) {
    const f = <u32>ctz<u32>(fls);
    fls &= fls - 1;
    let sls = slMap(root, f);
    while (sls != 0) {
      const s = <u32>ctz<u32>(sls);
      sls &= sls - 1;
      for (let b = head(root, f, s); b != 0; b = load<usize>(b + BLOCK_NEXT)) {
        const size = load<usize>(b) & ~TAGS_MASK;
        total += <u64>size;
        if (need > 0) piecesFree += <i64>size / need;
      }
    }
  }
  return total;
}

/** Bytes linear memory may still grow by (0 without a limit: growth is then unbounded). */
function ungrownBytes(): i64 {
  if (growLimitPages <= 0) return 0;
  const pages = <i64>growLimitPages - <i64>memory.size();
  return pages > 0 ? pages << 16 : 0;
}

/** What one allocation can get without passing the budget. */
export function room(): i64 {
  const free = <i64>largestFreeBlock();
  const ungrown = ungrownBytes();
  return free > ungrown ? free : ungrown;
}

@inline export function budgeted(): bool { return growLimitPages > 0; }

export function budgetBytes(): i64 { return <i64>growLimitPages << 16; }

/** R: what denyoom writes leave free for everything else. A loading connection (replaying what was
 *  written within the budget before) may use three quarters of it. */
export function reserve(): i64 {
  let r = budgetBytes() >> 2;
  if (r < 65536) r = 65536;
  return loadingTier ? r >> 2 : r;
}

let loadingTier = false;
/** The command running is a loading connection's (dispatch.processCommand). */
export function setLoadingTier(on: bool): void { loadingTier = on; }

// Garbage: the incremental collector waits for managed memory to double before it runs, which a
// budget may not allow; so under a budget the engine collects in full when room runs low. A full
// collection is costly: it runs again only once room fell by R/8 from its highest point since the
// last one (so after memory was freed, once R/8 of it was taken again).
let roomHigh: i64 = -1;

/** Collects unless little was allocated since the last collection; true if it did. */
function collect(): bool {
  const r = room();
  if (r > roomHigh && roomHigh >= 0) roomHigh = r;
  if (roomHigh >= 0 && r > roomHigh - (reserve() >> 3)) return false;
  __collect();
  roomHigh = room();
  return true;
}

/** Called before each command (and snapshot part, batch, wake-up): collects when room runs below R/2. */
export function collectIfLow(): void {
  if (!budgeted()) return;
  const r = room();
  if (r > roomHigh && roomHigh >= 0) roomHigh = r;
  if (r < reserve() >> 1) collect();
}

function fitsNow(total: i64, piece: i64, pieces: i32): bool {
  if (room() >= total + 64 * <i64>pieces) return true;
  const ungrown = ungrownBytes();
  const free = <i64>totalFreeBytes(piece) + ungrown;
  const need = piece + (piece >> 4) + 16;
  return free >= total && piecesFree + ungrown / need >= <i64>pieces;
}

/**
 * True if `total` bytes, of which `pieces` allocations of `piece` bytes, fit within the budget: one
 * free block holds them all (O(1)), or the free blocks together hold the total and those pieces (a
 * walk of the free lists, only then). After one collection if needed.
 */
export function fits(total: i64, piece: i64, pieces: i32 = 1): bool {
  if (!budgeted() || fitsNow(total, piece, pieces)) return true;
  return collect() && fitsNow(total, piece, pieces);
}

/** One allocation of `need` bytes. */
export function hasRoom(need: i64): bool { return fits(need, need); }

/** Denyoom writes: refused unless the reserve stays free (and `need`, what the write adds, fits; its
 *  largest piece — a block growing to hold it — in one free block). */
export function roomForWrite(need: i64 = 0): bool {
  return fits(reserve() + need, 2 * need + 16384);
}

/** A denyoom write that allocates `total` bytes in pieces of at most `piece` (rv_xadd_batch). */
export function roomForWriteOf(total: i64, piece: i64): bool {
  const r = reserve();
  return fits(total + r, max<i64>(r >> 2, piece));
}

/**
 * Commands that add or move pending entries (XREADGROUP, XCLAIM, XAUTOCLAIM, XNACK — not denyoom in
 * Redis): one more record, when its PEL indexes may grow by `group` and `consumer` bytes (PelIndex.growBytes).
 */
export function roomForRecords(group: i64, consumer: i64): bool {
  if (!budgeted()) return true;
  const r = reserve();
  // each index that grows allocates three arrays (PelIndex.grow)
  const piece = (group > consumer ? group : consumer) / 3 + 32;
  const pieces = (group > 0 ? 3 : 0) + (consumer > 0 ? 3 : 0);
  return fits((r >> 3) + 512 + group + consumer, piece, pieces > 0 ? pieces : 1);
}

/** Long reads and wake-ups stop delivering more when this is false. */
export function roomForDelivery(): bool {
  const r = reserve();
  return fits(r >> 1, r >> 3);
}

/** A buffer may grow to `bytes` (one block). */
export function roomForBuffer(bytes: i64): bool { return fits(bytes + (reserve() >> 2), bytes + 4096); }
