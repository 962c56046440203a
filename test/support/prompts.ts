import { developerPrompt, revisionPrompt } from "../../src/engine/index.js";

/** The developer's prompt for `attempt` with the defaults tests share, changed by `extra`. */
export const developerPromptFor = (
  attempt: number,
  extra: Partial<Parameters<typeof developerPrompt>[0]> = {},
) =>
  developerPrompt({
    attempt,
    maxAttempts: 3,
    branch: "main",
    acceptanceDir: "test/acceptance",
    lastTest: null,
    answer: null,
    ...extra,
  });

/** The Architect's prompt for acceptance revision `n` of two, on one question about one test. */
export const revisionPromptFor = (n: number) =>
  revisionPrompt({
    revision: n,
    maxRevisions: 2,
    dir: "test/acceptance",
    test: "test/acceptance/a.test.ts",
    question: "why?",
  });
