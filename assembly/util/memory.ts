// Memory accounting, like Redis's zmalloc used_memory: every long-lived allocation the engine makes on
// behalf of data or connections is counted here; `maxmemory` and the page budget are checked against it.

let usedBytes: i64 = 0;

export function account(n: i64): void { usedBytes += n; }
export function release(n: i64): void { usedBytes -= n; }

/** Bytes of static data, stack and runtime structures that exist before any user data. */
export function baselineBytes(): i64 { return <i64>__heap_base; }

export function usedMemory(): i64 { return usedBytes + baselineBytes(); }
