// The conformance corpus through rivulet-device, gcc -m32 build with wasm3's ESP32 configuration
// (see device-conformance.ts).
import { deviceConformance } from './device-conformance.ts';

deviceConformance('x86', 'x86-32, -m32');
