import { openPgliteStore } from "../store/index.js";
import { leaderCases } from "./leader.cases.js";

leaderCases("pglite", () => openPgliteStore(null));
