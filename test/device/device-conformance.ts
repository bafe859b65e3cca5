/**
 * The conformance corpus through rivulet-device over TCP with a raw RESP client, each case on
 * fresh state (RedisTarget), with appendfsync always so every case also goes through the C host's
 * AOF path that fsyncs before replying. One test file per build (x86-64, -m32, armhf under qemu).
 */
import { beforeAll, afterAll, expect } from 'vitest';
import { RedisTarget } from '../conformance/corpus.ts';
import { conformanceSuite } from '../conformance/suite.ts';
import { startDevice, cleanupDevices, type Device, type DeviceTarget } from './support.ts';

export function deviceConformance(target: DeviceTarget, name: string, timeoutMs = 10000): void {
  let dev: Device;
  let t: RedisTarget;
  beforeAll(async () => {
    dev = await startDevice({ target, args: ['--appendfsync', 'always'], timeoutMs: 60000 });
    t = new RedisTarget(dev.port);
  }, 90000);
  afterAll(async () => {
    await t?.close();
    expect(await dev.stop()).toBe(0);
    await cleanupDevices();
  }, 30000);
  conformanceSuite({ name: `rivulet-device (${name})`, target: () => t, timeoutMs });
}
