import type { ModelProvider } from "../llm/index.js";
import type { PoHistoryItem } from "./agent.js";

/** The instruction of a summary call; the scripted model recognises it by this start. */
export const SUMMARY_INSTRUCTION =
  "Summarise this conversation between a person and the Product Owner of a software team for the Product Owner's own memory: what the person wants, decisions, projects and runs named (ids, names), open questions. At most 200 words, in the person's language.";

/** Rough token count (four characters a token): enough to decide when history is too long. */
export function estimateTokens(items: readonly PoHistoryItem[]): number {
  return Math.ceil(items.reduce((n, item) => n + item.text.length + 8, 0) / 4);
}

/** One model call that folds `items` into the previous summary. */
export async function summarize(
  provider: ModelProvider,
  previous: string | null,
  items: readonly PoHistoryItem[],
  signal?: AbortSignal,
): Promise<string> {
  const transcript = items.map((item) => `${item.role}: ${item.text}`).join("\n");
  const turn = await provider.complete(
    {
      system: SUMMARY_INSTRUCTION,
      messages: [
        {
          role: "user",
          content: [
            { type: "text", text: previous ? `Earlier summary:\n${previous}\n\n${transcript}` : transcript },
          ],
        },
      ],
      maxTokens: 600,
    },
    signal ? { signal } : {},
  );
  const text = turn.content
    .filter((c) => c.type === "text")
    .map((c) => c.text)
    .join("")
    .trim();
  return text || (previous ?? "");
}
