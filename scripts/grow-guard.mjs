// asc transform: makes the page budget a hard cap on linear memory.
//
// AssemblyScript's allocator (TLSF) grows memory when its free lists cannot serve a request: first by
// max(current size, needed) pages ("double memory"), and if that fails by exactly what it needs. This
// transform wraps the delta of every `memory.grow` in the module with a guard:
//
//   delta' = (limit == 0 || memory.size + delta <= limit) ? delta : 0x10000
//
// where `limit` is the engine's `growLimitPages` global (assembly/util/heap.ts, set by
// rv_set_page_budget). A refused delta is one no 32-bit memory can satisfy, so memory.grow returns -1
// and the allocator falls back to growing by exactly what it needs, which the guard allows while it
// stays within the limit. Past the limit the allocator traps: linear memory can never exceed the budget.
// The engine answers OOM long before (heap.ts), so the trap is a backstop against engine bugs only.
import { Transform } from 'assemblyscript/transform';

const LIMIT_GLOBAL = 'assembly/util/heap/growLimitPages';
const GUARD = '~rivulet/guardGrow';
/** Expression fields that hold child expressions (binaryen getExpressionInfo names). */
const CHILD_FIELDS = ['children', 'operands', 'condition', 'ifTrue', 'ifFalse', 'body', 'value', 'ptr', 'left', 'right',
  'delta', 'dest', 'source', 'size', 'expected', 'replacement', 'vec', 'ref'];

export default class GrowGuard extends Transform {
  afterCompile(module) {
    const b = this.binaryen;
    if (!module.getGlobal(LIMIT_GLOBAL)) throw new Error(`grow-guard: global ${LIMIT_GLOBAL} not found`);
    const i32 = b.i32;
    const delta = () => module.local.get(0, i32);
    const limit = () => module.global.get(LIMIT_GLOBAL, i32);
    module.addFunction(GUARD, b.createType([i32]), i32, [],
      module.if(
        module.i32.and(
          module.i32.ne(limit(), module.i32.const(0)),
          module.i32.gt_u(module.i32.add(module.memory.size(), delta()), limit())),
        module.i32.const(0x10000),
        delta()));
    let wrapped = 0;
    const visit = (expr) => {
      if (!expr) return;
      const id = b.getExpressionId(expr);
      // leaves (and Unreachable, which getExpressionInfo does not describe); a Const's `value` is no child
      if (id === b.UnreachableId || id === b.NopId || id === b.ConstId) return;
      const info = b.getExpressionInfo(expr);
      for (const field of CHILD_FIELDS) {
        if (!(field in info)) continue;
        const v = info[field];
        if (Array.isArray(v)) v.forEach(visit);
        else if (typeof v === 'number') visit(v);
      }
      if (info.id === b.MemoryGrowId) {
        b.MemoryGrow.setDelta(expr, module.call(GUARD, [info.delta], i32));
        wrapped++;
      }
    };
    for (let i = 0; i < module.getNumFunctions(); i++) {
      const fn = module.getFunctionByIndex(i);
      const info = b.getFunctionInfo(fn);
      if (info.name === GUARD || !info.body) continue;
      visit(info.body);
    }
    // TLSF's growMemory has two (doubling, exact) and its initialize one.
    if (wrapped < 3) throw new Error(`grow-guard: expected the allocator's memory.grow calls, wrapped ${wrapped}`);
  }
}
