import type { Feature } from "./feature.js";
import { help } from "./help.js";
import { notes } from "./notes.js";
import { profile } from "./profile.js";
import { quote } from "./quote.js";
import { start } from "./start.js";

export type { Feature } from "./feature.js";

/**
 * Every feature of the bot, in registration order (the first that handles an update wins). Add a
 * new feature as a file in this folder and list it here (before `help`, so /help lists it too).
 */
export const features: Feature[] = [start, notes, profile, quote];
features.push(help(() => features));
