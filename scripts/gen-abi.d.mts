// Types of scripts/gen-abi.mjs for the TypeScript tests that import it.
export type WasmType = 'i32' | 'f64';
export interface AbiDoc {
  summary: string;
  text: string;
}
export interface AbiExport {
  name: string;
  params: Array<{ name: string; type: WasmType }>;
  result: WasmType | 'void';
  section: string;
  doc: AbiDoc;
}
export interface Abi {
  constants: Array<{ name: string; value: number; doc: AbiDoc }>;
  enums: Array<{ name: string; doc: AbiDoc; members: Array<{ name: string; value: number; doc: AbiDoc }> }>;
  records: Array<{ name: string; doc: AbiDoc; size: number; fields: Array<{ name: string; type: WasmType; offset: number; doc: AbiDoc }> }>;
  sections: Array<{ id: string; title: string }>;
  exports: AbiExport[];
}
export const SOURCE: string;
export const OUTPUTS: { ts: string; c: string; py: string; doc: string };
export function parseAbi(source: string): Abi;
export function wasmSignature(e: AbiExport): string;
export function emitTs(abi: Abi): string;
export function emitC(abi: Abi): string;
export function emitPy(abi: Abi): string;
export function emitDoc(abi: Abi, doc: string): string;
export function generate(root?: string): Map<string, string>;
export function stale(root?: string): string[];
export function writeGenerated(root?: string): string[];
