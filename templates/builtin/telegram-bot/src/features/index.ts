import type { Feature } from "./feature.js";
import { help } from "./help.js";
import { start } from "./start.js";

export type { Feature } from "./feature.js";

/**
 * Every feature of the bot, in registration order. Add a new feature as a file in this folder and
 * list it here (before `help`, so /help lists it too).
 */
export const features: Feature[] = [start];
features.push(help(() => features));
