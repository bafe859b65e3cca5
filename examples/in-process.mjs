// Rivulet in-process: a producer, a blocking consumer, a pipeline and a cancelled read, all in one
// Node process with no server. Run with `npm start` (after `npm run build`).
import { createEngine, AbortError, ReplyError } from 'rivulet';

const engine = await createEngine();
const producer = engine.connect();
const consumer = engine.connect();

// A consumer parked on the engine: XREAD BLOCK is a promise, resolved by the producer's XADD.
const consumed = (async () => {
  let last = '$';
  for (let got = 0; got < 3; ) {
    const reply = await consumer.xread({ sensors: last }, { block: 5000 });
    if (reply === null) break; // timed out
    for (const { id, fields } of reply[0].entries) {
      console.log(`consumer: ${id} temp=${fields.temp}`);
      last = id;
      got++;
    }
  }
})();

for (const temp of [21.5, 22, 22.25]) {
  const id = producer.xadd('sensors', { temp, unit: 'C' }, { maxlen: 1000, approx: true });
  console.log(`producer: added ${id}`);
  await new Promise((r) => setTimeout(r, 20));
}
await consumed;

// Many commands in one crossing; error replies come back in place.
const replies = producer.pipeline([
  ['XLEN', 'sensors'],
  ['XADD', 'sensors', '0-0', 'bad', 'id'],
  ['XRANGE', 'sensors', '-', '+', 'COUNT', '1'],
]);
console.log('pipeline:', replies[0], '|', replies[1] instanceof ReplyError ? replies[1].message : replies[1]);

// The exact RESP bytes, for hosts that forward replies to a socket.
const raw = producer.callRaw('XLEN', 'sensors');
console.log('raw reply:', JSON.stringify(new TextDecoder().decode(raw)));

// A blocking read cancelled with an AbortSignal; the connection stays usable.
const ac = new AbortController();
const parked = consumer.xread({ sensors: '$' }, { block: 0, signal: ac.signal });
setTimeout(() => ac.abort(), 10);
try {
  await parked;
} catch (e) {
  console.log('cancelled read:', e instanceof AbortError ? e.name : e);
}
console.log('consumer still works: XLEN =', await consumer.xlen('sensors'));

console.log(`engine used_memory: ${engine.usedMemory()} bytes`);
engine.close();
