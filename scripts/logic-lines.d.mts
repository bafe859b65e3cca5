// Types of scripts/logic-lines.mjs for the TypeScript tests that import it.
export function logicLines(text: string): number;
