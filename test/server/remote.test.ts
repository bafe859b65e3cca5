// RemoteConnection's own behaviour (bindings/remote.ts), against rivulet serve: what the engine
// suites do not reach — argument checks before sending, calls on a closed connection, QUIT,
// empty pipelines, a server that is not there. The commands' semantics are the engine suites'.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RemoteConnection } from '../../bindings/remote.ts';
import { ConnectionClosedError, ReplyError } from '../../bindings/api.ts';
import { startRivulet, cleanupTempDirs, type Rivulet } from './support.ts';

let srv: Rivulet;
beforeAll(async () => {
  srv = await startRivulet();
});
afterAll(async () => {
  expect(await srv.stop()).toBe(0);
  await cleanupTempDirs();
});

describe('RemoteConnection', () => {
  it('knows its CLIENT ID; calls, raw calls and pipelines are Promises', async () => {
    const c = await RemoteConnection.connect({ port: srv.port });
    expect(await c.call('CLIENT', 'ID')).toBe(c.id);
    const p = c.call('PING');
    expect(p).toBeInstanceOf(Promise);
    expect(await p).toBe('PONG');
    expect(new TextDecoder().decode(await c.callRaw('PING'))).toBe('+PONG\r\n');
    expect(await c.pipeline([])).toEqual([]);
    const [ok, err] = await c.pipeline([['PING'], ['XADD', 's', '0-0', 'a', '1']]);
    expect(ok).toBe('PONG');
    expect(err).toBeInstanceOf(ReplyError);
    await c.close();
  });

  it('rejects invalid arguments without sending anything; the connection stays in step', async () => {
    const c = await RemoteConnection.connect({ port: srv.port });
    await expect(c.call('XADD', 's', '*', 'f', undefined as unknown as string)).rejects.toThrow(TypeError);
    await expect(c.pipeline([['PING'], [{} as unknown as string]])).rejects.toThrow(TypeError);
    expect(await c.call('ECHO', 'next')).toBe('next');
    await c.close();
  });

  it('after close (by the client, or QUIT) calls reject with ConnectionClosedError', async () => {
    const a = await RemoteConnection.connect({ port: srv.port });
    const pending = expect(a.xread({ s: '$' }, { block: 0 })).rejects.toBeInstanceOf(ConnectionClosedError);
    await a.close();
    expect(a.closed).toBe(true);
    await pending;
    await expect(a.call('PING')).rejects.toBeInstanceOf(ConnectionClosedError);

    const b = await RemoteConnection.connect({ port: srv.port });
    expect(await b.call('QUIT')).toBe('OK');
    await expect(b.call('PING')).rejects.toBeInstanceOf(ConnectionClosedError);
    expect(b.closed).toBe(true);
  });

  it('connect fails when nothing listens', async () => {
    const probe = await RemoteConnection.connect({ port: srv.port });
    await probe.close();
    await expect(RemoteConnection.connect({ port: 1, host: '127.0.0.1' })).rejects.toThrow(/ECONNREFUSED/);
  });
});
