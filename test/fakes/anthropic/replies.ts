/**
 * Scripted replies of the fake Anthropic Messages API and their encoding on the wire: a full
 * `message` object for non-streaming requests, and the server-sent event sequence the real API
 * sends for `stream: true` (message_start, content_block_start/delta/stop, message_delta,
 * message_stop).
 */
import { randomBytes } from "node:crypto";
import type { MessagesBody, RecordedRequest } from "./server.js";

/** Token counts one reply reports. Missing numbers are 0 (input defaults to 10, output to 5). */
export interface FakeUsage {
  input?: number;
  output?: number;
  cacheRead?: number;
  cacheCreation?: number;
}

/** One content block of a reply: text, or a tool call the client (Claude Code) will execute. */
export type FakeBlock =
  | { text: string }
  | { toolUse: { name: string; input: Record<string, unknown>; id?: string } };

/** A scripted error answer (consumes its place in the script like any reply). */
export interface FakeErrorReply {
  error: { status: number; type: string; message: string };
}

/**
 * What a test enqueues: a plain string (one text block), one block with optional usage, or several
 * blocks with optional usage and stop reason, or an error answer.
 */
export type FakeReply =
  | string
  | (FakeBlock & { usage?: FakeUsage })
  | { blocks: FakeBlock[]; usage?: FakeUsage; stopReason?: string }
  | FakeErrorReply;

/**
 * A reply computed from the request it answers (the parsed Messages body and the recorded
 * request), for answers that depend on what the client sent; a promise answers when it settles
 * (a slow model). A throw or a rejection ends the turn with its message.
 */
export type FakeReplyFn = (body: MessagesBody, request: RecordedRequest) => FakeReply | Promise<FakeReply>;

/** A reply as the server sends it. */
export interface NormalizedReply {
  blocks: FakeBlock[];
  usage: Required<FakeUsage>;
  stopReason: string;
}

/** The `usage` object of the Messages API, named as on the wire. */
export interface WireUsage {
  input_tokens: number;
  output_tokens: number;
  cache_read_input_tokens: number;
  cache_creation_input_tokens: number;
}

/** Fills defaults and picks the stop reason (`tool_use` when any block calls a tool). */
export function normalizeReply(reply: Exclude<FakeReply, FakeErrorReply>): NormalizedReply {
  const base =
    typeof reply === "string"
      ? { blocks: [{ text: reply }] as FakeBlock[], usage: undefined, stopReason: undefined }
      : "blocks" in reply
        ? reply
        : { blocks: [blockOf(reply)], usage: reply.usage, stopReason: undefined };
  const usage = {
    input: base.usage?.input ?? 10,
    output: base.usage?.output ?? 5,
    cacheRead: base.usage?.cacheRead ?? 0,
    cacheCreation: base.usage?.cacheCreation ?? 0,
  };
  const hasTool = base.blocks.some((b) => "toolUse" in b);
  return { blocks: base.blocks, usage, stopReason: base.stopReason ?? (hasTool ? "tool_use" : "end_turn") };
}

function blockOf(reply: FakeBlock): FakeBlock {
  return "text" in reply ? { text: reply.text } : { toolUse: reply.toolUse };
}

export function isErrorReply(reply: FakeReply): reply is FakeErrorReply {
  return typeof reply === "object" && "error" in reply;
}

export function wireUsage(usage: Required<FakeUsage>): WireUsage {
  return {
    input_tokens: usage.input,
    output_tokens: usage.output,
    cache_read_input_tokens: usage.cacheRead,
    cache_creation_input_tokens: usage.cacheCreation,
  };
}

function randomId(prefix: string): string {
  return `${prefix}_01${randomBytes(12).toString("hex")}`;
}

type WireBlock =
  | { type: "text"; text: string }
  | { type: "tool_use"; id: string; name: string; input: Record<string, unknown> };

function wireBlocks(blocks: FakeBlock[]): WireBlock[] {
  return blocks.map((b) =>
    "text" in b
      ? { type: "text", text: b.text }
      : {
          type: "tool_use",
          id: b.toolUse.id ?? randomId("toolu"),
          name: b.toolUse.name,
          input: b.toolUse.input,
        },
  );
}

/** The non-streaming answer: one complete `message` object. */
export function messageJson(reply: NormalizedReply, model: string): Record<string, unknown> {
  return {
    id: randomId("msg"),
    type: "message",
    role: "assistant",
    model,
    content: wireBlocks(reply.blocks),
    stop_reason: reply.stopReason,
    stop_sequence: null,
    usage: wireUsage(reply.usage),
  };
}

/**
 * The streaming answer as SSE frames. Text arrives in two deltas and tool input as partial JSON
 * in chunks, as the real API does, so clients that accumulate deltas are really exercised.
 */
export function messageEvents(reply: NormalizedReply, model: string): string[] {
  const frames: string[] = [];
  const emit = (type: string, data: Record<string, unknown>) =>
    frames.push(`event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`);
  const usage = wireUsage(reply.usage);
  emit("message_start", {
    message: {
      id: randomId("msg"),
      type: "message",
      role: "assistant",
      model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: { ...usage, output_tokens: Math.min(1, usage.output_tokens) },
    },
  });
  wireBlocks(reply.blocks).forEach((block, index) => {
    if (block.type === "text") {
      emit("content_block_start", { index, content_block: { type: "text", text: "" } });
      for (const piece of halves(block.text)) {
        emit("content_block_delta", { index, delta: { type: "text_delta", text: piece } });
      }
    } else {
      emit("content_block_start", {
        index,
        content_block: { type: "tool_use", id: block.id, name: block.name, input: {} },
      });
      for (const piece of halves(JSON.stringify(block.input))) {
        emit("content_block_delta", { index, delta: { type: "input_json_delta", partial_json: piece } });
      }
    }
    emit("content_block_stop", { index });
  });
  emit("message_delta", { delta: { stop_reason: reply.stopReason, stop_sequence: null }, usage });
  emit("message_stop", {});
  return frames;
}

function halves(text: string): string[] {
  if (text.length < 2) return [text];
  const mid = Math.floor(text.length / 2);
  return [text.slice(0, mid), text.slice(mid)];
}

/** The error body of the Messages API (`{type: "error", error: {type, message}}`). */
export function errorJson(type: string, message: string): Record<string, unknown> {
  return { type: "error", error: { type, message }, request_id: randomId("req") };
}
