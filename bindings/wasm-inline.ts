/**
 * rivulet.wasm as base64, for entry.default. Empty in the source tree: scripts/build.mjs writes the
 * real dist/wasm-inline.js.
 */
export const WASM_BASE64: string = '';
