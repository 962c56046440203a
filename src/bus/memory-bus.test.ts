import { runBusConformance } from "./bus.conformance.js";
import { InProcessBus } from "./memory-bus.js";

runBusConformance("InProcessBus", async () => new InProcessBus());
