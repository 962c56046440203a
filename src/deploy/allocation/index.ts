/** Resource allocation for deploys: which ready server a project goes to, and its ports there. */
export {
  allocatePorts,
  isLocalPortFree,
  PORT_CONFLICT_ATTEMPTS,
  releasePorts,
} from "./ports.js";
export { pickServer } from "./servers.js";
