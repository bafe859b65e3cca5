// The conformance corpus through rivulet-device, armhf build with wasm3's ESP32 configuration, run
// under qemu-arm (see device-conformance.ts).
import { deviceConformance } from './device-conformance.ts';

deviceConformance('armhf', 'armhf under qemu-arm', 30000);
