// The conformance corpus through rivulet-device, x86-64 build (see device-conformance.ts).
import { deviceConformance } from './device-conformance.ts';

deviceConformance('x86_64', 'x86-64');
