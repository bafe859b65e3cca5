/**
 * A conformance {@link Target} whose engine is the browser worker host: each step goes over a
 * WebSocket to a driver page (pages/conformance.html), which runs it on its connections to the
 * engine's worker and answers with the reply bytes. Steps travel in order on one socket, one page
 * and one MessagePort, so a `&` command has reached the engine before the next step is sent.
 */
import type { Target } from '../../conformance/corpus.ts';
import { bytesToLatin1, latin1ToBytes, RESET_COMMANDS } from '../../conformance/corpus.ts';
import type { WebSocketPeer } from './websocket.ts';

export class PageTarget implements Target {
  #nextId = 1;
  readonly #waiting = new Map<number, { resolve: (s: string) => void; reject: (e: Error) => void }>();

  constructor(readonly peer: WebSocketPeer) {
    peer.onmessage = (text) => {
      const m = JSON.parse(text) as { id?: number; ok?: string; err?: string };
      const w = m.id !== undefined ? this.#waiting.get(m.id) : undefined;
      if (!w) return;
      this.#waiting.delete(m.id!);
      if (m.err !== undefined) w.reject(new Error(`in the page: ${m.err}`));
      else w.resolve(m.ok!);
    };
    peer.onclose = () => {
      for (const w of this.#waiting.values()) w.reject(new Error('the driver page went away'));
      this.#waiting.clear();
    };
  }

  #post(m: Record<string, unknown>): void {
    this.peer.send(JSON.stringify(m));
  }

  #request(m: Record<string, unknown>): Promise<string> {
    const id = this.#nextId++;
    return new Promise<string>((resolve, reject) => {
      this.#waiting.set(id, { resolve, reject });
      this.#post({ ...m, id });
    });
  }

  static #args(args: Array<string | Uint8Array>): { args: string[]; bin: boolean[] } {
    return { args: args.map((a) => (typeof a === 'string' ? a : bytesToLatin1(a))), bin: args.map((a) => typeof a !== 'string') };
  }

  async reset(): Promise<void> {
    await this.#request({ op: 'reset', cmds: RESET_COMMANDS });
  }

  open(conn: number): void {
    this.#post({ op: 'open', conn });
  }

  async send(conn: number, args: Array<string | Uint8Array>): Promise<Uint8Array> {
    return latin1ToBytes(await this.#request({ op: 'send', conn, ...PageTarget.#args(args) }));
  }

  sendNoWait(conn: number, args: Array<string | Uint8Array>): void {
    this.#post({ op: 'nowait', conn, ...PageTarget.#args(args) });
  }

  async next(conn: number): Promise<Uint8Array> {
    return latin1ToBytes(await this.#request({ op: 'next', conn }));
  }
}
