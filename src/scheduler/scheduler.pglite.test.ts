import { openTestStore } from "../../test/support/store.js";
import { leaderCases } from "./leader.cases.js";

leaderCases("pglite", () => openTestStore());
