/**
 * Child process for the bus crash test: consumes one group with RedisStreamsBus, prints
 * `got <envelope id> <delivery count>` when a handler starts, then never finishes it, so the parent
 * can SIGKILL this process mid-handler. Settings come from the environment (allow-listed by the parent).
 */
import { RedisStreamsBus } from "../../src/bus/index.js";

const url = process.env.BUS_REDIS_URL;
const stream = process.env.BUS_STREAM;
const group = process.env.BUS_GROUP;
if (!url || !stream || !group) {
  process.stderr.write("BUS_REDIS_URL, BUS_STREAM and BUS_GROUP are required\n");
  process.exit(2);
}

const bus = new RedisStreamsBus(url);
await bus.ping();
bus.consume(stream, { group, consumer: `crash-${process.pid}`, reclaimIdleMs: 60_000 }, async (delivery) => {
  process.stdout.write(`got ${delivery.envelope.id} ${delivery.deliveryCount}\n`);
  await new Promise<void>(() => {}); // the "work" the parent interrupts with SIGKILL
});
process.stdout.write("ready\n");
