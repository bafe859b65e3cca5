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
  // RIVULET_DEVICE_VARIANT=-notail runs a `build-device.mjs --no-tail-calls` build (measurements)
  const variant = process.env.RIVULET_DEVICE_VARIANT ?? '';
  beforeAll(async () => {
    dev = await startDevice({ target, variant, args: ['--appendfsync', 'always'], timeoutMs: 60000 });
    t = new RedisTarget(dev.port);
  }, 90000);
  afterAll(async () => {
    await t?.close();
    expect(await dev.stop()).toBe(0);
    // the figure the board's engine task stack is sized from (no assert: a measurement)
    const stack = /Native stack high water: (\d+) of/.exec(dev.output())?.[1];
    console.info(`rivulet-device ${name}${variant}: native stack high water over the corpus ${stack} bytes`);
    await cleanupDevices();
  }, 30000);
  conformanceSuite({ name: `rivulet-device (${name})`, target: () => t, timeoutMs });
}
