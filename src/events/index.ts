/**
 * The events module's public face: the run journal (the one writer of typed run events: store,
 * then bus) and durable subscribers that react to those events at least once.
 */
export { RUN_EVENTS_BUS_MAX_LEN, RUN_EVENTS_STREAM, RunJournal, type RunJournalDeps } from "./run-journal.js";
export { GAP_HOLD_MS, RunEventSubscriber, type RunEventSubscriberOptions } from "./subscriber.js";
